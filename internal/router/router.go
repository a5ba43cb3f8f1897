// Package router turns the change feed into workflow runs: it starts
// executions (deterministic names: a redelivered event never starts a
// second run), stops them when their reason goes away (paid stops the unpaid
// chase; cancelled stops everything and cancels open agent tasks), and
// resumes an execution waiting for the buyer's reply. A workflow that runs
// per subject (steps.Subjects: per parcel, per group of parcels) gets one
// run per subject of the order, started on whichever change reveals the
// subject and stopped one by one. A run whose first action is due later is
// scheduled (steps.Start.At): it costs no execution until StartDue starts
// it, and none at all if its reason goes away first. It speaks the Step Functions API through
// the AWS SDK client, the same on AWS and on the local engine, and retries throttled calls with backoff, never dropping a
// change: Handle returns an error and the caller keeps the change to retry.
package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/consent"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/queue"
	"github.com/ordercare/ordercare/internal/steps"
)

// StepFunctions is the part of the Step Functions API the router calls;
// *sfn.Client implements it.
type StepFunctions interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	StopExecution(ctx context.Context, in *sfn.StopExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, optFns ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
}

var _ StepFunctions = (*sfn.Client)(nil)

// Router handles feed changes. Store, SFN, Clock, StateMachinePrefix and
// Workflows are required. Safe for concurrent use;
// changes of one order must be handled in feed order.
type Router struct {
	Store care.CareStore
	SFN   StepFunctions
	Clock clock.Clock
	// StateMachinePrefix names every workflow's state machine by one rule:
	// the ARN of workflow w's is StateMachinePrefix + w.Name(), e.g.
	// arn:aws:states:<region>:<account>:stateMachine:<stack>-unpaid_chase.
	StateMachinePrefix string
	Workflows          steps.Workflows // the registered workflows (workflows.All)
	Logger             *slog.Logger    // nil discards
	// Backoff waits before retry n (1, 2, …) of a throttled call; nil
	// waits 100 ms × 2^(n-1), at most 5 s, in real time.
	Backoff func(ctx context.Context, n int) error
	// OnScheduled, when set, is told the start time of each run the router
	// schedules or moves (care.RunScheduled): the local runtime's timer
	// wakes for it. AWS needs none: a rule calls StartDue every minute.
	OnScheduled func(at time.Time)
	// Consents, when set, records opt-out replies with their scope
	// (consent.OptOutScope): 退订, TD, T, STOP, QUIT, END, REVOKE, OPT OUT,
	// CANCEL and UNSUBSCRIBE stop everything, "退订营销" or "STOP PROMO"
	// marketing only. Nil keeps the older rule: every opt-out stops
	// everything.
	Consents consent.Store
	// ConfirmOptOut, when set, is called after each opt-out reply is
	// recorded, with the channel the reply came on and the scope
	// (steps.Handler.ConfirmOptOut: at most one confirmation per buyer).
	ConfirmOptOut func(ctx context.Context, shopID, orderID string, wf care.Workflow, channel, scope string) error

	templates playbook.Cache
}

// Attempts is how many times a throttled Step Functions call is tried
// before Handle gives up (the change is then retried by the caller).
const Attempts = 8

