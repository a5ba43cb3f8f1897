package asl

import (
	"encoding/json"
	"math"
	"time"
)

// maxWaitSeconds is the longest delay AWS accepts (a Java int of seconds).
const maxWaitSeconds = math.MaxInt32

// Due computes when a Wait state entered at `entered` with raw input `input`
// ends, and its output (InputPath then OutputPath). Errors are *Error
// States.Runtime with AWS's causes (missing, negative or non-integer
// SecondsPath values; invalid timestamps; delays over 2^31-1 seconds).
func (w *Wait) Due(input any, entered time.Time) (due time.Time, output any, err error) {
	in, err := selectPath(w.InputPath, input, nil)
	if err != nil {
		return time.Time{}, nil, err
	}
	switch {
	case w.HasSeconds:
		due = entered.Add(time.Duration(w.Seconds) * time.Second)
	case w.SecondsPath.IsSet():
		v, perr := w.SecondsPath.eval(in, nil)
		if perr != nil {
			return time.Time{}, nil, runtimeErr("The SecondsPath parameter does not reference an input value: %s", w.SecondsPath.Raw)
		}
		n, ok := isIntegral(v)
		if !ok {
			return time.Time{}, nil, runtimeErr("The SecondsPath parameter cannot be parsed as a long value: %s == %s", w.SecondsPath.Raw, javaString(v))
		}
		if n < 0 {
			return time.Time{}, nil, runtimeErr("The SecondsPath parameter references a negative value: %s == %d", w.SecondsPath.Raw, n)
		}
		if n > maxWaitSeconds {
			return time.Time{}, nil, runtimeErr("Wait state delay is too long.")
		}
		due = entered.Add(time.Duration(n) * time.Second)
	case w.Timestamp != "":
		t, perr := parseTimestamp(w.Timestamp)
		if perr != nil {
			return time.Time{}, nil, runtimeErr("The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: %s", w.Timestamp)
		}
		due = t
	case w.TimestampPath.IsSet():
		v, perr := w.TimestampPath.eval(in, nil)
		if perr != nil {
			return time.Time{}, nil, runtimeErr("The TimestampPath parameter does not reference an input value: %s", w.TimestampPath.Raw)
		}
		s, ok := v.(string)
		t, terr := parseTimestamp(s)
		if !ok || terr != nil {
			return time.Time{}, nil, runtimeErr("The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: %s == %s", w.TimestampPath.Raw, javaString(v))
		}
		due = t
	}
	if due.Sub(entered) > maxWaitSeconds*time.Second {
		return time.Time{}, nil, runtimeErr("Wait state delay is too long.")
	}
	out, err := selectPath(w.OutputPath, in, nil)
	if err != nil {
		return time.Time{}, nil, err
	}
	return due, out, nil
}

// FailOutput is what a Fail state reports. HasError/HasCause are false
// when the state gives no Error/Cause (AWS then reports none).
type FailOutput struct {
	Error    string
	Cause    string
	HasError bool
	HasCause bool
}

// Resolve computes a Fail state's error and cause from its raw input,
// evaluating ErrorPath/CausePath (paths or intrinsic calls).
func (f *Fail) Resolve(input any, env *Env) (FailOutput, error) {
	out := FailOutput{Error: f.Error, Cause: f.Cause}
	out.HasError = f.hasError || f.ErrorPath != nil
	out.HasCause = f.hasCause || f.CausePath != nil
	var err error
	if f.ErrorPath != nil {
		if out.Error, err = f.ErrorPath.evalString("ErrorPath", input, env); err != nil {
			return FailOutput{}, err
		}
	}
	if f.CausePath != nil {
		if out.Cause, err = f.CausePath.evalString("CausePath", input, env); err != nil {
			return FailOutput{}, err
		}
	}
	return out, nil
}

