package sfnlocal

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/ordercare/ordercare/infra/sfnlocal/asl"
)

// functionName extracts the Lambda function name from a function name,
// partial ARN or full ARN (qualifiers dropped).
func functionName(s string) string {
	if strings.HasPrefix(s, "arn:") {
		p := strings.Split(s, ":")
		if len(p) >= 7 {
			return p[6]
		}
		return s
	}
	if strings.HasPrefix(s, "function:") {
		s = strings.TrimPrefix(s, "function:")
	} else if p := strings.Split(s, ":"); len(p) >= 3 && p[1] == "function" {
		s = p[2]
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	return s
}

// rawPayload is a lambda:invoke Payload string, sent unencoded.
type rawPayload string

// invokeResource is the history "resource" of a lambda:invoke Task.
func invokeResource(r asl.Resource) string {
	s := strings.TrimPrefix(r.ARN, "arn:aws:states:::lambda:")
	return s
}

// startTask schedules thread f's Task: it emits the scheduled/started
// events and records the pending invocation, token and timers, all in the
// transition's commit. The invocation runs after the commit.
func (x *exec) startTask(f *frame, s *asl.Task) {
	token := ""
	if s.Resource.WaitForTaskToken {
		token = newToken()
	}
	env := x.env(f, token)
	eff, err := s.EffectiveInput(f.In, env)
	if err != nil {
		x.fail(f, err)
		return
	}
	tmo, hb, err := taskTimeouts(s, f.In)
	if err != nil {
		x.fail(f, err)
		return
	}
	var fn string
	var payload any
	switch s.Resource.Kind {
	case asl.LambdaFunction:
		fn, payload = functionName(s.Resource.FunctionARN), eff
	case asl.LambdaInvoke:
		m, _ := eff.(map[string]any)
		name, _ := m["FunctionName"].(string)
		if name == "" {
			x.raise(f, asl.ErrRuntime, strp("The field 'FunctionName' is required but was missing"))
			return
		}
		fn = functionName(name)
		f.Tail = m["LogType"] == "Tail"
		if p := m["Payload"]; p != nil {
			payload = p
		} else { // absent or null: Lambda receives {}
			payload = map[string]any{}
		}
		if ps, ok := payload.(string); ok {
			// A string Payload is sent as is, not JSON-encoded (as AWS does).
			payload = rawPayload(ps)
		}
	default:
		x.raise(f, asl.ErrRuntime, strp("unsupported Task resource "+s.Resource.ARN))
		return
	}
	effJS := enc(eff)
	f.Key = x.newKey()
	f.Token, f.Sub, f.HB, f.HBDue, f.TDue = token, false, 0, 0, 0
	var tp, hp *int64
	if tmo > 0 {
		f.TDue = x.now.Add(time.Duration(tmo) * time.Second).UnixMilli()
		x.addTimer(f.Key, tkTimeout, msTime(f.TDue))
		v := tmo
		tp = &v
	}
	if hb > 0 {
		f.HB = hb
		f.HBDue = x.now.Add(time.Duration(hb) * time.Second).UnixMilli()
		x.addTimer(f.Key, tkHeartbeat, msTime(f.HBDue))
		v := hb
		hp = &v
	}
	if s.Resource.Kind == asl.LambdaFunction {
		x.emit(f, EvLambdaFunctionScheduled, true, func(ev *HistoryEvent) {
			ev.LambdaFunctionScheduledEventDetails = &LambdaFunctionScheduledEventDetails{Resource: s.Resource.FunctionARN, Input: &effJS, InputDetails: tr(), TimeoutInSeconds: tp}
		})
		x.emitStarted(func() { x.emit(f, EvLambdaFunctionStarted, true, nil) })
	} else {
		res := invokeResource(s.Resource)
		x.emit(f, EvTaskScheduled, true, func(ev *HistoryEvent) {
			ev.TaskScheduledEventDetails = &TaskScheduledEventDetails{ResourceType: "lambda", Resource: res, Region: x.region, Parameters: effJS, TimeoutInSeconds: tp, HeartbeatInSeconds: hp}
		})
		x.emitStarted(func() {
			x.emit(f, EvTaskStarted, true, func(ev *HistoryEvent) {
				ev.TaskStartedEventDetails = &TaskStartedEventDetails{ResourceType: "lambda", Resource: res}
			})
		})
	}
	r := x.touch()
	var pb []byte
	if rp, ok := payload.(rawPayload); ok {
		pb = []byte(rp)
	} else {
		pb, _ = asl.EncodeJSON(payload)
	}
	r.invAdd = append(r.invAdd, invRow{arn: x.r.Arn, key: f.Key, fn: fn, payload: pb})
	if token != "" {
		r.tokensAdd = append(r.tokensAdd, tokenRow{token: token, key: f.Key})
	}
	f.Phase = phTask
}

// endTask releases thread f's task waits (the task is over).
func (x *exec) endTask(f *frame, invocationDone bool) {
	r := x.touch()
	if !invocationDone {
		r.invDel = append(r.invDel, f.Key)
	}
	if f.TDue != 0 {
		x.delTimer(f.Key, tkTimeout)
	}
	if f.HB != 0 {
		x.delTimer(f.Key, tkHeartbeat)
	}
	if f.Token != "" {
		r.tokensClose = append(r.tokensClose, f.Token)
	}
}

func (x *exec) taskFailed(f *frame, s *asl.Task, name string, cause *string) {
	if s.Resource.Kind == asl.LambdaFunction {
		x.emit(f, EvLambdaFunctionFailed, true, func(ev *HistoryEvent) {
			ev.LambdaFunctionFailedEventDetails = &ErrorCause{Error: &name, Cause: cause}
		})
	} else {
		res := invokeResource(s.Resource)
		x.emit(f, EvTaskFailed, true, func(ev *HistoryEvent) {
			ev.TaskFailedEventDetails = &TaskErrorEventDetails{ResourceType: "lambda", Resource: res, Error: &name, Cause: cause}
		})
	}
	f.Phase = phRun // a retry re-runs the body without re-entering
	x.raise(f, name, cause)
}

func (x *exec) taskSucceeded(f *frame, s *asl.Task, result any, js string) {
	if len(js) > maxPayload {
		who := f.State
		if s.Resource.Kind == asl.LambdaInvoke {
			who = "lambda"
		}
		x.taskFailed(f, s, asl.ErrDataLimitExceeded, strp("The state/task '"+who+"' returned a result with a size exceeding the maximum number of bytes service limit."))
		return
	}
	if s.Resource.Kind == asl.LambdaFunction {
		x.emit(f, EvLambdaFunctionSucceeded, true, func(ev *HistoryEvent) {
			ev.LambdaFunctionSucceededEventDetails = &LambdaFunctionSucceededEventDetails{Output: &js, OutputDetails: tr()}
		})
	} else {
		res := invokeResource(s.Resource)
		x.emit(f, EvTaskSucceeded, true, func(ev *HistoryEvent) {
			ev.TaskSucceededEventDetails = &TaskResultEventDetails{ResourceType: "lambda", Resource: res, Output: &js, OutputDetails: tr()}
		})
	}
	f.Phase = phRun
	out, err := s.ApplyResult(f.In, result, x.env(f, f.Token))
	if err != nil {
		x.fail(f, err)
		return
	}
	x.exitTo(f, s.Fields(), out, s.Next, s.End)
}

// invokeEnvelope wraps a Lambda payload the way arn:aws:states:::lambda:invoke
// returns it.
func invokeEnvelope(payload any, payloadLen int, now time.Time) map[string]any {
	id := uuid.NewString()
	date := now.UTC().Format(time.RFC1123)
	date = strings.Replace(date, "UTC", "GMT", 1)
	trace := "Root=1-" + strconv.FormatInt(now.Unix(), 16) + "-" + strings.ReplaceAll(uuid.NewString(), "-", "")[:24]
	n := strconv.Itoa(payloadLen)
	return map[string]any{
		"ExecutedVersion": "$LATEST",
		"Payload":         payload,
		"SdkHttpMetadata": map[string]any{
			"AllHttpHeaders": map[string]any{
				"X-Amz-Executed-Version":         []any{"$LATEST"},
				"x-amzn-Remapped-Content-Length": []any{"0"},
				"Connection":                     []any{"keep-alive"},
				"x-amzn-RequestId":               []any{id},
				"Content-Length":                 []any{n},
				"Date":                           []any{date},
				"X-Amzn-Trace-Id":                []any{trace},
				"Content-Type":                   []any{"application/json"},
			},
			"HttpHeaders": map[string]any{
				"Connection": "keep-alive", "Content-Length": n, "Content-Type": "application/json", "Date": date,
				"X-Amz-Executed-Version": "$LATEST", "x-amzn-Remapped-Content-Length": "0", "x-amzn-RequestId": id, "X-Amzn-Trace-Id": trace,
			},
			"HttpStatusCode": json.Number("200"),
		},
		"SdkResponseMetadata": map[string]any{"RequestId": id},
		"StatusCode":          json.Number("200"),
	}
}

// onResult applies a finished Lambda invocation to the thread waiting on key.
func (x *exec) onResult(sg *signal) {
	f := findKey(x.r.Root, sg.key)
	if f == nil || f.Phase != phTask || f.Sub {
		// Stale: the task timed out or the execution moved on.
		r := x.touch()
		r.invDel = append(r.invDel, sg.key)
		return
	}
	s := x.stateOf(f).(*asl.Task)
	r := x.touch()
	r.invDel = append(r.invDel, sg.key)
	if sg.failed {
		x.endTask(f, true)
		cause := sg.cause
		if s.Resource.Kind == asl.LambdaInvoke {
			// The optimised integration re-serialises the error document.
			var b bytes.Buffer
			if json.Compact(&b, []byte(cause)) == nil {
				cause = b.String()
			}
		}
		x.taskFailed(f, s, sg.errName, &cause)
		return
	}
	v, err := asl.DecodeJSON(sg.out)
	if err != nil {
		x.endTask(f, true)
		x.taskFailed(f, s, "Lambda.InvalidResponse", strp("invalid JSON returned by the function"))
		return
	}
	var result any = v
	js := enc(v)
	if s.Resource.Kind == asl.LambdaInvoke {
		env := invokeEnvelope(v, len(sg.out), x.now)
		if f.Tail {
			// LogType Tail: the last 4 KB of the invocation's log, base64.
			id := env["SdkResponseMetadata"].(map[string]any)["RequestId"].(string)
			lr := base64.StdEncoding.EncodeToString([]byte("START RequestId: " + id + " Version: $LATEST\nEND RequestId: " + id +
				"\nREPORT RequestId: " + id + "\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 32 MB\t\n"))
			env["LogResult"] = lr
			md := env["SdkHttpMetadata"].(map[string]any)
			md["AllHttpHeaders"].(map[string]any)["X-Amz-Log-Result"] = []any{lr}
			md["HttpHeaders"].(map[string]any)["X-Amz-Log-Result"] = lr
		}
		result = env
		js = enc(result)
	}
	if s.Resource.WaitForTaskToken {
		f.Sub = true
		x.emit(f, EvTaskSubmitted, true, func(ev *HistoryEvent) {
			ev.TaskSubmittedEventDetails = &TaskResultEventDetails{ResourceType: "lambda", Resource: invokeResource(s.Resource), Output: &js, OutputDetails: tr()}
		})
		return
	}
	x.endTask(f, true)
	x.taskSucceeded(f, s, result, js)
}

// onTimer applies a due timer.
func (x *exec) onTimer(sg *signal) {
	if sg.kind == tkExec {
		if x.status == StatusRunning {
			x.closeWith(StatusTimedOut, EvExecutionTimedOut, nil, nil)
		}
		return
	}
	f := findKey(x.r.Root, sg.key)
	if f == nil {
		return
	}
	switch {
	case sg.kind == tkWait && f.Phase == phWait:
		x.delTimer(f.Key, tkWait)
		st := x.stateOf(f)
		c := st.Fields()
		out := f.Out
		f.Out = nil
		x.exitTo(f, c, out, c.Next, c.End)
	case sg.kind == tkRetry && f.Phase == phRetry:
		x.delTimer(f.Key, tkRetry)
		f.Key = 0
		f.Phase = phRun
	case (sg.kind == tkTimeout || sg.kind == tkHeartbeat) && f.Phase == phTask:
		name := asl.ErrTimeout
		if sg.kind == tkHeartbeat {
			if x.now.UnixMilli() < f.HBDue {
				return // extended by a heartbeat
			}
			name = asl.ErrHeartbeatTimeout
		}
		s := x.stateOf(f).(*asl.Task)
		x.endTask(f, false)
		if s.Resource.Kind == asl.LambdaFunction {
			x.emit(f, EvLambdaFunctionTimedOut, true, func(ev *HistoryEvent) {
				ev.LambdaFunctionTimedOutEventDetails = &ErrorCause{Error: &name}
			})
		} else {
			x.emit(f, EvTaskTimedOut, true, func(ev *HistoryEvent) {
				ev.TaskTimedOutEventDetails = &TaskErrorEventDetails{ResourceType: "lambda", Resource: invokeResource(s.Resource), Error: &name}
			})
		}
		f.Phase = phRun
		x.raise(f, name, nil)
	}
}

// onToken applies SendTaskSuccess/Failure/Heartbeat. It reports false when
// no thread waits on the token any more.
func (x *exec) onToken(key int64, token string, op int, output any, outJS, errName, cause string) bool {
	if x.status != StatusRunning {
		return false
	}
	f := findKey(x.r.Root, key)
	if f == nil || f.Phase != phTask || f.Token != token {
		return false
	}
	s := x.stateOf(f).(*asl.Task)
	switch op {
	case tokHeartbeat:
		if f.HB > 0 {
			f.HBDue = x.now.Add(time.Duration(f.HB) * time.Second).UnixMilli()
			x.addTimer(f.Key, tkHeartbeat, msTime(f.HBDue))
		}
		x.touch()
	case tokSuccess:
		x.endTask(f, f.Sub)
		x.taskSucceeded(f, s, output, outJS)
	case tokFailure:
		x.endTask(f, f.Sub)
		var cp *string
		if cause != "" {
			cp = &cause
		}
		x.taskFailed(f, s, errName, cp)
	}
	return true
}

const (
	tokSuccess = iota + 1
	tokFailure
	tokHeartbeat
)
