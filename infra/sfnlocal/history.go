package sfnlocal

import (
	"encoding/binary"
	"encoding/json"
	"errors"
)

// History chunks are stored in a compact binary form (AWS's JSON shape is
// about three times larger and much slower to produce). A chunk is the
// version byte histV1 followed by events; each event is: type (table index
// or 0 + string), id, previousEventId, timestamp ms (varints), then a
// details slot byte and that slot's fields. Strings are length-prefixed;
// optional strings and ints carry a presence byte. A chunk starting with
// '[' is JSON (older format, still readable).
const histV1 = 0xB1

var evTypeNames = []string{"",
	"ExecutionStarted", "ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut",
	"PassStateEntered", "PassStateExited", "ChoiceStateEntered", "ChoiceStateExited", "WaitStateEntered", "WaitStateExited",
	"SucceedStateEntered", "SucceedStateExited", "FailStateEntered", "TaskStateEntered", "TaskStateExited",
	"ParallelStateEntered", "ParallelStateExited", "MapStateEntered", "MapStateExited",
	"LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded", "LambdaFunctionFailed", "LambdaFunctionTimedOut",
	"TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded", "TaskFailed", "TaskTimedOut",
	"MapStateStarted", "MapStateSucceeded", "MapStateFailed", "MapStateAborted",
	"MapIterationStarted", "MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted",
	"ParallelStateStarted", "ParallelStateSucceeded", "ParallelStateFailed", "ParallelStateAborted",
	"TaskStateAborted", "WaitStateAborted", "LambdaFunctionScheduleFailed", "LambdaFunctionStartFailed", "TaskStartFailed", "TaskSubmitFailed",
}

var evTypeIndex = func() map[string]byte {
	m := map[string]byte{}
	for i, n := range evTypeNames {
		if i > 0 {
			m[n] = byte(i)
		}
	}
	return m
}()

// Detail slots.
const (
	slNone byte = iota
	slExecStarted
	slExecSucceeded
	slExecFailed
	slExecAborted
	slExecTimedOut
	slEntered
	slExited
	slLambdaScheduled
	slLambdaScheduleFailed
	slLambdaStartFailed
	slLambdaSucceeded
	slLambdaFailed
	slLambdaTimedOut
	slTaskScheduled
	slTaskStarted
	slTaskStartFailed
	slTaskSubmitted
	slTaskSubmitFailed
	slTaskSucceeded
	slTaskFailed
	slTaskTimedOut
	slMapStarted
	slMapIterStarted
	slMapIterSucceeded
	slMapIterFailed
	slMapIterAborted
	slJSON // anything else: the event as JSON
)

type henc struct{ b []byte }

func (w *henc) u(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *henc) i(v int64)  { w.b = binary.AppendVarint(w.b, v) }
func (w *henc) s(v string) { w.u(uint64(len(v))); w.b = append(w.b, v...) }
func (w *henc) sp(v *string) {
	if v == nil {
		w.b = append(w.b, 0)
		return
	}
	w.b = append(w.b, 1)
	w.s(*v)
}
func (w *henc) ip(v *int64) {
	if v == nil {
		w.b = append(w.b, 0)
		return
	}
	w.b = append(w.b, 1)
	w.i(*v)
}
func (w *henc) tr(d *HistoryEventExecutionDataDetails) {
	switch {
	case d == nil:
		w.b = append(w.b, 0)
	case d.Truncated:
		w.b = append(w.b, 2)
	default:
		w.b = append(w.b, 1)
	}
}
func (w *henc) ec(d *ErrorCause) { w.sp(d.Error); w.sp(d.Cause) }

// encodeEvents renders events as one history chunk.
func encodeEvents(evs []HistoryEvent) []byte {
	var b []byte
	for i := range evs {
		b = appendEvent(b, &evs[i])
	}
	return b
}

