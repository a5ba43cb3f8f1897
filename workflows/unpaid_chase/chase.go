package unpaidchase

import (
	"context"
	"time"

	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
)

// chase is unpaid_chase's Step: act on st.Step (send its message, or record
// how its call ended), then plan the next step and rest the run until it
// (steps.Handler.Rest, RestCall): every execution is one step, the Call
// state's wait aside.
func chase(ctx context.Context, h *steps.Handler, in steps.Input) (steps.State, error) {
	st := in.State
	e, err := h.Load(ctx, st.Run)
	if err != nil {
		return steps.State{}, err
	}
	planFrom := st.Step // plan the step after this one
	if st.Step != "" {
		step, i, ok := e.Tpl.Step(st.Step)
		if !ok {
			return steps.State{}, &steps.InputError{Reason: "step " + st.Step + " is not in the pinned template"}
		}
		switch step.Action {
		case playbook.ActionMessage:
			_, ended := e.Ended(step.ID)
			if later := e.QuietUntil(); later.After(e.Now) && e.Unwanted() == "" && !ended {
				// Woken inside quiet hours (the runtime was down, or late):
				// the message waits for the morning instead.
				return h.Rest(ctx, e, step.ID, later)
			}
			if !ended && e.TooSoon(step.ID) {
				// Another message reached the buyer within the template's
				// min_gap (another workflow of the order, or a late wake).
				// Unless the message is to be skipped anyway, plan this step
				// again: that moves it past the gap, or skips it with reason
				// min_gap when the move passes its cut-off or deadline.
				reason, err := h.CheckContact(ctx, e)
				if err != nil {
					return steps.State{}, err
				}
				if reason == "" {
					planFrom = ""
					if i > 0 {
						planFrom = e.Tpl.Steps[i-1].ID
					}
					break
				}
			}
			if _, err := h.SendStep(ctx, e, step); err != nil {
				return steps.State{}, err
			}
		case playbook.ActionCall:
			if err := h.CloseCall(ctx, e, step, steps.DecodeAnswer(st.Outcome)); err != nil {
				return steps.State{}, err
			}
		}
	}
	if e.Unwanted() != "" {
		return h.Done(ctx, e, "")
	}
	next, skipped := e.Tpl.Plan(planFrom, e.Timing())
	for _, s := range skipped {
		if err := h.Skip(ctx, e, s.Step, s.Reason); err != nil {
			return steps.State{}, err
		}
	}
	if next == nil {
		return h.Done(ctx, e, "")
	}
	step, _, _ := e.Tpl.Step(next.Step)
	if step.Action == playbook.ActionCall {
		at := e.CallAt(step, next.At, e.Deadline()) // inside the shop's service hours
		// The call is moot once the order auto-cancels: the wait ends there.
		return h.RestCall(ctx, e, next.Step, *steps.WaitUntil(at), steps.SecondsUntil(at, e.Deadline(), 24*time.Hour))
	}
	return h.Rest(ctx, e, next.Step, *steps.WaitUntil(next.At))
}