// Handle applies one change. It is idempotent: handling a change again
// (a redelivery, a replay after a crash) starts, stops or resumes nothing twice.
// A workflow the shop switched off ("enabled": false in its latest
// template) gets no run; the skip is logged with reason SkipWorkflowOff.
func (r *Router) Handle(ctx context.Context, c care.Change) error {
	o, err := r.Store.GetOrder(ctx, c.ShopID, c.OrderID)
	if errors.Is(err, care.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if err := r.start(ctx, o, c.Type); err != nil {
		return err
	}
	if c.Type == care.BuyerReplied {
		if err := r.reply(ctx, c); err != nil {
			return err
		}
	}
	var runs []care.Run // the order's runs, read once when a workflow runs per subject
	if r.perSubject() {
		if runs, err = r.Store.ListOrderRuns(ctx, o.ShopID, o.Order.ID); err != nil {
			return err
		}
		if err := r.startSubjects(ctx, o, c, runs); err != nil {
			return err
		}
	}
	for _, w := range r.Workflows {
		reason := steps.ReasonCancelled // cancelled stops every workflow
		if !o.Has(care.StatusCancelled) {
			reason = w.Pointless(o)
		}
		if sw, ok := w.(steps.Subjects); ok {
			if err := r.stopSubjects(ctx, o, w, sw, runs, reason); err != nil {
				return err
			}
			continue
		}
		if reason == "" {
			continue
		}
		if err := r.stop(ctx, o, w, "", reason); err != nil {
			return err
		}
	}
	return nil
}

// perSubject reports whether a registered workflow runs per subject.
func (r *Router) perSubject() bool {
	for _, w := range r.Workflows {
		if _, ok := w.(steps.Subjects); ok {
			return true
		}
	}
	return false
}

// startSubjects starts a run for each subject a per-subject workflow lists
// that has no run among runs (the order's) and is not pointless already.
func (r *Router) startSubjects(ctx context.Context, o care.OrderState, c care.Change, runs []care.Run) error {
	if o.Order.Test || o.Has(care.StatusCancelled) {
		return nil
	}
	has := map[[2]string]*care.Run{}
	for i, run := range runs {
		has[[2]string{string(run.Workflow), run.Subject}] = &runs[i]
	}
	var ev *care.Event // the change's event, read when a workflow first asks
	now := r.Clock.Now()
	for _, w := range r.Workflows {
		sw, ok := w.(steps.Subjects)
		if !ok || w.Pointless(o) != "" {
			continue
		}
		if ev == nil {
			e, err := care.FindEvent(ctx, r.Store, c.ShopID, c.OrderID, c.EventID)
			if err != nil && !errors.Is(err, care.ErrNotFound) {
				return err
			}
			ev = &e
		}
		for _, subject := range sw.Subjects(o, *ev) {
			if subject == "" || len(subject) > steps.MaxSubject {
				r.logBadSubject(ctx, o, w.Name(), len(subject))
				continue
			}
			key := [2]string{string(w.Name()), subject}
			if sw.SubjectPointless(o, subject) != "" {
				continue
			}
			if run := has[key]; run != nil && !unstarted(*run) && !(endedAtStart(*run) && slices.Contains(steps.StartsOn(w), c.Type)) {
				continue // a run of the subject exists; one its Starter ended is asked again on the workflow's trigger events
			}
			// A new subject, or a run its execution never touched: the
			// router may have died between creating the run and starting
			// its execution, so start it again (startRun is idempotent:
			// Step Functions answers ExecutionAlreadyExists to a second
			// start of a running execution).
			has[key] = &care.Run{Status: care.RunSucceeded} // once per change
			if err := r.startRun(ctx, o, w, subject, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// endedAtStart reports whether run ended at its start with nothing to do
// (steps.Start.Outcome): no execution ever, so a later trigger event may
// ask its Starter again (startRun).
func endedAtStart(run care.Run) bool {
	return run.Status == care.RunSucceeded && run.Execution == "" && run.Gen == 0
}

// unstarted reports whether run shows no sign of its execution yet: still
// running, no step, no next time, never updated since it was created.
func unstarted(run care.Run) bool {
	return run.Status == care.RunRunning && run.Step == "" && run.NextAt == nil && !run.UpdatedAt.After(run.StartedAt)
}

func (r *Router) logBadSubject(ctx context.Context, o care.OrderState, wf care.Workflow, n int) {
	if r.Logger == nil {
		return
	}
	r.Logger.WarnContext(ctx, "router: no run started: the workflow listed a subject that is empty or too long",
		"shop", o.ShopID, "order", o.Order.ID, "workflow", string(wf), "subject_bytes", n, "max", steps.MaxSubject)
}

// stopSubjects stops the running runs of a per-subject workflow among runs
// (the order's): every one for reason (the order's: cancelled, or the
// workflow's Pointless), else each one its SubjectPointless says.
func (r *Router) stopSubjects(ctx context.Context, o care.OrderState, w steps.Workflow, sw steps.Subjects, runs []care.Run, reason string) error {
	rec, isRec := w.(steps.Recoverer)
	for _, run := range runs {
		if run.Workflow != w.Name() || run.Subject == "" {
			continue
		}
		why := reason
		if why == "" {
			why = sw.SubjectPointless(o, run.Subject)
		}
		if re, ok := w.(steps.RunEnder); ok && why == "" && run.Status == care.RunRunning {
			why = re.RunPointless(o, run)
			if rm, ok := w.(steps.Rearmer); ok && why != "" {
				if next := rm.Rearm(o, run); next != "" && len(next) <= steps.MaxSubject {
					if err := r.startRun(ctx, o, w, next, r.Clock.Now()); err != nil {
						return err
					}
				}
			}
		}
		if why == "" {
			continue
		}
		if !run.Status.Active() && !(isRec && rec.Recovers(why) && run.Outcome == "") {
			continue // ended and accounted for: no read, no write
		}
		if err := r.stop(ctx, o, w, run.Subject, why); err != nil {
			return err
		}
	}
	return nil
}

// wants lists the workflows an order changed by an event of type t
// qualifies for: none for a platform's test order or a cancelled one, else
// those that start on t (steps.StartsOn: order.created unless a Trigger
// says otherwise) and whose Wants says so (a per-subject workflow,
// steps.Subjects, gets no order-level run).
func (r *Router) wants(o care.OrderState, t care.EventType) []steps.Workflow {
	if o.Order.Test || o.Has(care.StatusCancelled) {
		return nil
	}
	var out []steps.Workflow
	for _, w := range r.Workflows {
		if _, ok := w.(steps.Subjects); ok {
			continue // runs per subject (startSubjects)
		}
		if slices.Contains(steps.StartsOn(w), t) && w.Wants(o) {
			out = append(out, w)
		}
	}
	return out
}

func (r *Router) start(ctx context.Context, o care.OrderState, t care.EventType) error {
	now := r.Clock.Now()
	for _, w := range r.wants(o, t) {
		if err := r.startRun(ctx, o, w, "", now); err != nil {
			return err
		}
	}
	return nil
}

// startRun creates the run of w about subject ("" for the order-level run)
// and starts its execution, unless the shop switched w off; a run that
// exists already is started again only while it runs (a replay after a
// crash between the two), which Step Functions answers with
// ExecutionAlreadyExists.
func (r *Router) startRun(ctx context.Context, o care.OrderState, w steps.Workflow, subject string, now time.Time) error {
	wf := w.Name()
	tpl, err := steps.PinTemplate(ctx, r.Store, r.Workflows, o.ShopID, wf, now)
	if err != nil {
		return err
	}
	if p, perr := r.templates.Parse(tpl, r.Workflows.Params(wf)); perr == nil && !p.On() {
		// Switched off by the shop: no new run. A run created before
		// (this is a replay) is still started; a version that no longer
		// parses starts too, and fails in its step, as before.
		_, err := r.Store.GetRun(ctx, o.ShopID, o.Order.ID, wf, subject)
		if errors.Is(err, care.ErrNotFound) {
			r.logSkip(ctx, o, wf, tpl.Version)
			return nil
		} else if err != nil {
			return err
		}
	}
	ref := steps.RunRef{Shop: o.ShopID, Order: o.Order.ID, Workflow: wf, Version: tpl.Version, Subject: subject}
	st, err := r.startOf(ctx, r.Store, w, o, ref, now, now)
	if err != nil {
		return err
	}
	started := now.UTC()
	fresh := care.Run{ShopID: o.ShopID, OrderID: o.Order.ID, Workflow: wf, Subject: subject,
		Execution: ref.Execution(), TemplateVersion: tpl.Version, Status: care.RunRunning,
		StartedAt: started, ExecutedAt: &started, UpdatedAt: started,
		Step: st.Step, NextAt: st.NextAt} // what the execution first waits for, if anything
	switch { // neither has an execution (yet): Execution stays empty
	case st.Outcome != "": // nothing to do: the run ends here
		fresh.Status, fresh.Step, fresh.NextAt, fresh.Outcome, fresh.OutcomeAt = care.RunSucceeded, "", nil, st.Outcome, &started
		fresh.Execution, fresh.ExecutedAt = "", nil
	case st.At.After(now): // started when due (StartDue)
		at := st.At.UTC()
		fresh.Status, fresh.NextAt, fresh.Execution, fresh.ExecutedAt = care.RunScheduled, &at, "", nil
	}
	run, created, err := r.Store.CreateRun(ctx, fresh)
	if created && run.Status == care.RunScheduled && r.OnScheduled != nil {
		r.OnScheduled(*run.NextAt)
	}
	if err == nil && !created && endedAtStart(run) && st.Outcome == "" {
		// The run ended at its start with nothing to do (preship_check:
		// no rule flagged the order), and now, on another of the workflow's
		// trigger events (an address changed after payment), its Starter
		// finds something: the run comes due now and StartDue asks again
		// with the run's pinned template.
		if err := steps.UpdateRun(ctx, r.Store, o.ShopID, o.Order.ID, wf, subject, now, func(run *care.Run) {
			if run.Status == care.RunSucceeded && run.Execution == "" {
				run.Status, run.NextAt, run.Outcome, run.OutcomeAt = care.RunScheduled, &started, "", nil
			}
		}); err != nil {
			return err
		}
		if run, err = r.Store.GetRun(ctx, o.ShopID, o.Order.ID, wf, subject); err != nil {
			return err
		}
		return r.startDue(ctx, run, now)
	}
	if err != nil || run.Status != care.RunRunning {
		return err
	}
	if run.TemplateVersion != ref.Version { // a replay keeps the version pinned first
		ref.Version = run.TemplateVersion
		if st, err = r.startOf(ctx, r.Store, w, o, ref, now, run.StartedAt); err != nil {
			return err
		}
	}
	return r.execute(ctx, ref.Workflow, ref.Execution(), st.Input)
}

// execute starts execution name (a run's RunRef.Execution) of workflow wf
// with input; a second start (a replay) is answered ExecutionAlreadyExists
// by Step Functions, which is success here.
func (r *Router) execute(ctx context.Context, wf care.Workflow, name string, in steps.State) error {
	input, _ := json.Marshal(in)
	err := r.retry(ctx, func() error {
		_, err := r.SFN.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(r.StateMachineArn(wf)),
			Name: aws.String(name), Input: aws.String(string(input))})
		return err
	})
	if err != nil && !isCode(err, "ExecutionAlreadyExists") {
		return fmt.Errorf("start %s: %w", name, err)
	}
	return nil
}

// StartDue starts the scheduled runs (care.RunScheduled) due now, at most
// limit of them, earliest first, and returns how many it looked at (a
// caller drains by calling again while that equals limit). For each: a run
// whose reason went away (the order cancelled, the workflow's Pointless or
// SubjectPointless) is stopped without ever having cost an execution; else
// its Starter is asked again with the order as it is now, and the run is
// started, ended with the Starter's outcome, or moved to a later At. It is
// idempotent and safe after a crash at any point: the execution is started
// (a deterministic name) before the run is marked running, so a run found
// still scheduled is started again and Step Functions answers
// ExecutionAlreadyExists. On AWS a scheduled rule calls it every minute;
// the local runtime calls it at each run's due time.
func (r *Router) StartDue(ctx context.Context, limit int) (int, error) {
	now := r.Clock.Now()
	// Runs are independent, and one that fails (it is retried next time)
	// holds up no other. They are read dueHead at a time (a page of
	// DueRuns), the next page while the runs of the last start. Their
	// orders are read a shop's dueOrderChunk at a time
	// (care.CareStore.GetOrders), dueWorkers chunks at once, earliest due
	// first; each run of a chunk read is then planned, started and marked
	// without waiting for the others, up to dueInFlight at once, so the
	// engine's and the store's group commits take the starts and the marks
	// of a surge (10,000 stalls due at one instant) together.
	pages := make(chan []care.Run, 1)
	var readErr error // set before pages closes
	go func() {
		defer close(pages)
		after := ""
		for n := 0; n < limit; {
			page, next, err := r.Store.DueRuns(ctx, now, after, min(limit-n, dueHead))
			if err != nil {
				readErr = err
				return
			}
			if len(page) > 0 {
				pages <- page
			}
			n += len(page)
			if after = next; after == "" {
				return
			}
		}
	}()
	s := r.newStarter(ctx, now)
	n := 0
	for page := range pages {
		s.feed(page)
		n += len(page)
	}
	return n, errors.Join(readErr, s.wait())
}

// dueHead is how many due runs StartDue reads at a time: reading 10,000 at
// once took 0.1 s before the first could start.
const dueHead = 1000

// starter is StartDue's pool: up to dueInFlight goroutines that plan,
// start and mark the due runs fed to them, each with its order as read.
type starter struct {
	r       *Router
	ctx     context.Context
	now     time.Time
	store   care.CareStore // reads each shop once
	work    chan dueRead
	workers int // goroutines started, at most dueInFlight
	wg      sync.WaitGroup
	mu      sync.Mutex
	errs    []error
}

// dueRead is a due run and its order as read (err: reading the order;
// ErrNotFound when it is gone).
type dueRead struct {
	run care.Run
	o   care.OrderState
	err error
}

func (r *Router) newStarter(ctx context.Context, now time.Time) *starter {
	return &starter{r: r, ctx: ctx, now: now, store: &shopsOnce{CareStore: r.Store, shops: map[string]care.Shop{}}, work: make(chan dueRead)}
}

// feed reads the orders of due and hands each run to the pool; it returns
// once every one is handed over.
func (s *starter) feed(due []care.Run) {
	for range min(dueInFlight-s.workers, len(due)) { // long-lived: a goroutine per run grew a new stack for each
		s.workers++
		s.wg.Add(1)
		go s.start()
	}
	each(dueChunks(due), dueWorkers, func(chunk []care.Run) {
		ids := make([]string, len(chunk))
		for k, run := range chunk {
			ids[k] = run.OrderID
		}
		orders, err := s.r.Store.GetOrders(s.ctx, chunk[0].ShopID, ids)
		for _, run := range chunk {
			o, ok := orders[run.OrderID]
			w := dueRead{run: run, o: o, err: err}
			if err == nil && !ok {
				w.err = care.ErrNotFound
			}
			s.work <- w
		}
	})
}

// start plans, starts and marks the runs handed to it until wait.
func (s *starter) start() {
	defer s.wg.Done()
	for w := range s.work {
		d, err := s.r.planDue(s.ctx, s.store, w.run, w.o, w.err, s.now)
		if err == nil && d != nil {
			err = s.r.begin(s.ctx, d, s.now)
		}
		if err != nil {
			s.mu.Lock()
			s.errs = append(s.errs, fmt.Errorf("start due run %s of order %s (shop %s): %w", w.run.Workflow, w.run.OrderID, w.run.ShopID, err))
			s.mu.Unlock()
		}
	}
}

// wait returns once every run fed is done, with the errors of those that
// failed.
func (s *starter) wait() error {
	close(s.work)
	s.wg.Wait()
	return errors.Join(s.errs...)
}

// dueChunks groups due by shop, at most dueOrderChunk to a group, the
// groups in the order of their first run (earliest due first).
func dueChunks(due []care.Run) [][]care.Run {
	var chunks [][]care.Run
	filling := map[string]int{} // by shop: the index in chunks of the chunk it fills
	for _, run := range due {
		k, ok := filling[run.ShopID]
		if !ok || len(chunks[k]) == dueOrderChunk {
			k = len(chunks)
			chunks = append(chunks, make([]care.Run, 0, dueOrderChunk))
			filling[run.ShopID] = k
		}
		chunks[k] = append(chunks[k], run)
	}
	return chunks
}

// dueInFlight is how many due runs StartDue starts at once: enough for
// large group commits, few enough that the earliest due finish first.
const dueInFlight = 1000

// dueOrderChunk is how many orders one GetOrders call of StartDue reads.
const dueOrderChunk = 100

// each calls fn with every item of items, workers at a time, and returns
// once every call has.
func each[T any](items []T, workers int, fn func(T)) {
	next := make(chan T)
	var wg sync.WaitGroup
	for range min(workers, len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range next {
				fn(it)
			}
		}()
	}
	for _, it := range items {
		next <- it
	}
	close(next)
	wg.Wait()
}

// dueWorkers is how many chunks of due runs' orders StartDue reads at once:
// two keep the runs flowing on two cores, and leave the store's other read
// connections to the reads of planning (a run's template and shop), which
// waited up to 0.1 s behind eight readers at the start of a surge.
const dueWorkers = 2

// dueStart is what planDue decided for a due run: start its execution
// (execute) with st.Input, or end it with st.Outcome, or move it to st.At.
type dueStart struct {
	run     care.Run
	ref     steps.RunRef
	name    string // ref.Execution(), two hashes: worked out once
	st      steps.Start
	execute bool
}

// startDue starts run, as DueRuns read it: a change since is caught by the
// conditional write that marks it (steps.UpdateReadRun reads it again).
func (r *Router) startDue(ctx context.Context, run care.Run, now time.Time) error {
	o, err := r.Store.GetOrder(ctx, run.ShopID, run.OrderID)
	d, err := r.planDue(ctx, r.Store, run, o, err, now)
	if err != nil || d == nil {
		return err
	}
	return r.begin(ctx, d, now)
}

// begin carries out what planDue decided: the execution is started before
// the run is marked.
func (r *Router) begin(ctx context.Context, d *dueStart, now time.Time) error {
	if d.execute {
		if err := r.execute(ctx, d.ref.Workflow, d.name, d.st.Input); err != nil {
			return err
		}
	}
	return r.markDue(ctx, d, now)
}

// planDue decides what starting the due run means, with its order o as it
// is now (or the error reading it: ErrNotFound when it is gone; the
// Starter reads through store); nil when nothing is left to do (not due,
// or stopped here: its order cancelled or gone, its workflow's Pointless
// or SubjectPointless).
func (r *Router) planDue(ctx context.Context, store care.CareStore, run care.Run, o care.OrderState, err error, now time.Time) (*dueStart, error) {
	at, ok := run.Due()
	if !ok || at.After(now) {
		return nil, nil
	}
	w, known := r.Workflows.Get(run.Workflow)
	if err != nil && !errors.Is(err, care.ErrNotFound) {
		return nil, err
	}
	if !known || err != nil { // a workflow no longer registered, an order gone: nothing to start
		return nil, steps.UpdateReadRun(ctx, r.Store, run, now, func(run *care.Run) {
			if run.Status == care.RunScheduled {
				run.Status, run.Step, run.NextAt = care.RunStopped, "", nil
			}
		})
	}
	reason := steps.ReasonCancelled
	if !o.Has(care.StatusCancelled) {
		reason = w.Pointless(o)
		if sw, ok := w.(steps.Subjects); ok && reason == "" && run.Subject != "" {
			reason = sw.SubjectPointless(o, run.Subject)
		}
	}
	if reason != "" {
		return nil, r.stop(ctx, o, w, run.Subject, reason)
	}
	d := &dueStart{run: run, ref: steps.RunRef{Shop: run.ShopID, Order: run.OrderID, Workflow: run.Workflow, Version: run.TemplateVersion, Subject: run.Subject, Gen: run.Gen}}
	d.name = d.ref.Execution()
	// A run not started yet asks its Starter; a run that rested between
	// steps (steps.Handler.Rest) resumes at its step, unless its workflow
	// ends it here with no execution (steps.RestEnder).
	if run.Gen == 0 {
		if d.st, err = r.startOf(ctx, store, w, o, d.ref, now, run.StartedAt); err != nil {
			return nil, err
		}
	} else {
		d.st.Input = steps.State{Run: d.ref, Step: run.Step, Kind: steps.KindMessage}
		if run.NextKind == steps.KindCall {
			d.st.Input.Kind, d.st.Input.Timeout = steps.KindCall, run.NextTimeout
		}
		if re, ok := w.(steps.RestEnder); ok {
			d.st.Outcome = re.RestOutcome(o, run)
		}
	}
	d.execute = d.st.Outcome == "" && !d.st.At.After(now)
	return d, nil
}

// markDue records on the run what planDue decided, once its execution (if
// any) is started: running with its execution's name, ended, or moved on.
func (r *Router) markDue(ctx context.Context, d *dueStart, now time.Time) error {
	st, ref, execute := d.st, d.ref, d.execute
	err := steps.UpdateReadRun(ctx, r.Store, d.run, now, func(run *care.Run) {
		if run.Gen != ref.Gen {
			return // the execution started here already rested the run (steps.Handler.Rest): it is the next one's
		}
		if execute && run.Execution == "" { // even when its first step already ended it
			at := now.UTC()
			run.Execution, run.ExecutedAt = d.name, &at
			run.NextKind, run.NextTimeout = "", 0 // given to the execution as its input
		}
		if run.Status != care.RunScheduled {
			return // its execution, or the router, moved it on meanwhile
		}
		switch {
		case st.Outcome != "":
			at := now.UTC()
			run.Status, run.Step, run.NextAt, run.Outcome, run.OutcomeAt = care.RunSucceeded, "", nil, st.Outcome, &at
		case st.At.After(now):
			at := st.At.UTC()
			run.NextAt = &at
			if r.OnScheduled != nil {
				r.OnScheduled(at)
			}
		default:
			run.Status = care.RunRunning
			if run.NextAt != nil && !run.NextAt.After(now) { // not moved on by its first step already
				run.Step, run.NextAt = st.Step, st.NextAt
			}
		}
	})
	if err == nil && r.Logger != nil && execute {
		r.Logger.DebugContext(ctx, "router: scheduled run started", "shop", ref.Shop, "order", ref.Order,
			"workflow", string(ref.Workflow), "execution", d.name)
	}
	return err
}

// SkipWorkflowOff is the reason the router gives when it starts no run
// because the shop's latest template of the workflow says "enabled": false.
const SkipWorkflowOff = "workflow_off"

func (r *Router) logSkip(ctx context.Context, o care.OrderState, wf care.Workflow, version int) {
	if r.Logger == nil {
		return
	}
	r.Logger.InfoContext(ctx, "router: no run started: the workflow is switched off for the shop",
		"shop", o.ShopID, "order", o.Order.ID, "workflow", string(wf), "template_version", version, "reason", SkipWorkflowOff)
}

// startOf is the start of a run of w: State{Run: ref}, or what w says
// when it is a steps.Starter.
func (r *Router) startOf(ctx context.Context, store care.CareStore, w steps.Workflow, o care.OrderState, ref steps.RunRef, now, created time.Time) (steps.Start, error) {
	s, ok := w.(steps.Starter)
	if !ok {
		return steps.Start{Input: steps.State{Run: ref}}, nil
	}
	t, err := r.template(ctx, ref)
	if err != nil {
		return steps.Start{}, err
	}
	return s.Start(ctx, steps.StartEnv{Store: store, Order: o, Ref: ref, Template: t, Now: now, Created: created, Workflow: w})
}

// shopsOnce is a care.CareStore that reads each shop once: a StartDue call
// plans many runs of few shops, within a moment (its first runs all ask at
// once, and wait for the one read).
type shopsOnce struct {
	care.CareStore
	mu    sync.Mutex // held while a shop is read
	shops map[string]care.Shop
}

func (s *shopsOnce) GetShop(ctx context.Context, id string) (care.Shop, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if shop, ok := s.shops[id]; ok {
		return shop, nil
	}
	shop, err := s.CareStore.GetShop(ctx, id)
	if err == nil {
		s.shops[id] = shop
	}
	return shop, err
}

func (r *Router) template(ctx context.Context, ref steps.RunRef) (*playbook.Template, error) {
	return r.templates.Load(ctx, r.Store, ref.Shop, ref.Workflow, ref.Version, r.Workflows.Params(ref.Workflow))
}

// stop ends the running run of w about subject ("" for the order-level
// run) and cancels its open agent tasks. A chase that sent something and
// ends paid (also after it ran out of steps) counts as recovered. A run
// already ended and accounted for is left alone: later events of the order
// cost a read, not a write.
func (r *Router) stop(ctx context.Context, o care.OrderState, w steps.Workflow, subject, reason string) error {
	wf := w.Name()
	run, err := r.Store.GetRun(ctx, o.ShopID, o.Order.ID, wf, subject)
	if errors.Is(err, care.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	rec, ok := w.(steps.Recoverer)
	recovers := ok && rec.Recovers(reason) && run.Outcome == ""
	if !run.Status.Active() && !recovers {
		return nil
	}
	// A scheduled run has no execution until it is due; once due, StartDue
	// may have started it a moment ago without marking it yet.
	at, scheduled := run.Due()
	executing := run.Status == care.RunRunning || (scheduled && !at.After(r.Clock.Now()))
	if run.Execution == "" { // scheduled, not marked started yet: its name is the run's
		run.Execution = steps.RunRef{Shop: o.ShopID, Order: o.Order.ID, Workflow: wf, Subject: subject, Gen: run.Gen}.Execution()
	}
	// What belongs to the run: a per-subject run's ledger entries and tasks
	// are those with its ids (RunRef.Key: the first execution's name, for
	// every generation); an order-level run's are all of its workflow's for
	// the order, as before runs had subjects.
	first := steps.RunRef{Shop: o.ShopID, Order: o.Order.ID, Workflow: wf, Subject: subject}.Execution()
	ours := func(wfOf care.Workflow, id string) bool {
		return wfOf == wf && (subject == "" || strings.HasPrefix(id, first+"."))
	}
	if executing {
		err := r.retry(ctx, func() error {
			_, err := r.SFN.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(r.executionArn(wf, run.Execution)),
				Error: aws.String("ReasonGone"), Cause: aws.String("order " + reason)})
			return err
		})
		if err != nil && !isCode(err, "ExecutionDoesNotExist") {
			return fmt.Errorf("stop %s: %w", run.Execution, err)
		}
		if err := r.cancelTasks(ctx, o, wf, subject, reason, ours); err != nil {
			return err
		}
	}
	sent := 0
	if recovers {
		msgs, err := r.Store.ListOrderMessages(ctx, o.ShopID, o.Order.ID)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if ours(m.Workflow, m.ID) && m.Status == care.MessageSent {
				sent++
			}
		}
		if sent == 0 && !run.Status.Active() {
			return nil // ended without a message: nothing was recovered
		}
	}
	var value care.Decimal
	if sent > 0 {
		// The recovered value in the shop's currency only: an order in another
		// currency counts as recovered with no value, never mixed into GMV.
		shop, err := r.Store.GetShop(ctx, o.ShopID)
		if err != nil {
			return err
		}
		value, _ = o.Order.TotalIn(shop.Currency)
	}
	return steps.UpdateRun(ctx, r.Store, o.ShopID, o.Order.ID, wf, subject, r.Clock.Now(), func(run *care.Run) {
		if run.Status.Active() {
			run.Status, run.Step, run.NextAt = care.RunStopped, "", nil
		}
		if sent > 0 && run.Outcome == "" {
			run.Sent, run.Outcome, run.Value, run.OutcomeAt = sent, steps.OutcomePaid, value, paidAt(o)
		}
		if so, ok := w.(steps.StopOutcomer); ok && run.Outcome == "" && run.Status == care.RunStopped {
			if out := so.StopOutcome(reason); out != "" {
				now := r.Clock.Now().UTC()
				run.Outcome, run.OutcomeAt = out, &now
			}
		}
	})
}

