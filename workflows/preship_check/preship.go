// Package preshipcheck is the preship_check workflow (domain.md 3): when
// an unshipped order is paid, apply the shop's rules to it (blocked and
// remote regions, an address changed after payment, two addresses in one
// order, pickup lockers or PO boxes for goods that cannot go there). An order no rule flags ends at
// once. A flagged order: the shop is told to hold it and the buyer is
// asked to confirm the address; a confirmation releases it (the shop is
// told it may ship); a refusal, a new address or an unclear reply opens an
// agent task at once; silence opens one timed from the ship-by deadline,
// early enough to ship or send a delay notice before the platform's
// late-shipment fine. Shipping or cancelling the order stops the run.
//
// The folder holds its state machine (preship_check.asl.json), its default
// template (template.json), its params schema (params.schema.json), its Go
// code and its tests.
package preshipcheck

import (
	"context"
	_ "embed"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
)

// Name is the workflow's name.
const Name care.Workflow = "preship_check"

//go:embed preship_check.asl.json
var stateMachine []byte

//go:embed template.json
var defaultTemplate []byte

// Workflow is preship_check as the kernel sees it (steps.Workflow).
type Workflow struct{}

var _ interface {
	steps.Workflow
	steps.Trigger
	steps.Starter
	steps.Awaiter
	steps.Deadliner
	steps.ParamsParser
	steps.CallExplainer
} = Workflow{}

// Name implements steps.Workflow.
func (Workflow) Name() care.Workflow { return Name }

// StateMachine implements steps.Workflow.
func (Workflow) StateMachine() []byte { return stateMachine }

// DefaultTemplate implements steps.Workflow.
func (Workflow) DefaultTemplate() []byte { return defaultTemplate }

// StartsOn implements steps.Trigger: an order created paid, or paid
// later, or (cash on delivery) confirmed; and an address change, which
// checks again an order whose check ended clear (the run is asked again:
// steps.Start).
func (Workflow) StartsOn() []care.EventType {
	return []care.EventType{care.OrderCreated, care.OrderPaid, care.OrderConfirmed, care.OrderAddressChanged}
}

// Wants implements steps.Workflow: an order the buyer committed to (paid,
// or cash on delivery confirmed: care.OrderState.CommittedAt) and not
// shipped yet.
func (Workflow) Wants(o care.OrderState) bool {
	_, committed := o.CommittedAt()
	return committed && !o.Has(care.StatusShipped)
}

// ReasonShipped is the reason a run stops when its order ships: the check
// has nothing left to hold.
const ReasonShipped = "shipped"

// Pointless implements steps.Workflow: a shipped order is past checking
// (cancellation is the kernel's).
func (Workflow) Pointless(o care.OrderState) string {
	if o.Has(care.StatusShipped) {
		return ReasonShipped
	}
	return ""
}

// AwaitKey is the Waits key a preship_check run waits on for the buyer's
// answer to the address question.
const AwaitKey = string(Name)

// AwaitKey implements steps.Awaiter.
func (Workflow) AwaitKey() string { return AwaitKey }

// Interpret implements steps.Awaiter: yes, no, unclear or stop, by the
// template's reply words (params.replies). A new address is not a yes:
// it reads unclear (or no), and an agent handles it.
func (Workflow) Interpret(tpl *playbook.Template, text, locale string) playbook.Answer {
	return params(tpl).words.Classify(text, locale)
}

// Deadline implements steps.Deadliner: the order's ship-by deadline (the
// platform's ship_by, else paid + params.ship_within). Past it nothing is
// sent to the buyer and the agent task ends: the shop must ship or send a
// delay notice by then.
func (Workflow) Deadline(e *steps.Env) time.Time {
	d, _ := e.Order.ShipDeadline(params(e.Tpl).ShipWithin.Std())
	return d
}

// Start implements steps.Starter: the router applies the rules itself, so
// an order no rule flags ends at once with outcome clear and costs no
// execution; a flagged one starts (its Check applies them again, live).
func (Workflow) Start(_ context.Context, s steps.StartEnv) (steps.Start, error) {
	if len(Flags(s.Order, params(s.Template))) == 0 {
		return steps.Start{Outcome: OutcomeClear}, nil
	}
	return steps.Start{Input: steps.State{Run: s.Ref}}, nil
}
