package pickupnudge

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
)

// ActionNudge is the action of the state machine's Step state: act on the
// step due, then plan the next one.
const ActionNudge = "pickup_nudge"

// Outcomes a pickup_nudge run ends with (care.Run.Outcome).
const (
	OutcomePickedUp = "picked_up"       // the run found the parcel delivered before its deadline
	OutcomeExpired  = "pickup_expired"  // the deadline passed without pickup (ordinary goods)
	OutcomeLost     = "perishable_lost" // the deadline passed without pickup (perishable goods)
)

// Actions implements steps.Workflow.
func (Workflow) Actions() map[string]steps.Action {
	return map[string]steps.Action{ActionNudge: nudge}
}

// nudge is the Step state. It re-checks the parcel (delivered, returned or
// replaced, or the order cancelled, ends the run), acts on st.Step (a
// reminder, a closed call, the deadline, the reissue task's end), then
// plans the next step of the parcel's class (ordinary or perishable) toward
// the deadline; once none is left it waits for the deadline.
func nudge(ctx context.Context, h *steps.Handler, in steps.Input) (steps.State, error) {
	st := in.State
	e, err := h.Load(ctx, st.Run)
	if err != nil {
		return steps.State{}, err
	}
	if e.Parcel == nil {
		return h.Done(ctx, e, "")
	}
	run, err := h.Store.GetRun(ctx, st.Run.Shop, st.Run.Order, Name, st.Run.Subject)
	if err != nil {
		return steps.State{}, err
	}
	pp := params(e.Tpl)
	c := ClockOf(e.Order, e.Parcel, run.StartedAt, pp)

	// The live re-check: the parcel picked up (or gone back), the order
	// cancelled. A call waiting for its agent is cancelled.
	why := e.Unwanted()
	if why == "" {
		why = Workflow{}.SubjectPointless(e.Order, st.Run.Subject)
	}
	if why != "" {
		if step, _, ok := e.Tpl.Step(st.Step); ok && step.Action == playbook.ActionCall {
			a := steps.DecodeAnswer(st.Outcome)
			if a.Outcome == "" && a.Skipped == "" {
				a.Skipped = why
			}
			if err := h.CloseCall(ctx, e, step, a); err != nil {
				return steps.State{}, err
			}
		}
		outcome := ""
		if why == ReasonDelivered && e.Parcel.DeliveredAt != nil && e.Parcel.DeliveredAt.Before(c.Deadline) {
			outcome = OutcomePickedUp
		}
		return h.Done(ctx, e, outcome)
	}

	planFrom := st.Step
	switch st.Step {
	case "":
	case StepExpired:
		return expire(ctx, h, e, st, c, pp)
	case StepReissue:
		step, _, _ := e.Tpl.Step(StepReissue)
		if err := h.CloseCall(ctx, e, step, steps.DecodeAnswer(st.Outcome)); err != nil {
			return steps.State{}, err
		}
		return h.Done(ctx, e, lostOutcome(c))
	default:
		step, i, ok := e.Tpl.Step(st.Step)
		if !ok {
			return steps.State{}, &steps.InputError{Reason: "step " + st.Step + " is not in the pinned template"}
		}
		switch step.Action {
		case playbook.ActionMessage:
			_, ended := e.Ended(step.ID)
			if !ended && !e.Now.Before(c.Deadline) {
				if err := h.Skip(ctx, e, step.ID, steps.ReasonDeadline); err != nil {
					return steps.State{}, err
				}
				break
			}
			if later := e.QuietUntil(); later.After(e.Now) && !ended {
				// Woken inside quiet hours: the reminder waits for the morning.
				return h.WaitToSend(ctx, st.Run, step.ID, later)
			}
			if !ended && e.TooSoon(step.ID) {
				reason, err := h.CheckContact(ctx, e)
				if err != nil {
					return steps.State{}, err
				}
				if reason == "" {
					// Plan this step again: past the gap, or skipped min_gap.
					planFrom = previous(classSteps(e.Tpl, c, pp), i, e.Tpl)
					break
				}
			}
			if _, err := h.SendStepWith(ctx, e, step, func(v *playbook.Vars) { v.Pickup = PickupVars(e) }); err != nil {
				return steps.State{}, err
			}
		case playbook.ActionCall:
			if err := h.CloseCall(ctx, e, step, steps.DecodeAnswer(st.Outcome)); err != nil {
				return steps.State{}, err
			}
		}
	}
	return plan(ctx, h, e, st, c, pp, planFrom)
}

