package steps

import (
	"context"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// AskAndAwait is a Task state's waitForTaskToken action that asks the buyer
// something and waits for the reply: it sends the run's step stepID, then
// registers the wait under awaitKey (care.Waits) with token. A message that
// could not be sent resumes the run at once with the skip reason; a reply
// that arrived before the wait was registered resumes it at once with that
// reply; otherwise the router resumes it when the reply comes. While it
// waits the run shows stepID and, when st.Timeout is set, when silence ends
// the wait. Retried, it sends nothing twice (the ledger) and registers the
// same wait again.
func (h *Handler) AskAndAwait(ctx context.Context, st State, token, stepID, awaitKey string) error {
	if token == "" {
		return &InputError{Reason: stepID + " needs the task token"}
	}
	e, err := h.Load(ctx, st.Run)
	if err != nil {
		return err
	}
	step, _, ok := e.Tpl.Step(stepID)
	if !ok {
		return &InputError{Reason: "the pinned template has no " + stepID + " step"}
	}
	m, err := h.SendStep(ctx, e, step)
	if err != nil {
		return err
	}
	if m.Status != care.MessageSent {
		return h.Resume(ctx, token, Answer{Skipped: m.Reason})
	}
	var until *time.Time // when silence ends the wait
	if st.Timeout > 0 {
		until = WaitUntil(e.Now.Add(time.Duration(st.Timeout) * time.Second))
	}
	if err := h.UpdateRun(ctx, st.Run, func(r *care.Run) { r.Step, r.NextAt, r.Sent = stepID, until, 1 }); err != nil {
		return err
	}
	answer, found, err := h.Store.Await(ctx, e.Ref.Shop, e.Ref.Order, awaitKey, token)
	if err != nil || !found {
		return err
	}
	return h.Resumer.ResumeTask(ctx, token, answer)
}
