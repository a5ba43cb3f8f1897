package steps

import (
	"context"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

// A workflow that acts after delivery (delivery_care, review_request) runs
// per order or per delivered parcel, as its template says (params.per).
// The router lists a workflow's subjects without reading its template, so
// such a workflow is a Subjects workflow that lists both kinds
// (DeliveredSubjects), and its Starter ends at once, with no execution, the
// run of the kind its template does not use (Env.DeliveredScope).

// Per modes of a workflow that acts after delivery (params.per).
const (
	PerOrder  = "order"  // one run about the whole order, once it is delivered (the default)
	PerParcel = "parcel" // one run per delivered parcel, about its items
)

// OrderSubject is the subject of the run about the whole order
// (DeliveredSubjects). A parcel whose tracking number is OrderSubject gets
// no run of its own.
const OrderSubject = "#order"

// Outcomes of a run that DeliveredScope finds has nothing to do: the
// template runs the other way, or an earlier run covered the parcel.
const (
	OutcomePerOrder  = "per_order"  // a parcel's run; the template runs per order
	OutcomePerParcel = "per_parcel" // the order's run; the template runs per parcel and the order has several
	OutcomeCovered   = "covered"    // a parcel's run; the order's run already acted for it
)

// DeliveredSubjects is Subjects for a workflow that acts after delivery:
// OrderSubject once the order is delivered, and, when the order has two or
// more parcels (a tracking number, not replaced), the tracking number of
// each delivered one. An order of one parcel has one run either way: its
// parcel is the whole order.
func DeliveredSubjects(o care.OrderState) []string {
	var out []string
	if o.Has(care.StatusDelivered) {
		out = append(out, OrderSubject)
	}
	ps := DeliveryParcels(o)
	if len(ps) < 2 {
		return out
	}
	for _, p := range ps {
		if p.Delivered() {
			out = append(out, p.TrackingNumber)
		}
	}
	return out
}

// DeliveryParcels are the order's parcels that count for per-parcel runs:
// a tracking number (not OrderSubject), not replaced.
func DeliveryParcels(o care.OrderState) []care.Parcel {
	var out []care.Parcel
	for _, p := range o.Parcels {
		if p.TrackingNumber != "" && p.TrackingNumber != OrderSubject && p.ReplacedBy == "" {
			out = append(out, p)
		}
	}
	return out
}

// DeliveredScope is what one run of a workflow acting after delivery is
// about.
type DeliveredScope struct {
	// Delivered is when: the order's delivery, or the parcel's.
	Delivered time.Time
	// Parcel is the run's parcel (per parcel, an order of two or more
	// parcels); nil for a run about the whole order.
	Parcel *care.Parcel
	// Items are the items the run is about: the order's, or those of its
	// parcel (the order's lines by SKU, with the parcel's quantities; a
	// parcel that lists no items holds the whole order).
	Items []care.Item
	// Skip is the outcome of a run with nothing to do (OutcomePerOrder,
	// OutcomePerParcel, OutcomeCovered), "" when it has something.
	Skip string
	// NotYet: not delivered (yet): the run has nothing to do now.
	NotYet bool
}

// DeliveredScope is the scope of this run under the template's per mode
// (PerOrder when empty). A parcel's run of a per-parcel template is
// covered when the order's run (which acts for an order of one parcel)
// already has a ledger entry made at or after the parcel's delivery.
func (e *Env) DeliveredScope(per string) DeliveredScope {
	o := e.Order
	if e.Ref.Subject == "" || e.Ref.Subject == OrderSubject {
		s := DeliveredScope{Items: o.Order.Items}
		for _, m := range e.msgs {
			if e.Ref.Subject != "" && e.legacy(m) {
				s.Skip = OutcomeCovered // the order's run from before runs had subjects acted
				return s
			}
		}
		if per == PerParcel && len(DeliveryParcels(o)) >= 2 {
			s.Skip = OutcomePerParcel
			return s
		}
		d, ok := o.ReachedAt(care.StatusDelivered)
		s.Delivered, s.NotYet = d, !ok
		return s
	}
	if per != PerParcel {
		return DeliveredScope{Skip: OutcomePerOrder}
	}
	p := e.Parcel
	if p == nil || !p.Delivered() || p.DeliveredAt == nil {
		return DeliveredScope{NotYet: true}
	}
	orderRun := RunRef{Shop: e.Ref.Shop, Order: e.Ref.Order, Workflow: e.Ref.Workflow, Subject: OrderSubject}.base() + "."
	for _, m := range e.msgs {
		if (strings.HasPrefix(m.ID, orderRun) || e.legacy(m)) && !m.At.Before(*p.DeliveredAt) {
			return DeliveredScope{Skip: OutcomeCovered}
		}
	}
	return DeliveredScope{Delivered: *p.DeliveredAt, Parcel: p, Items: ParcelItems(o.Order.Items, *p)}
}

// legacy reports whether m is a ledger entry of this workflow's
// order-level run from before it ran per subject (subject "").
func (e *Env) legacy(m care.Message) bool {
	return m.Workflow == e.Ref.Workflow && strings.HasPrefix(m.ID, ExecutionName(e.Ref.Workflow, e.Ref.Shop, e.Ref.Order)+".")
}

// Messages are the order's ledger entries as this step sees them (read
// once by Handler.Load, kept current by the step's own writes). The slice
// is shared: do not modify it.
func (e *Env) Messages() []care.Message { return e.msgs }

// SentByWorkflow counts the messages this run's workflow sent the buyer
// for the order, every run of it (each parcel's) included: the contact
// budget of a workflow that runs per parcel holds across its parcels.
func (e *Env) SentByWorkflow() int {
	n := 0
	for _, m := range e.msgs {
		if m.Workflow == e.Ref.Workflow && m.Status == care.MessageSent && m.ToBuyer() {
			n++
		}
	}
	return n
}

// Spaced is at moved, when it comes within the template's min_gap of the
// planned start of another run of the workflow for the order that has not
// started yet (care.RunScheduled, first execution), to that start plus the
// gap, then out of quiet hours (MessageAt); repeated until it is clear.
// So runs planned from one day's deliveries (two parcels) message the buyer
// at least a gap apart; the router creates an order's runs one at a time,
// so each one's Start sees the runs planned before it. An order of fewer
// than two parcels has one run: nothing is read. Runs that all came due
// together (the runtime was down past their times) are not spaced: each
// checks the min gap against the ledger when it sends, so two of them
// executing at the same instant may both send.
func (s StartEnv) Spaced(ctx context.Context, e *Env, at time.Time) (time.Time, error) {
	if len(DeliveryParcels(s.Order)) < 2 {
		return at, nil // one run for the order: no read
	}
	runs, err := s.Store.ListOrderRuns(ctx, s.Ref.Shop, s.Ref.Order)
	if err != nil {
		return at, err
	}
	var others []time.Time
	for _, r := range runs {
		if r.Workflow == s.Ref.Workflow && r.Subject != s.Ref.Subject && r.Status == care.RunScheduled && r.Gen == 0 && r.NextAt != nil {
			others = append(others, *r.NextAt)
		}
	}
	gap := e.Tpl.Gap()
	for range 2*len(others) + 1 {
		moved := false
		for _, o := range others {
			if d := at.Sub(o); d > -gap && d < gap {
				at, moved = e.MessageAt(o.Add(gap)), true
			}
		}
		if !moved {
			break
		}
	}
	return at, nil
}

// ParcelItems are the order's items a parcel holds: the order's lines by
// SKU with the parcel's quantities (a SKU the order does not list keeps
// its SKU as title); all of items when the parcel lists none.
func ParcelItems(items []care.Item, p care.Parcel) []care.Item {
	if len(p.Items) == 0 {
		return items
	}
	out := make([]care.Item, 0, len(p.Items))
	for _, pi := range p.Items {
		it := care.Item{SKU: pi.SKU, Title: pi.SKU, Quantity: pi.Quantity}
		for _, oi := range items {
			if strings.EqualFold(oi.SKU, pi.SKU) {
				it = oi
				it.Quantity = pi.Quantity
				break
			}
		}
		out = append(out, it)
	}
	return out
}

// ParcelVars returns a vars function (Handler.SendStepWith) that puts the
// scope's parcel, with its items, in the script's shipment namespace
// (shipment.parcels[0], shipment.count 1); nil for a run about the whole
// order.
func (s DeliveredScope) ParcelVars(o care.OrderState) func(v *playbook.Vars) {
	if s.Parcel == nil {
		return nil
	}
	p := *s.Parcel
	n, total := 0, 0
	for i, q := range DeliveryParcels(o) {
		total++
		if q.TrackingNumber == p.TrackingNumber {
			n = i + 1
		}
	}
	items := make([]playbook.ItemVars, 0, len(s.Items))
	for _, it := range s.Items {
		items = append(items, playbook.ItemVars{Title: it.Title, Quantity: it.Quantity})
	}
	return func(v *playbook.Vars) {
		v.Shipment = playbook.ShipmentVars{Total: total, Parcels: []playbook.ParcelVars{{Number: n, Carrier: p.Carrier,
			TrackingNumber: p.TrackingNumber, TrackingURL: p.TrackingURL, Items: items}}}
	}
}
