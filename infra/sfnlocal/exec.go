package sfnlocal

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/ordercare/ordercare/infra/sfnlocal/asl"
)

// maxPayload is AWS's 256 KiB limit on inputs, outputs and results.
const maxPayload = 256 * 1024

// Frame phases.
const (
	phEnter uint8 = iota // enter State (emit <Type>StateEntered)
	phRun                // run the state's body (also after a retry)
	phTask               // wait for a task result and/or task token
	phWait               // Wait state timer
	phRetry              // retry backoff timer
	phKids               // Parallel branches / Map iterations running
)

// Frame outcomes.
const (
	fRunning uint8 = iota
	fSucceeded
	fFailed
	fAborted
)

// Timer kinds.
const (
	tkWait uint8 = iota + 1
	tkRetry
	tkTimeout
	tkHeartbeat
	tkExec
)

// mstep navigates from a machine to a sub-machine: Branch b of Parallel
// state S, or the item processor of Map state S (B = -1).
type mstep struct {
	S string `json:"s"`
	B int    `json:"b"`
}

// frame is one thread of an execution: the top level, a Parallel branch
// or a Map iteration. It is serialized (JSON) into the execution's state.
type frame struct {
	M       []mstep `json:"m,omitempty"`
	State   string  `json:"s,omitempty"`
	In      any     `json:"i,omitempty"`
	Phase   uint8   `json:"p,omitempty"`
	Done    uint8   `json:"d,omitempty"`
	Entered int64   `json:"e,omitempty"`  // id of the StateEntered event
	EntAt   int64   `json:"ea,omitempty"` // ms
	Prev    int64   `json:"pv,omitempty"` // previousEventId for this thread's next event
	Att     []int   `json:"at,omitempty"` // per-retrier attempts
	Key     int64   `json:"k,omitempty"`  // current wait key
	Token   string  `json:"tk,omitempty"`
	Sub     bool    `json:"sb,omitempty"` // waitForTaskToken: invocation returned
	Tail    bool    `json:"tl,omitempty"` // lambda:invoke with LogType Tail
	HB      int64   `json:"hb,omitempty"` // heartbeat seconds
	HBDue   int64   `json:"hd,omitempty"`
	TDue    int64   `json:"td,omitempty"`
	Out     any     `json:"o,omitempty"` // Wait output / final output
	Err     *string `json:"er,omitempty"`
	Cause   *string `json:"ca,omitempty"`
	Idx     int     `json:"x,omitempty"` // Map iteration index

	// Parallel / Map
	Kids   []*frame `json:"c,omitempty"`
	Res    []any    `json:"r,omitempty"`
	Eff    any      `json:"ef,omitempty"`
	Items  []any    `json:"it,omitempty"`
	NextI  int      `json:"ni,omitempty"`
	Conc   int      `json:"cc,omitempty"`
	NRes   int      `json:"nr,omitempty"` // results collected
	LastIt int64    `json:"li,omitempty"` // id of the last MapIterationSucceeded

	mach  *asl.Machine
	inJS  string   // text of In as history shows it (cache; "" = encode In)
	outJS string   // text of Out (cache)
	resJS []string // texts of Res as their threads exited (cache; "" = unknown)
}

// run is an execution's durable state.
type run struct {
	Arn    string `json:"a"`
	SM     string `json:"sm"`
	SMName string `json:"smn"`
	Rev    int64  `json:"rv"`
	Name   string `json:"n"`
	Role   string `json:"ro,omitempty"`
	Input  string `json:"in"`
	Trace  string `json:"tr,omitempty"`
	Start  int64  `json:"st"`
	LastID int64  `json:"id"`
	Seq    int64  `json:"q"`
	Hist   int    `json:"h"`           // history chunks written (chunk 0 is executions.hist0)
	Waits  bool   `json:"w,omitempty"` // ever had timers, tokens or invocations
	Root   *frame `json:"f"`
}