// appendEvent appends ev to chunk b (starting the chunk if b is empty).
func appendEvent(b []byte, ev *HistoryEvent) []byte {
	if len(b) == 0 {
		b = append(make([]byte, 0, 1024), histV1)
	}
	w := &henc{b: b}
	{
		if t, ok := evTypeIndex[ev.Type]; ok {
			w.b = append(w.b, t)
		} else {
			w.b = append(w.b, 0)
			w.s(ev.Type)
		}
		w.i(ev.ID)
		w.i(ev.PreviousEventID)
		w.i(ev.Timestamp.UnixMilli())
		switch {
		case ev.ExecutionStartedEventDetails != nil:
			d := ev.ExecutionStartedEventDetails
			w.b = append(w.b, slExecStarted)
			w.sp(d.Input)
			w.tr(d.InputDetails)
			w.s(d.RoleArn)
		case ev.ExecutionSucceededEventDetails != nil:
			d := ev.ExecutionSucceededEventDetails
			w.b = append(w.b, slExecSucceeded)
			w.sp(d.Output)
			w.tr(d.OutputDetails)
		case ev.ExecutionFailedEventDetails != nil:
			w.b = append(w.b, slExecFailed)
			w.ec(ev.ExecutionFailedEventDetails)
		case ev.ExecutionAbortedEventDetails != nil:
			w.b = append(w.b, slExecAborted)
			w.ec(ev.ExecutionAbortedEventDetails)
		case ev.ExecutionTimedOutEventDetails != nil:
			w.b = append(w.b, slExecTimedOut)
			w.ec(ev.ExecutionTimedOutEventDetails)
		case ev.StateEnteredEventDetails != nil:
			d := ev.StateEnteredEventDetails
			w.b = append(w.b, slEntered)
			w.s(d.Name)
			w.sp(d.Input)
			w.tr(d.InputDetails)
		case ev.StateExitedEventDetails != nil:
			d := ev.StateExitedEventDetails
			w.b = append(w.b, slExited)
			w.s(d.Name)
			w.sp(d.Output)
			w.tr(d.OutputDetails)
		case ev.LambdaFunctionScheduledEventDetails != nil:
			d := ev.LambdaFunctionScheduledEventDetails
			w.b = append(w.b, slLambdaScheduled)
			w.s(d.Resource)
			w.sp(d.Input)
			w.tr(d.InputDetails)
			w.ip(d.TimeoutInSeconds)
		case ev.LambdaFunctionScheduleFailedEventDetails != nil:
			w.b = append(w.b, slLambdaScheduleFailed)
			w.ec(ev.LambdaFunctionScheduleFailedEventDetails)
		case ev.LambdaFunctionStartFailedEventDetails != nil:
			w.b = append(w.b, slLambdaStartFailed)
			w.ec(ev.LambdaFunctionStartFailedEventDetails)
		case ev.LambdaFunctionSucceededEventDetails != nil:
			d := ev.LambdaFunctionSucceededEventDetails
			w.b = append(w.b, slLambdaSucceeded)
			w.sp(d.Output)
			w.tr(d.OutputDetails)
		case ev.LambdaFunctionFailedEventDetails != nil:
			w.b = append(w.b, slLambdaFailed)
			w.ec(ev.LambdaFunctionFailedEventDetails)
		case ev.LambdaFunctionTimedOutEventDetails != nil:
			w.b = append(w.b, slLambdaTimedOut)
			w.ec(ev.LambdaFunctionTimedOutEventDetails)
		case ev.TaskScheduledEventDetails != nil:
			d := ev.TaskScheduledEventDetails
			w.b = append(w.b, slTaskScheduled)
			w.s(d.ResourceType)
			w.s(d.Resource)
			w.s(d.Region)
			w.s(d.Parameters)
			w.ip(d.TimeoutInSeconds)
			w.ip(d.HeartbeatInSeconds)
		case ev.TaskStartedEventDetails != nil:
			d := ev.TaskStartedEventDetails
			w.b = append(w.b, slTaskStarted)
			w.s(d.ResourceType)
			w.s(d.Resource)
		case ev.TaskStartFailedEventDetails != nil:
			w.b = append(w.b, slTaskStartFailed)
			w.te(ev.TaskStartFailedEventDetails)
		case ev.TaskSubmittedEventDetails != nil:
			w.b = append(w.b, slTaskSubmitted)
			w.tres(ev.TaskSubmittedEventDetails)
		case ev.TaskSubmitFailedEventDetails != nil:
			w.b = append(w.b, slTaskSubmitFailed)
			w.te(ev.TaskSubmitFailedEventDetails)
		case ev.TaskSucceededEventDetails != nil:
			w.b = append(w.b, slTaskSucceeded)
			w.tres(ev.TaskSucceededEventDetails)
		case ev.TaskFailedEventDetails != nil:
			w.b = append(w.b, slTaskFailed)
			w.te(ev.TaskFailedEventDetails)
		case ev.TaskTimedOutEventDetails != nil:
			w.b = append(w.b, slTaskTimedOut)
			w.te(ev.TaskTimedOutEventDetails)
		case ev.MapStateStartedEventDetails != nil:
			w.b = append(w.b, slMapStarted)
			w.i(int64(ev.MapStateStartedEventDetails.Length))
		case ev.MapIterationStartedEventDetails != nil:
			w.b = append(w.b, slMapIterStarted)
			w.mi(ev.MapIterationStartedEventDetails)
		case ev.MapIterationSucceededEventDetails != nil:
			w.b = append(w.b, slMapIterSucceeded)
			w.mi(ev.MapIterationSucceededEventDetails)
		case ev.MapIterationFailedEventDetails != nil:
			w.b = append(w.b, slMapIterFailed)
			w.mi(ev.MapIterationFailedEventDetails)
		case ev.MapIterationAbortedEventDetails != nil:
			w.b = append(w.b, slMapIterAborted)
			w.mi(ev.MapIterationAbortedEventDetails)
		case ev.EvaluationFailedEventDetails != nil:
			b, _ := json.Marshal(ev)
			w.b = append(w.b, slJSON)
			w.s(string(b))
		default:
			w.b = append(w.b, slNone)
		}
	}
	return w.b
}

