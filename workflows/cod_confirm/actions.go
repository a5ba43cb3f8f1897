package codconfirm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/metrics"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
)

// The workflow's own actions, as its state machine names them.
const (
	ActionAsk     = "cod_ask"     // Ask (waitForTaskToken)
	ActionDecide  = "cod_decide"  // Decide
	ActionOutcome = "cod_outcome" // Record
)

// Actions implements steps.Workflow.
func (Workflow) Actions() map[string]steps.Action {
	return map[string]steps.Action{
		ActionAsk: func(ctx context.Context, h *steps.Handler, in steps.Input) (steps.State, error) {
			return steps.State{}, ask(ctx, h, in.State, in.Token)
		},
		ActionDecide: func(ctx context.Context, h *steps.Handler, in steps.Input) (steps.State, error) {
			return decide(ctx, h, in.State)
		},
		ActionOutcome: func(ctx context.Context, h *steps.Handler, in steps.Input) (steps.State, error) {
			return outcome(ctx, h, in.State)
		},
	}
}

// Step ids of the cod_confirm template (ParseParams checks the shape).
const (
	codAsk  = StepAsk
	codCall = StepCall
)

// AwaitKey is the Waits key a cod_confirm run waits on for the buyer's reply.
const AwaitKey = string(Name)

// callTimeout bounds how long a COD call task may stay unfinished.
const callTimeout = 72 * time.Hour

// Outcomes a cod_confirm run ends with (care.Run.Outcome): the values
// metrics counts, defined once there. Expired is a call task nobody
// finished before the call's timeout: no call was made.
const (
	OutcomeConfirmed   = metrics.OutcomeCODConfirmed
	OutcomeDeclined    = metrics.OutcomeCODDeclined
	OutcomeUnreachable = metrics.OutcomeCODUnreachable
	OutcomeExpired     = metrics.OutcomeCODExpired
)

// Notice steps the shop hears a COD outcome by (care.Message.Step of the
// notice, and "step" in the webhook channel's body). confirmed and declined
// are template steps; unreachable and expired (and confirmed, when a
// template has no such step) use the built-in texts of noticeText.
const (
	NoticeConfirmed   = StepConfirmed
	NoticeDeclined    = StepDeclined
	NoticeUnreachable = "unreachable"
	NoticeExpired     = "expired"
)

// NoticeSteps lists every notice step a shop may receive, in outcome order.
var NoticeSteps = []string{NoticeConfirmed, NoticeDeclined, NoticeUnreachable, NoticeExpired}

// ReasonExpired is the OutcomeNote of a call task cancelled because its
// wait timed out before an agent finished it (metrics counts it expired).
const ReasonExpired = metrics.TaskNoteExpired

// ask is cod_confirm's Ask (waitForTaskToken): send the COD total and
// wait for the buyer's reply (steps.Handler.AskAndAwait).
func ask(ctx context.Context, h *steps.Handler, st steps.State, token string) error {
	return h.AskAndAwait(ctx, st, token, codAsk, AwaitKey)
}

// decide is cod_confirm's Decide: a cancelled order ends the run
// quietly, whatever the reply; a confirming reply ends it confirmed;
// anything else (no, unclear, silence, a message that could not be sent)
// plans the agent's call.
func decide(ctx context.Context, h *steps.Handler, st steps.State) (steps.State, error) {
	e, err := h.Load(ctx, st.Run)
	if err != nil {
		return steps.State{}, err
	}
	a := steps.DecodeAnswer(st.Reply)
	switch {
	case e.Unwanted() != "" || a.Skipped == steps.ReasonCancelled:
		return h.Done(ctx, e, "") // checked first: a cancelled order is never confirmed
	case a.Answer == string(playbook.AnswerYes):
		return confirmed(ctx, h, e)
	}
	return steps.State{Run: st.Run, Step: codCall, Kind: steps.KindCall, Reply: st.Reply,
		Timeout: int(callTimeout / time.Second)}, nil
}