// Eval evaluates a dynamic field against input.
func (d *Dynamic) Eval(input any, env *Env) (any, error) {
	if d.call != nil {
		return d.call.eval(input, env)
	}
	return d.path.eval(input, env)
}

func (d *Dynamic) evalString(field string, input any, env *Env) (string, error) {
	if d.call != nil {
		v, err := d.call.eval(input, env)
		if err != nil {
			return "", err
		}
		s, ok := v.(string)
		if !ok {
			return "", runtimeErr("The value of the field '%s' must be a string, but was: %s", field, encode(v))
		}
		return s, nil
	}
	v, err := d.path.eval(input, env)
	if err != nil {
		return "", runtimeErr("The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", d.Raw, field, encode(input))
	}
	s, ok := v.(string)
	if !ok {
		return "", runtimeErr("The JSONPath '%s' specified for the field '%s' must reference a string, but was: %s", d.Raw, field, encode(v))
	}
	return s, nil
}

// RetryDecision is the outcome of DecideRetry.
type RetryDecision struct {
	// Retry is true when the state should run again after Delay.
	Retry bool
	// Index is the matching retrier (-1 when none matched). The caller
	// increments its attempt counter when Retry is true.
	Index int
	Delay time.Duration
}

// ErrorMatches reports whether errName is matched by an ErrorEquals list:
// exact names; States.ALL matches everything except States.DataLimitExceeded;
// States.TaskFailed matches every error except States.Timeout and
// States.DataLimitExceeded. States.Runtime is never matched (AWS does not
// let Retry or Catch handle it, even by name).
func ErrorMatches(errorEquals []string, errName string) bool {
	if errName == ErrRuntime {
		return false
	}
	for _, e := range errorEquals {
		switch {
		case e == errName:
			return true
		case e == ErrAll && errName != ErrDataLimitExceeded:
			return true
		case e == ErrTaskFailed && errName != ErrTimeout && errName != ErrDataLimitExceeded:
			return true
		}
	}
	return false
}

// DecideRetry picks the first retrier matching errName; attempts[i] is how
// many retries retrier i has already made (missing entries count as 0).
// It retries while attempts < MaxAttempts; the delay is
// IntervalSeconds * BackoffRate^attempts, capped by MaxDelaySeconds, and
// with JitterStrategy FULL scaled by random() in [0,1) (a nil random
// means no jitter).
func DecideRetry(retriers []Retrier, attempts []int, errName string, random func() float64) RetryDecision {
	for i, r := range retriers {
		if !ErrorMatches(r.ErrorEquals, errName) {
			continue
		}
		n := 0
		if i < len(attempts) {
			n = attempts[i]
		}
		if int64(n) >= r.MaxAttempts {
			return RetryDecision{Index: i}
		}
		secs := float64(r.IntervalSeconds) * math.Pow(r.BackoffRate, float64(n))
		if r.MaxDelaySeconds > 0 && secs > float64(r.MaxDelaySeconds) {
			secs = float64(r.MaxDelaySeconds)
		}
		if r.JitterStrategy == "FULL" {
			if random != nil {
				secs *= random()
			}
		}
		return RetryDecision{Retry: true, Index: i, Delay: time.Duration(secs * float64(time.Second))}
	}
	return RetryDecision{Index: -1}
}

// MatchCatch returns the index of the first catcher matching errName.
func MatchCatch(catchers []Catcher, errName string) (int, bool) {
	for i, c := range catchers {
		if ErrorMatches(c.ErrorEquals, errName) {
			return i, true
		}
	}
	return -1, false
}

// ErrorOutput is the error object a Catcher writes: {"Error": ..., "Cause": ...}.
// Cause is omitted when hasCause is false.
func ErrorOutput(errName, cause string, hasCause bool) map[string]any {
	out := map[string]any{"Error": errName}
	if hasCause {
		out["Cause"] = cause
	}
	return out
}

