// Package deliverycare is the delivery_care workflow (domain.md 7): once an
// order is delivered, after the template's delay and in the buyer's
// daytime (quiet hours), one care message with usage notes and
// precautions chosen per product (params.products maps SKU patterns to
// message steps; params.default_step is the general fallback) and an open
// offer of help. The wording never asks the buyer to contact the shop
// before reviewing and never discourages a review. A reply within
// params.reply_window opens an agent task quoting it: tag quality when it
// reports a problem (params.problem_words), else tag service. An order from
// a platform whose rules forbid such messages (care.RulesOf: Amazon) gets
// none: its run ends at once, the step skipped with ReasonPlatform; nor
// does an order refunded in full before the message went out (a parcel's
// run: every item of the parcel), skipped ReasonRefunded.
//
// The run is per order, or per delivered parcel (params.per: the care
// message then names that parcel's items, scripts see it as
// shipment.parcels[0]); either way a per-subject run (steps.Subjects,
// steps.DeliveredSubjects) and scheduled (steps.Starter): it costs no
// execution until the message is due. The contact budget, the min gap and
// quiet hours hold across an order's parcels.
//
// The folder holds its state machine (delivery_care.asl.json), its default
// template (template.json), its params schema (params.schema.json), its Go
// code and its tests.
package deliverycare

import (
	"context"
	_ "embed"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
)

// Name is the workflow's name.
const Name care.Workflow = "delivery_care"

//go:embed delivery_care.asl.json
var stateMachine []byte

//go:embed template.json
var defaultTemplate []byte

// Workflow is delivery_care as the kernel sees it (steps.Workflow).
type Workflow struct{}

var _ interface {
	steps.Workflow
	steps.Trigger
	steps.Starter
	steps.Awaiter
	steps.ParamsParser
	steps.CallExplainer
	steps.RestEnder
	steps.Subjects
} = Workflow{}

// Name implements steps.Workflow.
func (Workflow) Name() care.Workflow { return Name }

// StateMachine implements steps.Workflow.
func (Workflow) StateMachine() []byte { return stateMachine }

// DefaultTemplate implements steps.Workflow.
func (Workflow) DefaultTemplate() []byte { return defaultTemplate }

// StartsOn implements steps.Trigger: a run starts when the order is found
// delivered (order.delivered, or the last parcel's delivery scan).
func (Workflow) StartsOn() []care.EventType {
	return []care.EventType{care.OrderDelivered, care.ShipmentUpdated}
}

// Wants implements steps.Workflow: every delivered order.
func (Workflow) Wants(o care.OrderState) bool { return o.Has(care.StatusDelivered) }

// Pointless implements steps.Workflow: nothing but cancellation (the
// kernel's) ends a care run early; a buyer's review does not (the offer of
// help stands whatever the buyer thinks).
func (Workflow) Pointless(care.OrderState) string { return "" }

// Subjects implements steps.Subjects: the order once delivered, and each
// delivered parcel of an order of several (steps.DeliveredSubjects); the
// Starter ends the kind the template does not use.
func (Workflow) Subjects(o care.OrderState, _ care.Event) []string { return steps.DeliveredSubjects(o) }

// SubjectPointless implements steps.Subjects.
func (Workflow) SubjectPointless(care.OrderState, string) string { return "" }

// Skip reasons and outcomes of a delivery_care run (care.Run.Outcome).
const (
	// ReasonPlatform: the order's platform forbids care messages
	// (care.ReviewRules.NoCareMessage).
	ReasonPlatform = "platform_forbids"
	// ReasonStale: the delivery is older than params.latest: a care
	// message now would come out of the blue.
	ReasonStale = "stale"
	// ReasonRefunded: what the message is about was refunded before it
	// went out (the whole order, or every item of the parcel): usage notes
	// for goods the buyer got their money back for would be out of place.
	ReasonRefunded = "refunded"

	OutcomeSkipped  = "care_skipped"   // no message was sent (the ledger says why)
	OutcomeNoReply  = "care_no_reply"  // sent; no reply within reply_window
	OutcomeHandled  = "reply_handled"  // a reply became a task an agent finished
	OutcomeExpired  = "reply_expired"  // a reply became a task nobody finished in time
	OutcomeOptedOut = "care_opted_out" // the buyer replied with an opt-out
)

// AwaitKey is the care.Waits key a run waits on for the buyer's reply.
const AwaitKey = string(Name)

// AwaitKey implements steps.Awaiter.
func (Workflow) AwaitKey() string { return AwaitKey }

// Interpret implements steps.Awaiter: AnswerStop for an opt-out,
// AnswerYes when the reply reports a problem (params.problem_words, a
// negated word does not count), else AnswerUnclear: any reply opens a task.
func (Workflow) Interpret(tpl *playbook.Template, text, locale string) playbook.Answer {
	a := params(tpl).words.Classify(text, locale)
	if a == playbook.AnswerNo {
		a = playbook.AnswerUnclear
	}
	return a
}

// Start implements steps.Starter: the step for the order's products,
// planned from the delivery (its after, quiet hours, the min gap after the
// last message), at most params.latest after it. A platform that forbids
// care messages, or a step that can no longer be sent, ends the run with
// no execution, the step skipped with the reason.
func (Workflow) Start(ctx context.Context, s steps.StartEnv) (steps.Start, error) {
	e, err := s.Env(ctx)
	if err != nil {
		return steps.Start{}, err
	}
	pp := params(e.Tpl)
	sc := e.DeliveredScope(pp.Per)
	if sc.Skip != "" {
		return steps.Start{Outcome: sc.Skip}, nil
	}
	if sc.NotYet {
		return steps.Start{Outcome: OutcomeSkipped}, nil
	}
	stepID := pp.StepFor(sc.Items)
	skip := func(reason string) (steps.Start, error) {
		h := &steps.Handler{Store: s.Store}
		if err := h.Skip(ctx, e, stepID, reason); err != nil {
			return steps.Start{}, err
		}
		return steps.Start{Outcome: OutcomeSkipped}, nil
	}
	if care.RulesOf(e.Order.Order.ReviewPlatform(pp.Platform)).NoCareMessage {
		return skip(ReasonPlatform)
	}
	if refunded(e.Order, sc) {
		return skip(ReasonRefunded)
	}
	delivered := sc.Delivered
	step, _, _ := e.Tpl.Step(stepID)
	sub := *e.Tpl
	sub.Steps = []playbook.Step{step}
	tm := e.Timing()
	tm.PlacedAt = delivered
	latest := delivered.Add(pp.Latest.Std())
	tm.Deadline = &latest
	next, skipped := sub.Plan("", tm)
	if next == nil {
		reason := ReasonStale
		if len(skipped) > 0 && skipped[0].Reason != playbook.SkipDeadlinePassed {
			reason = skipped[0].Reason
		}
		return skip(reason)
	}
	at, err := s.Spaced(ctx, e, next.At)
	if err != nil {
		return steps.Start{}, err
	}
	in := steps.State{Run: s.Ref, Step: stepID, Kind: steps.KindMessage}
	return steps.Start{Input: in, Step: stepID, At: at}, nil
}

// refunded reports whether what the run is about was refunded: the whole
// order, or (a parcel's run) every item of the parcel.
func refunded(o care.OrderState, sc steps.DeliveredScope) bool {
	if o.FullyRefunded() {
		return true
	}
	if sc.Parcel == nil || len(sc.Items) == 0 {
		return false
	}
	for _, it := range sc.Items {
		if it.SKU == "" || !o.RefundedSKU(it.SKU) {
			return false
		}
	}
	return true
}
