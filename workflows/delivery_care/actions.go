package deliverycare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
)

// ActionCare is the workflow's one action, its state machine's only Task:
// every execution is one step (steps.Handler.Rest keeps the run between
// them, with no execution): the care message, the reply that woke the run,
// or the end of a reply task's window.
const ActionCare = "care"

// StepWindow is the step a run shows while it rests through the reply
// window after the care message (no execution: steps.Handler.Rest).
const StepWindow = "reply_window"

// Actions implements steps.Workflow.
func (Workflow) Actions() map[string]steps.Action {
	return map[string]steps.Action{ActionCare: func(ctx context.Context, h *steps.Handler, in steps.Input) (steps.State, error) {
		e, err := h.Load(ctx, in.State.Run)
		if err != nil {
			return steps.State{}, err
		}
		switch in.State.Step {
		case steps.StepWoken:
			return woken(ctx, h, e, in.State)
		case StepReply, StepProblem:
			return closeReply(ctx, h, e, in.State)
		}
		return send(ctx, h, e, in.State)
	}}
}

// send is a new run's step: the care message of st.Step, then the run rests
// through params.reply_window (no execution; a reply wakes it, silence ends
// it care_no_reply: RestOutcome). A message that was not sent ends the run.
func send(ctx context.Context, h *steps.Handler, e *steps.Env, st steps.State) (steps.State, error) {
	if e.Unwanted() != "" {
		return h.Done(ctx, e, "")
	}
	step, _, ok := e.Tpl.Step(st.Step)
	if !ok {
		return steps.State{}, &steps.InputError{Reason: "the pinned template has no " + st.Step + " step"}
	}
	sc := e.DeliveredScope(params(e.Tpl).Per)
	if sc.Skip != "" {
		return h.Done(ctx, e, sc.Skip)
	}
	if _, ended := e.Ended(step.ID); !ended {
		if refunded(e.Order, sc) {
			if err := h.Skip(ctx, e, step.ID, ReasonRefunded); err != nil {
				return steps.State{}, err
			}
			return h.Done(ctx, e, OutcomeSkipped)
		}
		if b := e.Tpl.ContactBudget; b > 0 && e.SentByWorkflow() >= b {
			// Per parcel: the budget counts every parcel's message.
			if err := h.Skip(ctx, e, step.ID, steps.ReasonBudgetSpent); err != nil {
				return steps.State{}, err
			}
			return h.Done(ctx, e, OutcomeSkipped)
		}
		if e.TooSoon(step.ID) || e.QuietUntil().After(e.Now) {
			// Another parcel's message went out within the min gap, or
			// the run woke in quiet hours: later, at the first time allowed.
			return h.Rest(ctx, e, step.ID, e.MessageAt(e.Now))
		}
	}
	m, err := h.SendStepWith(ctx, e, step, sc.ParcelVars(e.Order))
	if err != nil {
		return steps.State{}, err
	}
	if m.Status != care.MessageSent {
		return h.Done(ctx, e, OutcomeSkipped)
	}
	return h.Rest(ctx, e, StepWindow, e.Now.Add(params(e.Tpl).ReplyWindow.Std()))
}

