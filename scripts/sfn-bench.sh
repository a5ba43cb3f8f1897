#!/usr/bin/env bash
# Speed comparison: care's durable Step Functions engine (through its Go API
# and through the HTTP API with the AWS SDK) against aws-local-stepfunctions
# (a third-party, in-memory, non-durable ASL interpreter), on the same
# definition and inputs. Prints one JSON line per runner, then the ratios.
#
#   scripts/sfn-bench.sh                     # 20000 executions, concurrency 64
#   N=100000 C=128 DEF=path.asl.json scripts/sfn-bench.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${N:-20000}
c=${C:-64}
def=${DEF:-$root/scripts/sfn-bench/bench.asl.json}

tools=$("$root/scripts/sfn-tools.sh")
mkdir -p "$root/.tools/bin"
(cd "$root" && go build -o "$root/.tools/bin/care" ./cmd/care)
care=$root/.tools/bin/care

engine=$("$care" sfn bench --definition "$def" --executions "$n" --concurrency "$c" --mode engine)
echo "care engine (durable, Go API):        $engine"
api=$("$care" sfn bench --definition "$def" --executions "$n" --concurrency "$c" --mode api)
echo "care api (durable, HTTP + AWS SDK):   $api"
peer=$(cd "$root/scripts/sfn-bench" && NODE_PATH="$tools/node_modules" \
	node --require ./polyfill.cjs run.cjs --definition "$def" --executions "$n" --concurrency "$c")
echo "aws-local-stepfunctions (in memory):  $peer"

ratio() { jq -rn --argjson a "$1" --argjson b "$2" '($a.per_second / $b.per_second * 100 | round / 100)'; }
echo "ratio engine/peer: $(ratio "$engine" "$peer")x   api/peer: $(ratio "$api" "$peer")x"
