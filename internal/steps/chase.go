package steps

import (
	"context"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/quiet"
	"github.com/ordercare/ordercare/internal/sms"
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

// QuietUntil is now, or the end of the buyer's quiet hours (the
// template's and the market's) when now is in them.
func (e *Env) QuietUntil() time.Time { return e.outOfQuiet(e.Now) }

// MessageAt is the earliest time at or after at when the buyer may get a
// message: min_gap after their last message, then out of the template's
// quiet hours and the market's sending hours for the template's message
// channels (internal/quiet), in the buyer's zone (the order's, else the
// phone number's region's, else the shop's). Every workflow that times a
// message itself asks this; those that plan through playbook.Plan get the
// template's hours from it and the market's from QuietUntil when they wake.
func (e *Env) MessageAt(at time.Time) time.Time {
	if last := e.lastSent(""); !last.IsZero() {
		if g := last.Add(e.Tpl.Gap()); g.After(at) {
			at = g
		}
	}
	return e.outOfQuiet(at)
}

// outOfQuiet is at, or the end of the quiet hours (the template's and the
// market's) it falls in.
func (e *Env) outOfQuiet(at time.Time) time.Time {
	t := e.Timing()
	loc := t.BuyerLoc
	region := sms.RegionOf(e.Shop.Locale)
	if b := e.Order.Order.Buyer; b != nil {
		if n, why := sms.Check(b.Phone, region); why == "" || why == sms.ReasonNotMobile {
			region = n.Region
			if loc == nil && len(n.Zones) == 1 {
				loc = zone(n.Zones[0])
			}
		}
	}
	if loc == nil {
		loc = t.ShopLoc
	}
	var windows []quiet.Window
	for _, st := range e.Tpl.Steps {
		if st.Action != playbook.ActionMessage {
			continue
		}
		for _, ch := range e.Tpl.StepChannels(st) {
			if w, ok := quiet.Allowed(region, ch, st.Marketing()); ok {
				windows = append(windows, w)
			}
		}
	}
	for range 4 { // each window and the template's hours, until none moves it
		next := e.Tpl.OutOfQuiet(at, loc)
		for _, w := range windows {
			next = quiet.Next(next, loc, w)
		}
		if next.Equal(at) {
			break
		}
		at = next
	}
	return at
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

// WaitToSend answers a message step that must wait until at (woken inside
// the buyer's quiet hours: the runtime was down, or late): the state for
// the state machine's Wait before the step, and the run showing what it
// waits for.
func (h *Handler) WaitToSend(ctx context.Context, ref RunRef, step string, at time.Time) (State, error) {
	out := State{Run: ref, Step: step, Kind: KindMessage, At: WaitUntil(at)}
	return out, h.UpdateRun(ctx, ref, func(r *care.Run) { r.Step, r.NextAt = step, out.At })
}
