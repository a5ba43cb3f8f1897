package stalledparcel

import (
	"context"
	"errors"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
)

// The workflow's own actions, as its state machine names them.
const (
	ActionCheck  = "stalled_check"  // Check
	ActionRecord = "stalled_record" // Record, after each Call
)

// KindWait is the answer of Check and Record when the run sleeps until
// $.at and checks again.
const KindWait = "wait"

// Outcomes a stalled_parcel run ends with (care.Run.Outcome) besides the
// agent's own (the call steps' outcomes).
const (
	OutcomeResumed = "scan_resumed" // a new scan ended the stall before an agent closed the task
)

// ReasonScanned is the OutcomeNote of a chase task cancelled because the
// parcel was scanned again.
const ReasonScanned = "scanned"

// Actions implements steps.Workflow.
func (Workflow) Actions() map[string]steps.Action {
	return map[string]steps.Action{
		ActionCheck: func(ctx context.Context, h *steps.Handler, in steps.Input) (steps.State, error) {
			return check(ctx, h, in.State)
		},
		ActionRecord: func(ctx context.Context, h *steps.Handler, in steps.Input) (steps.State, error) {
			return record(ctx, h, in.State)
		},
	}
}

// lastScan is the time the parcel's stall is counted from: its carrier's
// last scan, else when it was first reported (a label with no pickup).
func lastScan(p *care.Parcel) time.Time {
	switch {
	case p.LastScanAt != nil:
		return *p.LastScanAt
	case p.FirstSeen != nil:
		return p.FirstSeen.At
	}
	return p.ReportedAt
}

// StallDue is when parcel p of order o counts as stalled, by template tpl
// and the shop's hours and zone.
func StallDue(tpl *playbook.Template, shop care.Shop, o care.OrderState, p *care.Parcel) time.Time {
	pr := params(tpl)
	return AddBusinessDays(lastScan(p), pr.Threshold(o, p), shop.HoursOf(), pr.Holidays, steps.Zone(shop.Timezone))
}

// check is the Check state, and what Record does after a Call timed out.
// The watching run sleeps until the parcel's stall is due (a newer scan
// moves it; a parcel in an alert status is left to that status's run);
// when a task it opened is still open and the parcel was scanned since,
// the task is cancelled and the run ends (scan_resumed). A stalled parcel,
// or an alert run's parcel: the buyer is told once (now, or when quiet
// hours and min_gap allow) and the agent's task is raised or kept open,
// re-checked every params.recheck.
func check(ctx context.Context, h *steps.Handler, st steps.State) (steps.State, error) {
	e, err := h.Load(ctx, st.Run)
	if err != nil {
		return steps.State{}, err
	}
	if e.Unwanted() != "" || (Workflow{}).SubjectPointless(e.Order, st.Run.Subject) != "" {
		return h.Done(ctx, e, "")
	}
	tn, alert := splitSubject(st.Run.Subject)
	p := e.Order.Parcel(tn)
	msgStep, callStep := Steps(alert)
	task, raised, err := getTask(ctx, h, e, callStep)
	if err != nil {
		return steps.State{}, err
	}
	if raised && (task.Status == care.TaskDone || task.Status == care.TaskCancelled) {
		return h.Done(ctx, e, task.Outcome)
	}
	recheck := params(e.Tpl).Recheck.Std()
	if alert == "" {
		due := StallDue(e.Tpl, e.Shop, e.Order, p)
		if isAlert(p.Status) || p.Status == care.ShipAvailableForPickup {
			// An alert run has the task; a parcel at a pickup point waits
			// for the buyer, not the carrier (pickup_nudge's part), so no
			// scan is due: look again later.
			return sleep(ctx, h, e, st, maxTime(due, e.Now.Add(recheck)), "")
		}
		if e.Now.Before(due) {
			if raised {
				if _, err := h.Queue().CancelTask(ctx, e.Ref.Shop, task.ID, ReasonScanned); err != nil {
					return steps.State{}, err
				}
				return h.Done(ctx, e, OutcomeResumed)
			}
			return sleep(ctx, h, e, st, due, "")
		}
	}
	// Stalled, or an alert: tell the buyer once, keep the task open.
	tellAt, pending := time.Time{}, false
	if _, ended := e.Ended(msgStep); !ended {
		tellAt = tellTime(e)
		if !tellAt.After(e.Now) {
			step, _, ok := e.Tpl.Step(msgStep)
			if !ok {
				return steps.State{}, &steps.InputError{Reason: "the pinned template has no step " + msgStep}
			}
			if _, err := h.SendStep(ctx, e, step); err != nil {
				return steps.State{}, err
			}
		} else {
			pending = true
		}
	}
	next := e.Now.Add(recheck)
	if pending && tellAt.Before(next) {
		next = tellAt
	}
	if !raised && e.Shop.HoursOf().Between(e.Now, next, e.ShopZone()) < steps.MinCallWindow {
		// Nobody works before the next look (the night): raise the task
		// then, with the buyer's message.
		return sleep(ctx, h, e, st, next, callStep)
	}
	return steps.State{Run: st.Run, Step: callStep, Kind: steps.KindCall, Timeout: steps.SecondsUntil(e.Now, next, recheck)}, nil
}

// record is the Record state, after the Call state: an agent's outcome
// ends the run; a call skipped because nobody works before it would end
// waits for the shop to open; the kernel's other skips (cancelled) end the
// run; a timeout is a re-check (check).
func record(ctx context.Context, h *steps.Handler, st steps.State) (steps.State, error) {
	a := steps.DecodeAnswer(st.Outcome)
	if a.Outcome == "" && a.Skipped == "" {
		return check(ctx, h, st)
	}
	e, err := h.Load(ctx, st.Run)
	if err != nil {
		return steps.State{}, err
	}
	if a.Outcome != "" {
		return h.Done(ctx, e, a.Outcome)
	}
	if a.Skipped == steps.ReasonOutsideHours {
		if at, ok := e.Shop.HoursOf().NextOpen(e.Now, e.ShopZone()); ok && at.After(e.Now) {
			return sleep(ctx, h, e, st, at, st.Step)
		}
	}
	_, callStep := Steps(alertOf(st.Run.Subject))
	if _, err := h.Queue().CancelTask(ctx, e.Ref.Shop, e.Ref.Key(callStep), a.Skipped); err != nil {
		return steps.State{}, err
	}
	return h.Done(ctx, e, "")
}

func alertOf(subject string) care.ShipmentStatus {
	_, a := splitSubject(subject)
	return a
}

// sleep answers "wait until at", showing step and at on the run.
func sleep(ctx context.Context, h *steps.Handler, e *steps.Env, st steps.State, at time.Time, step string) (steps.State, error) {
	w := steps.WaitUntil(at)
	if !w.After(e.Now) {
		w = steps.WaitUntil(e.Now.Add(time.Second))
	}
	out := steps.State{Run: st.Run, Kind: KindWait, At: w, Step: step}
	return out, h.UpdateRun(ctx, st.Run, func(r *care.Run) { r.Step, r.NextAt = step, w })
}

// tellTime is when the buyer may be messaged (steps.Env.MessageAt).
func tellTime(e *steps.Env) time.Time { return e.MessageAt(e.Now) }

func getTask(ctx context.Context, h *steps.Handler, e *steps.Env, step string) (care.Task, bool, error) {
	t, err := h.Store.GetTask(ctx, e.Ref.Shop, e.Ref.Key(step))
	if errors.Is(err, care.ErrNotFound) {
		return care.Task{}, false, nil
	}
	return t, err == nil, err
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