// cancelTasks cancels the open agent tasks of a stopped run: all of the
// workflow's for the order (an order-level run), or those ours says are
// the per-subject run's.
func (r *Router) cancelTasks(ctx context.Context, o care.OrderState, wf care.Workflow, subject, reason string, ours func(care.Workflow, string) bool) error {
	q := &queue.Queue{Store: r.Store, Clock: r.Clock}
	if subject == "" {
		_, err := q.Cancel(ctx, o.ShopID, o.Order.ID, wf, reason)
		return err
	}
	ts, err := r.Store.ListTasks(ctx, o.ShopID, care.TaskFilter{OrderID: o.Order.ID,
		Statuses: []care.TaskStatus{care.TaskOpen, care.TaskClaimed}})
	if err != nil {
		return fmt.Errorf("list tasks of order %s: %w", o.Order.ID, err)
	}
	for _, t := range ts {
		if ours(t.Workflow, t.ID) {
			if _, err := q.CancelTask(ctx, o.ShopID, t.ID, reason); err != nil {
				return err
			}
		}
	}
	return nil
}

func paidAt(o care.OrderState) *time.Time {
	for _, m := range o.History {
		if m.Status == care.StatusPaid {
			t := m.At.UTC()
			return &t
		}
	}
	return nil
}

// reply hands a buyer's reply to every workflow that awaits replies
// (steps.Awaiter): the workflow interprets it; an opt-out records the
// opt-out; a running run of the workflow gets the answer (now, or when it
// starts waiting). A per-subject workflow (steps.Subjects) has each of its
// running runs of the order interpret it with the run's template, and
// hands each its answer on the run's own key (RunRef.AwaitKey).
func (r *Router) reply(ctx context.Context, c care.Change) error {
	ev, err := care.FindEvent(ctx, r.Store, c.ShopID, c.OrderID, c.EventID)
	if err != nil || ev.Reply == nil {
		return err
	}
	o, err := r.Store.GetOrder(ctx, c.ShopID, c.OrderID)
	if err != nil {
		return err
	}
	var runs []care.Run
	for _, w := range r.Workflows {
		a, ok := w.(steps.Awaiter)
		if !ok {
			continue
		}
		if _, per := w.(steps.Subjects); !per {
			run, err := r.Store.GetRun(ctx, c.ShopID, c.OrderID, w.Name(), "")
			if err != nil && !errors.Is(err, care.ErrNotFound) {
				return err
			}
			if err := r.replyTo(ctx, c, o, ev, w.Name(), a, run); err != nil {
				return err
			}
			continue
		}
		if runs == nil {
			if runs, err = r.Store.ListOrderRuns(ctx, c.ShopID, c.OrderID); err != nil {
				return err
			}
		}
		answered := false
		for _, run := range runs {
			if run.Workflow == w.Name() && run.Subject != "" && (run.Status == care.RunRunning || (run.Status == care.RunScheduled && run.Gen > 0)) { // running, or resting (steps.Handler.Rest: woken)
				answered = true
				if err := r.replyTo(ctx, c, o, ev, w.Name(), a, run); err != nil {
					return err
				}
			}
		}
		if !answered { // no run waits: the reply may still be an opt-out
			if err := r.replyTo(ctx, c, o, ev, w.Name(), a, care.Run{}); err != nil {
				return err
			}
		}
	}
	return nil
}

