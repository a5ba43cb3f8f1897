package sfnlocal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/ordercare/ordercare/infra/sfnlocal/asl"
)

// Signal kinds (besides timer kinds, which are used as is).
const (
	sigResult uint8 = 100 + iota
	sigResume
)

// signal is something that happened to an execution: a timer fired, a
// Lambda invocation returned, or the execution must be resumed after Open.
type signal struct {
	arn     string
	key     int64
	kind    uint8
	out     []byte
	failed  bool
	errName string
	cause   string
}

// req is a unit of work for the executor goroutine: a signal, or an API
// operation run there (fn). fn returns the reply value, an error, and
// whether the reply must wait for the commit of the changes it made.
type req struct {
	sig   *signal
	fn    func(x *executor) (any, error, bool)
	reply chan reply
}

type reply struct {
	v   any
	err error
}

var errClosed = errors.New("sfnlocal: engine closed")

// arnHash is the key of Engine.names.
func arnHash(arn string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(arn))
	return h.Sum64()
}

// arnKey is arnHash as SQLite stores it: the h column (see schema).
func arnKey(arn string) int64 { return int64(arnHash(arn)) }

var rndMu sync.Mutex
var rndSrc = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))

func rnd() float64 {
	rndMu.Lock()
	defer rndMu.Unlock()
	return rndSrc.Float64()
}

func (e *Engine) send(r *req) bool {
	e.busy.Add(1)
	select {
	case e.reqs <- r:
		return true
	case <-e.stop:
		e.busyDone(1)
		return false
	}
}

func (e *Engine) busyDone(n int64) {
	if e.busy.Add(-n) == 0 {
		select {
		case e.idle <- struct{}{}:
		default:
		}
		e.idleMu.Lock()
		close(e.idleCh)
		e.idleCh = make(chan struct{})
		e.idleMu.Unlock()
	}
}

// call runs fn in the executor goroutine and waits for its reply.
func (e *Engine) call(ctx context.Context, fn func(x *executor) (any, error, bool)) (any, error) {
	if e.closed.Load() {
		return nil, errClosed
	}
	r := &req{fn: fn, reply: make(chan reply, 1)}
	if !e.send(r) {
		return nil, errClosed
	}
	select {
	case rep := <-r.reply:
		return rep.v, rep.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-e.execDone:
		// Closing: the writer may still commit (and answer) a last batch.
		<-e.writerDone
		select {
		case rep := <-r.reply:
			return rep.v, rep.err
		default:
			return nil, errClosed
		}
	}
}

// closedTimeCh is always ready.
var closedTimeCh = func() <-chan time.Time {
	c := make(chan time.Time)
	close(c)
	return c
}()

// executor owns every in-memory execution.
type executor struct {
	e       *Engine
	active  map[string]*exec
	dirty   []*exec
	runq    []*exec
	replies []func(error)
	rconn   *sql.Conn
	stGet   *sql.Stmt
	stLoad  *sql.Stmt
	stTok   *sql.Stmt
	holding bool // holds one unit of Engine.busy while runq is not empty
}

// newExecutor opens the executor's read connection and statements.
func (e *Engine) newExecutor(ctx context.Context) (*executor, error) {
	x := &executor{e: e, active: map[string]*exec{}}
	var err error
	if x.rconn, err = e.db.Conn(ctx); err != nil {
		return nil, err
	}
	p := func(dst **sql.Stmt, q string) {
		if err == nil {
			*dst, err = x.rconn.PrepareContext(ctx, q)
		}
	}
	p(&x.stGet, `SELECT status, input, start FROM executions WHERE h=? AND arn=?`)
	p(&x.stLoad, `SELECT sm_arn, rev, status, state FROM executions WHERE h=? AND arn=?`)
	p(&x.stTok, `SELECT arn, key, open FROM tokens WHERE token=?`)
	if err != nil {
		x.close()
		return nil, err
	}
	return x, nil
}

func (x *executor) close() {
	for _, s := range []*sql.Stmt{x.stGet, x.stLoad, x.stTok} {
		if s != nil {
			s.Close()
		}
	}
	x.rconn.Close()
}

