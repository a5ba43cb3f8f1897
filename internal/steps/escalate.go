package steps

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

// ReasonOutsideHours is the skip reason of a call step whose task would
// end (the run's deadline, or the call's timeout) before the shop's agents
// have MinCallWindow of service time to make the call.
const ReasonOutsideHours = "outside_service_hours"

// MinCallWindow is the least service time a call task must have before its
// deadline to be raised at all.
const MinCallWindow = 15 * time.Minute

// escalate is the Call state (waitForTaskToken): it raises the agent task
// for st.Step carrying the token; the agent's outcome resumes the run
// (internal/queue). When nobody needs to call any more (paid, cancelled),
// or nobody could before the task's deadline (outside the shop's service
// hours), it records the skip and resumes the run at once with the reason
// instead. The task's SLA counts service time only (care.ServiceHours.Add)
// and is never after its deadline.
func (h *Handler) escalate(ctx context.Context, st State, token string) error {
	if token == "" {
		return &InputError{"escalate needs the task token"}
	}
	e, err := h.Load(ctx, st.Run)
	if err != nil {
		return err
	}
	skipped, err := h.raise(ctx, e, st, token)
	if err != nil || skipped == "" {
		return err
	}
	return h.Resume(ctx, token, Answer{Skipped: skipped})
}

// OpenTask raises the agent task of call step st.Step as escalate does,
// from within a step, with no task token: the run does not wait in an
// execution for the agent (it ends, or rests, and reads the task's
// outcome later: CloseCall); st.Timeout, when set, is when the task stops
// mattering, as a Call state's timeout is. It returns the skip reason when
// no task was raised (the skip is recorded), "" when one was; the run is
// left as it is, for the caller to rest or end.
func (h *Handler) OpenTask(ctx context.Context, e *Env, st State) (skipped string, err error) {
	return h.raise(ctx, e, st, "")
}

// raise raises the task of call step st.Step with token (maybe none), or
// records why not and returns that reason.
func (h *Handler) raise(ctx context.Context, e *Env, st State, token string) (skipped string, err error) {
	step, _, ok := e.Tpl.Step(st.Step)
	if !ok || step.Action != playbook.ActionCall {
		return "", &InputError{"step " + st.Step + " is not a call step of the pinned template"}
	}
	deadline := callDeadline(e, st)
	reason := e.Unwanted()
	if reason == "" && !deadline.IsZero() &&
		e.Shop.HoursOf().Between(e.Now, deadline, Zone(e.Shop.Timezone)) < MinCallWindow {
		// Nobody works before the task would be cancelled. A retried
		// escalate keeps a task an earlier attempt raised.
		raised, err := h.taskRaised(ctx, e, step.ID)
		if err != nil {
			return "", err
		}
		if !raised {
			reason = ReasonOutsideHours
		}
	}
	if reason != "" {
		return reason, h.Skip(ctx, e, step.ID, reason)
	}
	var why string
	if x, ok := e.wf.(CallExplainer); ok {
		if why, err = x.WhyCall(ctx, h, e, st); err != nil {
			return "", err
		}
	}
	t, err := h.newTask(e, step, why, token)
	if err != nil {
		return "", err
	}
	if s, ok := e.wf.(Storyteller); ok {
		if t.Order.Story, err = s.Story(ctx, h, e); err != nil {
			return "", err
		}
	}
	if due, ok := e.Shop.HoursOf().Add(e.Now, time.Duration(step.SLA), Zone(e.Shop.Timezone)); ok {
		t.DueAt = due.UTC()
	}
	if !deadline.IsZero() && t.DueAt.After(deadline) {
		t.DueAt = deadline.UTC() // an SLA past the deadline means nothing: the task is cancelled then
	}
	stored, created, err := h.Store.CreateTask(ctx, t)
	if err != nil {
		return "", err
	}
	if !created && token != "" && stored.Token != token && stored.Status != care.TaskDone && stored.Status != care.TaskCancelled {
		// A retried Task state got a new token: the task must resume the live one.
		stored.Token = token
		if _, err := h.Store.UpdateTask(ctx, stored); err != nil {
			return "", err
		}
	}
	if token == "" {
		return "", nil // OpenTask: the caller rests or ends the run next
	}
	return "", h.UpdateRun(ctx, st.Run, func(r *care.Run) { r.Step, r.NextAt = step.ID, nil })
}