// replyTo has a interpret the reply with run's template (the shop's latest
// without a run), records an opt-out, and hands the answer to run when it
// is running.
func (r *Router) replyTo(ctx context.Context, c care.Change, o care.OrderState, ev care.Event, wf care.Workflow, a steps.Awaiter, run care.Run) error {
	now := r.Clock.Now()
	tpl, err := r.replyTemplate(ctx, c.ShopID, wf, run)
	if err != nil {
		return err
	}
	locale := ""
	if o.Order.Buyer != nil {
		locale = o.Order.Buyer.Locale
	}
	answer := a.Interpret(tpl, ev.Reply.Text, locale)
	scope := consent.OptOutScope(ev.Reply.Text)
	if scope != "" {
		answer = playbook.AnswerStop
	} else if answer == playbook.AnswerStop {
		scope = consent.ScopeAll // a template's own opt-out word
	}
	if answer == playbook.AnswerStop && o.Order.Buyer != nil {
		for _, contact := range []string{o.Order.Buyer.Phone, o.Order.Buyer.Email} {
			if contact == "" {
				continue
			}
			key := care.ContactKey(contact)
			if r.Consents != nil {
				state := consent.OptedOutAll
				if scope == consent.ScopeMarketing {
					state = consent.OptedOutMarketing
				}
				if err := r.Consents.PutConsent(ctx, consent.Record{ShopID: c.ShopID, Contact: key, Channel: consent.AllChannels,
					State: state, Source: consent.SourceReply, At: now}); err != nil {
					return err
				}
				if scope == consent.ScopeMarketing {
					continue
				}
			}
			if err := r.Store.OptOut(ctx, c.ShopID, key, now); err != nil {
				return err
			}
		}
		if r.ConfirmOptOut != nil {
			if err := r.ConfirmOptOut(ctx, c.ShopID, c.OrderID, wf, ev.Reply.Channel, scope); err != nil {
				return err
			}
		}
	}
	if run.Status == care.RunScheduled && run.Gen > 0 {
		return r.wake(ctx, run, now)
	}
	if run.Status != care.RunRunning {
		return nil
	}
	out, _ := json.Marshal(steps.Answer{Answer: string(answer), EventID: ev.ID})
	ref := steps.RunRef{Shop: c.ShopID, Order: c.OrderID, Workflow: wf, Subject: run.Subject}
	token, found, err := r.Store.Deliver(ctx, c.ShopID, c.OrderID, ref.AwaitKey(a.AwaitKey()), out)
	if err != nil || !found {
		return err
	}
	return r.ResumeTask(ctx, token, out)
}