// exec is an execution held in memory by the executor goroutine.
type exec struct {
	r        *run
	m        *asl.Machine
	input    any
	execCtx  map[string]any
	smCtx    map[string]any
	status   string
	hist     []byte // history chunk of events not yet committed
	rec      *commitRec
	inflight int
	isNew    bool
	queued   bool
	dirty    bool
	now      time.Time
	out      *string
	errName  *string
	cause    *string
	stop     int64
	budget   int
	region   string
	// While a Parallel or Map steps its threads, the Started events of the
	// tasks they schedule wait here and follow every thread's Scheduled
	// event, as on AWS (tasks start after the round that scheduled them).
	holdStarts int
	starts     []func()
}

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func strp(s string) *string { return &s }

func enc(v any) string {
	b, err := asl.EncodeJSON(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

func newToken() string {
	var b [48]byte
	_, _ = rand.Read(b[:])
	return "AQ" + base64.RawURLEncoding.EncodeToString(b[:])
}

// tr is a shared "not truncated" details value.
func tr() *HistoryEventExecutionDataDetails { return &HistoryEventExecutionDataDetails{} }

// setup builds the execution's part of the context object.
func (x *exec) setup() {
	if x.input == nil {
		x.input, _ = asl.DecodeJSON([]byte(x.r.Input))
	}
	x.execCtx = map[string]any{
		"Id": x.r.Arn, "Input": x.input, "Name": x.r.Name, "RoleArn": x.r.Role,
		"StartTime": isoTime(msTime(x.r.Start)), "RedriveCount": json.Number("0"),
	}
	x.smCtx = map[string]any{"Id": x.r.SM, "Name": x.r.SMName}
}

func (x *exec) touch() *commitRec {
	if x.rec == nil {
		x.rec = &commitRec{x: x, arn: x.r.Arn}
	}
	return x.rec
}

func (x *exec) newKey() int64 { x.r.Seq++; return x.r.Seq }

// emit appends an event in thread f (nil: the execution level). When adv
// is true the event becomes the thread's previous event.
func (x *exec) emit(f *frame, typ string, adv bool, fill func(*HistoryEvent)) int64 {
	x.r.LastID++
	ev := HistoryEvent{Timestamp: TS(x.now), Type: typ, ID: x.r.LastID}
	if f != nil {
		ev.PreviousEventID = f.Prev
		if adv {
			f.Prev = ev.ID
		}
	}
	if fill != nil {
		fill(&ev)
	}
	x.hist = appendEvent(x.hist, &ev)
	x.touch()
	return ev.ID
}

// emitStarted emits a task's Started event now, or after the current
// round of a Parallel or Map (see exec.holdStarts).
func (x *exec) emitStarted(emit func()) {
	if x.holdStarts > 0 {
		x.starts = append(x.starts, emit)
		return
	}
	emit()
}

func (x *exec) addTimer(key int64, kind uint8, due time.Time) {
	r := x.touch()
	r.timersAdd = append(r.timersAdd, timerRow{arn: x.r.Arn, key: key, kind: kind, due: due.UnixMilli()})
}

// delTimer deletes a timer; a timer added in the same commit is dropped
// (the commit applies deletions before additions).
func (x *exec) delTimer(key int64, kind uint8) {
	r := x.touch()
	keep := r.timersAdd[:0]
	for _, t := range r.timersAdd {
		if t.key != key || t.kind != kind {
			keep = append(keep, t)
		}
	}
	r.timersAdd = keep
	r.timersDel = append(r.timersDel, timerRow{arn: x.r.Arn, key: key, kind: kind})
}

// machineOf resolves f's (sub-)machine.
func (x *exec) machineOf(f *frame) *asl.Machine {
	if f.mach != nil {
		return f.mach
	}
	m := x.m
	for _, s := range f.M {
		switch st := m.States[s.S].(type) {
		case *asl.Parallel:
			m = st.Branches[s.B]
		case *asl.Map:
			m = st.Processor
		}
	}
	f.mach = m
	return m
}

func (x *exec) stateOf(f *frame) asl.State { return x.machineOf(f).States[f.State] }

// env is the environment of thread f's current state: its context object
// ($$, with token as $$.Task.Token) is built only if a path reads it.
func (x *exec) env(f *frame, token string) *asl.Env {
	n := 0
	for _, a := range f.Att {
		n += a
	}
	entered, name, st := f.EntAt, f.State, x.stateOf(f)
	return &asl.Env{Random: rnd, UUID: uuid.NewString, Lazy: func() any {
		sc := map[string]any{"EnteredTime": isoTime(msTime(entered)), "Name": name}
		switch st.(type) {
		case *asl.Task, *asl.Parallel, *asl.Map:
			sc["RetryCount"] = json.Number(strconv.Itoa(n))
		}
		if x.execCtx == nil {
			x.setup()
		}
		c := map[string]any{"Execution": x.execCtx, "StateMachine": x.smCtx, "State": sc}
		if token != "" {
			c["Task"] = map[string]any{"Token": token}
		}
		return c
	}}
}

// step runs thread f until it blocks, finishes or the budget is spent.
func (x *exec) step(f *frame) {
	for f.Done == fRunning && x.budget > 0 {
		x.budget--
		switch f.Phase {
		case phEnter:
			x.enter(f)
		case phRun:
			x.body(f)
		case phKids:
			if !x.stepKids(f) {
				return
			}
		default:
			return
		}
	}
}

func (x *exec) enter(f *frame) {
	st := x.stateOf(f)
	c := st.Fields()
	f.EntAt = x.now.UnixMilli()
	f.Att = nil
	if f.inJS == "" {
		f.inJS = enc(f.In)
	}
	in := f.inJS
	f.Entered = x.emit(f, c.Type+"StateEntered", true, func(ev *HistoryEvent) {
		ev.StateEnteredEventDetails = &StateEnteredEventDetails{Name: f.State, Input: &in, InputDetails: tr()}
	})
	f.Phase = phRun
}

// fail raises err in f's current state.
func (x *exec) fail(f *frame, err error) {
	name, cause := asl.ErrRuntime, err.Error()
	if ae, ok := asl.AsError(err); ok {
		name, cause = ae.Name, ae.CauseAt(f.State, f.Entered)
	}
	x.raise(f, name, &cause)
}

// raise applies the state's Retry then Catch to error name; failing both,
// thread f fails.
func (x *exec) raise(f *frame, name string, cause *string) { x.raiseP(f, &name, cause, nil) }

// raiseP is raise with an optional error name (nil: a Fail state without
// Error) and a hook run once it is known that the state will not be retried
// (before the catcher's output or the failure).
func (x *exec) raiseP(f *frame, namep *string, cause *string, noRetry func()) {
	st := x.stateOf(f)
	c := st.Fields()
	name := ""
	if namep != nil {
		name = *namep
	}
	cs := ""
	if cause != nil {
		cs = *cause
	}
	if len(c.Retry) > 0 {
		if len(f.Att) != len(c.Retry) {
			f.Att = make([]int, len(c.Retry))
		}
		if ok, i, d := decideRetry(c.Retry, f.Att, name, rnd); ok {
			f.Att[i]++
			if d <= 0 {
				f.Phase = phRun
				return
			}
			f.Key = x.newKey()
			x.addTimer(f.Key, tkRetry, x.now.Add(d))
			f.Phase = phRetry
			return
		}
	}
	if noRetry != nil {
		noRetry()
	}
	if i, ok := matchCatch(c.Catch, name); ok {
		out, err := catchOutput(&c.Catch[i], f.In, name, cs)
		if err != nil {
			n2, c2 := asl.ErrRuntime, err.Error()
			if ae, ok := asl.AsError(err); ok {
				n2, c2 = ae.Name, ae.CauseAt(f.State, f.Entered)
			}
			f.Done, f.Err, f.Cause = fFailed, &n2, &c2
			return
		}
		x.exitTo(f, c, out, c.Catch[i].Next, false)
		return
	}
	f.Done, f.Err, f.Cause = fFailed, namep, cause
}

// exitTo emits <Type>StateExited and moves f to next (or ends it).
func (x *exec) exitTo(f *frame, c *asl.Common, out any, next string, end bool) {
	x.exitWith(f, c, out, "", next, end)
}

// exitWith is exitTo with out's text when the caller knows it ("" = work
// it out): AWS keeps the text of a value it did not modify verbatim.
func (x *exec) exitWith(f *frame, c *asl.Common, out any, js string, next string, end bool) {
	switch {
	case js != "":
	case f.inJS != "" && sameValue(out, f.In):
		js = f.inJS
	default:
		js = enc(out)
	}
	if len(js) > maxPayload {
		cause := "The state/task '" + f.State + "' returned a result with a size exceeding the maximum number of bytes service limit."
		f.Done, f.Err, f.Cause = fFailed, strp(asl.ErrDataLimitExceeded), &cause
		return
	}
	x.emit(f, c.Type+"StateExited", true, func(ev *HistoryEvent) {
		ev.StateExitedEventDetails = &StateExitedEventDetails{Name: f.State, Output: &js, OutputDetails: tr()}
	})
	f.Key, f.Token, f.Sub, f.Tail, f.HB, f.HBDue, f.TDue, f.Att = 0, "", false, false, 0, 0, 0, nil
	f.Kids, f.Res, f.Eff, f.Items, f.NextI, f.Conc, f.NRes, f.LastIt, f.resJS = nil, nil, nil, nil, 0, 0, 0, 0, nil
	if end || (next == "" && c.End) {
		f.Done, f.Out, f.State, f.outJS, f.inJS = fSucceeded, out, "", js, ""
		return
	}
	f.State, f.In, f.inJS, f.Phase = next, out, js, phEnter
}

func (x *exec) body(f *frame) {
	st := x.stateOf(f)
	c := st.Fields()
	switch s := st.(type) {
	case *asl.Pass:
		out, err := s.Run(f.In, x.env(f, ""))
		if err != nil {
			x.fail(f, err)
			return
		}
		x.exitTo(f, c, out, c.Next, c.End)
	case *asl.Choice:
		next, out, err := s.Decide(f.In, x.env(f, ""))
		if err != nil {
			x.fail(f, err)
			return
		}
		x.exitTo(f, c, out, next, false)
	case *asl.Succeed:
		out, err := s.Output(f.In)
		if err != nil {
			x.fail(f, err)
			return
		}
		x.exitTo(f, c, out, "", true)
	case *asl.Fail:
		en, cs, err := failResolve(s, f.In, x.env(f, ""))
		if err != nil {
			x.fail(f, err)
			return
		}
		f.Done, f.Err, f.Cause = fFailed, en, cs
	case *asl.Wait:
		due, out, err := waitDue(s, f.In, msTime(f.EntAt))
		if err != nil {
			x.fail(f, err)
			return
		}
		if !due.After(x.now) {
			x.exitTo(f, c, out, c.Next, c.End)
			return
		}
		f.Out = out
		f.Key = x.newKey()
		x.addTimer(f.Key, tkWait, due)
		f.Phase = phWait
	case *asl.Task:
		x.startTask(f, s)
	case *asl.Parallel:
		eff, err := s.EffectiveInput(f.In, x.env(f, ""))
		if err != nil {
			x.fail(f, err)
			return
		}
		x.emit(f, EvParallelStateStarted, true, nil)
		f.Kids = make([]*frame, len(s.Branches))
		f.Res = make([]any, len(s.Branches))
		js := ""
		if sameValue(eff, f.In) {
			js = f.inJS
		}
		for i, b := range s.Branches {
			f.Kids[i] = &frame{M: appendStep(f.M, mstep{S: f.State, B: i}), State: b.StartAt, In: eff, inJS: js, Prev: f.Prev, mach: b}
		}
		f.Phase = phKids
	case *asl.Map:
		env := x.env(f, "")
		eff, err := s.EffectiveInput(f.In, env)
		if err != nil {
			x.fail(f, err)
			return
		}
		items, err := mapItems(s, eff)
		if err != nil {
			x.fail(f, err)
			return
		}
		conc, err := mapConcurrency(s, eff)
		if err != nil {
			x.fail(f, err)
			return
		}
		n := len(items)
		x.emit(f, EvMapStateStarted, true, func(ev *HistoryEvent) {
			ev.MapStateStartedEventDetails = &MapStateStartedEventDetails{Length: n}
		})
		f.Eff, f.Items, f.Conc, f.NextI, f.NRes, f.LastIt = eff, items, conc, 0, 0, 0
		f.Res = make([]any, n)
		f.Kids = nil
		f.Phase = phKids
	default:
		x.raise(f, asl.ErrRuntime, strp("unsupported state type "+c.Type))
	}
}

// keepResJS records the text of thread result i.
func (f *frame) keepResJS(i int, js string) {
	if f.resJS == nil {
		f.resJS = make([]string, len(f.Res))
	}
	f.resJS[i] = js
}

// resText is the text of the result array as AWS composes it from its
// threads' outputs, verbatim and comma-separated; "" when a text is unknown
// (after a restart, say), and the array is then encoded anew.
func (f *frame) resText() string {
	if len(f.resJS) != len(f.Res) {
		return ""
	}
	for _, js := range f.resJS {
		if js == "" {
			return ""
		}
	}
	return "[" + strings.Join(f.resJS, ",") + "]"
}

// sameValue reports whether a and b are the same JSON value object (not
// merely equal): the same map or slice, or equal scalars.
func sameValue(a, b any) bool {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		return ok && reflect.ValueOf(av).UnsafePointer() == reflect.ValueOf(bv).UnsafePointer()
	case []any:
		bv, ok := b.([]any)
		return ok && len(av) == len(bv) && (len(av) == 0 || &av[0] == &bv[0])
	case string, bool, json.Number, nil:
		return a == b
	}
	return false
}

func appendStep(m []mstep, s mstep) []mstep {
	out := make([]mstep, len(m), len(m)+1)
	copy(out, m)
	return append(out, s)
}

// stepKids advances a Parallel/Map state's threads. It returns true when f
// moved on (finished, failed, retried), false when it is blocked.
func (x *exec) stepKids(f *frame) bool {
	st := x.stateOf(f)
	c := st.Fields()
	ms, isMap := st.(*asl.Map)
	for {
		started := false
		if isMap {
			for f.NextI < len(f.Items) && (f.Conc <= 0 || len(f.Kids) < f.Conc) {
				i := f.NextI
				f.NextI++
				in, err := mapItemInput(ms, f.Eff, i, f.Items[i], x.env(f, ""))
				if err != nil {
					x.abortKids(f, nil)
					x.fail(f, err)
					return true
				}
				id := x.emit(f, EvMapIterationStarted, false, func(ev *HistoryEvent) {
					ev.MapIterationStartedEventDetails = &MapIterationEventDetails{Name: f.State, Index: i}
				})
				f.Kids = append(f.Kids, &frame{M: appendStep(f.M, mstep{S: f.State, B: -1}), State: ms.Processor.StartAt, In: in, Prev: id, Idx: i, mach: ms.Processor})
				started = true
			}
		}
		x.holdStarts++
		for _, k := range f.Kids {
			if k != nil && k.Done == fRunning {
				x.step(k)
			}
		}
		if x.holdStarts--; x.holdStarts == 0 {
			starts := x.starts
			x.starts = nil
			for _, emit := range starts {
				emit()
			}
		}
		// Collect finished threads.
		keep := f.Kids[:0]
		collected := false
		var failed *frame
		var lastIter int64
		for i, k := range f.Kids {
			if k == nil {
				if !isMap {
					keep = append(keep, k)
				}
				continue
			}
			switch k.Done {
			case fRunning:
				keep = append(keep, k)
				continue
			case fSucceeded:
				if isMap {
					f.Res[k.Idx] = k.Out
					f.keepResJS(k.Idx, k.outJS)
					lastIter = x.emit(k, EvMapIterationSucceeded, false, func(ev *HistoryEvent) {
						ev.MapIterationSucceededEventDetails = &MapIterationEventDetails{Name: f.State, Index: k.Idx}
					})
				} else {
					f.Res[i] = k.Out
					f.keepResJS(i, k.outJS)
					keep = append(keep, nil)
				}
				f.Prev = k.Prev
				f.NRes++
				collected = true
			case fFailed:
				if failed == nil {
					failed = k
					if isMap {
						x.emit(k, EvMapIterationFailed, false, func(ev *HistoryEvent) {
							ev.MapIterationFailedEventDetails = &MapIterationEventDetails{Name: f.State, Index: k.Idx}
						})
					}
					f.Prev = k.Prev
				} else if isMap {
					keep = append(keep, k) // aborted below
					continue
				}
				if !isMap {
					keep = append(keep, nil)
				}
			}
		}
		f.Kids = keep
		if failed != nil {
			x.abortKids(f, failed)
			typ := EvParallelStateFailed
			if isMap {
				typ = EvMapStateFailed
			}
			f.Kids, f.Res, f.Items, f.Eff, f.resJS = nil, nil, nil, nil, nil
			prev := failed.Prev
			x.raiseP(f, failed.Err, failed.Cause, func() {
				f.Prev = prev
				x.emit(f, typ, true, nil)
			})
			return true
		}
		if lastIter != 0 {
			f.LastIt = lastIter
		}
		total := len(f.Res)
		if f.NRes == total {
			if isMap && f.LastIt != 0 {
				f.Prev = f.LastIt
			}
			typ := EvParallelStateSucceeded
			if isMap {
				typ = EvMapStateSucceeded
			}
			x.emit(f, typ, false, nil)
			res := make([]any, total)
			copy(res, f.Res)
			resJS := f.resText()
			out, err := c.ApplyResult(f.In, res, x.env(f, ""))
			if err != nil {
				f.Kids, f.Res, f.Items, f.Eff, f.resJS = nil, nil, nil, nil, nil
				x.fail(f, err)
				return true
			}
			if !sameValue(out, res) {
				resJS = ""
			}
			x.exitWith(f, c, out, resJS, c.Next, c.End)
			return true
		}
		// Loop while something moved: a new iteration may now start, or a
		// started one may run to completion in memory.
		if !(started || collected) || x.budget <= 0 {
			return false
		}
	}
}

// abortKids aborts every thread under f other than failed (the thread
// whose failure fails f), releasing their waits. For Map states it emits,
// per aborted iteration, <Type>StateAborted and MapIterationAborted, both
// following failed's last event, as AWS does.
func (x *exec) abortKids(f *frame, failed *frame) {
	st := x.stateOf(f)
	_, isMap := st.(*asl.Map)
	prev := int64(0)
	if failed != nil {
		prev = failed.Prev
	}
	for _, k := range f.Kids {
		if k == nil || k == failed || k.Done == fSucceeded || k.Done == fAborted {
			continue
		}
		x.release(k)
		inState := k.State != "" && (k.Phase == phTask || k.Phase == phWait || k.Phase == phRetry || k.Phase == phKids || k.Done == fFailed)
		k.Done = fAborted
		if isMap {
			if inState {
				typ := x.stateOf(k).Fields().Type + "StateAborted"
				x.emit(nil, typ, false, func(ev *HistoryEvent) { ev.PreviousEventID = prev })
			}
			x.emit(nil, EvMapIterationAborted, false, func(ev *HistoryEvent) {
				ev.PreviousEventID = prev
				ev.MapIterationAbortedEventDetails = &MapIterationEventDetails{Name: f.State, Index: k.Idx}
			})
		}
	}
}

// release drops every timer, invocation and token thread f (and its
// descendants) waits on.
func (x *exec) release(f *frame) {
	if f.Done != fRunning {
		return
	}
	switch f.Phase {
	case phTask:
		r := x.touch()
		r.invDel = append(r.invDel, f.Key)
		if f.TDue != 0 {
			x.delTimer(f.Key, tkTimeout)
		}
		if f.HB != 0 {
			x.delTimer(f.Key, tkHeartbeat)
		}
		if f.Token != "" {
			r.tokensClose = append(r.tokensClose, f.Token)
		}
	case phWait:
		x.delTimer(f.Key, tkWait)
	case phRetry:
		x.delTimer(f.Key, tkRetry)
	case phKids:
		for _, k := range f.Kids {
			if k != nil {
				x.release(k)
				k.Done = fAborted
			}
		}
	}
}

// findKey returns the running thread waiting on key.
func findKey(f *frame, key int64) *frame {
	if f == nil || f.Done != fRunning {
		return nil
	}
	if f.Key == key && f.Phase != phKids && f.Phase != phEnter && f.Phase != phRun {
		return f
	}
	for _, k := range f.Kids {
		if r := findKey(k, key); r != nil {
			return r
		}
	}
	return nil
}

// runnable reports whether some thread can move without outside input.
func runnable(f *frame) bool {
	if f == nil || f.Done != fRunning {
		return false
	}
	switch f.Phase {
	case phEnter, phRun:
		return true
	case phKids:
		for _, k := range f.Kids {
			if runnable(k) {
				return true
			}
		}
		// A finished child not yet collected, or a Map with items to start.
		for _, k := range f.Kids {
			if k != nil && k.Done != fRunning {
				return true
			}
		}
		if f.NextI < len(f.Items) && (f.Conc <= 0 || len(f.Kids) < f.Conc) {
			return true
		}
		return f.NRes == len(f.Res)
	}
	return false
}

// finish closes the execution if the root thread is done.
func (x *exec) finish() {
	f := x.r.Root
	if x.status != StatusRunning || f.Done == fRunning {
		return
	}
	x.stop = x.now.UnixMilli()
	switch f.Done {
	case fSucceeded:
		js := f.outJS
		if js == "" {
			js = enc(f.Out)
		}
		x.status, x.out = StatusSucceeded, &js
		x.emit(f, EvExecutionSucceeded, false, func(ev *HistoryEvent) {
			ev.ExecutionSucceededEventDetails = &ExecutionSucceededEventDetails{Output: &js, OutputDetails: tr()}
		})
	default:
		x.status, x.errName, x.cause = StatusFailed, f.Err, f.Cause
		x.emit(f, EvExecutionFailed, false, func(ev *HistoryEvent) {
			ev.ExecutionFailedEventDetails = &ErrorCause{Error: f.Err, Cause: f.Cause}
		})
	}
	x.touch().closed = true
}

// closeWith ends a running execution from outside (stop, timeout).
func (x *exec) closeWith(status, typ string, errName, cause *string) {
	x.release(x.r.Root)
	x.r.Root.Done = fAborted
	x.status, x.errName, x.cause, x.stop = status, errName, cause, x.now.UnixMilli()
	x.emit(nil, typ, false, func(ev *HistoryEvent) {
		d := &ErrorCause{Error: errName, Cause: cause}
		if typ == EvExecutionAborted {
			ev.ExecutionAbortedEventDetails = d
		} else {
			ev.ExecutionTimedOutEventDetails = d
		}
	})
	x.touch().closed = true
}
