package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/compliance"
	"github.com/ordercare/ordercare/internal/playbook"
)

// Workflow is one care workflow as the kernel sees it, and as everything
// that loops over workflows does (the router, the step handler, metrics,
// template validation, the HTTP API). Each workflow is a folder
// workflows/<name>/ holding its state machine, its default template, its
// Go code and its tests; workflows.All lists them. Nothing outside a
// workflow's folder switches over workflow names: it asks the Workflow.
//
// A Workflow may also implement the optional interfaces of this package
// (Starter, Awaiter, Recoverer, Deadliner, CallExplainer, ParamsParser,
// Linter) for
// what only some workflows do.
type Workflow interface {
	// Name is the workflow's name: care.Run.Workflow, the template's
	// "workflow", its folder and (with the stack prefix) its state machine.
	Name() care.Workflow
	// StateMachine is the ASL definition, with SAM DefinitionSubstitutions
	// (${StepFunction}) in place. The slice is shared: do not modify it.
	StateMachine() []byte
	// DefaultTemplate is the template a shop runs until ops store a version
	// of their own. The slice is shared: do not modify it.
	DefaultTemplate() []byte
	// Wants reports whether a newly created order gets a run. The kernel
	// has already left out test orders and cancelled ones.
	Wants(o care.OrderState) bool
	// Pointless says why a running run of the order has no reason to go on
	// (a skip reason such as ReasonPaid), "" while it has. The router stops
	// the run on it; cancellation is the kernel's and stops every workflow.
	Pointless(o care.OrderState) string
	// Actions are the workflow's own step actions by the name its state
	// machine's Task states give (ActionEscalate and ActionFailed are the
	// kernel's).
	Actions() map[string]Action
}

// Trigger is a workflow whose runs start on other order events than
// order.created (the default): the router offers it each order changed by
// one of these event types, and Wants decides (a run per order and
// workflow, so a later event of the list starts nothing new).
type Trigger interface {
	StartsOn() []care.EventType
}

// StartsOn lists the event types on which w's runs may start: its
// Trigger's, else order.created.
func StartsOn(w Workflow) []care.EventType {
	if t, ok := w.(Trigger); ok {
		return t.StartsOn()
	}
	return []care.EventType{care.OrderCreated}
}

// Starter is a workflow whose execution input is more than the run's
// reference (the default: State{Run: ref}), or whose runs start later than
// the event that calls for them, or not at all.
type Starter interface {
	// Start is the execution input of a new run, and what the run shows
	// while its execution waits to act (Step, NextAt; zero: nothing). The
	// router asks again, with the order as it is then, when a scheduled run
	// comes due (Start.At): a run's start may move, never its reason to
	// exist (Pointless and SubjectPointless are checked first).
	Start(ctx context.Context, s StartEnv) (Start, error)
}

// StartEnv is what a Starter starts a run from.
type StartEnv struct {
	Store    care.CareStore
	Order    care.OrderState
	Ref      RunRef
	Template *playbook.Template // the pinned version, parsed
	Now      time.Time
	Created  time.Time // when the run was created: Now for a new run, earlier when a scheduled run comes due
	Workflow Workflow  // the Starter's workflow
}

// Env is the run's Env as a step would load it (the shop and the order's
// ledger read now), so a Starter plans with the same rules its steps act
// by: Timing, Deadline, quiet hours, the shop's hours.
func (s StartEnv) Env(ctx context.Context) (*Env, error) {
	shop, err := s.Shop(ctx)
	if err != nil {
		return nil, err
	}
	msgs, err := s.Store.ListOrderMessages(ctx, s.Ref.Shop, s.Ref.Order)
	if err != nil {
		return nil, err
	}
	e := &Env{Ref: s.Ref, Shop: shop, Order: s.Order, Tpl: s.Template, Now: s.Now, msgs: msgs, wf: s.Workflow}
	if s.Ref.Subject != "" {
		if p := s.Order.Parcel(s.Ref.Subject); p != nil {
			c := *p
			e.Parcel = &c
		}
	}
	return e, nil
}

// Shop is the run's shop, for a Starter that needs it and not the
// order's ledger (Env reads both).
func (s StartEnv) Shop(ctx context.Context) (care.Shop, error) {
	return s.Store.GetShop(ctx, s.Ref.Shop)
}