// wake makes a resting run (steps.Handler.Rest) due now at
// steps.StepWoken, as a buyer's reply came: its next execution reads the
// reply from the order. Waking it again changes nothing.
func (r *Router) wake(ctx context.Context, run care.Run, now time.Time) error {
	woken := false
	err := steps.UpdateRun(ctx, r.Store, run.ShopID, run.OrderID, run.Workflow, run.Subject, now, func(cur *care.Run) {
		if cur.Status == care.RunScheduled && cur.Gen == run.Gen && cur.Step != steps.StepWoken {
			at := now.UTC()
			cur.Step, cur.NextAt, cur.NextKind, cur.NextTimeout, woken = steps.StepWoken, &at, "", 0, true
		}
	})
	if err == nil && woken && r.OnScheduled != nil {
		r.OnScheduled(now)
	}
	return err
}

// replyTemplate is the template a workflow reads a reply with: its run's
// pinned version, else the shop's latest version of the workflow, else the
// built-in default (not stored: a reply alone pins nothing).
func (r *Router) replyTemplate(ctx context.Context, shop string, wf care.Workflow, run care.Run) (*playbook.Template, error) {
	version := run.TemplateVersion // 0 without a run: the latest
	t, err := r.Store.GetTemplate(ctx, shop, wf, version)
	if errors.Is(err, care.ErrNotFound) && version == 0 {
		body, derr := r.Workflows.DefaultTemplate(wf)
		if derr != nil {
			return nil, derr
		}
		return r.Workflows.ParseTemplate(wf, body)
	}
	if err != nil {
		return nil, err
	}
	return r.templates.Parse(t, r.Workflows.Params(wf))
}

