// Package sfnlocal is ordercare's durable local AWS Step Functions engine
// (Standard workflows, JSONPath query language). It runs state machine
// definitions unchanged, persists every transition atomically in an embedded
// SQLite store (modernc.org/sqlite, WAL), and exposes the Step Functions API
// operations as Go methods on *Engine with the AWS JSON 1.0 wire shapes
// (package sfnhttp serves them over HTTP).
//
// The States Language itself (parsing, paths, intrinsics, Choice, Retry
// decisions) lives in package asl; this package owns time, storage,
// concurrency, Lambda invocation, task tokens and history.
//
// # Durability contract
//
// An API call that changes state returns only after the change is
// committed. A transition (its history events, the execution's state, its
// timers, task tokens and pending Lambda invocations) commits in one SQLite
// transaction, usually shared with other executions' transitions (group
// commit). After a crash (kill -9), Open resumes every execution: completed
// steps never run again; a Lambda invocation that was in flight is invoked
// again (at-least-once, as in AWS). Commits use synchronous=NORMAL: they
// survive a process crash, not necessarily a power loss.
//
// # Design
//
//   - One executor goroutine owns the executions in memory. It takes API
//     operations, timer firings and Lambda results in rounds, steps each
//     affected execution as far as it can go without waiting (a short
//     execution runs start to end in memory), and hands the round's changes
//     to the writer.
//   - One writer goroutine commits each round in one transaction with
//     prepared statements, then releases side effects: replies to callers,
//     Lambda invocations, timers. Nothing outside the store happens before
//     the commit that records it.
//   - A waiting execution is a row, not a goroutine: blocked executions are
//     dropped from memory once committed and reloaded when a signal comes.
//     Timers are rows of an indexed table mirrored by one scheduler's
//     min-heap (about 150 bytes of heap per waiting execution).
//   - History is stored as compact binary chunks, one per commit and
//     execution (the first inline in the execution row); GetExecutionHistory
//     renders them in the AWS shape.
//   - Lambda handlers run in Config.Workers goroutines through
//     lambda.NewHandler(h).Invoke; error type names and documents are
//     Lambda's (see Register).
//   - Time comes only from Config.Clock. With SkipIdle and a *clock.Virtual
//     the scheduler moves the clock to the next due timer whenever no work
//     is in flight; handlers that wait should use Sleep.
//
// Benchmarks: BenchmarkShortExecutions (Pass with an intrinsic → Choice →
// Pass → Succeed, end to end, durable). TestTimerBurst (SFNLOCAL_BURST=10000)
// and TestManyWaiting (SFNLOCAL_SCALE=1000000) measure timer lag and the
// cost of parked executions.
package sfnlocal