func (w *henc) te(d *TaskErrorEventDetails) {
	w.s(d.ResourceType)
	w.s(d.Resource)
	w.sp(d.Error)
	w.sp(d.Cause)
}

func (w *henc) tres(d *TaskResultEventDetails) {
	w.s(d.ResourceType)
	w.s(d.Resource)
	w.sp(d.Output)
	w.tr(d.OutputDetails)
}

func (w *henc) mi(d *MapIterationEventDetails) {
	w.s(d.Name)
	w.i(int64(d.Index))
}

var errBadChunk = errors.New("sfnlocal: corrupt history chunk")

type hdec struct {
	b    []byte
	err  error
	skip bool // parse without materialising strings
}

func (r *hdec) byte1() byte {
	if len(r.b) == 0 {
		r.err = errBadChunk
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}
func (r *hdec) u() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBadChunk
		return 0
	}
	r.b = r.b[n:]
	return v
}
func (r *hdec) i() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errBadChunk
		return 0
	}
	r.b = r.b[n:]
	return v
}
func (r *hdec) s() string {
	n := r.u()
	if r.err != nil || uint64(len(r.b)) < n {
		r.err = errBadChunk
		return ""
	}
	if r.skip {
		r.b = r.b[n:]
		return ""
	}
	v := string(r.b[:n])
	r.b = r.b[n:]
	return v
}
func (r *hdec) sp() *string {
	if r.byte1() == 0 {
		return nil
	}
	v := r.s()
	return &v
}
func (r *hdec) ip() *int64 {
	if r.byte1() == 0 {
		return nil
	}
	v := r.i()
	return &v
}
func (r *hdec) tr() *HistoryEventExecutionDataDetails {
	switch r.byte1() {
	case 0:
		return nil
	case 2:
		return &HistoryEventExecutionDataDetails{Truncated: true}
	}
	return &HistoryEventExecutionDataDetails{}
}
func (r *hdec) ec() *ErrorCause { return &ErrorCause{Error: r.sp(), Cause: r.sp()} }
func (r *hdec) te() *TaskErrorEventDetails {
	return &TaskErrorEventDetails{ResourceType: r.s(), Resource: r.s(), Error: r.sp(), Cause: r.sp()}
}
func (r *hdec) tres() *TaskResultEventDetails {
	return &TaskResultEventDetails{ResourceType: r.s(), Resource: r.s(), Output: r.sp(), OutputDetails: r.tr()}
}
func (r *hdec) mi() *MapIterationEventDetails {
	return &MapIterationEventDetails{Name: r.s(), Index: int(r.i())}
}

// decodeEvents parses a history chunk (binary or JSON).
func decodeEvents(b []byte) ([]HistoryEvent, error) { return decodeRange(b, 0, 1<<62) }