// executor is the goroutine that owns every in-memory execution: it
// handles API operations and signals in rounds, steps executions until
// they block, and hands each round's changes to the writer.
func (e *Engine) executor(x *executor) {
	defer close(e.execDone)
	defer close(e.wch)
	defer x.close()
	for {
		var n int64
		var rs []*req
		var idle <-chan time.Time // nil: block until something arrives
		if len(x.runq) > 0 {
			idle = closedTimeCh // executions left over from the last round
		}
		select {
		case r := <-e.reqs:
			rs = append(rs, r)
		case b := <-e.committed:
			x.onCommitted(b)
			continue
		case <-e.stop:
			x.flush()
			return
		case <-idle:
		}
	drain:
		for len(rs) < e.cfg.MaxBatch {
			select {
			case r := <-e.reqs:
				rs = append(rs, r)
			default:
				break drain
			}
		}
		n = int64(len(rs))
		x.preload(rs)
		for _, r := range rs {
			x.handle(r)
		}
		x.runAll()
		x.flush()
		// Executions left runnable (step budget spent) are work in flight.
		if len(x.runq) > 0 && !x.holding {
			x.holding = true
			e.busy.Add(1)
		} else if len(x.runq) == 0 && x.holding {
			x.holding = false
			n++
		}
		e.busyDone(n)
	}
}

func (x *executor) handle(r *req) {
	if r.sig != nil {
		ex, err := x.get(r.sig.arn)
		if err != nil && x.e.cfg.Logger != nil {
			x.e.cfg.Logger.Error("sfnlocal: load execution", "arn", r.sig.arn, "err", err)
		}
		if err != nil || ex == nil || ex.status != StatusRunning {
			return // unknown or closed: its timers and invocations are gone
		}
		ex.now = x.e.clk.Now()
		switch r.sig.kind {
		case sigResult:
			ex.onResult(r.sig)
		case sigResume:
		default:
			ex.onTimer(r.sig)
		}
		x.schedule(ex)
		return
	}
	v, err, wait := r.fn(x)
	if !wait || err != nil {
		r.reply <- reply{v, err}
		return
	}
	x.replies = append(x.replies, func(cerr error) {
		if cerr != nil {
			r.reply <- reply{nil, cerr}
			return
		}
		r.reply <- reply{v, nil}
	})
}

// schedule queues ex for stepping in this round.
func (x *executor) schedule(ex *exec) {
	if !ex.queued {
		ex.queued = true
		x.runq = append(x.runq, ex)
	}
}

const stepBudget = 10000

func (x *executor) runAll() {
	for len(x.runq) > 0 {
		q := x.runq
		x.runq = nil
		for _, ex := range q {
			ex.queued = false
			if ex.status == StatusRunning {
				ex.now = x.e.clk.Now()
				ex.budget = stepBudget
				ex.step(ex.r.Root)
				ex.finish()
			}
			if ex.rec != nil {
				x.markDirty(ex)
			}
		}
		if len(x.dirty) >= x.e.cfg.MaxBatch {
			x.flush()
		}
	}
}

func (x *executor) markDirty(ex *exec) {
	if !ex.dirty {
		ex.dirty = true
		x.dirty = append(x.dirty, ex)
	}
}

// flush hands every dirty execution's changes to the writer as one batch.
func (x *executor) flush() {
	if len(x.dirty) == 0 && len(x.replies) == 0 {
		return
	}
	b := &batch{replies: x.replies}
	x.replies = nil
	for _, ex := range x.dirty {
		ex.dirty = false
		r := ex.rec
		ex.rec = nil
		if r == nil {
			continue
		}
		r.insert = ex.isNew
		ex.isNew = false
		r.smArn, r.rev, r.name, r.input, r.start, r.trace = ex.r.SM, ex.r.Rev, ex.r.Name, ex.r.Input, ex.r.Start, ex.r.Trace
		r.status, r.output, r.errName, r.cause, r.stop = ex.status, ex.out, ex.errName, ex.cause, ex.stop
		if len(ex.hist) > 0 {
			r.events = ex.hist
			r.histSeq = ex.r.Hist
			ex.r.Hist++
			ex.hist = nil
		}
		if r.timersAdd != nil || r.invAdd != nil || r.tokensAdd != nil {
			ex.r.Waits = true
		}
		r.hadWaits = ex.r.Waits
		if ex.status == StatusRunning {
			r.runnable = runnable(ex.r.Root)
			r.state, _ = json.Marshal(ex.r)
			if r.runnable {
				// Budget exhausted: continue in the next round.
				defer x.schedule(ex)
			}
		}
		ex.inflight++
		b.recs = append(b.recs, r)
	}
	x.dirty = x.dirty[:0]
	x.e.busy.Add(1)
	for {
		select {
		case x.e.wch <- b:
			return
		case c := <-x.e.committed:
			x.onCommitted(c)
		}
	}
}