// ResumeTask sends a waiting execution its result (SendTaskSuccess),
// retrying throttled calls. A token that is already closed (the execution
// moved on, was stopped or timed out) is not an error. It implements
// queue.Resumer (the step handler and the task queue resume through it).
func (r *Router) ResumeTask(ctx context.Context, token string, output []byte) error {
	err := r.retry(ctx, func() error {
		_, err := r.SFN.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(string(output))})
		return err
	})
	if isCode(err, "TaskTimedOut", "TaskDoesNotExist", "InvalidToken") {
		return nil
	}
	return err
}

// StateMachineArn is the ARN of workflow wf's state machine.
func (r *Router) StateMachineArn(wf care.Workflow) string { return r.StateMachinePrefix + string(wf) }

func (r *Router) executionArn(wf care.Workflow, name string) string {
	return strings.Replace(r.StateMachineArn(wf), ":stateMachine:", ":execution:", 1) + ":" + name
}

// retry calls fn until it succeeds, fails with a non-throttling error, or
// Attempts tries were made.
func (r *Router) retry(ctx context.Context, fn func() error) error {
	var err error
	for n := 1; ; n++ {
		if err = fn(); err == nil || !throttled(err) || n == Attempts {
			return err
		}
		wait := r.Backoff
		if wait == nil {
			wait = realBackoff
		}
		if werr := wait(ctx, n); werr != nil {
			return err
		}
	}
}

func realBackoff(ctx context.Context, n int) error {
	d := min(100*time.Millisecond<<(n-1), 5*time.Second)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func throttled(err error) bool {
	return isCode(err, "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
		"ServiceUnavailable", "InternalFailure", "InternalServerError")
}

func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}
