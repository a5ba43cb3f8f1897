// Package unpaidchase is the unpaid_chase workflow (domain.md 1): remind a
// buyer who placed an order and has not paid, on the template's schedule,
// before the platform cancels it, and hand a large order to an agent's call.
// The folder holds its state machine (unpaid_chase.asl.json), its default
// template (template.json), its Go code and its tests.
package unpaidchase

import (
	"context"
	_ "embed"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
)

// Name is the workflow's name.
const Name care.Workflow = "unpaid_chase"

//go:embed unpaid_chase.asl.json
var stateMachine []byte

//go:embed template.json
var defaultTemplate []byte

// Workflow is unpaid_chase as the kernel sees it (steps.Workflow).
type Workflow struct{}

var _ interface {
	steps.Workflow
	steps.Starter
} = Workflow{}

// Name implements steps.Workflow.
func (Workflow) Name() care.Workflow { return Name }

// StateMachine implements steps.Workflow.
func (Workflow) StateMachine() []byte { return stateMachine }

// DefaultTemplate implements steps.Workflow.
func (Workflow) DefaultTemplate() []byte { return defaultTemplate }

// Wants implements steps.Workflow: an order created unpaid is chased,
// unless it is cash on delivery (confirmed instead).
func (Workflow) Wants(o care.OrderState) bool {
	return o.Order.PaymentMethod != care.PayCOD && !o.Has(care.StatusPaid)
}

// Pointless implements steps.Workflow: paid ends the chase, and so does
// learning that the order is cash on delivery (Douyin says so after
// creation): it is confirmed, never chased for payment.
func (Workflow) Pointless(o care.OrderState) string {
	switch {
	case o.Has(care.StatusPaid):
		return steps.ReasonPaid
	case o.Order.PaymentMethod == care.PayCOD:
		return steps.ReasonCOD
	}
	return ""
}

// Recovers implements steps.Recoverer: a chase that sent something and
// ends paid (also after it ran out of steps) counts as recovered.
func (Workflow) Recovers(reason string) bool { return reason == steps.ReasonPaid }

// ActionChase is the action of the state machine's Step state: act on the
// step due, then plan the next one.
const ActionChase = "chase"

// Actions implements steps.Workflow.
func (Workflow) Actions() map[string]steps.Action {
	return map[string]steps.Action{ActionChase: chase}
}

// Deadline implements steps.Deadliner: the order's pay deadline, the
// platform's, else placed + the template's pay window; zero when neither is
// known. Past it nothing is sent, and a call task ends there.
func (Workflow) Deadline(e *steps.Env) time.Time {
	if d := e.Order.Order.PayDeadline; d != nil {
		return *d
	}
	if w := params(e.Tpl).PayWindow.Std(); w > 0 {
		return e.PlacedAt().Add(w)
	}
	return time.Time{}
}

// Start implements steps.Starter: a chase whose first reminder is due later
// is scheduled until then (most orders are paid within minutes and never
// cost an execution), and its execution begins by sending that reminder.
// A plan that skips steps first, or begins with a call, starts at once so
// its first Step records the skips and places the call.
func (Workflow) Start(ctx context.Context, s steps.StartEnv) (steps.Start, error) {
	e, err := s.Env(ctx)
	if err != nil {
		return steps.Start{}, err
	}
	next, skipped := e.Tpl.Plan("", e.Timing())
	return steps.PlannedStart(s.Ref, e.Tpl, next, skipped), nil
}