// onCommitted forgets executions that are blocked and fully committed.
func (x *executor) onCommitted(b *batch) {
	for _, r := range b.recs {
		ex := r.x
		ex.inflight--
		if x.active[ex.r.Arn] != ex {
			continue
		}
		if b.err != nil {
			delete(x.active, ex.r.Arn)
			continue
		}
		if ex.inflight == 0 && ex.rec == nil && !ex.queued {
			delete(x.active, ex.r.Arn)
		}
	}
}

// get returns the execution arn, loading it from the store if needed; nil
// when it does not exist.
func (x *executor) get(arn string) (*exec, error) {
	if ex := x.active[arn]; ex != nil {
		return ex, nil
	}
	var smArn, status string
	var rev int64
	var state []byte
	err := x.stLoad.QueryRow(arnKey(arn), arn).Scan(&smArn, &rev, &status, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return x.load(arn, smArn, rev, status, state)
}

// load builds the in-memory execution from its stored row.
func (x *executor) load(arn, smArn string, rev int64, status string, state []byte) (*exec, error) {
	ex := &exec{status: status, region: x.e.cfg.Region}
	if status != StatusRunning {
		ex.r = &run{Arn: arn}
		return ex, nil
	}
	m, err := x.e.machine(smArn, rev)
	if err != nil {
		return nil, err
	}
	r := &run{}
	d := json.NewDecoder(bytesReader(state))
	d.UseNumber()
	if err := d.Decode(r); err != nil {
		return nil, err
	}
	ex.r, ex.m = r, m
	x.active[arn] = ex
	return ex, nil
}

// preload loads, with a few IN queries, the running executions that the
// signals in rs refer to and that are not in memory.
func (x *executor) preload(rs []*req) {
	var keys []any // the ARNs' hashes (h)
	seen := map[string]bool{}
	for _, r := range rs {
		if r.sig == nil || seen[r.sig.arn] || x.active[r.sig.arn] != nil {
			continue
		}
		seen[r.sig.arn] = true
		keys = append(keys, arnKey(r.sig.arn))
	}
	if len(keys) < 2 {
		return
	}
	const chunk = 400
	for len(keys) > 0 {
		n := min(chunk, len(keys))
		part := keys[:n]
		keys = keys[n:]
		q := "SELECT arn, sm_arn, rev, status, state FROM executions WHERE status = 'RUNNING' AND h IN (?" + strings.Repeat(",?", n-1) + ")"
		rows, err := x.rconn.QueryContext(context.Background(), q, part...)
		if err != nil {
			return
		}
		for rows.Next() {
			var arn, smArn, status string
			var rev int64
			var state []byte
			if rows.Scan(&arn, &smArn, &rev, &status, &state) == nil && seen[arn] { // not another ARN of the same hash
				_, _ = x.load(arn, smArn, rev, status, state)
			}
		}
		rows.Close()
	}
}

func (e *Engine) afterCommit(b *batch, err error) {
	b.err = err
	if err == nil {
		for _, r := range b.recs {
			for _, iv := range r.invAdd {
				e.busy.Add(1)
				e.invq.push(iv)
			}
			for _, t := range r.timersAdd {
				e.sched.add(t)
			}
			if r.closed && e.cfg.OnExecutionClosed != nil {
				e.cfg.OnExecutionClosed(r.arn, r.status)
			}
		}
	}
	for _, f := range b.replies {
		f(err)
	}
	if e.cfg.commitHook != nil {
		e.cfg.commitHook()
	}
	select {
	case e.committed <- b:
	case <-e.execDone:
	}
	e.busyDone(1)
}

// StartExecution starts an execution of a STANDARD state machine and
// returns once ExecutionStarted (and every transition made without
// waiting) is committed. Errors: InvalidArn, StateMachineDoesNotExist,
// StateMachineDeleting, InvalidName, InvalidExecutionInput,
// ExecutionAlreadyExists (same name, unless the execution is still running
// with the same input: then the existing execution is returned).
func (e *Engine) StartExecution(ctx context.Context, in *StartExecutionInput) (*StartExecutionOutput, error) {
	if in == nil {
		return nil, apiErr(ErrCodeValidationException, "missing input")
	}
	if err := checkSMArn(in.StateMachineArn); err != nil {
		return nil, err
	}
	e.smMu.RLock()
	sm := e.sms[in.StateMachineArn]
	e.smMu.RUnlock()
	if sm == nil {
		return nil, apiErr(ErrCodeStateMachineDoesNotExist, "State Machine Does Not Exist: '%s'", in.StateMachineArn)
	}
	if sm.status != "ACTIVE" {
		return nil, apiErr(ErrCodeStateMachineDeleting, "State Machine is being deleted: '%s'", in.StateMachineArn)
	}
	name := in.Name
	if name == "" {
		name = uuid.NewString()
	} else if !validName(name) {
		return nil, apiErr(ErrCodeInvalidName, "Invalid Name: '%s'", name)
	}
	input := in.Input
	if input == "" {
		input = "{}"
	}
	if len(input) > maxPayload {
		return nil, apiErr(ErrCodeInvalidExecutionInput, "Invalid State Machine Execution Input: 'Input exceeds the maximum size of 262144 bytes'")
	}
	inVal, err := asl.DecodeJSON([]byte(input))
	if err != nil {
		return nil, apiErr(ErrCodeInvalidExecutionInput, "Invalid State Machine Execution Input: '%v'", err)
	}
	m, err := e.machine(sm.arn, sm.rev)
	if err != nil {
		return nil, err
	}
	arn := e.execArn(sm.name, name)
	v, err := e.call(ctx, func(x *executor) (any, error, bool) {
		if ex := x.active[arn]; ex != nil {
			if ex.status == StatusRunning && ex.r.Input == input {
				return &StartExecutionOutput{ExecutionArn: arn, StartDate: TS(msTime(ex.r.Start))}, nil, true
			}
			return nil, apiErr(ErrCodeExecutionAlreadyExists, "Execution Already Exists: '%s'", arn), false
		}
		h := arnHash(arn)
		var status, oldIn string
		var start int64
		err := sql.ErrNoRows
		if _, seen := x.e.names[h]; seen {
			err = x.stGet.QueryRow(int64(h), arn).Scan(&status, &oldIn, &start)
		}
		if err == nil {
			if status == StatusRunning && oldIn == input {
				return &StartExecutionOutput{ExecutionArn: arn, StartDate: TS(msTime(start))}, nil, false
			}
			return nil, apiErr(ErrCodeExecutionAlreadyExists, "Execution Already Exists: '%s'", arn), false
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, err, false
		}
		now := e.clk.Now()
		r := &run{Arn: arn, SM: sm.arn, SMName: sm.name, Rev: sm.rev, Name: name, Role: sm.role, Input: input, Start: now.UnixMilli(), Trace: in.TraceHeader}
		ex := &exec{r: r, m: m, input: inVal, status: StatusRunning, isNew: true, now: now, region: e.cfg.Region}
		// AWS keeps the input text verbatim in ExecutionStarted and in the
		// first state's input.
		inJS := input
		r.Root = &frame{State: m.StartAt, In: inVal}
		role := sm.role
		ex.emit(r.Root, EvExecutionStarted, false, func(ev *HistoryEvent) {
			ev.ExecutionStartedEventDetails = &ExecutionStartedEventDetails{Input: &inJS, InputDetails: tr(), RoleArn: role}
		})
		r.Root.inJS = inJS
		if m.TimeoutSeconds > 0 {
			ex.addTimer(0, tkExec, now.Add(time.Duration(m.TimeoutSeconds)*time.Second))
		}
		x.e.names[h] = struct{}{}
		x.active[arn] = ex
		x.schedule(ex)
		return &StartExecutionOutput{ExecutionArn: arn, StartDate: TS(now)}, nil, true
	})
	if err != nil {
		return nil, err
	}
	return v.(*StartExecutionOutput), nil
}

// StopExecution aborts a running execution (ExecutionAborted with the
// given error and cause). Stopping a closed execution returns its stop
// date. Errors: InvalidArn, ExecutionDoesNotExist.
func (e *Engine) StopExecution(ctx context.Context, in *StopExecutionInput) (*StopExecutionOutput, error) {
	if in == nil {
		return nil, apiErr(ErrCodeValidationException, "missing input")
	}
	if _, _, err := e.parseExecArn(in.ExecutionArn); err != nil {
		return nil, err
	}
	v, err := e.call(ctx, func(x *executor) (any, error, bool) {
		ex, err := x.get(in.ExecutionArn)
		if err != nil {
			return nil, err, false
		}
		if ex == nil {
			return nil, apiErr(ErrCodeExecutionDoesNotExist, "Execution Does Not Exist: '%s'", in.ExecutionArn), false
		}
		ex.now = e.clk.Now()
		if ex.status != StatusRunning {
			return &StopExecutionOutput{StopDate: TS(ex.now)}, nil, false
		}
		var en, cs *string
		if in.Error != "" {
			en = &in.Error
		}
		if in.Cause != "" {
			cs = &in.Cause
		}
		ex.closeWith(StatusAborted, EvExecutionAborted, en, cs)
		x.markDirty(ex)
		return &StopExecutionOutput{StopDate: TS(ex.now)}, nil, true
	})
	if err != nil {
		return nil, err
	}
	return v.(*StopExecutionOutput), nil
}

func (e *Engine) tokenOp(ctx context.Context, token string, op int, output any, outJS, errName, cause string) error {
	if token == "" || len(token) > 1024 {
		return apiErr(ErrCodeInvalidToken, "Invalid Token: 'Invalid token'")
	}
	_, err := e.call(ctx, func(x *executor) (any, error, bool) {
		var arn string
		var key int64
		var open bool
		err := x.stTok.QueryRow(token).Scan(&arn, &key, &open)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apiErr(ErrCodeInvalidToken, "Invalid Token: 'Invalid token'"), false
		}
		if err != nil {
			return nil, err, false
		}
		timedOut := apiErr(ErrCodeTaskTimedOut, "Task Timed Out: 'Provided task does not exist anymore'")
		if !open {
			return nil, timedOut, false
		}
		ex, err := x.get(arn)
		if err != nil {
			return nil, err, false
		}
		if ex == nil {
			return nil, timedOut, false
		}
		ex.now = e.clk.Now()
		if !ex.onToken(key, token, op, output, outJS, errName, cause) {
			return nil, timedOut, false
		}
		x.schedule(ex)
		return nil, nil, true
	})
	return err
}

