package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// Outcomes a cod_confirm run ends with (care.Run.Outcome). Expired is a
// call task nobody finished before the call's timeout: no call was made.
const (
	OutcomeCODConfirmed   = "cod_confirmed"
	OutcomeCODDeclined    = "cod_declined"
	OutcomeCODUnreachable = "cod_unreachable"
	OutcomeCODExpired     = "cod_expired"
)

// Notice steps the shop hears a COD outcome by (care.Message.Step of the
// notice, and "step" in the webhook channel's body). confirmed and declined
// are template steps; unreachable and expired (and confirmed, when a
// template has no such step) use the built-in texts of noticeText.
const (
	NoticeConfirmed   = playbook.CODConfirmed
	NoticeDeclined    = playbook.CODDeclined
	NoticeUnreachable = "unreachable"
	NoticeExpired     = "expired"
)

// NoticeSteps lists every notice step a shop may receive, in outcome order.
var NoticeSteps = []string{NoticeConfirmed, NoticeDeclined, NoticeUnreachable, NoticeExpired}

// ReasonExpired is the OutcomeNote of a call task cancelled because its
// wait timed out before an agent finished it.
const ReasonExpired = "expired"

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

// codOutcome is cod_confirm's Record: store how the call ended and tell the
// shop, whatever the outcome: it may ship (confirmed); it should cancel or
// have the order re-placed as prepaid (declined); the agent called and
// could not reach the buyer (unreachable); or nobody called before the
// task's deadline (expired: the wait timed out, or the call could not be
// raised in service hours). A call made moot (paid, cancelled) ends quietly.
func (h *Handler) codOutcome(ctx context.Context, st State) (State, error) {
	e, err := h.load(ctx, st.Run)
	if err != nil {
		return State{}, err
	}
	a := decodeAnswer(st.Outcome)
	switch {
	case a.Outcome == "confirmed":
		return h.confirmed(ctx, e)
	case a.Outcome == "declined":
		return h.endWithNotice(ctx, e, NoticeDeclined, OutcomeCODDeclined)
	case a.Outcome == "unreachable":
		return h.endWithNotice(ctx, e, NoticeUnreachable, OutcomeCODUnreachable)
	case a.Outcome != "": // not an outcome of the cod_confirm template
		return State{}, &InputError{"unknown COD call outcome " + a.Outcome}
	case a.Skipped == ReasonOutsideHours: // nobody could call before the deadline: no call was made
		return h.endWithNotice(ctx, e, NoticeExpired, OutcomeCODExpired)
	case a.Skipped != "": // nobody needs to call any more (paid, cancelled)
		if _, err := h.queue().CancelTask(ctx, e.ref.Shop, e.ref.key(codCall), a.Skipped); err != nil {
			return State{}, err
		}
		return h.done(ctx, e, "")
	}
	// The call's wait timed out before any agent finished the task: no
	// call was made, so the order is expired, not unreachable.
	if _, err := h.queue().CancelTask(ctx, e.ref.Shop, e.ref.key(codCall), ReasonExpired); err != nil {
		return State{}, err
	}
	return h.endWithNotice(ctx, e, NoticeExpired, OutcomeCODExpired)
}

// confirmed ends a COD run as confirmed and tells the shop it may ship.
func (h *Handler) confirmed(ctx context.Context, e *env) (State, error) {
	return h.endWithNotice(ctx, e, NoticeConfirmed, OutcomeCODConfirmed)
}

// endWithNotice tells the shop the run's outcome, then ends the run with it.
func (h *Handler) endWithNotice(ctx context.Context, e *env, notice, outcome string) (State, error) {
	if err := h.notifyShop(ctx, e, notice); err != nil {
		return State{}, err
	}
	return h.done(ctx, e, outcome)
}

// notifyShop sends a notice to the shop: through its webhook channel when
// one is configured, else to the outbox. The text is the template's step of
// that id when it has one, else the built-in noticeText in the shop's
// language.
func (h *Handler) notifyShop(ctx context.Context, e *env, stepID string) error {
	ch := ChannelOutbox
	if h.Channels[playbook.ChannelWebhook] != nil {
		if _, err := h.Store.GetSource(ctx, e.ref.Shop, care.ChannelWebhook); err == nil {
			ch = playbook.ChannelWebhook
		} else if !errors.Is(err, care.ErrNotFound) {
			return err
		}
	}
	if step, _, ok := e.tpl.Step(stepID); ok {
		_, err := h.deliver(ctx, e, step, ch, "notice")
		return err
	}
	texts, ok := noticeText[stepID]
	if !ok {
		return &InputError{"the pinned template has no " + stepID + " step"}
	}
	v := playbook.VarsFor(e.order, e.shop.Name, zone(e.shop.Timezone))
	locale, text := "en", fmt.Sprintf(texts[1], v.OrderName, v.CODTotal, v.Currency)
	if strings.HasPrefix(e.shop.Locale, "zh") {
		locale, text = "zh-CN", fmt.Sprintf(texts[0], v.OrderName, v.CODTotal, v.Currency)
	}
	_, err := h.send(ctx, e, stepID, ch, "notice", locale, text)
	return err
}

// noticeText is the built-in text of a notice to the shop, [zh-CN, en],
// with the order's name (else its id), the COD total and the currency.
var noticeText = map[string][2]string{
	NoticeConfirmed: {"货到付款订单 %s（签收需付 %s %s）买家已确认，可以发货。",
		"The buyer confirmed cash-on-delivery order %s (%s %s due on delivery). It may ship."},
	NoticeUnreachable: {"货到付款订单 %s（签收需付 %s %s）：客服致电未能联系到买家，订单未确认，请勿发货：取消订单，或稍后再联系买家确认。",
		"Cash-on-delivery order %s (%s %s due on delivery): the agent could not reach the buyer, so it is not confirmed. Do not ship it yet: cancel it, or reach the buyer later."},
	NoticeExpired: {"货到付款订单 %s（签收需付 %s %s）：确认电话任务已过期，没有人致电买家，订单未确认，请勿发货：请人工确认或取消订单。",
		"Cash-on-delivery order %s (%s %s due on delivery): its confirmation call expired before anyone called the buyer, so it is not confirmed. Do not ship it yet: confirm it by hand or cancel it."},
}