// decodeRange parses the events of a chunk whose ids are in [lo, hi].
func decodeRange(b []byte, lo, hi int64) ([]HistoryEvent, error) {
	if len(b) > 0 && b[0] == '[' {
		var evs []HistoryEvent
		err := json.Unmarshal(b, &evs)
		return evs, err
	}
	if len(b) == 0 || b[0] != histV1 {
		return nil, errBadChunk
	}
	r := &hdec{b: b[1:]}
	var evs []HistoryEvent
	for len(r.b) > 0 && r.err == nil {
		var ev HistoryEvent
		t := r.byte1()
		if int(t) < len(evTypeNames) && t != 0 {
			ev.Type = evTypeNames[t]
		} else {
			ev.Type = r.s()
		}
		ev.ID = r.i()
		r.skip = ev.ID < lo || ev.ID > hi
		ev.PreviousEventID = r.i()
		ev.Timestamp = TS(msTime(r.i()))
		switch r.byte1() {
		case slExecStarted:
			ev.ExecutionStartedEventDetails = &ExecutionStartedEventDetails{Input: r.sp(), InputDetails: r.tr(), RoleArn: r.s()}
		case slExecSucceeded:
			ev.ExecutionSucceededEventDetails = &ExecutionSucceededEventDetails{Output: r.sp(), OutputDetails: r.tr()}
		case slExecFailed:
			ev.ExecutionFailedEventDetails = r.ec()
		case slExecAborted:
			ev.ExecutionAbortedEventDetails = r.ec()
		case slExecTimedOut:
			ev.ExecutionTimedOutEventDetails = r.ec()
		case slEntered:
			ev.StateEnteredEventDetails = &StateEnteredEventDetails{Name: r.s(), Input: r.sp(), InputDetails: r.tr()}
		case slExited:
			ev.StateExitedEventDetails = &StateExitedEventDetails{Name: r.s(), Output: r.sp(), OutputDetails: r.tr()}
		case slLambdaScheduled:
			ev.LambdaFunctionScheduledEventDetails = &LambdaFunctionScheduledEventDetails{Resource: r.s(), Input: r.sp(), InputDetails: r.tr(), TimeoutInSeconds: r.ip()}
		case slLambdaScheduleFailed:
			ev.LambdaFunctionScheduleFailedEventDetails = r.ec()
		case slLambdaStartFailed:
			ev.LambdaFunctionStartFailedEventDetails = r.ec()
		case slLambdaSucceeded:
			ev.LambdaFunctionSucceededEventDetails = &LambdaFunctionSucceededEventDetails{Output: r.sp(), OutputDetails: r.tr()}
		case slLambdaFailed:
			ev.LambdaFunctionFailedEventDetails = r.ec()
		case slLambdaTimedOut:
			ev.LambdaFunctionTimedOutEventDetails = r.ec()
		case slTaskScheduled:
			ev.TaskScheduledEventDetails = &TaskScheduledEventDetails{ResourceType: r.s(), Resource: r.s(), Region: r.s(), Parameters: r.s(), TimeoutInSeconds: r.ip(), HeartbeatInSeconds: r.ip()}
		case slTaskStarted:
			ev.TaskStartedEventDetails = &TaskStartedEventDetails{ResourceType: r.s(), Resource: r.s()}
		case slTaskStartFailed:
			ev.TaskStartFailedEventDetails = r.te()
		case slTaskSubmitted:
			ev.TaskSubmittedEventDetails = r.tres()
		case slTaskSubmitFailed:
			ev.TaskSubmitFailedEventDetails = r.te()
		case slTaskSucceeded:
			ev.TaskSucceededEventDetails = r.tres()
		case slTaskFailed:
			ev.TaskFailedEventDetails = r.te()
		case slTaskTimedOut:
			ev.TaskTimedOutEventDetails = r.te()
		case slMapStarted:
			ev.MapStateStartedEventDetails = &MapStateStartedEventDetails{Length: int(r.i())}
		case slMapIterStarted:
			ev.MapIterationStartedEventDetails = r.mi()
		case slMapIterSucceeded:
			ev.MapIterationSucceededEventDetails = r.mi()
		case slMapIterFailed:
			ev.MapIterationFailedEventDetails = r.mi()
		case slMapIterAborted:
			ev.MapIterationAbortedEventDetails = r.mi()
		case slJSON:
			if err := json.Unmarshal([]byte(r.s()), &ev); err != nil {
				return nil, err
			}
		}
		if !r.skip {
			evs = append(evs, ev)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return evs, nil
}

// firstEventID returns the id of the first event of a compact chunk, or 0
// if b is not one.
func firstEventID(b []byte) int64 {
	if len(b) < 2 || b[0] != histV1 {
		return 0
	}
	r := &hdec{b: b[1:]}
	if r.byte1() == 0 {
		r.s()
	}
	id := r.i()
	if r.err != nil {
		return 0
	}
	return id
}
