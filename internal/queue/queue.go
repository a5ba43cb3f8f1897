// Package queue is the agent task queue: the domain rules over stored
// care.Tasks that escalated work follows. Agents list tasks, claim one for a
// lease, add notes and complete it with one of the task's outcomes; the
// outcome then resumes the Step Functions execution that raised the task.
//
// Every state change is an optimistic write (care.Tasks.UpdateTask with the
// task's Rev): when another writer moved the task in between, the task is
// read again and the rule decided afresh, so two agents racing for one task
// end with exactly one holder and the other gets care.ErrConflict.
//
// Nothing here logs, and the output handed to the execution carries no
// personal data (the outcome and the agent's name only).
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
)

// DefaultLease is how long a claim holds a task when Queue.Lease is zero.
const DefaultLease = 15 * time.Minute

// Limits on what agents type.
const (
	MaxAgent = 64   // characters in an agent name
	MaxText  = 2000 // characters in a note or an outcome note
)

// ResumeHold is how long a completion's resume is taken to be in flight:
// a repeated completion within it is refused (care.ErrConflict), one after
// it retries the resume. It bounds one SendTaskSuccess call with margin.
const ResumeHold = time.Minute

// maxAttempts bounds the re-read-and-retry loop of one optimistic write.
const maxAttempts = 8

// Resumer delivers a completed task's outcome to the waiting Step Functions
// execution (SendTaskSuccess). It returns nil also when the token is already
// closed (the execution was stopped or the task timed out): the outcome then
// has nowhere to go.
type Resumer interface {
	ResumeTask(ctx context.Context, token string, output []byte) error
}

// ResumerFunc adapts a function to Resumer.
type ResumerFunc func(ctx context.Context, token string, output []byte) error

// ResumeTask calls f.
func (f ResumerFunc) ResumeTask(ctx context.Context, token string, output []byte) error {
	return f(ctx, token, output)
}

// Queue applies the task rules. Store and Clock are required; Resumer may
// be nil (completions then stay unresumed until ResumePending runs with
// one). A Queue is safe for concurrent use when its Store is.
type Queue struct {
	Store   care.Tasks
	Clock   clock.Clock
	Resumer Resumer
	Lease   time.Duration // how long a claim holds; DefaultLease when zero
}

// View is a task as agents see it at a moment: its effective status and
// priority, and whether its SLA is breached. The embedded Task's Token,
// Resumed and Rev are never serialised.
type View struct {
	care.Task
	Breached bool `json:"breached"` // open or claimed past DueAt (Priority is then 1), or finished after DueAt
}

// Effective returns t as it stands at now: a claimed task whose LeaseUntil
// is at or before now is open again (Agent, LeaseUntil and ClaimedAt
// cleared); an open or claimed task past its DueAt is breached and its
// priority becomes 1. Done and cancelled tasks are returned as stored, and
// keep their breach: one finished (DoneAt) after its DueAt is breached.
func Effective(t care.Task, now time.Time) View {
	if t.Status == care.TaskClaimed && (t.LeaseUntil == nil || !t.LeaseUntil.After(now)) {
		t.Status, t.Agent, t.LeaseUntil, t.ClaimedAt = care.TaskOpen, "", nil, nil
	}
	v := View{Task: t}
	switch {
	case t.DueAt.IsZero():
	case t.Status == care.TaskOpen || t.Status == care.TaskClaimed:
		if now.After(t.DueAt) {
			v.Breached = true
			v.Priority = 1
		}
	case t.DoneAt != nil:
		v.Breached = t.DoneAt.After(t.DueAt)
	}
	return v
}

func (q *Queue) lease() time.Duration {
	if q.Lease > 0 {
		return q.Lease
	}
	return DefaultLease
}

// ValidStatus reports whether s is one of the four task statuses.
func ValidStatus(s care.TaskStatus) bool {
	switch s {
	case care.TaskOpen, care.TaskClaimed, care.TaskDone, care.TaskCancelled:
		return true
	}
	return false
}

