package steps

import (
	"context"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

// chase is unpaid_chase's Step: act on st.Step, then plan the next step.
func (h *Handler) chase(ctx context.Context, st State) (State, error) {
	e, err := h.load(ctx, st.Run)
	if err != nil {
		return State{}, err
	}
	planFrom := st.Step // plan the step after this one
	if st.Step != "" {
		step, i, ok := e.tpl.Step(st.Step)
		if !ok {
			return State{}, &InputError{"step " + st.Step + " is not in the pinned template"}
		}
		switch step.Action {
		case playbook.ActionMessage:
			_, ended := e.ended(step.ID)
			if later := e.quietUntil(); later.After(e.now) && e.unwanted() == "" && !ended {
				// Woken inside quiet hours (the runtime was down, or late):
				// the message waits for the morning instead.
				out := State{Run: st.Run, Step: step.ID, Kind: KindMessage, At: WaitUntil(later)}
				return out, h.updateRun(ctx, st.Run, func(r *care.Run) { r.Step, r.NextAt = step.ID, out.At })
			}
			if !ended && e.tooSoon(step.ID) {
				// Another message reached the buyer within the template's
				// min_gap (another workflow of the order, or a late wake).
				// Unless the message is to be skipped anyway, plan this step
				// again: that moves it past the gap, or skips it with reason
				// min_gap when the move passes its cut-off or deadline.
				reason, err := h.checkContact(ctx, e)
				if err != nil {
					return State{}, err
				}
				if reason == "" {
					planFrom = ""
					if i > 0 {
						planFrom = e.tpl.Steps[i-1].ID
					}
					break
				}
			}
			if _, err := h.sendStep(ctx, e, step); err != nil {
				return State{}, err
			}
		case playbook.ActionCall:
			if err := h.closeCall(ctx, e, step, decodeAnswer(st.Outcome)); err != nil {
				return State{}, err
			}
		}
	}
	if e.unwanted() != "" {
		return h.done(ctx, e, "")
	}
	next, skipped := e.tpl.Plan(planFrom, e.timing())
	for _, s := range skipped {
		if err := h.skip(ctx, e, s.Step, s.Reason); err != nil {
			return State{}, err
		}
	}
	if next == nil {
		return h.done(ctx, e, "")
	}
	step, _, _ := e.tpl.Step(next.Step)
	if step.Action == playbook.ActionCall {
		next.At = e.callAt(step, next.At, e.deadline()) // inside the shop's service hours
	}
	out := State{Run: st.Run, Step: next.Step, Kind: KindMessage, At: WaitUntil(next.At)}
	if step.Action == playbook.ActionCall {
		out.Kind = KindCall
		// The call is moot once the order auto-cancels: the wait ends there.
		out.Timeout = secondsUntil(next.At, e.deadline(), 24*time.Hour)
	}
	sent := e.sent()
	err = h.updateRun(ctx, st.Run, func(r *care.Run) { r.Step, r.NextAt, r.Sent = next.Step, out.At, sent })
	return out, err
}

// timing is the order's side of planning, with the buyer's last message.
func (e *env) timing() playbook.Timing {
	t := Timing(e.order, e.shop, e.now)
	t.LastSent = e.lastSent("")
	return t
}

// quietUntil is now, or the end of the buyer's quiet hours when now is in them.
func (e *env) quietUntil() time.Time {
	t := e.timing()
	loc := t.BuyerLoc
	if loc == nil {
		loc = t.ShopLoc
	}
	return e.tpl.OutOfQuiet(e.now, loc)
}

// Timing is the order's side of planning at now: when it was placed, its
// pay deadline and total, the shop's and the buyer's zones. The total is in
// the shop's currency (the template's thresholds are): an order with no
// amount in it has an unknown total, so a min_total step skips it.
func Timing(o care.OrderState, shop care.Shop, now time.Time) playbook.Timing {
	total, ok := o.Order.TotalIn(shop.Currency)
	t := playbook.Timing{PlacedAt: placedAt(o), Now: now, PayDeadline: o.Order.PayDeadline,
		Total: total, OtherCurrency: !ok && o.Order.Total != "", ShopLoc: zone(shop.Timezone)}
	if b := o.Order.Buyer; b != nil && b.Timezone != "" {
		t.BuyerLoc = zone(b.Timezone)
	}
	return t
}

// done ends the run: status succeeded, with outcome when given.
func (h *Handler) done(ctx context.Context, e *env, outcome string) (State, error) {
	sent := e.sent()
	err := h.updateRun(ctx, e.ref, func(r *care.Run) {
		if r.Status == care.RunRunning { // a run the router stopped meanwhile stays stopped
			r.Status = care.RunSucceeded
		}
		r.Step, r.NextAt, r.Sent = "", nil, sent
		if outcome != "" && r.Outcome == "" {
			r.Outcome, r.OutcomeAt = outcome, utc(e.now)
		}
	})
	return State{Run: e.ref, Kind: KindDone}, err
}

// closeCall records how a call step ended. A task nobody finished (the
// wait timed out, or the reason went away) is cancelled so no agent phones
// a buyer for nothing.
func (h *Handler) closeCall(ctx context.Context, e *env, step playbook.Step, a Answer) error {
	if a.Outcome != "" {
		return nil // the queue stored the outcome on the task
	}
	reason := a.Skipped
	if reason == "" {
		reason = ReasonDeadline
	}
	_, err := h.queue().CancelTask(ctx, e.ref.Shop, e.ref.key(step.ID), reason)
	return err
}

func utc(t time.Time) *time.Time {
	u := t.UTC()
	return &u
}

// secondsUntil is the whole seconds from from to to (at least 1), or def
// when to is zero.
func secondsUntil(from, to time.Time, def time.Duration) int {
	d := def
	if !to.IsZero() {
		d = to.Sub(from)
	}
	if s := int(d / time.Second); s > 0 {
		return s
	}
	return 1
}
