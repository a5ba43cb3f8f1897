package reviewrequest

import (
	"context"

	"github.com/ordercare/ordercare/internal/steps"
)

// ActionStep is the action of the state machine's Step state.
const ActionStep = "review_step"

// Actions implements steps.Workflow.
func (Workflow) Actions() map[string]steps.Action {
	return map[string]steps.Action{ActionStep: step}
}

// step re-checks the order (reviewed, returned, cancelled end the run),
// sends st.Step (the ask or a reminder: skipped window_closed past the
// window; moved out of quiet hours when woken inside them), then plans the
// next step and rests the run until it is due (Handler.Rest: the execution
// ends, the stored run is the timer). After the last one the run ends asked (not_asked when nothing
// was sent): waiting for the window's end would cost three transitions per
// order; metrics read a later review from the order instead
// (steps.Solicitor).
func step(ctx context.Context, h *steps.Handler, in steps.Input) (steps.State, error) {
	st := in.State
	e, err := h.Load(ctx, st.Run)
	if err != nil {
		return steps.State{}, err
	}
	why := e.Unwanted()
	if why == "" {
		why = Workflow{}.SubjectPointless(e.Order, e.Ref.Subject)
	}
	if why != "" {
		return h.Done(ctx, e, Workflow{}.StopOutcome(why))
	}
	pp := params(e.Tpl)
	w, sc, outcome := window(e, pp)
	if outcome != "" {
		return h.Done(ctx, e, outcome)
	}
	switch st.Step {
	case "":
	default:
		s, _, ok := e.Tpl.Step(st.Step)
		if !ok {
			return steps.State{}, &steps.InputError{Reason: "step " + st.Step + " is not in the pinned template"}
		}
		_, ended := e.Ended(s.ID)
		switch {
		case ended:
		case !e.Now.Before(w.Closes):
			if err := h.Skip(ctx, e, s.ID, ReasonWindowClosed); err != nil {
				return steps.State{}, err
			}
		case e.Tpl.ContactBudget > 0 && e.SentByWorkflow() >= e.Tpl.ContactBudget:
			// Per parcel: the budget counts every parcel's asks.
			if err := h.Skip(ctx, e, s.ID, steps.ReasonBudgetSpent); err != nil {
				return steps.State{}, err
			}
		case e.QuietUntil().After(e.Now):
			// Woken inside quiet hours (the runtime was down): the morning.
			return h.Rest(ctx, e, s.ID, *steps.WaitUntil(e.QuietUntil()))
		case e.TooSoon(s.ID):
			// Another parcel's ask went out within the min gap.
			return h.Rest(ctx, e, s.ID, e.MessageAt(e.Now))
		default:
			if _, err := h.SendStepWith(ctx, e, s, sc.ParcelVars(e.Order)); err != nil {
				return steps.State{}, err
			}
		}
	}
	next, skipped := plan(e, pp, w, st.Step)
	for _, sk := range skipped {
		if err := h.Skip(ctx, e, sk.Step, sk.Reason); err != nil {
			return steps.State{}, err
		}
	}
	if next == nil {
		return end(ctx, h, e)
	}
	return h.Rest(ctx, e, next.Step, *steps.WaitUntil(next.At))
}

// end ends the run after its last step: asked, or not_asked.
func end(ctx context.Context, h *steps.Handler, e *steps.Env) (steps.State, error) {
	if e.Sent() == 0 {
		return h.Done(ctx, e, OutcomeSkipped)
	}
	return h.Done(ctx, e, OutcomeAsked)
}
