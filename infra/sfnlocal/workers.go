package sfnlocal

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/uuid"
)

// invQueue is the in-memory queue of committed, not yet invoked Lambda
// invocations.
type invQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	q      []invRow
	closed bool
	held   int // Engine.PauseInvocations calls not released yet
}

func newInvQueue() *invQueue {
	q := &invQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *invQueue) push(iv invRow) {
	q.mu.Lock()
	q.q = append(q.q, iv)
	q.mu.Unlock()
	q.cond.Signal()
}

func (q *invQueue) pop() (invRow, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for (len(q.q) == 0 || q.held > 0) && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return invRow{}, false
	}
	iv := q.q[0]
	q.q[0] = invRow{}
	q.q = q.q[1:]
	return iv, true
}

// hold stops pop handing out invocations until the returned release is
// called (holds nest).
func (q *invQueue) hold() (release func()) {
	q.mu.Lock()
	q.held++
	q.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			q.mu.Lock()
			q.held--
			q.mu.Unlock()
			q.cond.Broadcast()
		})
	}
}

func (q *invQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

func (e *Engine) loadInvocations(ctx context.Context) error {
	rows, err := e.db.QueryContext(ctx, `SELECT arn, key, function, payload FROM invocations`)
	if err != nil {
		return fmt.Errorf("load invocations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var iv invRow
		if err := rows.Scan(&iv.arn, &iv.key, &iv.fn, &iv.payload); err != nil {
			return err
		}
		e.busy.Add(1)
		e.invq.push(iv)
	}
	return rows.Err()
}

func (e *Engine) loadNames(ctx context.Context) error {
	e.names = map[uint64]struct{}{}
	rows, err := e.db.QueryContext(ctx, `SELECT arn FROM executions`)
	if err != nil {
		return fmt.Errorf("load execution names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		e.names[arnHash(s)] = struct{}{}
	}
	return rows.Err()
}

func (e *Engine) loadRunnable(ctx context.Context) ([]string, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT arn FROM executions WHERE runnable = 1`)
	if err != nil {
		return nil, fmt.Errorf("load runnable executions: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// worker invokes Lambda handlers and reports results to the executor.
func (e *Engine) worker() {
	defer e.wg.Done()
	for {
		iv, ok := e.invq.pop()
		if !ok {
			return
		}
		sg := e.invoke(iv)
		if sg != nil {
			e.send(&req{sig: sg})
		}
		e.busyDone(1)
	}
}

// invoke runs one Lambda invocation through lambda.Handler.Invoke, the
// way the Lambda runtime does: errors become {errorMessage, errorType,
// stackTrace} documents with the Go error's type name. It returns nil when
// the engine is closing (the invocation stays pending in the store).
func (e *Engine) invoke(iv invRow) (sg *signal) {
	sg = &signal{arn: iv.arn, key: iv.key, kind: sigResult}
	h := e.function(iv.fn)
	if h == nil {
		sg.failed = true
		sg.errName = "Lambda.ResourceNotFoundException"
		sg.cause = fmt.Sprintf("Function not found: arn:aws:lambda:%s:%s:function:%s:$LATEST (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: %s; Proxy: null)",
			e.cfg.Region, e.cfg.Account, iv.fn, uuid.NewString())
		return sg
	}
	reqID := uuid.NewString()
	ctx := lambdacontext.NewContext(context.WithValue(context.WithValue(e.ctx, engineKey{}, e), executionKey{}, iv.arn), &lambdacontext.LambdaContext{
		AwsRequestID:       reqID,
		InvokedFunctionArn: "arn:aws:lambda:" + e.cfg.Region + ":" + e.cfg.Account + ":function:" + iv.fn,
	})
	var out []byte
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				ie := messages.InvokeResponse_Error{Message: fmt.Sprint(p), Type: typeName(p)}
				for _, l := range []string{string(debug.Stack())} {
					ie.StackTrace = append(ie.StackTrace, &messages.InvokeResponse_Error_StackFrame{Label: l})
				}
				err = ie
			}
		}()
		out, err = h.invoke(ctx, iv.payload)
	}()
	if e.ctx.Err() != nil {
		return nil
	}
	if err != nil {
		ie := lambdaError(err)
		sg.failed = true
		sg.errName = ie.Type
		sg.cause = errorDocument(ie, reqID)
		return sg
	}
	if len(out) == 0 {
		out = []byte("null")
	}
	sg.out = out
	return sg
}

// errorDocument renders a function error the way Lambda reports it in the
// cause: the runtime's error document. Handlers whose stack frames point at
// Python files (the conformance cases' helpers) get the Python runtime's
// shape ({errorMessage, errorType, requestId, stackTrace: ["  File ..."]});
// Go handlers get the Go runtime's ({errorMessage, errorType[, stackTrace]}).
func errorDocument(ie *messages.InvokeResponse_Error, reqID string) string {
	py := len(ie.StackTrace) > 0
	for _, f := range ie.StackTrace {
		if f == nil || !strings.HasSuffix(f.Path, ".py") {
			py = false
		}
	}
	if !py {
		doc, _ := json.Marshal(ie)
		return string(doc)
	}
	frames := make([]string, len(ie.StackTrace))
	for i, f := range ie.StackTrace {
		frames[i] = fmt.Sprintf("  File \"%s\", line %d, in %s\n", f.Path, f.Line, f.Label)
	}
	// Python's json.dumps: ", " and ": " separators.
	var b strings.Builder
	b.WriteString(`{"errorMessage": `)
	b.WriteString(pyStr(ie.Message))
	b.WriteString(`, "errorType": `)
	b.WriteString(pyStr(ie.Type))
	b.WriteString(`, "requestId": `)
	b.WriteString(pyStr(reqID))
	b.WriteString(`, "stackTrace": [`)
	for i, f := range frames {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pyStr(f))
	}
	b.WriteString("]}")
	return b.String()
}

func pyStr(s string) string {
	var buf bytes.Buffer
	en := json.NewEncoder(&buf)
	en.SetEscapeHTML(false)
	_ = en.Encode(s)
	return strings.TrimRight(buf.String(), "\n")
}

func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return "nil"
	}
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}

// lambdaError mirrors aws-lambda-go's lambdaErrorResponse.
func lambdaError(err error) *messages.InvokeResponse_Error {
	if ive, ok := err.(messages.InvokeResponse_Error); ok {
		return &ive
	}
	if ive, ok := err.(*messages.InvokeResponse_Error); ok && ive != nil {
		return ive
	}
	return &messages.InvokeResponse_Error{Message: err.Error(), Type: typeName(err)}
}

// scheduler fires durable timers. Timers live in the timers table; the
// scheduler keeps a min-heap of (due, arn, key, kind) mirroring it, loaded
// at Open and extended after each commit. Stale entries (timers deleted
// since) are harmless: the executor ignores timers nothing waits on.
type scheduler struct {
	e        *Engine
	mu       sync.Mutex
	h        timerHeap
	sleepers map[int64]int // due ms -> handlers in Sleep until then
	wake     chan struct{}
}

func (s *scheduler) addSleeper(due int64) {
	s.mu.Lock()
	if s.sleepers == nil {
		s.sleepers = map[int64]int{}
	}
	s.sleepers[due]++
	s.mu.Unlock()
}

func (s *scheduler) removeSleeper(due int64) {
	s.mu.Lock()
	if s.sleepers[due]--; s.sleepers[due] <= 0 {
		delete(s.sleepers, due)
	}
	s.mu.Unlock()
}

type timerHeap []timerRow

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].due < h[j].due }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timerRow)) }
func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	x := old[n-1]
	*h = old[:n-1]
	return x
}

func newScheduler(e *Engine) *scheduler {
	return &scheduler{e: e, wake: make(chan struct{}, 1)}
}

func (s *scheduler) load(ctx context.Context) error {
	rows, err := s.e.db.QueryContext(ctx, `SELECT arn, key, kind, due FROM timers`)
	if err != nil {
		return fmt.Errorf("load timers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t timerRow
		if err := rows.Scan(&t.arn, &t.key, &t.kind, &t.due); err != nil {
			return err
		}
		s.h = append(s.h, t)
	}
	heap.Init(&s.h)
	return rows.Err()
}

// poke makes the scheduler look at its timers and sleepers again.
func (s *scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *scheduler) add(t timerRow) {
	s.mu.Lock()
	first := len(s.h) == 0 || t.due < s.h[0].due
	heap.Push(&s.h, t)
	s.mu.Unlock()
	if first {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// run fires due timers; with SkipIdle it moves the virtual clock to the
// next timer whenever the engine is idle.
func (s *scheduler) run() {
	e := s.e
	defer e.wg.Done()
	for {
		now := e.clk.Now().UnixMilli()
		var due []timerRow
		var next int64 = -1
		s.mu.Lock()
		for len(s.h) > 0 && s.h[0].due <= now && len(due) < 4096 {
			due = append(due, heap.Pop(&s.h).(timerRow))
		}
		// Popped timers count as busy until sent, so WaitIdle never sees
		// them neither in the heap nor in flight.
		e.busy.Add(int64(len(due)))
		if len(s.h) > 0 {
			next = s.h[0].due
		}
		skipTo := next
		for due := range s.sleepers {
			if skipTo < 0 || due < skipTo {
				skipTo = due
			}
		}
		s.mu.Unlock()
		if len(due) > 0 {
			for _, t := range due {
				if !e.send(&req{sig: &signal{arn: t.arn, key: t.key, kind: t.kind}}) {
					return
				}
			}
			e.busyDone(int64(len(due)))
			continue
		}
		if skipTo > now && e.virt != nil && e.busy.Load() == 0 {
			_ = e.virt.Set(msTime(skipTo))
			continue
		}
		var ch <-chan struct{}
		stop := func() {}
		if next >= 0 {
			ch, stop = e.clk.At(msTime(next))
		}
		var idle <-chan struct{}
		if e.virt != nil {
			idle = e.idle
		}
		select {
		case <-ch:
		case <-s.wake:
		case <-idle:
		case <-e.stop:
			stop()
			return
		}
		stop()
	}
}

// dueBy reports whether a timer is due at or before now (ms).
func (s *scheduler) dueBy(now int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.h) > 0 && s.h[0].due <= now
}

// NextTimer returns when the earliest pending timer (Wait, retry, timeout,
// heartbeat) is due; false when there is none. A timer whose execution has
// moved on may still be listed until it fires (harmlessly).
func (e *Engine) NextTimer() (time.Time, bool) {
	s := e.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.h) == 0 {
		return time.Time{}, false
	}
	return msTime(s.h[0].due), true
}

// WaitIdle blocks until the engine has nothing runnable at the clock's
// current time: no timer due, no request or signal queued, no group commit
// pending and no Lambda invocation in flight. Executions waiting for a
// task token or a future timer are idle. With a virtual clock this is how
// a caller moves time in steps: Set the clock, then WaitIdle.
func (e *Engine) WaitIdle(ctx context.Context) error {
	for {
		e.idleMu.Lock()
		ch := e.idleCh
		e.idleMu.Unlock()
		// Timers first: the scheduler moves a due timer into busy under
		// its lock, so checking busy after the heap misses nothing.
		if !e.sched.dueBy(e.clk.Now().UnixMilli()) && e.busy.Load() == 0 {
			return nil
		}
		t := time.NewTimer(20 * time.Millisecond) // a recheck, in case the scheduler is between wake-ups
		select {
		case <-ch:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		t.Stop()
	}
}

type executionKey struct{}

// ExecutionARN is the execution whose Task state invoked the function
// running with ctx; "" outside an invocation by the engine.
func ExecutionARN(ctx context.Context) string {
	arn, _ := ctx.Value(executionKey{}).(string)
	return arn
}
