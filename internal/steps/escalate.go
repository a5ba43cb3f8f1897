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
	e, err := h.load(ctx, st.Run)
	if err != nil {
		return err
	}
	step, _, ok := e.tpl.Step(st.Step)
	if !ok || step.Action != playbook.ActionCall {
		return &InputError{"step " + st.Step + " is not a call step of the pinned template"}
	}
	deadline := callDeadline(e, st)
	reason := e.unwanted()
	if reason == "" && !deadline.IsZero() &&
		e.shop.HoursOf().Between(e.now, deadline, zone(e.shop.Timezone)) < MinCallWindow {
		// Nobody works before the task would be cancelled. A retried
		// escalate keeps a task an earlier attempt raised.
		raised, err := h.taskRaised(ctx, e, step.ID)
		if err != nil {
			return err
		}
		if !raised {
			reason = ReasonOutsideHours
		}
	}
	if reason != "" {
		if err := h.skip(ctx, e, step.ID, reason); err != nil {
			return err
		}
		return h.resume(ctx, token, Answer{Skipped: reason})
	}
	why, err := h.whyOf(ctx, e, st)
	if err != nil {
		return err
	}
	t, err := h.newTask(e, step, why, token)
	if err != nil {
		return err
	}
	if due, ok := e.shop.HoursOf().Add(e.now, time.Duration(step.SLA), zone(e.shop.Timezone)); ok {
		t.DueAt = due.UTC()
	}
	if !deadline.IsZero() && t.DueAt.After(deadline) {
		t.DueAt = deadline.UTC() // an SLA past the deadline means nothing: the task is cancelled then
	}
	stored, created, err := h.Store.CreateTask(ctx, t)
	if err != nil {
		return err
	}
	if !created && stored.Token != token && stored.Status != care.TaskDone && stored.Status != care.TaskCancelled {
		// A retried Task state got a new token: the task must resume the live one.
		stored.Token = token
		if _, err := h.Store.UpdateTask(ctx, stored); err != nil {
			return err
		}
	}
	return h.updateRun(ctx, st.Run, func(r *care.Run) { r.Step, r.NextAt = step.ID, nil })
}

// callAt is when to raise a call step planned at `at` whose task ends at
// deadline: at itself when the shop's agents have the step's SLA (at least
// MinCallWindow) of service time between at and deadline; else early
// enough that they do (a call due overnight is raised before closing), but
// never before now. Without a deadline it is at.
func (e *env) callAt(step playbook.Step, at, deadline time.Time) time.Time {
	if deadline.IsZero() {
		return at
	}
	hours, loc := e.shop.HoursOf(), zone(e.shop.Timezone)
	need := max(time.Duration(step.SLA), MinCallWindow)
	have := hours.Between(at, deadline, loc)
	if have >= need {
		return at
	}
	early, ok := hours.Before(at, need-have, loc)
	if !ok || early.Before(e.now) {
		return e.now
	}
	return early
}

// callDeadline is when the call step's task will be cancelled if nobody
// finished it: the end of the token wait (st.Timeout from now) or, for
// unpaid_chase, the order's pay deadline, whichever is first; zero when
// neither is known.
func callDeadline(e *env, st State) time.Time {
	var d time.Time
	if st.Timeout > 0 {
		d = e.now.Add(time.Duration(st.Timeout) * time.Second)
	}
	if e.ref.Workflow == care.UnpaidChase {
		if pay := e.deadline(); !pay.IsZero() && (d.IsZero() || pay.Before(d)) {
			d = pay
		}
	}
	return d
}

// taskRaised reports whether an earlier attempt raised the step's task.
func (h *Handler) taskRaised(ctx context.Context, e *env, stepID string) (bool, error) {
	_, err := h.Store.GetTask(ctx, e.ref.Shop, e.ref.key(stepID))
	if errors.Is(err, care.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// whyOf says, for the agent and in the shop's language, what led to a COD
// call beyond the template's reason, quoting the buyer's reply when there
// was one.
func (h *Handler) whyOf(ctx context.Context, e *env, st State) (string, error) {
	if st.Run.Workflow != care.CODConfirm {
		return "", nil
	}
	a := decodeAnswer(st.Reply)
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
	zh := strings.HasPrefix(e.shop.Locale, "zh")
	why := whyText[key][0]
	if !zh {
		why = whyText[key][1]
	}
	if a.EventID != "" {
		text, err := h.replyText(ctx, e, a.EventID)
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
func (h *Handler) replyText(ctx context.Context, e *env, eventID string) (string, error) {
	ev, err := care.FindEvent(ctx, h.Store, e.ref.Shop, e.ref.Order, eventID)
	if errors.Is(err, care.ErrNotFound) || ev.Reply == nil {
		return "", nil
	}
	return ev.Reply.Text, err
}

func (h *Handler) newTask(e *env, step playbook.Step, why, token string) (care.Task, error) {
	vars := playbook.VarsFor(e.order, e.shop.Name, zone(e.shop.Timezone))
	locale := buyerLocale(e)
	script, _, err := e.tpl.Render(step, "script", locale, vars)
	if err != nil {
		return care.Task{}, &InputError{"render script of " + step.ID + ": " + err.Error()}
	}
	reason, _, err := e.tpl.Render(step, "reason", e.shop.Locale, vars)
	if err != nil {
		return care.Task{}, &InputError{"render reason of " + step.ID + ": " + err.Error()}
	}
	if why != "" {
		reason += " (" + why + ")"
	}
	return care.Task{
		ID: e.ref.key(step.ID), ShopID: e.ref.Shop, OrderID: e.ref.Order, Workflow: e.ref.Workflow, Step: step.ID,
		Reason: reason, Script: script, Tag: step.Tag, Priority: step.Priority, Outcomes: step.Outcomes,
		Order: summary(e.order, e.msgs, zone(e.shop.Timezone)), Status: care.TaskOpen, CreatedAt: e.now.UTC(),
		DueAt: e.now.Add(time.Duration(step.SLA)).UTC(), Token: token,
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
