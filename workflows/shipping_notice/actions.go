package shippingnotice

import (
	"context"
	"errors"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
)

// ActionNotice is the workflow's one action (the Notice state).
const ActionNotice = "shipping_notice"

// OutcomeSent is the outcome of a run whose parcel's notice was sent by it
// (care.Run.Outcome, counted by /v1/metrics). A parcel told in its group's
// notice ends without an outcome; its ledger entry is skipped (digested).
const OutcomeSent = "notice_sent"

// headGrace is how long after its head a parcel of a group looks at the
// head's notice, so the head goes first when both are due at once.
const headGrace = time.Minute

// Actions implements steps.Workflow.
func (Workflow) Actions() map[string]steps.Action {
	return map[string]steps.Action{
		ActionNotice: func(ctx context.Context, h *steps.Handler, in steps.Input) (steps.State, error) {
			return notice(ctx, h, in.State)
		},
	}
}

// notice is the Notice state. It ends the run when the order or parcel no
// longer wants a notice, or the parcel's entry already ended (its group's
// notice told it); an Amazon order's run ends at once, its entry skipped
// (amazon_order). Otherwise it waits until the group is due: the end of
// the digest window from the head's first report, later while the
// template waits for the first scan (from the window's end, looking every
// first_scan.every up to first_scan.limit after the head's first report), then out of quiet hours and min_gap. The head then
// claims the entries of its group's other parcels (skipped, digested) and
// sends one notice for itself and those it claimed; another parcel waits
// for the head, and sends alone only when the head's notice ended without
// it (it was reported late) or the head's run is over.
func notice(ctx context.Context, h *steps.Handler, st steps.State) (steps.State, error) {
	e, err := h.Load(ctx, st.Run)
	if err != nil {
		return steps.State{}, err
	}
	if e.Unwanted() != "" {
		return h.Done(ctx, e, "")
	}
	if _, ok := e.Ended(StepNotice); ok {
		return h.Done(ctx, e, "")
	}
	if e.Order.Order.FromAmazon() {
		// Amazon tells the buyer itself and forbids sellers' shipped notices.
		return skip(ctx, h, e, ReasonAmazon)
	}
	p := e.Parcel
	if p == nil {
		return skip(ctx, h, e, ReasonNoParcel)
	}
	if r := (Workflow{}).SubjectPointless(e.Order, p.TrackingNumber); r != "" {
		return skip(ctx, h, e, r)
	}
	prm := params(e.Tpl)
	if ma := prm.MaxAge; ma != nil && p.LastScanAt != nil && e.Now.Sub(*p.LastScanAt) > ma.Std() {
		return skip(ctx, h, e, ReasonStale)
	}
	window := prm.DigestWindow.Std()
	g := GroupOf(e.Order.Parcels, window, p.TrackingNumber)
	head := g[0]
	due := firstSeen(head).Add(window)
	if f := prm.FirstScan; f != nil && f.Wait && !e.Now.Before(due) {
		// Past the window, no scan yet: look again every f.Every until
		// f.Limit after the head's first report.
		limit := firstSeen(head).Add(f.Limit.Std())
		if !scanned(g) && e.Now.Before(limit) {
			due = e.Now.Add(f.Every.Std())
			if due.After(limit) {
				due = limit
			}
		}
	}
	alone := false
	if head.TrackingNumber != p.TrackingNumber {
		if at := due.Add(headGrace); e.Now.Before(at) {
			return wait(ctx, h, e, at)
		}
		headRef := e.Ref
		headRef.Subject = head.TrackingNumber
		_, headEnded := e.EndedEntry(headRef.Key(StepNotice))
		if !headEnded {
			r, err := h.Store.GetRun(ctx, e.Ref.Shop, e.Ref.Order, Name, head.TrackingNumber)
			if err != nil && !errors.Is(err, care.ErrNotFound) {
				return steps.State{}, err
			}
			if err == nil && r.Status.Active() {
				at := e.Now.Add(headGrace)
				if r.NextAt != nil && r.NextAt.Add(headGrace).After(at) {
					at = r.NextAt.Add(headGrace)
				}
				return wait(ctx, h, e, at)
			}
		}
		alone = true
	} else if e.Now.Before(due) {
		return wait(ctx, h, e, due)
	}
	// min_gap after the last message, quiet and sending hours in the buyer's zone.
	if at := e.MessageAt(e.Now); at.After(e.Now) {
		return wait(ctx, h, e, at)
	}
	// The live re-check: opted out, budget spent, cancelled.
	reason, err := h.CheckContact(ctx, e)
	if err != nil {
		return steps.State{}, err
	}
	if reason != "" {
		return skip(ctx, h, e, reason)
	}
	members := []care.Parcel{*p}
	if !alone {
		members = members[:0]
		for _, m := range g {
			if m.TrackingNumber == p.TrackingNumber {
				members = append(members, m)
				continue
			}
			ok, err := claim(ctx, h, e, m.TrackingNumber)
			if err != nil {
				return steps.State{}, err
			}
			if ok {
				members = append(members, m)
			}
		}
	}
	step, _, ok := e.Tpl.Step(StepNotice)
	if !ok {
		return steps.State{}, &steps.InputError{Reason: "the pinned template has no notice step"}
	}
	m, err := h.SendStepWith(ctx, e, step, func(v *playbook.Vars) { v.Shipment = Shipment(e.Order, members) })
	if err != nil {
		return steps.State{}, err
	}
	if m.Status == care.MessageSent {
		return h.Done(ctx, e, OutcomeSent)
	}
	return h.Done(ctx, e, "")
}