// Storyteller is a workflow whose tasks carry the order's whole story
// (care.OrderSummary.Story): bad_review's agent needs every parcel, reply,
// review and earlier task; the others' agents need what Summary gives.
type Storyteller interface {
	Story(ctx context.Context, h *Handler, e *Env) (*care.Story, error)
}

// callAt is when to raise a call step planned at `at` whose task ends at
// deadline: at itself when the shop's agents have the step's SLA (at least
// MinCallWindow) of service time between at and deadline; else early
// enough that they do (a call due overnight is raised before closing), but
// never before now. Without a deadline it is at.
func (e *Env) CallAt(step playbook.Step, at, deadline time.Time) time.Time {
	if deadline.IsZero() {
		return at
	}
	hours, loc := e.Shop.HoursOf(), Zone(e.Shop.Timezone)
	need := max(time.Duration(step.SLA), MinCallWindow)
	have := hours.Between(at, deadline, loc)
	if have >= need {
		return at
	}
	early, ok := hours.Before(at, need-have, loc)
	if !ok || early.Before(e.Now) {
		return e.Now
	}
	return early
}

// callDeadline is when the call step's task will be cancelled if nobody
// finished it: the end of the token wait (st.Timeout from now) or the
// run's Deadline, whichever is first; zero when neither is known.
func callDeadline(e *Env, st State) time.Time {
	var d time.Time
	if st.Timeout > 0 {
		d = e.Now.Add(time.Duration(st.Timeout) * time.Second)
	}
	if end := e.Deadline(); !end.IsZero() && (d.IsZero() || end.Before(d)) {
		d = end
	}
	return d
}

// taskRaised reports whether an earlier attempt raised the step's task.
func (h *Handler) taskRaised(ctx context.Context, e *Env, stepID string) (bool, error) {
	_, err := h.Store.GetTask(ctx, e.Ref.Shop, e.Ref.Key(stepID))
	if errors.Is(err, care.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (h *Handler) newTask(e *Env, step playbook.Step, why, token string) (care.Task, error) {
	vars := playbook.VarsFor(e.Order, e.Shop.Name, Zone(e.Shop.Timezone))
	locale := buyerLocale(e)
	script, _, err := e.Tpl.Render(step, "script", locale, vars)
	if err != nil {
		return care.Task{}, &InputError{"render script of " + step.ID + ": " + err.Error()}
	}
	reason, _, err := e.Tpl.Render(step, "reason", e.Shop.Locale, vars)
	if err != nil {
		return care.Task{}, &InputError{"render reason of " + step.ID + ": " + err.Error()}
	}
	if why != "" {
		reason += " (" + why + ")"
	}
	return care.Task{
		ID: e.Ref.Key(step.ID), ShopID: e.Ref.Shop, OrderID: e.Ref.Order, Workflow: e.Ref.Workflow, Step: step.ID,
		Reason: reason, Script: script, Tag: step.Tag, Priority: step.Priority, Outcomes: step.Outcomes,
		Order: summary(e.Order, e.msgs, Zone(e.Shop.Timezone)), Status: care.TaskOpen, CreatedAt: e.Now.UTC(),
		DueAt: e.Now.Add(time.Duration(step.SLA)).UTC(), Token: token,
	}, nil
}

// summary is the order as an agent sees it: what to know and what was
// already said, no address.
func summary(o care.OrderState, msgs []care.Message, loc *time.Location) care.OrderSummary {
	s := care.OrderSummary{OrderID: o.Order.ID, Status: o.Status, Total: o.Order.Total, Currency: o.Order.Currency,
		PaymentMethod: o.Order.PaymentMethod, CODFee: o.Order.CODFee, PlacedAt: o.Order.PlacedAt, PayDeadline: o.Order.PayDeadline}
	if b := o.Order.Buyer; b != nil {
		s.BuyerName, s.BuyerPhone, s.Locale = b.Name, b.Phone, b.Locale
	}
	for _, it := range o.Order.Items {
		s.Items = append(s.Items, fmt.Sprintf("%d × %s", it.Quantity, it.Title))
	}
	for _, m := range msgs {
		if m.Status == care.MessageSent {
			s.Said = append(s.Said, m.At.In(loc).Format("01-02 15:04")+" "+m.Text)
		}
	}
	return s
}
