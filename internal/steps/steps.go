// Package steps is the care workflows' kernel: the Workflow interface every
// workflow (workflows/<name>/) implements, and what every workflow does the
// same way: load the pinned template, re-check the order before acting,
// quiet hours in the buyer's zone, the contact budget, opt-out,
// reserve-then-send through the ledger, skip with a reason, escalate to an
// agent, notify the shop, await a buyer event, record the outcome. Its
// Handler is the one Lambda-shaped handler the state machines' Task states
// call (workflows/*/*.asl.json); Handler.Handle runs the kernel's actions
// (escalate, failed) and dispatches every other Input.Action to the run's
// workflow (Workflow.Actions). On AWS it is the StepFunction Lambda; locally
// the engine invokes it in-process through lambda.NewHandler, the same JSON
// path.
//
// Contracts every action keeps:
//   - Idempotent: Step Functions retries a Task after a timeout or an
//     ambiguous failure. Every message and task has a deterministic id per
//     (execution, step), reserved in the ledger before a channel is called,
//     so a retry finds its own entry and never sends or raises twice.
//   - The reason is checked again just before acting: a paid or cancelled
//     order, an opted-out buyer, a passed deadline or a spent contact budget
//     turns a send into a recorded skip with that reason.
//   - Execution state carries ids and times only: no phone number, address
//     or message text ever enters an execution history.
//   - Errors: *TransientError (retried by the state machines' Retry) for a
//     failure that may pass (store, channel); *InputError for a state the
//     handler cannot act on (not retried: the run fails).
package steps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/consent"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/queue"
)

// The kernel's actions, as the state machines name them in their Task
// payloads; every other action is a workflow's own (Workflow.Actions).
const (
	ActionEscalate = "escalate" // Call (waitForTaskToken): raise an agent task
	ActionFailed   = "failed"   // RecordFailure: a step failed after its retries
)

// Action is a workflow's own step action. in.Token is set for a
// waitForTaskToken Task (its output is then ignored). Errors are classified
// as Handle says.
type Action func(ctx context.Context, h *Handler, in Input) (State, error)

// Kinds of what comes next, in State.Kind; the state machines' Choice states route on them.
const (
	KindMessage = "message"
	KindCall    = "call"
	KindDone    = "done"
)

// RunRef names the run a state belongs to. It is the router's execution
// input (with Step) and never changes during the run.
type RunRef struct {
	Shop     string        `json:"shop"`
	Order    string        `json:"order"`
	Workflow care.Workflow `json:"workflow"`
	Version  int           `json:"version"` // the template version pinned at start
	// Subject is what a per-subject run is about (care.Run.Subject: a
	// parcel's tracking number, a digest group id); "" for an order-level
	// run, whose input is then as before runs had subjects.
	Subject string `json:"subject,omitempty"`
	// Gen is which execution of the run this is (care.Run.Gen): 0 for its
	// first; a run that rested between steps (Handler.Rest) has one
	// execution per stretch of steps, each with its own name.
	Gen int `json:"gen,omitempty"`
}

// ExecutionName is the deterministic execution name of a run: the workflow
// and a hash of (shop, order), so a redelivered event never starts a second
// run and no order id (free text) reaches an execution name.
func ExecutionName(wf care.Workflow, shop, order string) string {
	sum := sha256.Sum256([]byte(shop + "\x00" + order))
	return string(wf) + "-" + hex.EncodeToString(sum[:12])
}

// SubjectExecutionName is the deterministic execution name of a run about
// subject: ExecutionName for subject "" (an order-level run keeps its name),
// else ExecutionName, "-" and a hash of (shop, order, subject), so no
// subject (free text) reaches an execution name either. With a workflow
// name of at most 32 characters it is at most 74 characters of
// [a-z0-9_-], within Step Functions' 80 and its allowed characters.
func SubjectExecutionName(wf care.Workflow, shop, order, subject string) string {
	name := ExecutionName(wf, shop, order)
	if subject == "" {
		return name
	}
	sum := sha256.Sum256([]byte(shop + "\x00" + order + "\x00" + subject))
	return name + "-" + hex.EncodeToString(sum[:8])
}

