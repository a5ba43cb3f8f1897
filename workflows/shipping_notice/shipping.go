// Package shippingnotice is the shipping_notice workflow (domain.md 4):
// each parcel of an order gets a notice with its carrier, tracking number
// and link. Parcels first reported within the template's digest window of
// the first parcel of their group go in one message; a split order's
// notice says "parcel k of n" (n: the parcels known when sending; the
// platforms send no total), what each parcel holds, why the order was
// split and what is still to come, and the notice that ships the last
// items says the order is complete. The template may wait for the
// carrier's first scan (no dead link), up to a limit.
//
// A run is per parcel (steps.Subjects: the subject is its tracking
// number). The first parcel of a group (its head) sends the group's
// notice and marks the other parcels' ledger entries skipped with reason
// digested before sending, through the ledger's reservation, so a parcel
// is never told twice whatever the order and number of deliveries of
// order.shipped; a parcel reported after its group's notice went out gets
// its own.
//
// The folder holds its state machine (shipping_notice.asl.json), its
// default template (template.json), its params schema
// (params.schema.json), its Go code and its tests.
package shippingnotice

import (
	"context"
	_ "embed"
	"sort"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
)

// Name is the workflow's name.
const Name care.Workflow = "shipping_notice"

//go:embed shipping_notice.asl.json
var stateMachine []byte

//go:embed template.json
var defaultTemplate []byte

// Workflow is shipping_notice as the kernel sees it (steps.Workflow).
type Workflow struct{}

var _ interface {
	steps.Workflow
	steps.Trigger
	steps.Subjects
	steps.Starter
	steps.ParamsParser
} = Workflow{}

// Name implements steps.Workflow.
func (Workflow) Name() care.Workflow { return Name }

// StateMachine implements steps.Workflow.
func (Workflow) StateMachine() []byte { return stateMachine }

// DefaultTemplate implements steps.Workflow.
func (Workflow) DefaultTemplate() []byte { return defaultTemplate }

// StartsOn implements steps.Trigger: parcels appear on order.shipped (and
// on a shipment.updated that reports a parcel first).
func (Workflow) StartsOn() []care.EventType {
	return []care.EventType{care.OrderShipped, care.ShipmentUpdated}
}

// Wants implements steps.Workflow: never an order-level run (the runs are
// per parcel, steps.Subjects).
func (Workflow) Wants(care.OrderState) bool { return false }

// Pointless implements steps.Workflow: nothing stops every run of the
// order but its cancellation (the kernel's).
func (Workflow) Pointless(care.OrderState) string { return "" }

// Skip reasons of a parcel's run.
const (
	ReasonDigested  = "digested"  // the parcel is in its group's notice
	ReasonReplaced  = "replaced"  // the seller replaced the tracking number
	ReasonDelivered = "delivered" // delivered before a notice was due
	ReasonNoParcel  = "no_parcel" // the subject is no parcel of the order
	ReasonStale     = "stale"     // last scanned longer ago than params.max_age
	// ReasonAmazon: the order was placed on Amazon (care.Order.FromAmazon),
	// which sends its own shipped notice and forbids sellers' ones.
	ReasonAmazon = "amazon_order"
)

// Subjects implements steps.Subjects: every tracking number of the order
// that was not replaced.
func (Workflow) Subjects(o care.OrderState, _ care.Event) []string {
	var out []string
	for _, p := range active(o.Parcels) {
		out = append(out, p.TrackingNumber)
	}
	return out
}

// SubjectPointless implements steps.Subjects: a replaced tracking number
// (its replacement gets its own run) or a parcel delivered before its
// notice went out.
func (Workflow) SubjectPointless(o care.OrderState, subject string) string {
	p := o.Parcel(subject)
	switch {
	case p == nil:
		return ReasonNoParcel
	case p.ReplacedBy != "":
		return ReasonReplaced
	case p.Delivered():
		return ReasonDelivered
	}
	return ""
}

// active returns the parcels that count (a tracking number, not replaced),
// in shipping order: first reported first, then by tracking number.
func active(ps []care.Parcel) []care.Parcel {
	var out []care.Parcel
	for _, p := range ps {
		if p.TrackingNumber != "" && p.ReplacedBy == "" {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := firstSeen(out[i]), firstSeen(out[j])
		if !a.Equal(b) {
			return a.Before(b)
		}
		return out[i].TrackingNumber < out[j].TrackingNumber
	})
	return out
}

// firstSeen is when the parcel was first reported (its event's occurred_at).
func firstSeen(p care.Parcel) time.Time {
	if p.FirstSeen != nil {
		return p.FirstSeen.At
	}
	return p.ReportedAt
}

// Groups splits the order's active parcels, in shipping order, into digest
// groups: a group starts with its first parcel (its head) and holds every
// following parcel first reported within window of the head. The grouping
// depends on the parcels only, not on the order their events arrived in.
func Groups(ps []care.Parcel, window time.Duration) [][]care.Parcel {
	var out [][]care.Parcel
	for _, p := range active(ps) {
		if n := len(out); n > 0 && !firstSeen(p).After(firstSeen(out[n-1][0]).Add(window)) {
			out[n-1] = append(out[n-1], p)
			continue
		}
		out = append(out, []care.Parcel{p})
	}
	return out
}

// GroupOf returns the digest group holding the tracking number tn, nil
// when none does.
func GroupOf(ps []care.Parcel, window time.Duration, tn string) []care.Parcel {
	for _, g := range Groups(ps, window) {
		for _, p := range g {
			if p.TrackingNumber == tn {
				return g
			}
		}
	}
	return nil
}

// Start implements steps.Starter: a parcel's run is scheduled until its
// notice is due (the digest window's end from its group's head, a minute
// later for the group's other parcels so the head goes first, then out of
// the buyer's quiet hours and past min_gap), so the execution starts by
// sending. A parcel no group holds (it is gone) starts at once and ends.
func (Workflow) Start(ctx context.Context, s steps.StartEnv) (steps.Start, error) {
	now := steps.Start{Input: steps.State{Run: s.Ref}}
	window := params(s.Template).DigestWindow.Std()
	g := GroupOf(s.Order.Parcels, window, s.Ref.Subject)
	if len(g) == 0 {
		return now, nil
	}
	at := firstSeen(g[0]).Add(window)
	if g[0].TrackingNumber != s.Ref.Subject {
		at = at.Add(headGrace)
	}
	if !at.After(s.Now) {
		return now, nil
	}
	e, err := s.Env(ctx)
	if err != nil {
		return steps.Start{}, err
	}
	now.At = e.MessageAt(at)
	return now, nil
}