// plan places the next step of the parcel's class after planFrom, or the
// wait for the deadline when none is left.
func plan(ctx context.Context, h *steps.Handler, e *steps.Env, st steps.State, c Clock, pp Params, planFrom string) (steps.State, error) {
	sub := *e.Tpl
	sub.Steps = classSteps(e.Tpl, c, pp)
	tm := e.Timing()
	tm.PlacedAt = c.Available
	dl := c.Deadline
	tm.Deadline = &dl
	var next *playbook.Next
	if e.Now.Before(c.Deadline) {
		var skipped []playbook.Skip
		next, skipped = sub.Plan(planFrom, tm)
		for _, s := range skipped {
			if err := h.Skip(ctx, e, s.Step, s.Reason); err != nil {
				return steps.State{}, err
			}
		}
	}
	var out steps.State
	if next == nil && !e.Now.Before(c.Deadline) {
		return expire(ctx, h, e, st, c, pp) // due now: no Wait in between
	}
	if next == nil {
		out = steps.State{Run: st.Run, Step: StepExpired, Kind: steps.KindMessage, At: steps.WaitUntil(ceilSecond(c.Deadline))}
	} else {
		step, _, _ := e.Tpl.Step(next.Step)
		out = steps.State{Run: st.Run, Step: next.Step, Kind: steps.KindMessage, At: steps.WaitUntil(next.At)}
		if step.Action == playbook.ActionCall {
			// Early enough to act before the deadline, and no earlier than
			// call_before ahead of it; inside the shop's service hours.
			at := next.At
			if early := c.Deadline.Add(-pp.CallBefore.Std()); early.After(at) {
				at = early
			}
			at = e.CallAt(step, at, c.Deadline)
			out.Kind, out.At = steps.KindCall, steps.WaitUntil(at)
			out.Timeout = steps.SecondsUntil(*out.At, c.Deadline, 24*time.Hour)
		}
	}
	sent := e.Sent()
	err := h.UpdateRun(ctx, st.Run, func(r *care.Run) { r.Step, r.NextAt, r.Sent = out.Step, out.At, sent })
	return out, err
}

// expire is the deadline passing without pickup: tell the shop, record the
// outcome, and raise the reissue task (reship or refund) at once.
func expire(ctx context.Context, h *steps.Handler, e *steps.Env, st steps.State, c Clock, pp Params) (steps.State, error) {
	if err := h.NotifyShop(ctx, e, StepExpired, func(zh bool) string { return expiredText(e, c, zh) }); err != nil {
		return steps.State{}, err
	}
	outcome := lostOutcome(c)
	out := steps.State{Run: st.Run, Step: StepReissue, Kind: steps.KindCall, At: steps.WaitUntil(e.Now),
		Timeout: steps.SecondsUntil(e.Now, e.Now.Add(pp.ReissueWindow.Std()), 72*time.Hour)}
	return out, h.UpdateRun(ctx, st.Run, func(r *care.Run) {
		r.Step, r.NextAt = StepReissue, nil
		if r.Outcome == "" {
			t := e.Now.UTC()
			r.Outcome, r.OutcomeAt = outcome, &t
		}
	})
}

func lostOutcome(c Clock) string {
	if c.Perishable {
		return OutcomeLost
	}
	return OutcomeExpired
}

// classSteps are the template's steps of the parcel's class, in order.
func classSteps(t *playbook.Template, c Clock, pp Params) []playbook.Step {
	ids := pp.OrdinarySteps
	if c.Perishable {
		ids = pp.PerishableSteps
	}
	out := make([]playbook.Step, 0, len(ids))
	for _, id := range ids {
		if s, _, ok := t.Step(id); ok {
			out = append(out, s)
		}
	}
	return out
}

