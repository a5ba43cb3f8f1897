// Package sfnlocal is ordercare's durable local AWS Step Functions engine
// (Standard workflows, JSONPath query language). It runs state machine
// definitions unchanged, persists every transition atomically in an embedded
// SQLite store (WAL), and exposes the Step Functions API operations as Go
// methods on *Engine with the AWS JSON 1.0 wire shapes (package sfnhttp
// serves them over HTTP).
//
// The States Language itself (parsing, paths, intrinsics, Choice, Retry
// decisions) lives in package asl; this package owns time, storage,
// concurrency, task invocation, task tokens and history.
//
// Durability contract: an API call that changes state returns only after
// the change is committed. A transition (the events, the execution state,
// its timers, task tokens and pending Lambda invocations) commits in one
// SQLite transaction, possibly shared with other transitions (group commit).
// After a crash, Open resumes every execution: completed steps never run
// again; a Lambda invocation that was in flight is invoked again
// (at-least-once, as in AWS).
package sfnlocal
