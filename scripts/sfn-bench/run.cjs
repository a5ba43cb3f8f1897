// Peer benchmark for `care sfn bench`: runs N in-memory executions of an ASL
// definition with aws-local-stepfunctions and prints one JSON line in the same
// shape as `care sfn bench`:
//   {"executions","seconds","per_second","transitions_per_second"}
//
// Usage: node --require ./polyfill.cjs run.cjs --definition FILE \
//          --executions N --concurrency C
// NODE_PATH (or a node_modules beside this file) must resolve
// aws-local-stepfunctions; scripts/sfn-bench.sh sets it up.
"use strict";

const fs = require("node:fs");
const { StateMachine } = require("aws-local-stepfunctions");

function parseArgs(argv) {
  const opts = { definition: "", executions: 10000, concurrency: 64 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    switch (a) {
      case "--definition": opts.definition = v; i++; break;
      case "--executions": opts.executions = Number(v); i++; break;
      case "--concurrency": opts.concurrency = Number(v); i++; break;
      default: throw new Error(`unknown flag ${a}`);
    }
  }
  if (!opts.definition) throw new Error("--definition is required");
  if (!(opts.executions > 0) || !(opts.concurrency > 0)) {
    throw new Error("--executions and --concurrency must be positive");
  }
  return opts;
}

// inputFor is the same input `care sfn bench` gives execution i.
function inputFor(i) {
  return { orderId: `o-${i}`, amount: i % 200 };
}

// countTransitions runs one execution and counts the states it entered (what
// Step Functions bills as state transitions).
async function countTransitions(sm, input) {
  const { result, eventLogs } = sm.run(input);
  let n = 0;
  const drain = (async () => {
    for await (const ev of eventLogs) {
      if (ev.type === "StateEntered") n++;
    }
  })();
  await result;
  await drain;
  return n;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const definition = JSON.parse(fs.readFileSync(opts.definition, "utf8"));
  const sm = new StateMachine(definition);

  // Sample executions of both Choice branches (amount 0 and 150), as the Go
  // bench does from the history: the average transitions per execution.
  const perExec = (await countTransitions(sm, inputFor(0)) + await countTransitions(sm, inputFor(150))) / 2;

  let next = 0;
  const start = process.hrtime.bigint();
  async function worker() {
    for (;;) {
      const i = next++;
      if (i >= opts.executions) return;
      await sm.run(inputFor(i)).result;
    }
  }
  const workers = [];
  for (let w = 0; w < Math.min(opts.concurrency, opts.executions); w++) workers.push(worker());
  await Promise.all(workers);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const perSecond = opts.executions / seconds;
  process.stdout.write(JSON.stringify({
    executions: opts.executions,
    seconds: Number(seconds.toFixed(3)),
    per_second: Math.round(perSecond),
    transitions_per_second: Math.round(perSecond * perExec),
  }) + "\n");
}

main().catch((err) => {
  process.stderr.write(`sfn-bench: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
