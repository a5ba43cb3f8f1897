package steps

import (
	"context"
	"sync"
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
// market's for any of the template's message steps) it falls in.
func (e *Env) outOfQuiet(at time.Time) time.Time {
	t := e.Timing()
	_, loc := buyerPlace(e.Order, e.Shop)
	for range 4 { // the template's hours, then each step's market hours, until none moves it
		next := e.Tpl.OutOfQuiet(at, loc)
		for _, st := range e.Tpl.Steps {
			if st.Action == playbook.ActionMessage {
				next = t.Hours(next, e.Tpl.StepChannels(st), st.Marketing())
			}
		}
		if next.Equal(at) {
			break
		}
		at = next
	}
	return at
}

// buyerPlace is the buyer's region (the phone number's, else the shop
// locale's) and zone (the order's, else the phone number's when it has one
// zone, else the shop's) for sending hours.
func buyerPlace(o care.OrderState, shop care.Shop) (string, *time.Location) {
	var loc *time.Location
	region := sms.RegionOf(shop.Locale)
	if b := o.Order.Buyer; b != nil {
		if b.Timezone != "" {
			loc = Zone(b.Timezone)
		}
		if n, why := sms.Check(b.Phone, region); why == "" || why == sms.ReasonNotMobile {
			region = n.Region
			if loc == nil && len(n.Zones) == 1 {
				loc = Zone(n.Zones[0])
			}
		}
	}
	if loc == nil {
		loc = Zone(shop.Timezone)
	}
	return region, loc
}

// MarketHours is the market's sending hours for the order's buyer
// (internal/quiet), as playbook.Timing.Hours: at, or the earliest time
// after it when a message on any of channels, of that class, may reach
// them in their zone (buyerPlace).
func MarketHours(o care.OrderState, shop care.Shop) func(at time.Time, channels []string, marketing bool) time.Time {
	place := sync.OnceValues(func() (string, *time.Location) { return buyerPlace(o, shop) }) // parsed when first asked
	return func(at time.Time, channels []string, marketing bool) time.Time {
		region, loc := place()
		for range 4 {
			next := at
			for _, ch := range channels {
				if w, ok := quiet.Allowed(region, ch, marketing); ok {
					next = quiet.Next(next, loc, w)
				}
			}
			if next.Equal(at) {
				break
			}
			at = next
		}
		return at
	}
}

// Timing is the order's side of planning at now: when it was placed, its
// total, the shop's and the buyer's zones, and the market's sending hours
// (MarketHours), so every plan (playbook.Template.Plan) defers a message
// out of them as it does out of the template's quiet hours. The total is in
// the shop's currency (the template's thresholds are): an order with no
// amount in it has an unknown total, so a min_total step skips it.
func Timing(o care.OrderState, shop care.Shop, now time.Time) playbook.Timing {
	total, ok := o.Order.TotalIn(shop.Currency)
	t := playbook.Timing{PlacedAt: placedAt(o), Now: now,
		Total: total, OtherCurrency: !ok && o.Order.Total != "", ShopLoc: Zone(shop.Timezone), Hours: MarketHours(o, shop)}
	if b := o.Order.Buyer; b != nil && b.Timezone != "" {
		t.BuyerLoc = Zone(b.Timezone)
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
