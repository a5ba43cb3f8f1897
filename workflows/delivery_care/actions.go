package deliverycare

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
)

// The workflow's own actions, as its state machine names them.
const (
	ActionAsk    = "care_ask"    // Ask (waitForTaskToken)
	ActionDecide = "care_decide" // Decide
	ActionRecord = "care_record" // Record
)

// Actions implements steps.Workflow.
func (Workflow) Actions() map[string]steps.Action {
	return map[string]steps.Action{
		ActionAsk: func(ctx context.Context, h *steps.Handler, in steps.Input) (steps.State, error) {
			return steps.State{}, h.AskAndAwait(ctx, in.State, in.Token, in.State.Step, AwaitKey)
		},
		ActionDecide: decide,
		ActionRecord: record,
	}
}

// decide reads how the wait ended: silence or a message that was not sent
// ends the run; an opt-out ends it; any other reply plans the agent task,
// reply_problem (tag quality) when it reports a problem, else reply.
func decide(ctx context.Context, h *steps.Handler, in steps.Input) (steps.State, error) {
	st := in.State
	e, err := h.Load(ctx, st.Run)
	if err != nil {
		return steps.State{}, err
	}
	a := steps.DecodeAnswer(st.Reply)
	switch {
	case e.Unwanted() != "":
		return h.Done(ctx, e, "")
	case a.Skipped != "":
		return h.Done(ctx, e, OutcomeSkipped)
	case a.Answer == "":
		return h.Done(ctx, e, OutcomeNoReply)
	case a.Answer == string(playbook.AnswerStop):
		return h.Done(ctx, e, OutcomeOptedOut)
	}
	step := StepReply
	if a.Answer == string(playbook.AnswerYes) {
		step = StepProblem
	}
	pp := params(e.Tpl)
	return steps.State{Run: st.Run, Step: step, Kind: steps.KindCall, Reply: st.Reply,
		Timeout: int(pp.TaskWindow.Std() / time.Second)}, nil
}

// record ends the run after its task: handled when an agent gave an
// outcome, expired (the task cancelled) when nobody did in time.
func record(ctx context.Context, h *steps.Handler, in steps.Input) (steps.State, error) {
	st := in.State
	e, err := h.Load(ctx, st.Run)
	if err != nil {
		return steps.State{}, err
	}
	step, _, ok := e.Tpl.Step(st.Step)
	if !ok {
		return steps.State{}, &steps.InputError{Reason: "step " + st.Step + " is not in the pinned template"}
	}
	a := steps.DecodeAnswer(st.Outcome)
	if a.Outcome == "" && a.Skipped == "" {
		a.Skipped = "expired"
	}
	if err := h.CloseCall(ctx, e, step, a); err != nil {
		return steps.State{}, err
	}
	outcome := OutcomeHandled
	if a.Outcome == "" {
		outcome = OutcomeExpired
	}
	return h.Done(ctx, e, outcome)
}

// WhyCall implements steps.CallExplainer: the buyer's reply, quoted.
func (Workflow) WhyCall(ctx context.Context, h *steps.Handler, e *steps.Env, st steps.State) (string, error) {
	a := steps.DecodeAnswer(st.Reply)
	if a.EventID == "" {
		return "", nil
	}
	ev, err := care.FindEvent(ctx, h.Store, e.Ref.Shop, e.Ref.Order, a.EventID)
	if errors.Is(err, care.ErrNotFound) || (err == nil && ev.Reply == nil) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	if strings.HasPrefix(e.Shop.Locale, "zh") {
		return fmt.Sprintf("买家回复关怀消息：“%s”", ev.Reply.Text), nil
	}
	return fmt.Sprintf("the buyer replied to the care message: “%s”", ev.Reply.Text), nil
}