// Execution is the run's execution name.
func (r RunRef) Execution() string {
	name := r.base()
	if r.Gen > 0 {
		name += "-" + strconv.Itoa(r.Gen)
	}
	return name
}

// base is the run's first execution name, whatever its generation: the
// prefix of its ledger and task ids.
func (r RunRef) base() string { return SubjectExecutionName(r.Workflow, r.Shop, r.Order, r.Subject) }

// key is the ledger and task id of one step of the run.
// Every generation of a run shares them (the first execution's name), so
// a step is told at most once per run, whichever execution acts on it.
func (r RunRef) Key(step string) string { return r.base() + "." + step }

// State is the execution state between Task states.
type State struct {
	Run     RunRef          `json:"run"`
	Step    string          `json:"step"`              // the step to act on next ("" at the start)
	Kind    string          `json:"kind,omitempty"`    // message, call or done
	At      *time.Time      `json:"at,omitempty"`      // when to act on Step (Wait TimestampPath; see WaitUntil)
	Timeout int             `json:"timeout,omitempty"` // seconds the next token wait may last
	Reply   json.RawMessage `json:"reply,omitempty"`   // cod_confirm: the classified reply, or a States.Timeout error
	Outcome json.RawMessage `json:"outcome,omitempty"` // the agent's outcome, or a States.Timeout error
	Error   *StepError      `json:"error,omitempty"`   // RecordFailure: what the Catch caught
}

// StepError is an error a state machine's Catch caught.
type StepError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause,omitempty"`
}

// WaitUntil is t as a Wait state's timestamp: UTC ("Z"), whole seconds,
// the form AWS documents for TimestampPath.
func WaitUntil(t time.Time) *time.Time {
	u := t.UTC().Truncate(time.Second)
	return &u
}

// Input is what a Task state sends the handler.
type Input struct {
	Action string `json:"action"`
	State  State  `json:"state"`
	Token  string `json:"token,omitempty"` // waitForTaskToken actions
}