// outcome is cod_confirm's Record: store how the call ended and tell the
// shop, whatever the outcome: it may ship (confirmed); it should cancel or
// have the order re-placed as prepaid (declined); the agent called and
// could not reach the buyer (unreachable); or nobody called before the
// task's deadline (expired: the wait timed out, or the call could not be
// raised in service hours). A call made moot (paid, cancelled) ends quietly.
func outcome(ctx context.Context, h *steps.Handler, st steps.State) (steps.State, error) {
	e, err := h.Load(ctx, st.Run)
	if err != nil {
		return steps.State{}, err
	}
	a := steps.DecodeAnswer(st.Outcome)
	switch {
	case a.Outcome == "confirmed":
		return confirmed(ctx, h, e)
	case a.Outcome == "declined":
		return endWithNotice(ctx, h, e, NoticeDeclined, OutcomeDeclined)
	case a.Outcome == "unreachable":
		return endWithNotice(ctx, h, e, NoticeUnreachable, OutcomeUnreachable)
	case a.Outcome != "": // not an outcome of the cod_confirm template
		return steps.State{}, &steps.InputError{Reason: "unknown COD call outcome " + a.Outcome}
	case a.Skipped == steps.ReasonOutsideHours: // nobody could call before the deadline: no call was made
		return endWithNotice(ctx, h, e, NoticeExpired, OutcomeExpired)
	case a.Skipped != "": // nobody needs to call any more (paid, cancelled)
		if _, err := h.Queue().CancelTask(ctx, e.Ref.Shop, e.Ref.Key(codCall), a.Skipped); err != nil {
			return steps.State{}, err
		}
		return h.Done(ctx, e, "")
	}
	// The call's wait timed out before any agent finished the task: no
	// call was made, so the order is expired, not unreachable.
	if _, err := h.Queue().CancelTask(ctx, e.Ref.Shop, e.Ref.Key(codCall), ReasonExpired); err != nil {
		return steps.State{}, err
	}
	return endWithNotice(ctx, h, e, NoticeExpired, OutcomeExpired)
}

// confirmed ends a COD run as confirmed and tells the shop it may ship,
// and records order.confirmed on the order (the pre-ship check starts on it).
func confirmed(ctx context.Context, h *steps.Handler, e *steps.Env) (steps.State, error) {
	if err := h.RecordEvent(ctx, e, care.OrderConfirmed); err != nil {
		return steps.State{}, err
	}
	return endWithNotice(ctx, h, e, NoticeConfirmed, OutcomeConfirmed)
}

// endWithNotice tells the shop the outcome (the template's step, else the
// built-in noticeText), then ends the run with it.
func endWithNotice(ctx context.Context, h *steps.Handler, e *steps.Env, notice, outcome string) (steps.State, error) {
	var builtin func(zh bool) string
	if texts, ok := noticeText[notice]; ok {
		builtin = func(zh bool) string {
			v := playbook.VarsFor(e.Order, e.Shop.Name, e.ShopZone())
			if zh {
				return fmt.Sprintf(texts[0], v.OrderName, v.CODTotal, v.Currency)
			}
			return fmt.Sprintf(texts[1], v.OrderName, v.CODTotal, v.Currency)
		}
	}
	return h.EndWithNotice(ctx, e, notice, outcome, builtin)
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

// WhyCall implements steps.CallExplainer: for the agent and in the shop's
// language, what led to the call beyond the template's reason, quoting the
// buyer's reply when there was one.
func (Workflow) WhyCall(ctx context.Context, h *steps.Handler, e *steps.Env, st steps.State) (string, error) {
	a := steps.DecodeAnswer(st.Reply)
	key := ""
	switch {
	case a.Error != "":
		key = "no_reply"
	case a.Answer != "":
		key = "reply_" + a.Answer
	case a.Skipped != "":
		key = "not_asked"
	default:
		return "", nil
	}
	zh := strings.HasPrefix(e.Shop.Locale, "zh")
	why := whyText[key][0]
	if !zh {
		why = whyText[key][1]
	}
	if a.EventID != "" {
		text, err := replyText(ctx, h, e, a.EventID)
		if err != nil {
			return "", err
		}
		if text != "" {
			why += fmt.Sprintf(map[bool]string{true: "：“%s”", false: ": “%s”"}[zh], text)
		}
	}
	return why, nil
}

// whyText is what an agent reads about a COD call: [zh, en].
var whyText = map[string][2]string{
	"no_reply":      {"买家未回复确认消息", "the buyer did not answer the confirmation message"},
	"reply_no":      {"买家回复拒绝", "the buyer declined"},
	"reply_unclear": {"买家的回复不明确", "the buyer's reply was unclear"},
	"reply_stop":    {"买家回复退订，不能再发消息", "the buyer opted out of messages"},
	"reply_yes":     {"买家已确认", "the buyer confirmed"},
	"not_asked":     {"确认消息未能发出", "the confirmation message could not be sent"},
}

// replyText is the text of the buyer's reply event, "" when not found.
func replyText(ctx context.Context, h *steps.Handler, e *steps.Env, eventID string) (string, error) {
	ev, err := care.FindEvent(ctx, h.Store, e.Ref.Shop, e.Ref.Order, eventID)
	if errors.Is(err, care.ErrNotFound) || ev.Reply == nil {
		return "", nil
	}
	return ev.Reply.Text, err
}
