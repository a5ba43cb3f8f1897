// Package pickupnudge is the pickup_nudge workflow (domain.md 6): a parcel
// waiting at a pickup point (available_for_pickup) gets reminders paced
// toward its deadline, the earlier of the point's hold deadline and, for
// perishable goods, the spoilage time. Ordinary goods get few reminders
// (the template's ordinary_steps, possibly none); perishables get tighter
// ones (perishable_steps), then a call task early enough to act before
// spoilage. The deadline passing without pickup tells the shop and opens an
// agent task to reship or refund (tag reissue). The run is per parcel
// (steps.Subjects: the subject is the tracking number) and stops when the
// parcel is delivered (picked up) or returned.
//
// The folder holds its state machine (pickup_nudge.asl.json), its default
// template (template.json), its params schema (params.schema.json), its Go
// code and its tests.
package pickupnudge

import (
	"context"
	_ "embed"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
)

// Name is the workflow's name.
const Name care.Workflow = "pickup_nudge"

//go:embed pickup_nudge.asl.json
var stateMachine []byte

//go:embed template.json
var defaultTemplate []byte

// Workflow is pickup_nudge as the kernel sees it (steps.Workflow).
type Workflow struct{}

var _ interface {
	steps.Workflow
	steps.Subjects
	steps.ParamsParser
	steps.CallExplainer
	steps.StopOutcomer
	steps.Starter
} = Workflow{}

// Name implements steps.Workflow.
func (Workflow) Name() care.Workflow { return Name }

// StateMachine implements steps.Workflow.
func (Workflow) StateMachine() []byte { return stateMachine }

// DefaultTemplate implements steps.Workflow.
func (Workflow) DefaultTemplate() []byte { return defaultTemplate }

// Wants implements steps.Workflow: never an order-level run (the runs are
// per parcel; the router does not ask).
func (Workflow) Wants(care.OrderState) bool { return false }

// Pointless implements steps.Workflow: nothing at the order's level ends
// every run but cancellation, which is the kernel's.
func (Workflow) Pointless(care.OrderState) string { return "" }

// Reasons a parcel's run stops (SubjectPointless).
const (
	ReasonDelivered = "delivered" // picked up
	ReasonReturned  = "returned"  // back at the shop
	ReasonReplaced  = "replaced"  // its tracking number was replaced
	ReasonNoParcel  = "no_parcel" // the subject is no parcel of the order
)

// Subjects implements steps.Subjects: the tracking number of each parcel
// of the order that is available for pickup (not replaced).
func (Workflow) Subjects(o care.OrderState, _ care.Event) []string {
	var out []string
	for _, p := range o.Parcels {
		if p.Status == care.ShipAvailableForPickup && p.ReplacedBy == "" && p.TrackingNumber != "" {
			out = append(out, p.TrackingNumber)
		}
	}
	return out
}

// SubjectPointless implements steps.Subjects: a parcel delivered (picked
// up), returned or replaced needs no more nudging.
func (Workflow) SubjectPointless(o care.OrderState, subject string) string {
	p := o.Parcel(subject)
	switch {
	case p == nil:
		return ReasonNoParcel
	case p.Status == care.ShipDelivered:
		return ReasonDelivered
	case p.Status == care.ShipReturned:
		return ReasonReturned
	case p.ReplacedBy != "":
		return ReasonReplaced
	}
	return ""
}

// StopOutcome implements steps.StopOutcomer: a running run stopped because
// its parcel was delivered was picked up before the deadline (past it, the
// run has its outcome already: pickup_expired or perishable_lost).
func (Workflow) StopOutcome(reason string) string {
	if reason == ReasonDelivered {
		return OutcomePickedUp
	}
	return ""
}

// Start implements steps.Starter: a parcel's run is scheduled until its
// first reminder is due (planned as the Step state plans it, from when the
// run was created), and its execution begins by sending it. A plan that
// skips steps first, begins with a call, or is past the deadline starts at
// once so its first Step records and places them.
func (Workflow) Start(ctx context.Context, s steps.StartEnv) (steps.Start, error) {
	now := steps.Start{Input: steps.State{Run: s.Ref}}
	e, err := s.Env(ctx)
	if err != nil {
		return steps.Start{}, err
	}
	if e.Parcel == nil {
		return now, nil
	}
	pp := params(e.Tpl)
	c := ClockOf(e.Order, e.Parcel, s.Created, pp)
	if !e.Now.Before(c.Deadline) {
		return now, nil
	}
	sub := *e.Tpl
	sub.Steps = classSteps(e.Tpl, c, pp)
	tm := e.Timing()
	tm.PlacedAt, tm.Deadline = c.Available, &c.Deadline
	next, skipped := sub.Plan("", tm)
	return steps.PlannedStart(s.Ref, e.Tpl, next, skipped), nil
}
