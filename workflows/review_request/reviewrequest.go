// Package reviewrequest is the review_request workflow (domain.md 8): a set
// time after delivery, the same neutral review ask to every buyer of a
// delivered order, whatever their rating elsewhere, their replies or their
// open tasks: nothing in this package reads a rating, a reply or a task to
// decide whether or what to send. At most params.max_reminders reminders
// (none where the platform allows one ask only: Amazon). The run stops on a
// review of the order, a returned parcel, a refund (order.refunded: outcome
// refunded), or cancellation (the kernel's),
// and sends nothing after the review window closes: the platform's own
// window when it has one (care.RulesOf: Amazon 5-30 days after delivery,
// Taobao 15 days), else params.window. A step due before the platform's
// window opens is moved to its opening.
//
// The run is per order, or per delivered parcel (params.per: one ask per
// delivered parcel of an order shipped in several, about that parcel's
// items, which scripts see as shipment.parcels[0]); either way a
// per-subject run (steps.Subjects, steps.DeliveredSubjects) and scheduled
// (steps.Starter): no execution until the ask is due. A parcel's run stops
// on a review of the order or of one of its items, on its parcel going
// back, on cancellation. The contact budget, the min gap and quiet hours
// hold across an order's parcels. It ends after its last step (asked): a review while it
// runs ends it reviewed; metrics count a later one from the order
// (steps.Solicitor), per template version.
//
// The folder holds its state machine (review_request.asl.json), its default
// template (template.json), its params schema (params.schema.json), its Go
// code and its tests.
package reviewrequest

import (
	"context"
	_ "embed"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
)

// Name is the workflow's name.
const Name care.Workflow = "review_request"

//go:embed review_request.asl.json
var stateMachine []byte

//go:embed template.json
var defaultTemplate []byte

// Workflow is review_request as the kernel sees it (steps.Workflow).
type Workflow struct{}

var _ interface {
	steps.Workflow
	steps.Trigger
	steps.Starter
	steps.StopOutcomer
	steps.ParamsParser
	steps.Subjects
} = Workflow{}

// Name implements steps.Workflow.
func (Workflow) Name() care.Workflow { return Name }

// StateMachine implements steps.Workflow.
func (Workflow) StateMachine() []byte { return stateMachine }

// DefaultTemplate implements steps.Workflow.
func (Workflow) DefaultTemplate() []byte { return defaultTemplate }

// StartsOn implements steps.Trigger: a run starts when the order is found
// delivered.
func (Workflow) StartsOn() []care.EventType {
	return []care.EventType{care.OrderDelivered, care.ShipmentUpdated}
}

// Wants implements steps.Workflow: every delivered order that has no
// review yet and no parcel going back. Nothing else is read. (Runs are per
// subject: the router asks Subjects instead.)
func (w Workflow) Wants(o care.OrderState) bool {
	return o.Has(care.StatusDelivered) && w.SubjectPointless(o, steps.OrderSubject) == ""
}

// Reasons a run stops (SubjectPointless) and outcomes (care.Run.Outcome).
const (
	ReasonReviewed = "reviewed"  // the buyer reviewed the order
	ReasonReturned = "returned"  // a parcel is going or went back: a return
	ReasonNoParcel = "no_parcel" // the subject is no parcel of the order
	ReasonRefunded = "refunded"  // the order, or an item the ask is about, was refunded (order.refunded)
	// ReasonWindowClosed: the platform's review window closed before the
	// step was due (the ledger's skip reason).
	ReasonWindowClosed = "window_closed"

	OutcomeReviewed = "reviewed"  // a review arrived while the run ran (before its last reminder)
	OutcomeAsked    = "asked"     // every step was sent with no review yet
	OutcomeSkipped  = "not_asked" // no ask was sent (the ledger says why)
	OutcomeRefunded = "refunded"  // a refund stopped the run
)

// Pointless implements steps.Workflow: nothing stops every run of an
// order at once but cancellation (the kernel's); SubjectPointless says
// what stops each.
func (Workflow) Pointless(care.OrderState) string { return "" }