// previous is the id of the class step before the template's step i ("" for none).
func previous(class []playbook.Step, i int, t *playbook.Template) string {
	prev := ""
	for _, s := range class {
		if _, j, _ := t.Step(s.ID); j >= i {
			break
		}
		prev = s.ID
	}
	return prev
}

func ceilSecond(t time.Time) time.Time {
	if u := t.Truncate(time.Second); !u.Equal(t) {
		return u.Add(time.Second)
	}
	return t
}

// MaxPoint is the most characters of the carrier's pickup point a
// reminder shows (a longer one is cut, with "…"), so the reminder stays
// within its channel's length whatever the carrier sent.
const MaxPoint = 200

// PickupVars is the pickup namespace of a reminder about the run's parcel:
// the pickup point as the carrier reports it, and the point's hold deadline
// (the carrier's; none when it gave none) in the buyer's zone, else the
// shop's. The point is the carrier's text: it goes into the message and is
// never logged.
func PickupVars(e *steps.Env) playbook.PickupVars {
	if e.Parcel == nil {
		return playbook.PickupVars{}
	}
	v := playbook.PickupVars{Point: strings.TrimSpace(e.Parcel.PickupPoint)}
	if r := []rune(v.Point); len(r) > MaxPoint {
		v.Point = string(r[:MaxPoint]) + "…"
	}
	if d := e.Parcel.PickupDeadline; d != nil {
		loc := e.Timing().BuyerLoc
		if loc == nil {
			loc = e.ShopZone()
		}
		v.Deadline = d.In(loc)
	}
	return v
}

// expiredText is the built-in notice to the shop when the template has no
// expired step: which order and parcel, and what to do.
func expiredText(e *steps.Env, c Clock, zh bool) string {
	name := e.Order.Order.Name
	if name == "" {
		name = e.Order.Order.ID
	}
	at := c.Deadline.In(e.ShopZone()).Format("2006-01-02 15:04")
	if zh {
		if c.Perishable {
			return fmt.Sprintf("订单 %s 的包裹 %s 在自提点未被取走，保质期已于 %s 到期。已为客服创建补发或退款任务。", name, e.Ref.Subject, at)
		}
		return fmt.Sprintf("订单 %s 的包裹 %s 在自提点未被取走，保管期限已于 %s 到期。已为客服创建补发或退款任务。", name, e.Ref.Subject, at)
	}
	if c.Perishable {
		return fmt.Sprintf("Parcel %s of order %s was not collected from the pickup point before its goods expired (%s). A task to reship or refund has been opened.", e.Ref.Subject, name, at)
	}
	return fmt.Sprintf("Parcel %s of order %s was not collected before the pickup point's hold deadline (%s). A task to reship or refund has been opened.", e.Ref.Subject, name, at)
}

// WhyCall implements steps.CallExplainer: for the agent, in the shop's
// language, the parcel, its deadline and why (hold or spoilage).
func (Workflow) WhyCall(_ context.Context, _ *steps.Handler, e *steps.Env, st steps.State) (string, error) {
	zh := strings.HasPrefix(e.Shop.Locale, "zh")
	if e.Parcel == nil {
		return "", nil
	}
	// The clock's Available only moves the hold deadline when the carrier
	// gave none; the run's start is not at hand here, so use the parcel's
	// status time.
	avail := e.Now
	if s := e.Parcel.StatusStamp; s != nil && s.At.Before(avail) {
		avail = s.At
	}
	c := ClockOf(e.Order, e.Parcel, avail, params(e.Tpl))
	at := c.Deadline.In(e.ShopZone()).Format("2006-01-02 15:04")
	spoils := c.Perishable && !c.Spoils.IsZero() && !c.Spoils.After(c.Hold)
	switch {
	case zh && spoils:
		return fmt.Sprintf("包裹 %s 在自提点待取，含保质期短的商品，%s 前须取走", e.Ref.Subject, at), nil
	case zh:
		return fmt.Sprintf("包裹 %s 在自提点待取，保管期限至 %s", e.Ref.Subject, at), nil
	case spoils:
		return fmt.Sprintf("parcel %s waits at the pickup point and holds goods that expire at %s", e.Ref.Subject, at), nil
	}
	return fmt.Sprintf("parcel %s waits at the pickup point until %s", e.Ref.Subject, at), nil
}