// Answer is what resumes a waiting execution: a buyer's classified reply
// (Answer) or an agent's outcome (Outcome), or why nobody needs to act (Skipped).
type Answer struct {
	Answer  string `json:"answer,omitempty"`
	EventID string `json:"event_id,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	Agent   string `json:"agent,omitempty"`
	Skipped string `json:"skipped,omitempty"`
	Error   string `json:"Error,omitempty"` // States.Timeout, set by the state machine's Catch
}

// TransientError is a failure that may pass on retry; the state machines
// retry it with backoff. Its type name is part of the workflow contract.
type TransientError struct{ Err error }

func (e *TransientError) Error() string { return "transient: " + e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// InputError is a state the handler cannot act on; it is not retried.
type InputError struct{ Reason string }

func (e *InputError) Error() string { return "bad step input: " + e.Reason }

// ErrorNames lists the error type names the handler returns (what ASL
// Retry and Catch match).
var ErrorNames = []string{"TransientError", "InputError"}

// Envelope is one message handed to a channel, with the shop and order it
// is addressed by (care.Delivery is an event as a source delivered it).
type Envelope struct {
	Event   string // "message" to the buyer, or "notice" to the shop
	Shop    care.Shop
	Order   care.OrderState
	Message care.Message
}

// Channel delivers messages. Send must be idempotent on Message.ID (a
// retry after an ambiguous failure repeats the ID, and the receiver
// dedupes on it). An error matching care.ErrRejected or care.ErrNotFound
// (not configured) is permanent: the message is marked failed. Any other
// error is retried.
type Channel interface {
	Send(ctx context.Context, d Envelope) error
}

// Report is what a channel says about a send it accepted; it is recorded on
// the ledger entry.
type Report struct {
	ProviderID string // the provider's message id, which its receipts name
	Segments   int    // sms: segments billed
	Encoding   string // sms: "GSM-7" or "UCS-2"
}

// Reporter is a Channel that reports on each send; the kernel calls
// SendReport instead of Send. Errors are as Send's.
type Reporter interface {
	Channel
	SendReport(ctx context.Context, d Envelope) (Report, error)
}

// Reacher is a Channel that can tell, before anything is reserved, that it
// cannot reach an order's buyer (no address, an invalid or non-mobile
// number). Unreachable returns the reason, recorded as the skip reason
// when no other channel of the step can reach the buyer; "" when it can.
// d.Message is not yet set.
type Reacher interface {
	Channel
	Unreachable(ctx context.Context, d Envelope) string
}

// Finisher is a Channel that adds to a message what its medium or the
// buyer's market requires (the sms channel: China's refusal instruction in
// a marketing text). The kernel calls Finish with d.Message's Text, Class
// and Channel set before it reserves the ledger entry, and stores what it
// returns as the entry's Text: the ledger holds exactly the text the buyer
// gets, and the channel sends Message.Text as it is. Finish must be
// deterministic (a retry reserves the same text) and do no I/O.
type Finisher interface {
	Channel
	Finish(d Envelope) string
}

// PaidMedia is a Channel whose every send costs money and whose provider
// takes no idempotency key (SMS). The kernel records an attempt on the
// ledger entry before calling it, and never calls it again for an entry
// whose attempt has an unknown outcome: that entry ends failed with
// ReasonOutcomeUnknown, for review.
type PaidMedia interface {
	Channel
	Paid() bool
}

// NotSentError is a channel's transient failure that certainly sent
// nothing (throttled, no connection): a paid channel may be called again.
type NotSentError struct{ Err error }

func (e *NotSentError) Error() string { return "not sent: " + e.Err.Error() }
func (e *NotSentError) Unwrap() error { return e.Err }

// ChannelOutbox is the built-in channel: the ledger entry is the message,
// read through the API (GET /v1/messages).
const ChannelOutbox = "outbox"

// Handler runs the step actions. Store, Clock, Resumer and Workflows are
// required. It is safe for concurrent use.
type Handler struct {
	Store     care.CareStore
	Clock     clock.Clock
	Resumer   queue.Resumer      // sends a waiting execution its result
	Channels  map[string]Channel // by name; "outbox" needs none
	Workflows Workflows          // the registered workflows (workflows.All)
	// Consents, when set, holds buyers' per-channel statements: a channel
	// the buyer opted out of, or marketing without the consent the market
	// requires, is passed over like an unreachable one.
	Consents consent.Store
	// OnScheduled, when set, is told the start time of each run a step
	// leaves scheduled (Rest): the local runtime's timer wakes for it.
	OnScheduled func(at time.Time)

	templates playbook.Cache
}

// Handle runs one action. Its output is the next State (ignored by Step
// Functions for waitForTaskToken actions).
func (h *Handler) Handle(ctx context.Context, in Input) (State, error) {
	if in.State.Run.Shop == "" || in.State.Run.Order == "" || in.State.Run.Version < 1 {
		return State{}, &InputError{"state.run needs shop, order and version"}
	}
	var (
		out State
		err error
	)
	switch in.Action {
	case ActionEscalate:
		err = h.escalate(ctx, in.State, in.Token)
	case ActionFailed:
		err = h.failed(ctx, in.State)
	default:
		var act Action
		if w, ok := h.Workflows.Get(in.State.Run.Workflow); ok {
			act = w.Actions()[in.Action]
		}
		if act == nil {
			return State{}, &InputError{fmt.Sprintf("unknown action %q", in.Action)}
		}
		out, err = act(ctx, h, in)
	}
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			return State{}, ie
		}
		return State{}, &TransientError{err}
	}
	return out, nil
}

// Env is what one step action works with: the run, its shop and order as
// stored now, the pinned template, the time, and the order's ledger (read
// once by Handler.Load and kept current by the action's own writes).
type Env struct {
	Ref   RunRef
	Shop  care.Shop
	Order care.OrderState
	Tpl   *playbook.Template
	Now   time.Time
	// Parcel is the order's parcel the run is about when its subject
	// (Ref.Subject) is a tracking number of the order; nil for an
	// order-level run and for another kind of subject.
	Parcel *care.Parcel

	msgs []care.Message
	wf   Workflow
}

// noteMessage keeps e.msgs current after the action wrote m.
func (e *Env) noteMessage(m care.Message) {
	for i := range e.msgs {
		if e.msgs[i].ID == m.ID {
			e.msgs[i] = m
			return
		}
	}
	e.msgs = append(e.msgs, m)
}

// Sent counts the messages this workflow sent the buyer for the order
// (notices to the shop do not spend the contact budget); for a per-subject
// run, those of this run only (its ledger ids).
func (e *Env) Sent() int {
	n := 0
	prefix := e.Ref.base() + "."
	for _, m := range e.msgs {
		if e.Ref.Subject != "" && !strings.HasPrefix(m.ID, prefix) {
			continue
		}
		if m.Workflow == e.Ref.Workflow && m.Status == care.MessageSent {
			if st, _, ok := e.Tpl.Step(m.Step); ok && st.Action == playbook.ActionMessage {
				n++
			}
		}
	}
	return n
}

func (h *Handler) Load(ctx context.Context, ref RunRef) (*Env, error) {
	shop, err := h.Store.GetShop(ctx, ref.Shop)
	if err != nil {
		return nil, notFoundIsInput(err, "shop")
	}
	order, err := h.Store.GetOrder(ctx, ref.Shop, ref.Order)
	if err != nil {
		return nil, notFoundIsInput(err, "order")
	}
	wf, ok := h.Workflows.Get(ref.Workflow)
	if !ok {
		return nil, &InputError{fmt.Sprintf("unknown workflow %q", ref.Workflow)}
	}
	tpl, err := h.template(ctx, ref)
	if err != nil {
		return nil, err
	}
	msgs, err := h.Store.ListOrderMessages(ctx, ref.Shop, ref.Order)
	if err != nil {
		return nil, err
	}
	env := &Env{Ref: ref, Shop: shop, Order: order, Tpl: tpl, Now: h.Clock.Now(), msgs: msgs, wf: wf}
	if ref.Subject != "" {
		if p := order.Parcel(ref.Subject); p != nil {
			c := *p
			env.Parcel = &c
		}
	}
	return env, nil
}

func notFoundIsInput(err error, what string) error {
	if errors.Is(err, care.ErrNotFound) {
		return &InputError{what + " not found"}
	}
	return err
}

// template returns the pinned template version, parsed once per process.
func (h *Handler) template(ctx context.Context, ref RunRef) (*playbook.Template, error) {
	t, err := h.templates.Load(ctx, h.Store, ref.Shop, ref.Workflow, ref.Version, h.Workflows.Params(ref.Workflow))
	var fe *care.FieldError
	if errors.As(err, &fe) {
		return nil, &InputError{"stored template: " + err.Error()}
	}
	return t, notFoundIsInput(err, "template version")
}

// PinTemplate returns the latest template version of a shop's workflow,
// storing the built-in default as version 1 when the shop has none, so
// every run pins a stored, immutable version. The default comes from ws.
func PinTemplate(ctx context.Context, st care.Templates, ws Workflows, shop string, wf care.Workflow, now time.Time) (care.Template, error) {
	for {
		t, err := st.GetTemplate(ctx, shop, wf, 0)
		if !errors.Is(err, care.ErrNotFound) {
			return t, err
		}
		body, err := ws.DefaultTemplate(wf)
		if err != nil {
			return care.Template{}, err
		}
		t = care.Template{ShopID: shop, Workflow: wf, Version: 1, Body: body, CreatedAt: now.UTC()}
		if err := st.PutTemplate(ctx, t); err == nil {
			return t, nil
		} else if !errors.Is(err, care.ErrConflict) {
			return care.Template{}, err
		}
	}
}

// updateRun applies fn to the stored run, retrying on a concurrent update.
func (h *Handler) UpdateRun(ctx context.Context, ref RunRef, fn func(r *care.Run)) error {
	return UpdateRun(ctx, h.Store, ref.Shop, ref.Order, ref.Workflow, ref.Subject, h.Clock.Now(), func(r *care.Run) {
		if r.Gen == ref.Gen { // a later execution of the run owns it (Rest), not a late retry of this one
			fn(r)
		}
	})
}

// Rest ends this execution and leaves the run scheduled for step at at:
// the stored run is the timer, so the wait between two message steps costs
// no state transitions. The router starts the run's next execution (Gen+1)
// when at comes, with State{Step: step, Kind: KindMessage}, re-checking the
// order first as for any scheduled run. For a state machine whose Task
// ends the execution (End: true): the returned State is KindDone. A retry
// of this execution after it rested changes nothing.
func (h *Handler) Rest(ctx context.Context, e *Env, step string, at time.Time) (State, error) {
	return h.rest(ctx, e, step, at, "", 0)
}

// RestCall is Rest for a call step: the next execution starts with
// State{Step: step, Kind: KindCall, Timeout: timeout}, so a state machine
// that chooses on $.kind enters its Call state at once (the agent task's
// wait ends timeout seconds later).
func (h *Handler) RestCall(ctx context.Context, e *Env, step string, at time.Time, timeout int) (State, error) {
	return h.rest(ctx, e, step, at, KindCall, timeout)
}

func (h *Handler) rest(ctx context.Context, e *Env, step string, at time.Time, kind string, timeout int) (State, error) {
	sent := e.Sent()
	err := h.UpdateRun(ctx, e.Ref, func(r *care.Run) {
		if !r.Status.Active() {
			return // stopped meanwhile
		}
		t := at.UTC()
		r.Status, r.Step, r.NextAt, r.Sent = care.RunScheduled, step, &t, sent
		r.NextKind, r.NextTimeout = kind, timeout
		r.Gen, r.Execution, r.ExecutedAt = r.Gen+1, "", nil
	})
	if err == nil && h.OnScheduled != nil {
		h.OnScheduled(at)
	}
	return State{Run: e.Ref, Kind: KindDone}, err
}

// UpdateRun applies fn to the stored run of (shop, order, wf, subject) and
// saves it, retrying when another writer moved its Rev. ErrNotFound if the
// run does not exist.
func UpdateRun(ctx context.Context, st care.Runs, shop, order string, wf care.Workflow, subject string, now time.Time, fn func(r *care.Run)) error {
	r, err := st.GetRun(ctx, shop, order, wf, subject)
	if err != nil {
		return err
	}
	return UpdateReadRun(ctx, st, r, now, fn)
}

// UpdateReadRun is UpdateRun for a run the caller has just read (with its
// Rev): the first attempt saves no read; a writer that moved the Rev
// meanwhile makes it read the run again and apply fn to that.
func UpdateReadRun(ctx context.Context, st care.Runs, r care.Run, now time.Time, fn func(r *care.Run)) error {
	for {
		fn(&r)
		r.UpdatedAt = now.UTC()
		_, err := st.UpdateRun(ctx, r)
		if !errors.Is(err, care.ErrConflict) {
			return err
		}
		if r, err = st.GetRun(ctx, r.ShopID, r.OrderID, r.Workflow, r.Subject); err != nil {
			return err
		}
	}
}

// failed marks the run failed at its step, with the error's name as
// outcome. A ledger entry of this run still pending (reserved by a step
// whose send never completed) ends failed with reason run_failed: no
// retry will come for it.
func (h *Handler) failed(ctx context.Context, st State) error {
	name := "unknown"
	if st.Error != nil {
		name = st.Error.Error
	}
	msgs, err := h.Store.ListOrderMessages(ctx, st.Run.Shop, st.Run.Order)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if m.Status == care.MessagePending && strings.HasPrefix(m.ID, st.Run.base()+".") {
			m.Status, m.Reason = care.MessageFailed, ReasonRunFailed
			if err := h.Store.UpdateMessage(ctx, m); err != nil {
				return err
			}
		}
	}
	return h.UpdateRun(ctx, st.Run, func(r *care.Run) {
		r.Status, r.NextAt, r.Outcome = care.RunFailed, nil, "error:"+name
	})
}

// queue is the agent task queue over the handler's store.
func (h *Handler) Queue() *queue.Queue { return &queue.Queue{Store: h.Store, Clock: h.Clock} }

func (h *Handler) Resume(ctx context.Context, token string, a Answer) error {
	b, _ := json.Marshal(a)
	return h.Resumer.ResumeTask(ctx, token, b)
}

func DecodeAnswer(raw json.RawMessage) Answer {
	var a Answer
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &a)
	}
	return a
}