// List returns the shop's tasks whose effective status is status, most
// urgent first: effective priority ascending, then DueAt, then ID. A bad
// status is a *care.FieldError on "status".
func (q *Queue) List(ctx context.Context, shop string, status care.TaskStatus) ([]View, error) {
	if !ValidStatus(status) {
		return nil, care.Invalid("status", "one of open, claimed, done, cancelled")
	}
	stored := []care.TaskStatus{status}
	if status == care.TaskOpen || status == care.TaskClaimed {
		// A claimed task with a lapsed lease is effectively open.
		stored = []care.TaskStatus{care.TaskOpen, care.TaskClaimed}
	}
	ts, err := q.Store.ListTasks(ctx, shop, care.TaskFilter{Statuses: stored})
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	now := q.Clock.Now()
	out := make([]View, 0, len(ts))
	for _, t := range ts {
		if v := Effective(t, now); v.Status == status {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b View) int {
		if a.Priority != b.Priority {
			return a.Priority - b.Priority
		}
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Get returns one task's view, or care.ErrNotFound.
func (q *Queue) Get(ctx context.Context, shop, id string) (View, error) {
	t, err := q.Store.GetTask(ctx, shop, id)
	if err != nil {
		return View{}, err
	}
	return Effective(t, q.Clock.Now()), nil
}

func validateAgent(agent string) error {
	if strings.TrimSpace(agent) == "" || utf8.RuneCountInString(agent) > MaxAgent {
		return care.Invalid("agent", "required, at most %d characters", MaxAgent)
	}
	return nil
}

func validateText(field, text string, required bool) error {
	n := utf8.RuneCountInString(text)
	if (required && strings.TrimSpace(text) == "") || n > MaxText {
		if required {
			return care.Invalid(field, "required, at most %d characters", MaxText)
		}
		return care.Invalid(field, "at most %d characters", MaxText)
	}
	return nil
}

// errSkip tells update that the decision needs no write.
var errSkip = errors.New("queue: nothing to write")

// update reads the task, lets decide change it (given the effective view at
// now), and writes it with the read Rev; when another writer moved the Rev
// in between it reads again and decides afresh. It returns the written task
// (or the read one when decide returned errSkip).
func (q *Queue) update(ctx context.Context, shop, id string, decide func(t *care.Task, v View, now time.Time) error) (care.Task, time.Time, error) {
	for range maxAttempts {
		t, err := q.Store.GetTask(ctx, shop, id)
		if err != nil {
			return care.Task{}, time.Time{}, err
		}
		now := q.Clock.Now()
		if err := decide(&t, Effective(t, now), now); errors.Is(err, errSkip) {
			return t, now, nil
		} else if err != nil {
			return care.Task{}, now, err
		}
		t2, err := q.Store.UpdateTask(ctx, t)
		if errors.Is(err, care.ErrConflict) {
			continue
		}
		if err != nil {
			return care.Task{}, now, fmt.Errorf("update task %s: %w", id, err)
		}
		return t2, now, nil
	}
	return care.Task{}, time.Time{}, fmt.Errorf("task %s: too many concurrent writers: %w", id, care.ErrConflict)
}

func closedErr(v View) error {
	return fmt.Errorf("task %s is %s: %w", v.ID, v.Status, care.ErrConflict)
}

func heldErr(v View) error {
	return fmt.Errorf("task %s is claimed by another agent until %s: %w", v.ID, v.LeaseUntil.UTC().Format(time.RFC3339), care.ErrConflict)
}

// Claim gives the task to agent for the lease (now + Lease). Claiming a
// task one already holds extends the lease. care.ErrConflict when another
// agent holds a valid lease or the task is done or cancelled; ErrNotFound
// for an unknown task; a *care.FieldError on "agent" for a bad name.
func (q *Queue) Claim(ctx context.Context, shop, id, agent string) (View, error) {
	if err := validateAgent(agent); err != nil {
		return View{}, err
	}
	t, now, err := q.update(ctx, shop, id, func(t *care.Task, v View, now time.Time) error {
		switch {
		case v.Status == care.TaskDone || v.Status == care.TaskCancelled:
			return closedErr(v)
		case v.Status == care.TaskClaimed && v.Agent != agent:
			return heldErr(v)
		}
		if v.Status == care.TaskOpen { // a fresh claim (also after a lapsed lease)
			claimed := now
			t.ClaimedAt = &claimed
		}
		until := now.Add(q.lease())
		t.Status, t.Agent, t.LeaseUntil = care.TaskClaimed, agent, &until
		return nil
	})
	if err != nil {
		return View{}, err
	}
	return Effective(t, now), nil
}

// AddNote appends agent's note to the task, whatever its status but
// cancelled (care.ErrConflict). Text is 1..MaxText characters.
func (q *Queue) AddNote(ctx context.Context, shop, id, agent, text string) (View, error) {
	if err := validateAgent(agent); err != nil {
		return View{}, err
	}
	if err := validateText("text", text, true); err != nil {
		return View{}, err
	}
	t, now, err := q.update(ctx, shop, id, func(t *care.Task, v View, now time.Time) error {
		if v.Status == care.TaskCancelled {
			return closedErr(v)
		}
		t.Notes = append(slices.Clip(t.Notes), care.Note{Agent: agent, Text: text, At: now})
		return nil
	})
	if err != nil {
		return View{}, err
	}
	return Effective(t, now), nil
}

// Complete records agent's outcome (one of the task's Outcomes, else a
// *care.FieldError on "outcome") with an optional note, then resumes the
// execution. care.ErrConflict when the task is already done (a second
// completion), cancelled, or held by another agent with a valid lease. An
// open task may be completed without a claim.
//
// The completion is stored first; if resuming then fails, the completion
// stands with Resumed false and Complete returns the view with a
// *ResumeError. The same completion again (same agent and outcome) then
// retries the resume instead of answering ErrConflict; so does
// ResumePending.
//
// Of many completions at once exactly one succeeds: the stored completion
// carries ResumingUntil (now + ResumeHold) while its caller resumes, and a
// repeat in that time, even the same one, gets care.ErrConflict. A repeat
// retries the resume only after the resume failed or the hold lapsed (its
// caller died), and of such retries too the one conditional write that
// takes the hold over wins.
func (q *Queue) Complete(ctx context.Context, shop, id, agent, outcome, note string) (View, error) {
	if err := validateAgent(agent); err != nil {
		return View{}, err
	}
	if err := validateText("note", note, false); err != nil {
		return View{}, err
	}
	t, now, err := q.update(ctx, shop, id, func(t *care.Task, v View, now time.Time) error {
		switch {
		case v.Status == care.TaskDone && !t.Resumed && t.Agent == agent && t.Outcome == outcome &&
			(t.ResumingUntil == nil || !now.Before(*t.ResumingUntil)):
			// The same completion again after its resume failed (or its
			// resumer died): take the retry over. The write is conditional
			// on the read Rev, so of many such retries exactly one wins.
			hold := now.Add(ResumeHold)
			t.ResumingUntil = &hold
			return nil
		case v.Status == care.TaskDone && !t.Resumed && t.Agent == agent && t.Outcome == outcome:
			return fmt.Errorf("task %s is done and its outcome is being delivered: %w", v.ID, care.ErrConflict)
		case v.Status == care.TaskDone || v.Status == care.TaskCancelled:
			return closedErr(v)
		case v.Status == care.TaskClaimed && v.Agent != agent:
			return heldErr(v)
		}
		if !slices.Contains(t.Outcomes, outcome) {
			return care.Invalid("outcome", "must be one of %s", strings.Join(t.Outcomes, ", "))
		}
		if v.Status == care.TaskOpen && (t.ClaimedAt == nil || t.Agent != agent) {
			claimed := now // completed without (or after losing) a claim: handling starts now
			t.ClaimedAt = &claimed
		}
		done, hold := now, now.Add(ResumeHold)
		t.Status, t.Agent, t.LeaseUntil = care.TaskDone, agent, nil
		t.Outcome, t.OutcomeNote, t.DoneAt = outcome, note, &done
		if q.Resumer != nil {
			t.ResumingUntil = &hold // this call resumes; a repeat meanwhile is refused
		}
		return nil
	})
	if err != nil {
		return View{}, err
	}
	// The completion is stored: finish the resume even if the caller goes away.
	if q.Resumer == nil {
		return Effective(t, now), nil // nothing to resume with here; ResumePending elsewhere will
	}
	rt, err := q.resume(context.WithoutCancel(ctx), t)
	if err != nil {
		// Let the same completion again retry at once (not after ResumeHold).
		if ft, _, uerr := q.update(context.WithoutCancel(ctx), shop, id, func(s *care.Task, _ View, _ time.Time) error {
			if s.Resumed || s.ResumingUntil == nil || t.ResumingUntil == nil || !s.ResumingUntil.Equal(*t.ResumingUntil) {
				return errSkip // resumed meanwhile, or another retry took over
			}
			s.ResumingUntil = nil
			return nil
		}); uerr == nil {
			t = ft
		}
		return Effective(t, now), &ResumeError{Err: err}
	}
	return Effective(rt, now), nil
}

// ResumeError says a completion was stored but its outcome has not reached
// the waiting workflow yet. Completing again with the same agent and
// outcome retries the resume (ResumePending does too).
type ResumeError struct{ Err error }

func (e *ResumeError) Error() string {
	return "the outcome is saved but the workflow was not resumed yet: " + e.Err.Error()
}
func (e *ResumeError) Unwrap() error { return e.Err }

// Output is what a completed task hands to its execution: the outcome and
// who decided it, never anything about the buyer.
type Output struct {
	Outcome string `json:"outcome"`
	Agent   string `json:"agent"`
}

// resume sends a done task's outcome to its execution and records Resumed.
// Exactly-once delivery is Step Functions' own guarantee: a task token
// succeeds once, and a second SendTaskSuccess (a concurrent sweeper, a retry
// after a crash between the send and the write) finds the token closed,
// which the Resumer reports as success.
func (q *Queue) resume(ctx context.Context, t care.Task) (care.Task, error) {
	if t.Resumed {
		return t, nil
	}
	if t.Token != "" {
		if q.Resumer == nil {
			return t, errors.New("queue: no resumer configured")
		}
		out, err := json.Marshal(Output{Outcome: t.Outcome, Agent: t.Agent})
		if err != nil {
			return t, err
		}
		if err := q.Resumer.ResumeTask(ctx, t.Token, out); err != nil {
			return t, fmt.Errorf("resume task %s: %w", t.ID, err)
		}
	} // without a token there is no execution to resume: mark it so the sweeper stops
	t2, _, err := q.update(ctx, t.ShopID, t.ID, func(s *care.Task, _ View, _ time.Time) error {
		if s.Resumed || s.Status != care.TaskDone {
			return errSkip
		}
		s.Resumed, s.ResumingUntil = true, nil
		return nil
	})
	return t2, err
}

// ResumePending resumes every done task of the shop whose outcome has not
// reached its execution yet (a failed resume at completion), and returns
// how many it resumed now. Failures are joined into the error; the others
// are still attempted. With no Resumer it does nothing.
func (q *Queue) ResumePending(ctx context.Context, shop string) (int, error) {
	if q.Resumer == nil {
		return 0, nil
	}
	ts, err := q.Store.ListTasks(ctx, shop, care.TaskFilter{Statuses: []care.TaskStatus{care.TaskDone}})
	if err != nil {
		return 0, fmt.Errorf("list done tasks: %w", err)
	}
	slices.SortFunc(ts, func(a, b care.Task) int { return strings.Compare(a.ID, b.ID) })
	n := 0
	var errs []error
	now := q.Clock.Now()
	for _, t := range ts {
		if t.Resumed || (t.ResumingUntil != nil && now.Before(*t.ResumingUntil)) {
			continue // done, or its completion is delivering it right now
		}
		if _, err := q.resume(ctx, t); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// Cancel cancels the open and claimed tasks of one order and workflow
// (the router calls it when an order is paid or cancelled, so no agent
// phones a buyer who already paid); reason becomes their OutcomeNote. It
// returns how many it cancelled.
func (q *Queue) Cancel(ctx context.Context, shop, orderID string, wf care.Workflow, reason string) (int, error) {
	ts, err := q.Store.ListTasks(ctx, shop, care.TaskFilter{OrderID: orderID,
		Statuses: []care.TaskStatus{care.TaskOpen, care.TaskClaimed}})
	if err != nil {
		return 0, fmt.Errorf("list tasks of order %s: %w", orderID, err)
	}
	n := 0
	for _, t := range ts {
		if t.Workflow != wf {
			continue
		}
		cancelled, err := q.CancelTask(ctx, shop, t.ID, reason)
		if err != nil {
			return n, err
		}
		if cancelled {
			n++
		}
	}
	return n, nil
}

// CancelTask cancels one task if it is open or claimed, and reports whether
// it did; an absent, done or cancelled task is left as it is (no error).
func (q *Queue) CancelTask(ctx context.Context, shop, id, reason string) (bool, error) {
	cancelled := false
	_, _, err := q.update(ctx, shop, id, func(s *care.Task, _ View, now time.Time) error {
		cancelled = false
		if s.Status != care.TaskOpen && s.Status != care.TaskClaimed {
			return errSkip
		}
		at := now
		s.Status, s.Agent, s.LeaseUntil = care.TaskCancelled, "", nil
		s.OutcomeNote, s.DoneAt = reason, &at
		cancelled = true
		return nil
	})
	if errors.Is(err, care.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cancel task %s: %w", id, err)
	}
	return cancelled, nil
}

// SetAppealResult records the platform's decision on the task's appeal
// (care.AppealWon or care.AppealLost), by agent, with an optional note, at
// any status of the task: the decision often comes after the task ended.
// Recording the same result again changes nothing. A *care.FieldError
// (care.ErrInvalid) for a bad result, agent or note; care.ErrConflict when
// the task is not marked malicious or has the other result already;
// ErrNotFound for an unknown task. It does not resume the workflow.
func (q *Queue) SetAppealResult(ctx context.Context, shop, id, agent, result, note string) (View, error) {
	agent = strings.TrimSpace(agent)
	switch {
	case result != care.AppealWon && result != care.AppealLost:
		return View{}, care.Invalid("result", "must be %s or %s", care.AppealWon, care.AppealLost)
	case agent == "" || utf8.RuneCountInString(agent) > 64:
		return View{}, care.Invalid("agent", "required, at most 64 characters")
	case utf8.RuneCountInString(note) > 2000:
		return View{}, care.Invalid("note", "at most 2000 characters")
	}
	t, now, err := q.update(ctx, shop, id, func(t *care.Task, v View, now time.Time) error {
		switch {
		case t.Appeal == nil:
			return fmt.Errorf("task %s is not marked malicious: no appeal to record a result for: %w", id, care.ErrConflict)
		case t.Appeal.Result == result:
			return errSkip
		case t.Appeal.Result != "":
			return fmt.Errorf("task %s's appeal was recorded %s already: %w", id, t.Appeal.Result, care.ErrConflict)
		}
		at := now.UTC()
		a := *t.Appeal
		a.Result, a.ResultNote, a.ResultBy, a.ResultAt = result, note, agent, &at
		t.Appeal = &a
		return nil
	})
	if err != nil {
		return View{}, err
	}
	return Effective(t, now), nil
}

// SetAppeal marks the task's review malicious with appeal a: the task
// carries it, and its SLA (DueAt) becomes the appeal's deadline. A second
// mark replaces the first. care.ErrConflict when the task is done or
// cancelled; ErrNotFound for an unknown task.
func (q *Queue) SetAppeal(ctx context.Context, shop, id string, a care.Appeal) (View, error) {
	t, now, err := q.update(ctx, shop, id, func(t *care.Task, v View, now time.Time) error {
		if v.Status == care.TaskDone || v.Status == care.TaskCancelled {
			return closedErr(v)
		}
		t.Appeal = &a
		t.DueAt = a.Deadline.UTC()
		return nil
	})
	if err != nil {
		return View{}, err
	}
	return Effective(t, now), nil
}
