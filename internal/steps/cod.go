package steps

import (
	"context"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

// Step ids the cod_confirm template must have (playbook.Parse checks).
const (
	codAsk      = "ask"
	codCall     = "call"
	codDeclined = "declined"
)

// AwaitKey is the Waits key a cod_confirm run waits on for the buyer's reply.
const AwaitKey = string(care.CODConfirm)

// callTimeout bounds how long a COD call task may stay unfinished.
const callTimeout = 72 * time.Hour

// codAsk is cod_confirm's Ask (waitForTaskToken): send the COD total and
// register the wait for the buyer's reply. A reply that arrived first, or
// a message that could not be sent, resumes the run at once.
func (h *Handler) codAsk(ctx context.Context, st State, token string) error {
	if token == "" {
		return &InputError{"cod_ask needs the task token"}
	}
	e, err := h.load(ctx, st.Run)
	if err != nil {
		return err
	}
	step, _, ok := e.tpl.Step(codAsk)
	if !ok {
		return &InputError{"the pinned template has no ask step"}
	}
	m, err := h.sendStep(ctx, e, step)
	if err != nil {
		return err
	}
	if m.Status != care.MessageSent {
		return h.resume(ctx, token, Answer{Skipped: m.Reason})
	}
	if err := h.updateRun(ctx, st.Run, func(r *care.Run) { r.Step, r.Sent = codAsk, 1 }); err != nil {
		return err
	}
	answer, found, err := h.Store.Await(ctx, e.ref.Shop, e.ref.Order, AwaitKey, token)
	if err != nil || !found {
		return err
	}
	return h.Resumer.ResumeTask(ctx, token, answer)
}

// codDecide is cod_confirm's Decide: a cancelled order ends the run
// quietly, whatever the reply; a confirming reply ends it confirmed;
// anything else (no, unclear, silence, a message that could not be sent)
// plans the agent's call.
func (h *Handler) codDecide(ctx context.Context, st State) (State, error) {
	e, err := h.load(ctx, st.Run)
	if err != nil {
		return State{}, err
	}
	a := decodeAnswer(st.Reply)
	switch {
	case e.unwanted() != "" || a.Skipped == ReasonCancelled:
		return h.done(ctx, e, "") // checked first: a cancelled order is never confirmed
	case a.Answer == string(playbook.AnswerYes):
		return h.done(ctx, e, "cod_confirmed")
	}
	return State{Run: st.Run, Step: codCall, Kind: KindCall, Reply: st.Reply,
		Timeout: int(callTimeout / time.Second)}, nil
}

// codOutcome is cod_confirm's Record: store the agent's outcome; on
// declined, tell the shop to cancel or re-order as prepaid.
func (h *Handler) codOutcome(ctx context.Context, st State) (State, error) {
	e, err := h.load(ctx, st.Run)
	if err != nil {
		return State{}, err
	}
	a := decodeAnswer(st.Outcome)
	outcome := a.Outcome
	if outcome == "" { // the call timed out or was skipped
		if _, err := h.queue().CancelTask(ctx, e.ref.Shop, e.ref.key(codCall), "timeout"); err != nil {
			return State{}, err
		}
		if a.Skipped != "" {
			return h.done(ctx, e, "")
		}
		outcome = "unreachable"
	}
	if outcome == "declined" {
		step, _, ok := e.tpl.Step(codDeclined)
		if !ok {
			return State{}, &InputError{"the pinned template has no declined step"}
		}
		ch := ChannelOutbox
		if h.Channels["webhook"] != nil {
			if _, err := h.Store.GetSource(ctx, e.ref.Shop, care.ChannelWebhook); err == nil {
				ch = "webhook"
			}
		}
		if _, err := h.deliver(ctx, e, step, ch, "notice"); err != nil {
			return State{}, err
		}
	}
	return h.done(ctx, e, "cod_"+outcome)
}