// woken is the step of a run a reply woke. The latest buyer.replied of the
// order since the care message is read as the router read it (Interpret):
// an opt-out ends the run (recorded by the router); any other reply opens
// the agent task, reply_problem (tag quality) when it reports a problem,
// else reply, with no task token (steps.Handler.OpenTask), and rests the
// run through params.task_window: closeReply reads the task's end then. A
// reply while it rests wakes it again: the open task stays, the window
// starts again.
func woken(ctx context.Context, h *steps.Handler, e *steps.Env, st steps.State) (steps.State, error) {
	if e.Unwanted() != "" {
		return h.Done(ctx, e, "")
	}
	pp := params(e.Tpl)
	stepID := pp.StepFor(e.DeliveredScope(pp.Per).Items)
	sent, ok := e.Ended(stepID)
	if !ok {
		// Woken before its own message went out (held by the min gap
		// after another parcel's, or by quiet hours): back to waiting.
		return h.Rest(ctx, e, stepID, e.MessageAt(e.Now))
	}
	if sent.Status != care.MessageSent || sent.SentAt == nil {
		return h.Done(ctx, e, OutcomeSkipped)
	}
	reply, err := lastReply(ctx, h, e, *sent.SentAt)
	if err != nil || reply == nil {
		if err == nil {
			_, err = h.Done(ctx, e, OutcomeNoReply)
		}
		return steps.State{Run: st.Run, Kind: steps.KindDone}, err
	}
	if later := laterCare(e, *sent.SentAt, reply.OccurredAt); later {
		// The reply answers another parcel's care message, sent after
		// this one: that run opens the task; this one rests on.
		return h.Rest(ctx, e, StepWindow, sent.SentAt.Add(pp.ReplyWindow.Std()))
	}
	locale := ""
	if b := e.Order.Order.Buyer; b != nil {
		locale = b.Locale
	}
	answer := Workflow{}.Interpret(e.Tpl, reply.Reply.Text, locale)
	if answer == playbook.AnswerStop {
		return h.Done(ctx, e, OutcomeOptedOut)
	}
	step := StepReply
	if answer == playbook.AnswerYes {
		step = StepProblem
	}
	a, _ := json.Marshal(steps.Answer{Answer: string(answer), EventID: reply.ID})
	skipped, err := h.OpenTask(ctx, e, steps.State{Run: st.Run, Step: step, Kind: steps.KindCall, Reply: a,
		Timeout: int(pp.TaskWindow.Std() / time.Second)})
	if err != nil {
		return steps.State{}, err
	}
	if skipped != "" {
		return h.Done(ctx, e, OutcomeExpired)
	}
	return h.Rest(ctx, e, step, e.Now.Add(pp.TaskWindow.Std()))
}

// laterCare reports whether another run of the workflow for the order
// sent the buyer a message after since and at or before the reply at.
func laterCare(e *steps.Env, since, at time.Time) bool {
	for _, m := range e.Messages() {
		if m.Workflow == Name && m.Status == care.MessageSent && m.ToBuyer() && m.SentAt != nil &&
			m.SentAt.After(since) && !m.SentAt.After(at) {
			return true
		}
	}
	return false
}

// lastReply is the order's latest buyer.replied that occurred at or after
// since, nil when there is none.
func lastReply(ctx context.Context, h *steps.Handler, e *steps.Env, since time.Time) (*care.Event, error) {
	var last *care.Event
	cursor := ""
	for {
		evs, next, err := h.Store.ListEvents(ctx, e.Ref.Shop, e.Ref.Order, cursor, 1000)
		if err != nil {
			return nil, err
		}
		for i := range evs {
			ev := evs[i].Event
			if ev.Type == care.BuyerReplied && ev.Reply != nil && !ev.OccurredAt.Before(since) {
				last = &ev
			}
		}
		if next == "" {
			return last, nil
		}
		cursor = next
	}
}

// RestOutcome implements steps.RestEnder: a run still resting through its
// reply window when the window ends had no reply: it ends care_no_reply
// with no execution.
func (Workflow) RestOutcome(_ care.OrderState, run care.Run) string {
	if run.Step == StepWindow {
		return OutcomeNoReply
	}
	return ""
}

// closeReply ends a run at the end of its reply task's window: handled
// when an agent finished the task, else expired, the task cancelled (nobody
// acted in time).
func closeReply(ctx context.Context, h *steps.Handler, e *steps.Env, st steps.State) (steps.State, error) {
	step, _, ok := e.Tpl.Step(st.Step)
	if !ok {
		return steps.State{}, &steps.InputError{Reason: "step " + st.Step + " is not in the pinned template"}
	}
	t, err := h.Store.GetTask(ctx, e.Ref.Shop, e.Ref.Key(step.ID))
	if errors.Is(err, care.ErrNotFound) {
		return h.Done(ctx, e, OutcomeExpired)
	} else if err != nil {
		return steps.State{}, err
	}
	if t.Status == care.TaskDone {
		return h.Done(ctx, e, OutcomeHandled)
	}
	if err := h.CloseCall(ctx, e, step, steps.Answer{Skipped: "expired"}); err != nil {
		return steps.State{}, err
	}
	return h.Done(ctx, e, OutcomeExpired)
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