// Output is the state output after catching errName/cause with this
// catcher: the error object {"Error","Cause"} merged into the raw input at
// ResultPath.
func (c *Catcher) Output(input any, errName, cause string) (any, error) {
	return c.ResultPath.Apply(input, ErrorOutput(errName, cause, true))
}

// OutputError is Output with a caller-built error object (e.g. from
// ErrorOutput with hasCause false).
func (c *Catcher) OutputError(input, errorObject any) (any, error) {
	return c.ResultPath.Apply(input, errorObject)
}

// Timeouts evaluates a Task's TimeoutSeconds[Path] and
// HeartbeatSeconds[Path] against its raw input (after InputPath). A zero
// duration means none was given.
func (t *Task) Timeouts(input any) (timeout, heartbeat time.Duration, err error) {
	in, err := selectPath(t.InputPath, input, nil)
	if err != nil {
		return 0, 0, err
	}
	get := func(fixed int64, p Path, field string) (time.Duration, error) {
		if !p.IsSet() {
			return time.Duration(fixed) * time.Second, nil
		}
		v, err := p.eval(in, nil)
		if err != nil {
			return 0, runtimeErr("Invalid path '%s' : %s", p.Raw, err.Error())
		}
		n, ok := isIntegral(v)
		if !ok || n <= 0 {
			return 0, runtimeErr("The %s field refers to value \"%s\" which is not a valid integer: %s", field, javaString(v), p.Raw)
		}
		return time.Duration(n) * time.Second, nil
	}
	if timeout, err = get(t.TimeoutSeconds, t.TimeoutSecondsPath, "TimeoutSecondsPath"); err != nil {
		return 0, 0, err
	}
	if heartbeat, err = get(t.HeartbeatSeconds, t.HeartbeatSecondsPath, "HeartbeatSecondsPath"); err != nil {
		return 0, 0, err
	}
	return timeout, heartbeat, nil
}

// Items returns the Map state's items: the value at ItemsPath (default
// "$") of the effective input, which must be an array.
func (m *Map) Items(effectiveInput any) ([]any, error) {
	v, err := selectPath(m.ItemsPath, effectiveInput, nil)
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, runtimeErr("Map state input must be an array but was: %s", encode(v))
	}
	return arr, nil
}

// ItemInput builds the input of item index: ItemSelector (or legacy
// Parameters) evaluated on the effective input with $$.Map.Item.Index and
// $$.Map.Item.Value set, or the item itself when neither is given.
func (m *Map) ItemInput(effectiveInput any, index int, item any, env *Env) (any, error) {
	if m.ItemSelector == nil {
		return item, nil
	}
	ctx := map[string]any{}
	if base, ok := env.ctx().(map[string]any); ok {
		for k, v := range base {
			ctx[k] = v
		}
	}
	ctx["Map"] = map[string]any{"Item": map[string]any{"Index": json.Number(itoa(index)), "Value": item}}
	sub := &Env{Context: ctx}
	if env != nil {
		sub.Random, sub.UUID = env.Random, env.UUID
	}
	return m.ItemSelector.Eval(effectiveInput, sub)
}

// Concurrency returns the Map's MaxConcurrency (0 = unlimited), reading
// MaxConcurrencyPath from the effective input when given.
func (m *Map) Concurrency(effectiveInput any) (int, error) {
	if !m.MaxConcurrencyPath.IsSet() {
		return int(m.MaxConcurrency), nil
	}
	v, err := m.MaxConcurrencyPath.eval(effectiveInput, nil)
	if err != nil {
		return 0, runtimeErr("Invalid path '%s' : %s", m.MaxConcurrencyPath.Raw, err.Error())
	}
	n, ok := isIntegral(v)
	if !ok || n < 0 || n > math.MaxInt32 {
		return 0, runtimeErr("The MaxConcurrencyPath field refers to value \"%s\" which is not a valid integer: %s", javaString(v), m.MaxConcurrencyPath.Raw)
	}
	return int(n), nil
}