// SendTaskSuccess completes the task waiting on taskToken with output (a
// JSON text). The first completion wins. Errors: InvalidToken (unknown
// token), TaskTimedOut (the task is over: completed, timed out, or its
// execution closed), InvalidOutput (output is not JSON).
func (e *Engine) SendTaskSuccess(ctx context.Context, in *SendTaskSuccessInput) (*SendTaskSuccessOutput, error) {
	if in == nil {
		return nil, apiErr(ErrCodeValidationException, "missing input")
	}
	v, err := asl.DecodeJSON([]byte(in.Output))
	if err != nil {
		return nil, apiErr(ErrCodeInvalidOutput, "Invalid Output: '%v'", err)
	}
	if len(in.Output) > maxPayload {
		return nil, apiErr(ErrCodeInvalidOutput, "Invalid Output: 'Output exceeds the maximum size of 262144 bytes'")
	}
	if err := e.tokenOp(ctx, in.TaskToken, tokSuccess, v, enc(v), "", ""); err != nil {
		return nil, err
	}
	return &SendTaskSuccessOutput{}, nil
}

// SendTaskFailure fails the task waiting on taskToken with error and
// cause. Errors as SendTaskSuccess.
func (e *Engine) SendTaskFailure(ctx context.Context, in *SendTaskFailureInput) (*SendTaskFailureOutput, error) {
	if in == nil {
		return nil, apiErr(ErrCodeValidationException, "missing input")
	}
	if err := e.tokenOp(ctx, in.TaskToken, tokFailure, nil, "", in.Error, in.Cause); err != nil {
		return nil, err
	}
	return &SendTaskFailureOutput{}, nil
}

// SendTaskHeartbeat extends the heartbeat deadline of the task waiting on
// taskToken by its HeartbeatSeconds. Errors as SendTaskSuccess.
func (e *Engine) SendTaskHeartbeat(ctx context.Context, in *SendTaskHeartbeatInput) (*SendTaskHeartbeatOutput, error) {
	if in == nil {
		return nil, apiErr(ErrCodeValidationException, "missing input")
	}
	if err := e.tokenOp(ctx, in.TaskToken, tokHeartbeat, nil, "", "", ""); err != nil {
		return nil, err
	}
	return &SendTaskHeartbeatOutput{}, nil
}
