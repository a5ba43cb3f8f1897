// Package asl implements the Amazon States Language (JSONPath query language
// only) as pure functions of (definition, JSON data, context object): parsing
// and validation, input/output processing, intrinsic functions, Choice rules,
// Wait due times, Fail output, and Retry/Catch decisions. It holds no state,
// starts no goroutines, never reads the clock (times are passed in) and takes
// its randomness from the caller (Env.Random, Env.UUID). Everything here is
// safe for concurrent use once a Machine is parsed (Machines are read-only).
//
// # JSON values
//
// A JSON value in this package is one of: map[string]any, []any, json.Number
// (every number, kept as its exact text so large integers and "1.0" survive),
// string, bool, nil. DecodeJSON produces that representation and EncodeJSON
// prints it compactly the way Step Functions (Jackson) does: no HTML or
// U+2028 escaping, numbers as written. Functions also accept int, int64 and
// float64 leaves built in Go; Normalize converts such a value to the
// canonical form. Object key order is not preserved (keys print sorted;
// AWS keeps insertion order, which matters only for text comparisons).
// Values are treated as immutable: no function here modifies its arguments,
// and results may share unchanged sub-values with the inputs, so callers
// must not mutate values they passed in or got back.
//
// # Usage overview for an engine
//
//	m, err := asl.Parse(definition)            // *ValidationError / *UnsupportedError
//	if f, ok := asl.Unsupported(err); ok { ... } // refused: feature f not implemented
//	st := m.States[m.StartAt]                    // asl.State: *Pass, *Task, *Choice, ...
//	env := &asl.Env{Context: ctxObj, Random: rnd.Float64, UUID: newUUID}
//
// Per state, with the state's raw input `in`:
//
//   - Pass:     out, err := s.Run(in, env)
//   - Task:     eff, err := s.EffectiveInput(in, env)  // InputPath + Parameters ($$ = env.Context)
//     timeout, heartbeat, err := s.Timeouts(in)         // after InputPath is applied internally
//     ... invoke s.Resource with eff, get result ...
//     out, err := s.ApplyResult(in, result, env)        // ResultSelector, ResultPath, OutputPath
//   - Choice:   next, out, err := s.Decide(in, env)      // *Error States.NoChoiceMatched when nothing matches
//   - Wait:     due, out, err := s.Due(in, enteredAt)
//   - Succeed:  out, err := s.Output(in)
//   - Fail:     fo, err := s.Resolve(in, env)           // fo.Error / fo.Cause (Has* say if present)
//   - Parallel: eff, err := s.EffectiveInput(in, env); run each of s.Branches
//     (*Machine) with eff; out, err := s.ApplyResult(in, []any{branch outputs...}, env)
//   - Map:      eff, err := s.EffectiveInput(in, env)   // InputPath only
//     items, err := s.Items(eff)
//     itemIn, err := s.ItemInput(eff, i, items[i], env)  // ItemSelector/Parameters, $$.Map.Item.*
//     n, err := s.Concurrency(eff)                      // 0 = unlimited
//     run s.Processor (*Machine) per item; out, err := s.ApplyResult(in, results, env)
//
// Errors raised by a state (Task failure, runtime errors) are handled with:
//
//	d := asl.DecideRetry(st.Fields().Retry, attempts, errName, rnd.Float64)
//	if d.Retry { attempts[d.Index]++; sleep d.Delay; retry }
//	if i, ok := asl.MatchCatch(st.Fields().Catch, errName); ok {
//	    out, err := st.Fields().Catch[i].Output(in, errName, cause)
//	    next := st.Fields().Catch[i].Next
//	}
//
// Every runtime error returned by this package is an *Error (see AsError)
// carrying the AWS error name (States.Runtime for path, intrinsic and Wait
// failures as the recorded AWS executions show; States.NoChoiceMatched;
// States.ResultPathMatchFailure) and the part of the cause the engine cannot
// know; Error.CauseAt(stateName, enteredEventID) adds AWS's "An error
// occurred while executing the state 'X' (entered at the event id #N). "
// prefix where AWS puts one. States.Runtime is never matched by Retry or
// Catch (ErrorMatches), exactly as on AWS.
package asl
