package steps

import (
	"context"
	"errors"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

// Step ids of the cod_confirm template (playbook.Parse checks the shape).
const (
	codAsk  = playbook.CODAsk
	codCall = playbook.CODCall
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
	var replyBy *time.Time // when silence hands the order to an agent
	if st.Timeout > 0 {
		replyBy = WaitUntil(e.now.Add(time.Duration(st.Timeout) * time.Second))
	}
	if err := h.updateRun(ctx, st.Run, func(r *care.Run) { r.Step, r.NextAt, r.Sent = codAsk, replyBy, 1 }); err != nil {
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
		return h.confirmed(ctx, e)
	}
	return State{Run: st.Run, Step: codCall, Kind: KindCall, Reply: st.Reply,
		Timeout: int(callTimeout / time.Second)}, nil
}

// codOutcome is cod_confirm's Record: store the agent's outcome and tell
// the shop: it may ship (confirmed), or it should cancel or have the order
// re-placed as prepaid (declined).
func (h *Handler) codOutcome(ctx context.Context, st State) (State, error) {
	e, err := h.load(ctx, st.Run)
	if err != nil {
		return State{}, err
	}
	a := decodeAnswer(st.Outcome)
	switch a.Outcome {
	case "confirmed":
		return h.confirmed(ctx, e)
	case "declined":
		if err := h.notifyShop(ctx, e, playbook.CODDeclined); err != nil {
			return State{}, err
		}
		return h.done(ctx, e, "cod_declined")
	case "": // the call timed out or was skipped
		if _, err := h.queue().CancelTask(ctx, e.ref.Shop, e.ref.key(codCall), "timeout"); err != nil {
			return State{}, err
		}
		if a.Skipped != "" {
			return h.done(ctx, e, "")
		}
	}
	return h.done(ctx, e, "cod_unreachable")
}

// confirmed ends a COD run as confirmed, telling the shop when the template
// has a confirmed notice.
func (h *Handler) confirmed(ctx context.Context, e *env) (State, error) {
	if _, _, ok := e.tpl.Step(playbook.CODConfirmed); ok {
		if err := h.notifyShop(ctx, e, playbook.CODConfirmed); err != nil {
			return State{}, err
		}
	}
	return h.done(ctx, e, "cod_confirmed")
}

// notifyShop sends the template's notice step to the shop: through its
// webhook channel when one is configured, else to the outbox.
func (h *Handler) notifyShop(ctx context.Context, e *env, stepID string) error {
	step, _, ok := e.tpl.Step(stepID)
	if !ok {
		return &InputError{"the pinned template has no " + stepID + " step"}
	}
	ch := ChannelOutbox
	if h.Channels[playbook.ChannelWebhook] != nil {
		if _, err := h.Store.GetSource(ctx, e.ref.Shop, care.ChannelWebhook); err == nil {
			ch = playbook.ChannelWebhook
		} else if !errors.Is(err, care.ErrNotFound) {
			return err
		}
	}
	_, err := h.deliver(ctx, e, step, ch, "notice")
	return err
}