// MessageAt is Env.MessageAt for a run not started yet: the earliest time
// at or after at when its buyer may get a message (min_gap after their
// last message, the template's quiet hours and the market's sending hours
// for the template's channels, in the buyer's zone). Every Starter that
// times a first message asks this, so the market's hours reach every
// workflow's first send; steps that time later messages ask Env.MessageAt.
// Errors are the store's.
func (s StartEnv) MessageAt(ctx context.Context, at time.Time) (time.Time, error) {
	e, err := s.Env(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return e.MessageAt(at), nil
}

// Start is a Starter's answer.
//
// Executions cost state transitions; a stored run costs a row. So a run
// whose first action is due later is scheduled: At after now keeps the run
// care.RunScheduled, with no execution, until At, when the router asks the
// Starter again and starts it then (or moves At, or stops the run if its
// reason went away meanwhile, at no cost). Outcome non-empty ends the run
// at once with that outcome and no execution at all: the Starter found
// nothing to do.
type Start struct {
	Input   State      // the execution input
	Step    string     // care.Run.Step while the run waits ("" for none)
	NextAt  *time.Time // care.Run.NextAt while the execution waits
	At      time.Time  // when the execution starts; zero (or not after now): now
	Outcome string     // ends the run without an execution
}

// PlannedStart is the Start of a run that plans its steps as
// playbook.Template.Plan does (unpaid_chase, pickup_nudge), given the plan's
// first step: when it is a message, the run is scheduled until it is due
// and its execution begins by sending it; when the plan skips steps first
// (the first Step records the skips), places a call, or has nothing left,
// the run starts at once with State{Run: ref}.
func PlannedStart(ref RunRef, tpl *playbook.Template, next *playbook.Next, skipped []playbook.Skip) Start {
	if next == nil || len(skipped) > 0 {
		return Start{Input: State{Run: ref}}
	}
	if step, _, _ := tpl.Step(next.Step); step.Action != playbook.ActionMessage {
		return Start{Input: State{Run: ref}}
	}
	return Start{Input: State{Run: ref, Step: next.Step, Kind: KindMessage}, Step: next.Step, At: next.At}
}

// Awaiter is a workflow whose runs wait for a buyer's reply. The router
// hands a reply to the running run of each Awaiter (care.Waits pairs a
// reply and a wait in either order) after the Awaiter interpreted it.
type Awaiter interface {
	// AwaitKey is the care.Waits key the run waits on.
	AwaitKey() string
	// Interpret reads the buyer's reply text with the run's template (the
	// pinned version, else the shop's latest, else the default). AnswerStop
	// records the buyer's opt-out, whether or not a run waits.
	Interpret(tpl *playbook.Template, text, locale string) playbook.Answer
}

// StopOutcomer is a workflow whose runs, stopped by the router while
// running, end with an outcome (pickup_nudge: a parcel delivered before its
// deadline was picked up). StopOutcome returns it for the stop reason ("" for
// none); a run that already has an outcome keeps it.
type StopOutcomer interface {
	StopOutcome(reason string) string
}

// RunEnder is a workflow whose running runs may lose their reason in a
// way the order alone does not tell, only with the run's own state
// (stalled_parcel: a scan newer than the moment the stall was detected).
// The router asks it about each running run of the workflow on every change
// of the order, and stops the run for a non-empty reason (its open tasks
// are cancelled with that reason as their note).
type RunEnder interface {
	RunPointless(o care.OrderState, run care.Run) string
}

// StepWoken is the step a resting run of an Awaiter (Handler.Rest) shows
// once a buyer's reply woke it: the router makes it due at once, and its
// next execution starts at this step and reads the reply from the order.
const StepWoken = "woken"

// RestEnder is a workflow whose resting runs (Handler.Rest) may end when
// they come due, with no execution at all: RestOutcome returns the outcome
// they end with ("" starts the next execution at the run's step).
// delivery_care: a reply window that passed with no reply.
type RestEnder interface {
	RestOutcome(o care.OrderState, run care.Run) string
}

// Rearmer is a per-subject RunEnder whose subject still wants a run after
// the RunEnder ended one (stalled_parcel: a parcel moving again may stall
// again). Rearm names the subject of the next run ("" for none); the
// router creates it (a Starter schedules it) before it stops the ended
// one, so a crash in between loses neither.
type Rearmer interface {
	Rearm(o care.OrderState, run care.Run) string
}

// Recoverer is a workflow whose runs recover money: a run that sent the
// buyer something and is stopped for reason ends with outcome
// OutcomePaid and the order's total as its value.
type Recoverer interface {
	Recovers(reason string) bool
}

// OutcomePaid is the outcome of a run that recovered a payment (Recoverer).
const OutcomePaid = "paid"

// ParamsParser is a workflow whose templates carry params (the template's
// "params" object): ParseParams validates them, with the workflow's
// params.schema.json and its own rules, and returns what the workflow's
// code reads back with Template.ParsedParams. A workflow without it takes
// no params. Templates are parsed with it by Workflows.ParseTemplate and
// Workflows.Params.
type ParamsParser = playbook.ParamsParser

// noParams is the ParamsParser of a workflow that takes none.
type noParams struct{}

func (noParams) ParseParams(raw json.RawMessage, _ *playbook.Template) (any, error) {
	if s := string(raw); s != "null" && s != "{}" {
		return nil, care.Invalid("params", "this workflow takes no params")
	}
	return nil, nil
}

// Params returns the ParamsParser templates of the named workflow are
// parsed with: the workflow's own, one refusing any params for a workflow
// without, nil for an unknown workflow (whose templates are refused anyway).
func (ws Workflows) Params(name care.Workflow) playbook.ParamsParser {
	w, ok := ws.Get(name)
	if !ok {
		return nil
	}
	if pp, ok := w.(ParamsParser); ok {
		return pp
	}
	return noParams{}
}

// ParseTemplate parses a template body of the named workflow, its params
// included (playbook.ParseWith), then lints it: the review-compliance rules
// every template obeys (compliance.Lint) and the workflow's own (Linter).
// An unknown workflow, and a body that does not parse, is a
// *care.FieldError (care.ErrInvalid) naming the JSON path. A template that
// parses but breaks a compliance rule is a *care.RejectError
// (care.ErrRejected; the API's 422) whose Field is the path of the first
// refusal in document order (the compliance rules' first, then the
// workflow's) and whose Reason names the rule broken and its sources,
// followed by the paths of any further refusals.
func (ws Workflows) ParseTemplate(name care.Workflow, body []byte) (*playbook.Template, error) {
	w, ok := ws.Get(name)
	if !ok {
		return nil, care.Invalid("workflow", "unknown workflow %q", name)
	}
	t, err := playbook.ParseWith(name, body, ws.Params(name))
	if err != nil {
		return nil, err
	}
	refused := compliance.Lint(t)
	if l, ok := w.(Linter); ok {
		refused = append(refused, l.Lint(t)...)
	}
	if len(refused) > 0 {
		return nil, rejectLint(refused)
	}
	return t, nil
}

// rejectLint is the error of a template the lint refused: the first
// refusal, with the paths of the others.
func rejectLint(refused []*care.FieldError) error {
	reason := refused[0].Reason
	if n := len(refused) - 1; n > 0 {
		more := make([]string, 0, n)
		for _, fe := range refused[1:] {
			more = append(more, fe.Field)
		}
		reason = fmt.Sprintf("%s (and %d more: %s)", reason, n, strings.Join(more, ", "))
	}
	return &care.RejectError{Field: refused[0].Field, Reason: reason}
}

// Linter is a workflow with compliance rules of its own (bad_review: where
// a revise ask may be sent, and that it offers nothing). Workflows.
// ParseTemplate calls Lint on every template of the workflow once it parsed
// and passed the common compliance rules' parse. Lint returns every
// refusal, each a *care.FieldError whose Field is the JSON path
// ("steps[2].script.en", "params.revise_ask") and whose Reason names the
// rule broken and its source (a law or a platform's policy); none: nil.
// It must not modify tpl.
type Linter interface {
	Lint(tpl *playbook.Template) []*care.FieldError
}

// Workflows is the registry of care workflows, in the order they were
// listed (workflows.All). The zero value has none.
type Workflows []Workflow

// Get returns the workflow named name.
func (ws Workflows) Get(name care.Workflow) (Workflow, bool) {
	for _, w := range ws {
		if w.Name() == name {
			return w, true
		}
	}
	return nil, false
}

// Names lists the registered workflows' names, in order.
func (ws Workflows) Names() []care.Workflow {
	out := make([]care.Workflow, len(ws))
	for i, w := range ws {
		out[i] = w.Name()
	}
	return out
}

// DefaultTemplate returns a fresh copy of the named workflow's default
// template. An unknown workflow is a *care.FieldError (care.ErrInvalid) on
// field "workflow".
func (ws Workflows) DefaultTemplate(name care.Workflow) ([]byte, error) {
	w, ok := ws.Get(name)
	if !ok {
		return nil, care.Invalid("workflow", "no default template for workflow %q", name)
	}
	return append([]byte(nil), w.DefaultTemplate()...), nil
}

// ParamsSchemer is a workflow whose params have a JSON Schema (its folder's
// params.schema.json, the one ParseParams validates with).
type ParamsSchemer interface {
	ParamsSchema() []byte
}

// ParamsSchema returns the JSON Schema of the named workflow's params; nil
// for a workflow without params or without a schema, or an unknown one.
func (ws Workflows) ParamsSchema(name care.Workflow) []byte {
	w, ok := ws.Get(name)
	if !ok {
		return nil
	}
	if s, ok := w.(ParamsSchemer); ok {
		return s.ParamsSchema()
	}
	return nil
}

// Deadliner is a workflow whose reason to contact the buyer ends at a time
// (unpaid_chase: the order's pay deadline). Past it, a send is skipped with
// ReasonDeadline, and a call task ends there.
type Deadliner interface {
	// Deadline is the run's deadline; zero when unknown.
	Deadline(e *Env) time.Time
}

// CallExplainer is a workflow that tells the agent, beyond the call step's
// rendered reason, what led to the call (in the shop's language).
type CallExplainer interface {
	WhyCall(ctx context.Context, h *Handler, e *Env, st State) (string, error)
}

// Solicitor is a workflow whose runs ask buyers for reviews: metrics
// report the ratings of the reviews that ended its runs (the runs whose
// outcome is ReviewedOutcome), solicited when the run had sent an ask, and
// of the reviews posted after a run that ended AskedOutcome (its asks all
// sent) started: solicited too.
type Solicitor interface {
	ReviewedOutcome() string
	AskedOutcome() string
}