// scanned reports whether every parcel of g has a carrier scan (a scan
// time, or a status past info_received).
func scanned(g []care.Parcel) bool {
	for _, p := range g {
		if p.LastScanAt == nil && (p.Status == "" || p.Status == care.ShipInfoReceived) {
			return false
		}
	}
	return true
}

// claim reserves the notice entry of the parcel tn's run as skipped
// (digested), its text naming the notice that tells it: true when this run
// holds it (reserved now, or by this run's earlier attempt that failed
// before sending), false when that run or another head already had it.
func claim(ctx context.Context, h *steps.Handler, e *steps.Env, tn string) (bool, error) {
	ref := e.Ref
	ref.Subject = tn
	mark := DigestedInto(e.Ref.Subject)
	m, created, err := h.Store.ReserveMessage(ctx, care.Message{ID: ref.Key(StepNotice), ShopID: ref.Shop, OrderID: ref.Order,
		Workflow: Name, Step: StepNotice, TemplateVersion: ref.Version, Kind: care.KindMessage,
		Status: care.MessageSkipped, Reason: ReasonDigested, Text: mark, At: e.Now.UTC()})
	if err != nil {
		return false, err
	}
	return created || (m.Status == care.MessageSkipped && m.Reason == ReasonDigested && m.Text == mark), nil
}

// DigestedInto is the text of the ledger entry of a parcel told in the
// notice of the parcel head (its group's first parcel).
func DigestedInto(head string) string { return "in the notice of parcel " + head }

func skip(ctx context.Context, h *steps.Handler, e *steps.Env, reason string) (steps.State, error) {
	if err := h.Skip(ctx, e, StepNotice, reason); err != nil {
		return steps.State{}, err
	}
	return h.Done(ctx, e, "")
}

func wait(ctx context.Context, h *steps.Handler, e *steps.Env, at time.Time) (steps.State, error) {
	return h.Rest(ctx, e, StepNotice, *steps.WaitUntil(at))
}

// Shipment is the shipment namespace of a notice about the parcels
// members of order o: each parcel's number among the order's active
// parcels (k), their total known now (n), the split reason (the members'
// first, else the order's), the items not shipped yet, and whether the
// order is complete. Items are known only when the parcels list theirs:
// when none does, nothing is said to remain and the order is not called
// complete.
func Shipment(o care.OrderState, members []care.Parcel) playbook.ShipmentVars {
	all := active(o.Parcels)
	titles := map[string]string{}
	for _, it := range o.Order.Items {
		if it.SKU != "" {
			titles[it.SKU] = it.Title
		}
	}
	items := func(in []care.ParcelItem) []playbook.ItemVars {
		out := make([]playbook.ItemVars, 0, len(in))
		for _, it := range in {
			t := titles[it.SKU]
			if t == "" {
				t = it.SKU
			}
			out = append(out, playbook.ItemVars{Title: t, Quantity: it.Quantity})
		}
		return out
	}
	v := playbook.ShipmentVars{Total: len(all)}
	in := map[string]bool{}
	for _, m := range members {
		in[m.TrackingNumber] = true
		if v.SplitReason == "" {
			v.SplitReason = string(m.SplitReason)
		}
	}
	shipped := map[string]int{}
	listed := false
	for i, p := range all {
		if v.SplitReason == "" && p.SplitReason != "" {
			v.SplitReason = string(p.SplitReason)
		}
		for _, it := range p.Items {
			shipped[it.SKU] += it.Quantity
			listed = true
		}
		if in[p.TrackingNumber] {
			v.Parcels = append(v.Parcels, playbook.ParcelVars{Number: i + 1, Carrier: p.Carrier, TrackingNumber: p.TrackingNumber,
				TrackingURL: p.TrackingURL, Items: items(p.Items)})
		}
	}
	if !listed {
		return v
	}
	for _, it := range o.Order.Items {
		left := it.Quantity - shipped[it.SKU]
		shipped[it.SKU] -= it.Quantity
		if shipped[it.SKU] < 0 {
			shipped[it.SKU] = 0
		}
		if left > 0 {
			v.Remaining = append(v.Remaining, playbook.ItemVars{Title: it.Title, Quantity: left})
		}
	}
	v.Complete = len(v.Remaining) == 0
	return v
}
