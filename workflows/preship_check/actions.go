package preshipcheck

import (
	"context"
	"errors"
	"fmt"
	"github.com/ordercare/ordercare/internal/metrics"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
)

// The workflow's own actions, as its state machine names them.
const (
	ActionCheck   = "preship_check"   // Check
	ActionAsk     = "preship_ask"     // Ask (waitForTaskToken)
	ActionDecide  = "preship_decide"  // Decide
	ActionOutcome = "preship_outcome" // Record
)

// KindAsk is the Check state's answer for a flagged order: ask the buyer.
const KindAsk = "ask"

// Outcomes a preship_check run ends with (care.Run.Outcome) besides the
// agent's own (the call step's outcomes, such as release).
const (
	OutcomeClear     = "clear"             // no rule flagged the order
	OutcomeConfirmed = "address_confirmed" // the buyer confirmed the address
	OutcomeReleased  = "release"           // the agent released the order
	OutcomeExpired   = "expired"           // the call task ran out before anyone called
)

// ReasonExpired is the OutcomeNote of a call task cancelled because its
// wait timed out before an agent finished it.
const ReasonExpired = metrics.TaskNoteExpired

// Actions implements steps.Workflow.
func (Workflow) Actions() map[string]steps.Action {
	return map[string]steps.Action{
		ActionCheck: func(ctx context.Context, h *steps.Handler, in steps.Input) (steps.State, error) {
			return check(ctx, h, in.State)
		},
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

// check is the Check state: an order no rule flags ends at once with
// outcome clear; a flagged one tells the shop to hold it and goes on to
// ask the buyer (at $.at: once quiet hours and min_gap allow), waiting
// for the reply until the call is due: params.call_before ahead
// of the ship-by deadline, earlier when the shop's service hours leave the
// call less than its SLA before the deadline (at once when that has passed).
func check(ctx context.Context, h *steps.Handler, st steps.State) (steps.State, error) {
	e, err := h.Load(ctx, st.Run)
	if err != nil {
		return steps.State{}, err
	}
	if e.Unwanted() != "" {
		return h.Done(ctx, e, "")
	}
	p := params(e.Tpl)
	if len(Flags(e.Order, p)) == 0 {
		return h.Done(ctx, e, OutcomeClear)
	}
	if err := h.NotifyShop(ctx, e, StepHold, nil); err != nil {
		return steps.State{}, err
	}
	callAt := e.Now
	if d := e.Deadline(); !d.IsZero() {
		if at := d.Add(-p.CallBefore.Std()); at.After(callAt) {
			callAt = at
		}
		// Earlier when the shop's agents would not have the call's SLA of
		// service time before the deadline (a call due at night).
		if call, _, ok := e.Tpl.Step(StepCall); ok {
			callAt = e.CallAt(call, callAt, d)
		}
	}
	// The ask waits out the buyer's quiet hours and the template's min_gap
	// after the last message to the buyer (a chase reminder just before
	// payment); the wait for the reply runs from then until the call.
	at := steps.WaitUntil(e.MessageAt(e.Now))
	out := steps.State{Run: st.Run, Step: StepAsk, Kind: KindAsk, At: at, Timeout: steps.SecondsUntil(*at, callAt, time.Second)}
	return out, h.UpdateRun(ctx, st.Run, func(r *care.Run) { r.Step, r.NextAt = StepHold, at })
}

// ask is the Ask state (waitForTaskToken): ask the buyer to confirm the
// address and wait for the reply (steps.Handler.AskAndAwait).
func ask(ctx context.Context, h *steps.Handler, st steps.State, token string) error {
	return h.AskAndAwait(ctx, st, token, StepAsk, AwaitKey)
}

// decide is the Decide state: a shipped or cancelled order ends the run
// quietly; a confirming reply tells the shop it may ship; anything else (a
// refusal, a new address, an unclear reply, silence, a message not sent)
// raises the agent's call, which ends at the ship-by deadline.
func decide(ctx context.Context, h *steps.Handler, st steps.State) (steps.State, error) {
	e, err := h.Load(ctx, st.Run)
	if err != nil {
		return steps.State{}, err
	}
	a := steps.DecodeAnswer(st.Reply)
	switch {
	case e.Unwanted() != "" || a.Skipped == steps.ReasonCancelled:
		return h.Done(ctx, e, "")
	case a.Answer == string(playbook.AnswerYes):
		return h.EndWithNotice(ctx, e, StepRelease, OutcomeConfirmed, nil)
	}
	return steps.State{Run: st.Run, Step: StepCall, Kind: steps.KindCall, Reply: st.Reply,
		Timeout: steps.SecondsUntil(e.Now, e.Deadline(), 24*time.Hour)}, nil
}

// outcome is the Record state: release tells the shop it may ship; any
// other outcome of the call step is recorded as it is (the agent acted:
// a new address, a cancellation); a call nobody made is expired.
func outcome(ctx context.Context, h *steps.Handler, st steps.State) (steps.State, error) {
	e, err := h.Load(ctx, st.Run)
	if err != nil {
		return steps.State{}, err
	}
	a := steps.DecodeAnswer(st.Outcome)
	call, _, _ := e.Tpl.Step(StepCall)
	switch {
	case a.Outcome == OutcomeReleased:
		return h.EndWithNotice(ctx, e, StepRelease, OutcomeReleased, nil)
	case a.Outcome != "":
		for _, o := range call.Outcomes {
			if o == a.Outcome {
				return h.Done(ctx, e, a.Outcome)
			}
		}
		return steps.State{}, &steps.InputError{Reason: "unknown preship_check call outcome " + a.Outcome}
	case a.Skipped == steps.ReasonOutsideHours:
		return h.Done(ctx, e, OutcomeExpired)
	case a.Skipped != "":
		if _, err := h.Queue().CancelTask(ctx, e.Ref.Shop, e.Ref.Key(StepCall), a.Skipped); err != nil {
			return steps.State{}, err
		}
		return h.Done(ctx, e, "")
	}
	if _, err := h.Queue().CancelTask(ctx, e.Ref.Shop, e.Ref.Key(StepCall), ReasonExpired); err != nil {
		return steps.State{}, err
	}
	return h.Done(ctx, e, OutcomeExpired)
}

// WhyCall implements steps.CallExplainer: for the agent, in the shop's
// language, which rules flagged the order and what the buyer answered
// (quoting the reply, which may hold the new address: the agent needs it).
func (Workflow) WhyCall(ctx context.Context, h *steps.Handler, e *steps.Env, st steps.State) (string, error) {
	zh := strings.HasPrefix(e.Shop.Locale, "zh")
	pick := func(t [2]string) string {
		if zh {
			return t[0]
		}
		return t[1]
	}
	var parts []string
	for _, f := range Flags(e.Order, params(e.Tpl)) {
		if id, ok := strings.CutPrefix(f, FlagRegion+":"); ok {
			parts = append(parts, fmt.Sprintf(pick(whyText[FlagRegion]), id))
			continue
		}
		parts = append(parts, pick(whyText[f]))
	}
	a := steps.DecodeAnswer(st.Reply)
	switch {
	case a.Error != "":
		parts = append(parts, pick(whyText["no_reply"]))
	case a.Answer != "":
		why := pick(whyText["reply_"+a.Answer])
		if a.EventID != "" {
			ev, err := care.FindEvent(ctx, h.Store, e.Ref.Shop, e.Ref.Order, a.EventID)
			if err != nil && !errors.Is(err, care.ErrNotFound) {
				return "", err
			}
			if err == nil && ev.Reply != nil && ev.Reply.Text != "" {
				why += fmt.Sprintf(pick([2]string{"：“%s”", ": “%s”"}), ev.Reply.Text)
			}
		}
		parts = append(parts, why)
	case a.Skipped != "":
		parts = append(parts, pick(whyText["not_asked"]))
	}
	return strings.Join(parts, pick([2]string{"；", "; "})), nil
}

// whyText is what an agent reads about a preship call: [zh, en].
var whyText = map[string][2]string{
	FlagRegion:         {"收货地区命中规则 %s", "the address is in a region of rule %s"},
	FlagAddressChanged: {"付款后修改了收货地址", "the address changed after payment"},
	FlagTwoAddresses:   {"订单中有不止一个收货地址", "the order carries more than one shipping address"},
	FlagLocker:         {"收货地址是快递柜、驿站或信箱，商品不宜送达", "the address is a locker, pickup station or PO box the goods cannot go to"},
	"no_reply":         {"买家未回复地址确认", "the buyer did not answer the address check"},
	"reply_no":         {"买家回复拒绝", "the buyer refused"},
	"reply_unclear":    {"买家回复了新地址或不明确的内容", "the buyer sent a new address or an unclear reply"},
	"reply_stop":       {"买家回复退订，不能再发消息", "the buyer opted out of messages"},
	"reply_yes":        {"买家已确认地址", "the buyer confirmed the address"},
	"not_asked":        {"地址确认消息未能发出", "the address check message could not be sent"},
}
