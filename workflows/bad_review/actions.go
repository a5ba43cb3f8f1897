package badreview

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
)

// ActionStep is the action of the state machine's Step state.
const ActionStep = "bad_review_step"

// TaskNoteExpired is the note of a task nobody finished before its window
// (or a marked task's appeal deadline) ended; metrics count such tasks as
// expired (metrics.TaskNoteExpired).
const TaskNoteExpired = "expired"

// StepRevise is the optional revise ask (a message step); StepWatch the
// pseudo-step the run waits on until params.watch ends.
const (
	StepRevise = "revise"
	StepWatch  = "watch"
)

// Actions implements steps.Workflow.
func (Workflow) Actions() map[string]steps.Action {
	return map[string]steps.Action{ActionStep: step}
}

// step acts on st.Step: after a task step, it closes the task (cancelled
// when nobody finished it) and plans the revise ask (resolved, allowed,
// asked for) or the watch; the revise ask is sent (once) and the watch
// planned; at the watch's end the run ends with its outcome.
func step(ctx context.Context, h *steps.Handler, in steps.Input) (steps.State, error) {
	st := in.State
	e, err := h.Load(ctx, st.Run)
	if err != nil {
		return steps.State{}, err
	}
	pp := params(e.Tpl)
	r := reviewOf(e.Order, st.Run.Subject)
	if r == nil {
		return h.Done(ctx, e, "")
	}
	if r.Revised() {
		return h.Done(ctx, e, OutcomeRevised)
	}
	run, err := h.Store.GetRun(ctx, st.Run.Shop, st.Run.Order, Name, st.Run.Subject)
	if err != nil {
		return steps.State{}, err
	}
	watchEnd := run.StartedAt.Add(pp.Watch.Std())
	switch {
	case strings.HasPrefix(st.Step, "task_"):
		s, _, ok := e.Tpl.Step(st.Step)
		if !ok {
			return steps.State{}, &steps.InputError{Reason: "step " + st.Step + " is not in the pinned template"}
		}
		a := steps.DecodeAnswer(st.Outcome)
		if a.Outcome == "" && a.Skipped == "" {
			// The task's window ended with nobody finishing it. A task
			// marked malicious waits for the platform's appeal until the
			// appeal deadline (its SLA): the run waits on it again.
			t, err := h.Store.GetTask(ctx, st.Run.Shop, e.Ref.Key(s.ID))
			if err != nil && !errors.Is(err, care.ErrNotFound) {
				return steps.State{}, err
			}
			if err == nil && t.Appeal != nil && (t.Status == care.TaskOpen || t.Status == care.TaskClaimed) && t.Appeal.Deadline.After(e.Now) {
				return steps.State{Run: st.Run, Step: s.ID, Kind: steps.KindCall,
					Timeout: steps.SecondsUntil(e.Now, t.Appeal.Deadline, 0)}, nil
			}
		}
		if a.Outcome == "" && a.Skipped == "" {
			a.Skipped = TaskNoteExpired // nobody finished it in time: metrics count it expired
		}
		if err := h.CloseCall(ctx, e, s, a); err != nil {
			return steps.State{}, err
		}
		if a.Outcome == "" {
			return h.Done(ctx, e, OutcomeExpired)
		}
		switch a.Outcome {
		case TaskAppealWon:
			return h.Done(ctx, e, OutcomeAppealWon)
		case TaskAppealLost:
			return h.Done(ctx, e, OutcomeAppealLost)
		}
		if slices.Contains(pp.Resolved, a.Outcome) && revisable(e.Order, r, pp) {
			if _, _, ok := e.Tpl.Step(StepRevise); ok {
				at := e.MessageAt(e.Now.Add(pp.ReviseAfter.Std()))
				if at.Before(watchEnd) {
					return wait(ctx, h, e, st, StepRevise, at)
				}
			}
		}
		return watch(ctx, h, e, st, watchEnd)
	case st.Step == StepRevise:
		if _, ended := e.Ended(StepRevise); !ended {
			if q := e.QuietUntil(); q.After(e.Now) {
				return wait(ctx, h, e, st, StepRevise, q)
			}
			s, _, _ := e.Tpl.Step(StepRevise)
			if _, err := h.SendStep(ctx, e, s); err != nil {
				return steps.State{}, err
			}
		}
		return watch(ctx, h, e, st, watchEnd)
	case st.Step == StepWatch:
		return h.Done(ctx, e, endOutcome(ctx, h, e, pp))
	}
	return steps.State{}, &steps.InputError{Reason: "unknown bad_review step " + st.Step}
}

func wait(ctx context.Context, h *steps.Handler, e *steps.Env, st steps.State, step string, at time.Time) (steps.State, error) {
	out := steps.State{Run: st.Run, Step: step, Kind: steps.KindMessage, At: steps.WaitUntil(at)}
	sent := e.Sent()
	return out, h.UpdateRun(ctx, st.Run, func(r *care.Run) { r.Step, r.NextAt, r.Sent = step, out.At, sent })
}

// watch waits until the watch's end (at once when it passed).
func watch(ctx context.Context, h *steps.Handler, e *steps.Env, st steps.State, end time.Time) (steps.State, error) {
	if !e.Now.Before(end) {
		return h.Done(ctx, e, endOutcome(ctx, h, e, params(e.Tpl)))
	}
	return wait(ctx, h, e, st, StepWatch, end)
}

// endOutcome is the run's outcome at the watch's end: the task's outcome
// resolved or not (the review was not revised, or the router would have
// stopped the run).
func endOutcome(ctx context.Context, h *steps.Handler, e *steps.Env, pp Params) string {
	for _, tp := range append(pp.Topics, Topic{Tag: pp.DefaultTopic}) {
		t, err := h.Store.GetTask(ctx, e.Ref.Shop, e.Ref.Key(TaskStep(tp.Tag)))
		if err != nil {
			continue
		}
		if t.Status == care.TaskDone && slices.Contains(pp.Resolved, t.Outcome) {
			return OutcomeResolved
		}
		return OutcomeUnresolved
	}
	return OutcomeUnresolved
}

// WhyCall implements steps.CallExplainer: the review, quoted, for the agent.
func (Workflow) WhyCall(_ context.Context, _ *steps.Handler, e *steps.Env, st steps.State) (string, error) {
	r := reviewOf(e.Order, st.Run.Subject)
	if r == nil {
		return "", nil
	}
	platform := r.Platform
	if platform == "" {
		platform = e.Order.Order.ReviewPlatform(params(e.Tpl).Platform)
	}
	text := strings.TrimSpace(strings.TrimSpace(r.Title) + " " + strings.TrimSpace(r.Text))
	if strings.HasPrefix(e.Shop.Locale, "zh") {
		return fmt.Sprintf("%s 上的 %d 星评价：“%s”", platform, r.Rating, text), nil
	}
	return fmt.Sprintf("a %d-star review on %s: “%s”", r.Rating, platform, text), nil
}