// Subjects implements steps.Subjects: the order once delivered, and each
// delivered parcel of an order of several (steps.DeliveredSubjects); the
// Starter ends the kind the template does not use.
func (Workflow) Subjects(o care.OrderState, _ care.Event) []string { return steps.DeliveredSubjects(o) }

// SubjectPointless implements steps.Subjects. The order's run: any review
// of the order (any rating: the ask stops for a bad review exactly as for
// a good one), a parcel going back, or any refund. A parcel's run: a
// review of the order as a whole or of one of the parcel's items, that
// parcel going back, or a refund of the whole order, of an amount alone,
// or of one of the parcel's items.
func (Workflow) SubjectPointless(o care.OrderState, subject string) string {
	if subject == "" || subject == steps.OrderSubject {
		if len(o.Reviews) > 0 || o.Review != nil {
			return ReasonReviewed
		}
		for _, p := range o.Parcels {
			if returning(p) {
				return ReasonReturned
			}
		}
		if len(o.Refunds) > 0 {
			return ReasonRefunded
		}
		return ""
	}
	p := o.Parcel(subject)
	if p == nil {
		return ReasonNoParcel
	}
	if returning(*p) {
		return ReasonReturned
	}
	items := steps.ParcelItems(o.Order.Items, *p)
	reviewed := func(sku string) bool {
		if sku == "" {
			return true
		}
		for _, it := range items {
			if strings.EqualFold(it.SKU, sku) {
				return true
			}
		}
		return false
	}
	for _, r := range o.Reviews {
		if reviewed(r.SKU) {
			return ReasonReviewed
		}
	}
	if o.Review != nil && reviewed(o.Review.SKU) {
		return ReasonReviewed
	}
	for _, r := range o.Refunds {
		if r.Full || len(r.Items) == 0 { // the whole order, or money for the order as a whole
			return ReasonRefunded
		}
		for _, it := range r.Items {
			if reviewed(it.SKU) {
				return ReasonRefunded
			}
		}
	}
	return ""
}

func returning(p care.Parcel) bool {
	return p.ReplacedBy == "" && (p.Status == care.ShipReturned || p.Status == care.ShipReturning)
}

// StopOutcome implements steps.StopOutcomer: stopped for a review, the
// run counts as reviewed; for a refund, as refunded.
func (Workflow) StopOutcome(reason string) string {
	switch reason {
	case ReasonReviewed:
		return OutcomeReviewed
	case ReasonRefunded:
		return OutcomeRefunded
	}
	return ""
}

// Window is an order's review window.
type Window struct {
	Delivered time.Time // the order's delivery; steps' after counts from it
	Opens     time.Time // no ask before (the platform's AskFrom)
	Closes    time.Time // no ask from then on
	Platform  string
	Rules     care.ReviewRules
}

// WindowOf is the order's review window under params pp.
func WindowOf(o care.OrderState, pp Params) (Window, bool) {
	d, ok := o.ReachedAt(care.StatusDelivered)
	if !ok {
		return Window{}, false
	}
	return WindowFrom(o, pp, d), true
}

// WindowFrom is the review window of a delivery at d (the order's, or one
// parcel's) of order o under params pp.
func WindowFrom(o care.OrderState, pp Params, d time.Time) Window {
	w := Window{Delivered: d, Platform: o.Order.ReviewPlatform(pp.Platform)}
	w.Rules = care.RulesOf(w.Platform)
	w.Opens = d.Add(w.Rules.AskFrom)
	w.Closes = d.Add(pp.Window.Std())
	if w.Rules.AskUntil > 0 {
		w.Closes = d.Add(w.Rules.AskUntil)
	}
	return w
}

// window is the review window of the run of e under pp: its scope's
// delivery (steps.Env.DeliveredScope); false with the outcome of a run
// that has nothing to do.
func window(e *steps.Env, pp Params) (Window, steps.DeliveredScope, string) {
	sc := e.DeliveredScope(pp.Per)
	switch {
	case sc.Skip != "":
		return Window{}, sc, sc.Skip
	case sc.NotYet:
		return Window{}, sc, OutcomeSkipped
	}
	return WindowFrom(e.Order, pp, sc.Delivered), sc, ""
}

