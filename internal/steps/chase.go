package steps

import (
	"context"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

// timing is the order's side of planning, with the buyer's last message.
func (e *Env) Timing() playbook.Timing {
	t := Timing(e.Order, e.Shop, e.Now)
	t.LastSent = e.lastSent("")
	if d := e.Deadline(); !d.IsZero() {
		t.Deadline = &d
	}
	return t
}

// quietUntil is now, or the end of the buyer's quiet hours when now is in them.
func (e *Env) QuietUntil() time.Time {
	t := e.Timing()
	loc := t.BuyerLoc
	if loc == nil {
		loc = t.ShopLoc
	}
	return e.Tpl.OutOfQuiet(e.Now, loc)
}

// Timing is the order's side of planning at now: when it was placed, its
// total, the shop's and the buyer's zones. The total is in
// the shop's currency (the template's thresholds are): an order with no
// amount in it has an unknown total, so a min_total step skips it.
func Timing(o care.OrderState, shop care.Shop, now time.Time) playbook.Timing {
	total, ok := o.Order.TotalIn(shop.Currency)
	t := playbook.Timing{PlacedAt: placedAt(o), Now: now,
		Total: total, OtherCurrency: !ok && o.Order.Total != "", ShopLoc: zone(shop.Timezone)}
	if b := o.Order.Buyer; b != nil && b.Timezone != "" {
		t.BuyerLoc = zone(b.Timezone)
	}
	return t
}

// done ends the run: status succeeded, with outcome when given.
func (h *Handler) Done(ctx context.Context, e *Env, outcome string) (State, error) {
	sent := e.Sent()
	err := h.UpdateRun(ctx, e.Ref, func(r *care.Run) {
		if r.Status.Active() { // a run the router stopped meanwhile stays stopped
			r.Status = care.RunSucceeded
		}
		r.Step, r.NextAt, r.Sent = "", nil, sent
		if outcome != "" && r.Outcome == "" {
			r.Outcome, r.OutcomeAt = outcome, utc(e.Now)
		}
	})
	return State{Run: e.Ref, Kind: KindDone}, err
}

// closeCall records how a call step ended. A task nobody finished (the
// wait timed out, or the reason went away) is cancelled so no agent phones
// a buyer for nothing.
func (h *Handler) CloseCall(ctx context.Context, e *Env, step playbook.Step, a Answer) error {
	if a.Outcome != "" {
		return nil // the queue stored the outcome on the task
	}
	reason := a.Skipped
	if reason == "" {
		reason = ReasonDeadline
	}
	_, err := h.Queue().CancelTask(ctx, e.Ref.Shop, e.Ref.Key(step.ID), reason)
	return err
}

func utc(t time.Time) *time.Time {
	u := t.UTC()
	return &u
}

// secondsUntil is the whole seconds from from to to (at least 1), or def
// when to is zero.
func SecondsUntil(from, to time.Time, def time.Duration) int {
	d := def
	if !to.IsZero() {
		d = to.Sub(from)
	}
	if s := int(d / time.Second); s > 0 {
		return s
	}
	return 1
}