// Steps are the template's steps the order gets, in order: the ask, then
// the first max_reminders reminders (none where the platform allows one
// ask), each moved to the window's opening when due before it.
func Steps(t *playbook.Template, pp Params, w Window) []playbook.Step {
	ids := []string{StepAsk}
	if !w.Rules.OneAsk {
		ids = append(ids, pp.Reminders[:min(pp.MaxReminders, len(pp.Reminders))]...)
	}
	var out []playbook.Step
	for _, id := range ids {
		s, _, ok := t.Step(id)
		if !ok {
			continue
		}
		if open := w.Opens.Sub(w.Delivered); time.Duration(s.After) < open {
			s.After = playbook.Duration(open)
		}
		out = append(out, s)
	}
	return out
}

// Start implements steps.Starter: the run is scheduled until the ask is
// due (planned from the delivery with quiet hours and the min gap), and
// starts by sending it. An ask that can no longer be sent before the window
// closes ends the run with no execution, skipped window_closed.
func (Workflow) Start(ctx context.Context, s steps.StartEnv) (steps.Start, error) {
	e, err := s.Env(ctx)
	if err != nil {
		return steps.Start{}, err
	}
	pp := params(e.Tpl)
	w, _, outcome := window(e, pp)
	if outcome != "" {
		return steps.Start{Outcome: outcome}, nil
	}
	next, skipped := plan(e, pp, w, "")
	if next == nil {
		h := &steps.Handler{Store: s.Store}
		for _, sk := range skipped {
			if err := h.Skip(ctx, e, sk.Step, sk.Reason); err != nil {
				return steps.Start{}, err
			}
		}
		return steps.Start{Outcome: OutcomeSkipped}, nil
	}
	if len(skipped) > 0 {
		return steps.Start{Input: steps.State{Run: s.Ref}}, nil // the first Step records the skips
	}
	at, err := s.Spaced(ctx, e, next.At)
	if err != nil {
		return steps.Start{}, err
	}
	in := steps.State{Run: s.Ref, Step: next.Step, Kind: steps.KindMessage}
	return steps.Start{Input: in, Step: next.Step, At: at}, nil
}

// plan is the next step after from within the window, and the steps
// skipped on the way (window_closed for the window's end).
func plan(e *steps.Env, pp Params, w Window, from string) (*playbook.Next, []playbook.Skip) {
	sub := *e.Tpl
	sub.Steps = Steps(e.Tpl, pp, w)
	tm := e.Timing()
	tm.PlacedAt = w.Delivered
	closes := w.Closes
	tm.Deadline = &closes
	if !e.Now.Before(closes) {
		var out []playbook.Skip
		for _, s := range sub.Steps {
			if _, ended := e.Ended(s.ID); !ended && afterStep(sub.Steps, from, s.ID) {
				out = append(out, playbook.Skip{Step: s.ID, Reason: ReasonWindowClosed})
			}
		}
		return nil, out
	}
	next, skipped := sub.Plan(from, tm)
	for i := range skipped {
		if skipped[i].Reason == playbook.SkipDeadlinePassed {
			skipped[i].Reason = ReasonWindowClosed
		}
	}
	return next, skipped
}

// afterStep reports whether id comes after from among steps ("" : all).
func afterStep(steps []playbook.Step, from, id string) bool {
	if from == "" {
		return true
	}
	seen := false
	for _, s := range steps {
		if s.ID == id {
			return seen
		}
		if s.ID == from {
			seen = true
		}
	}
	return false
}

// ReviewedOutcome implements steps.Solicitor.
func (Workflow) ReviewedOutcome() string { return OutcomeReviewed }

// AskedOutcome implements steps.Solicitor.
func (Workflow) AskedOutcome() string { return OutcomeAsked }
