// Package metrics computes a shop's ops figures on read, from the send
// ledger, the workflow runs and the agent tasks: what was sent to buyers,
// told to the shop, skipped and failed per workflow and step, how many
// chased orders were paid and the GMV they recovered, how COD confirmations
// ended, and how fast agents handled escalated tasks. Nothing is
// pre-aggregated; a report is as fresh as the store.
//
// Every figure counts what happened inside the window [from, to), so the
// figures of two adjacent windows add up to those of their union: ledger
// entries by their time (At), run outcomes by when they were reached
// (OutcomeAt), tasks by when they were opened or completed.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
)

// Source is what Compute reads (a care.CareStore is one).
type Source interface {
	ListMessages(ctx context.Context, shopID string, from, to time.Time, cursor string, limit int) ([]care.Message, string, error)
	ListRuns(ctx context.Context, shopID string, from, to time.Time) ([]care.Run, error)
	ListTasks(ctx context.Context, shopID string, f care.TaskFilter) ([]care.Task, error)
}

// Run outcomes counted by Compute: the one definition of each (the
// workflows record these values).
const (
	OutcomePaid           = steps.OutcomePaid
	OutcomeCODConfirmed   = "cod_confirmed"
	OutcomeCODDeclined    = "cod_declined"
	OutcomeCODUnreachable = "cod_unreachable"
	// OutcomeCODExpired: the call task expired before anyone called.
	OutcomeCODExpired = "cod_expired"
)

// TaskNoteExpired is the OutcomeNote of a task cancelled because it expired
// before an agent finished it (counted as TasksExpired, not completed).
const TaskNoteExpired = "expired"

// Report is a shop's figures over the window [From, To).
type Report struct {
	ShopID    string     `json:"shop_id"`
	From      time.Time  `json:"from"`
	To        time.Time  `json:"to"`
	Workflows []Workflow `json:"workflows"`
}

// Counts are ledger figures: entries with At in the window, by status and
// by whom they are for (care.MessageKind). Pending entries are not counted.
type Counts struct {
	Sent    int `json:"sent"`    // messages sent to the buyer
	Failed  int `json:"failed"`  // messages to the buyer that failed
	Notices int `json:"notices"` // notices sent to the shop (never in Sent)
	// NoticesFailed are notices to the shop that failed.
	NoticesFailed int `json:"notices_failed"`
	// Skipped maps a skip reason to the steps (messages and calls) skipped for it.
	Skipped map[string]int `json:"skipped"`

	// Receipts maps a delivery receipt (delivered, bounced, complained,
	// failed) to the messages whose latest receipt it is; absent when none.
	Receipts map[string]int `json:"receipts,omitempty"`
	// Review counts paid sends whose outcome never came back (failed,
	// outcome_unknown): marked for review, never sent again.
	Review int `json:"review,omitempty"`
	// Segments are the SMS segments of the messages sent (what is billed).
	Segments int `json:"segments,omitempty"`
	// Confirmations are opt-out confirmations sent (at most one per buyer
	// contact and shop); never in Sent.
	Confirmations int `json:"confirmations,omitempty"`
}

// Step is one workflow step's message figures.
type Step struct {
	Step string `json:"step"`
	Counts
}

// Workflow is one workflow's figures over the window.
type Workflow struct {
	Workflow care.Workflow `json:"workflow"`
	Counts
	Steps []Step `json:"steps"` // by step name

	RunsStarted int `json:"runs_started"` // runs started in the window
	// Outcomes counts the runs that reached an outcome in the window, by
	// outcome: every value the runs carry (paid, cod_confirmed, cod_declined,
	// cod_unreachable, error:<name>, …), also ones added after this package.
	Outcomes map[string]int `json:"outcomes"`

	OrdersChased int          `json:"orders_chased"` // unpaid_chase: orders sent at least one message in the window
	ChasedPaid   int          `json:"chased_paid"`   // unpaid_chase: runs that sent a message and were paid in the window
	GMVRecovered care.Decimal `json:"gmv_recovered"` // sum of their values (one currency per shop)

	// cod_confirm runs that ended in the window confirmed, declined or
	// unreachable (Outcomes has these and any other outcome).
	CODConfirmed   int `json:"cod_confirmed"`
	CODDeclined    int `json:"cod_declined"`
	CODUnreachable int `json:"cod_unreachable"`
	CODExpired     int `json:"cod_expired"` // the call task expired: no call was made

	TasksExpired int `json:"tasks_expired"` // cancelled in the window because nobody finished them in time

	TasksOpened    int `json:"tasks_opened"`    // tasks created in the window
	TasksCompleted int `json:"tasks_completed"` // tasks done (an agent's outcome) in the window
	// Medians over the completed tasks, in seconds; null when there are none.
	MedianHandlingSeconds   *float64 `json:"median_handling_seconds"`   // claimed → done
	MedianResolutionSeconds *float64 `json:"median_resolution_seconds"` // created → done

	// TaskOutcomes counts the tasks done in the window by the agent's
	// outcome (refunded, reissued, appeal_won, …).
	TaskOutcomes map[string]int `json:"task_outcomes"`
	// TasksWithinSLA are the tasks done in the window at or before their
	// due time (an appeal's deadline, for a task marked malicious).
	TasksWithinSLA int `json:"tasks_within_sla"`
	// TasksAppealed are the tasks opened in the window an agent marked
	// malicious (care.Task.Appeal); their results are in TaskOutcomes.
	TasksAppealed int `json:"tasks_appealed"`
	// AppealsWon and AppealsLost count the appeals whose result was
	// recorded in the window (care.Task.AppealResult: an agent's
	// POST /v1/tasks/{id}/appeal-result, or the task finished appeal_won
	// or appeal_lost), whenever the task was opened.
	AppealsWon  int `json:"appeals_won"`
	AppealsLost int `json:"appeals_lost"`
	// MedianFirstActionSeconds is the median, over the tasks opened in the
	// window that an agent acted on, of the time from opening to the first
	// action (claim, note, or completion); null when none.
	MedianFirstActionSeconds *float64 `json:"median_first_action_seconds"`

	// Reviews of the runs of a workflow that asks for reviews
	// (steps.Solicitor) whose outcome falls in the window: the review that
	// ended a run (solicited when the run had sent an ask before,
	// unsolicited otherwise), and one posted after a run that sent all its
	// asks (solicited; also counted in ReviewsAfterAsks); with their
	// average first rating (null for none).
	ReviewsAfterAsks     int      `json:"reviews_after_asks,omitempty"`
	SolicitedReviews     int      `json:"solicited_reviews,omitempty"`
	SolicitedAvgRating   *float64 `json:"solicited_avg_rating,omitempty"`
	UnsolicitedReviews   int      `json:"unsolicited_reviews,omitempty"`
	UnsolicitedAvgRating *float64 `json:"unsolicited_avg_rating,omitempty"`

	// Versions are the same run, ledger and task figures per template
	// version the runs pinned, by version.
	Versions []Version `json:"versions"`
}

// Version is one template version's figures within a workflow's.
type Version struct {
	TemplateVersion int            `json:"template_version"`
	RunsStarted     int            `json:"runs_started"`
	Sent            int            `json:"sent"`
	Outcomes        map[string]int `json:"outcomes"`
	TasksOpened     int            `json:"tasks_opened"`
	TaskOutcomes    map[string]int `json:"task_outcomes"`
}

// orderGetter is what Compute reads the reviews of a Solicitor's runs
// with (a care.CareStore is one); without it those figures stay zero.
type orderGetter interface {
	GetOrder(ctx context.Context, shopID, orderID string) (care.OrderState, error)
}

// pageSize is how many ledger entries Compute reads per call.
const pageSize = 1000

// Compute returns the shop's figures over [from, to) for wf, or for every
// registered workflow of ws (zeros included) when wf is "". An unknown wf
// is a *care.FieldError on "workflow"; to not after from one on "to".
// OrdersChased, ChasedPaid and GMVRecovered count the workflows that
// recover payments (steps.Recoverer).
func Compute(ctx context.Context, st Source, ws steps.Workflows, shop string, from, to time.Time, wf care.Workflow) (Report, error) {
	wfs := ws.Names()
	if wf != "" {
		if _, ok := ws.Get(wf); !ok {
			return Report{}, care.Invalid("workflow", "unknown workflow %q", wf)
		}
		wfs = []care.Workflow{wf}
	}
	if !to.After(from) {
		return Report{}, care.Invalid("to", "must be after from")
	}
	by := make(map[care.Workflow]*acc, len(wfs))
	for _, name := range wfs {
		w, _ := ws.Get(name)
		_, recovers := w.(steps.Recoverer)
		sol, _ := w.(steps.Solicitor)
		by[name] = &acc{steps: map[string]*Counts{}, chased: map[string]bool{}, rated: map[string]bool{}, recovers: recovers, solicitor: sol,
			notices: noticeSteps(w), versions: map[int]*Version{}, execVersion: map[string]int{},
			Workflow: Workflow{Counts: newCounts(), Outcomes: map[string]int{}, TaskOutcomes: map[string]int{}}}
	}

	cursor := ""
	for {
		msgs, next, err := st.ListMessages(ctx, shop, from, to, cursor, pageSize)
		if err != nil {
			return Report{}, fmt.Errorf("metrics: list messages: %w", err)
		}
		for _, m := range msgs {
			a := by[m.Workflow]
			if a == nil {
				continue
			}
			if m.Kind == care.KindConfirmation { // no step of the workflow, no chase
				a.Counts.add(m, a.notices)
				continue
			}
			sc := a.steps[m.Step]
			if sc == nil {
				c := newCounts()
				sc = &c
				a.steps[m.Step] = sc
			}
			a.Counts.add(m, a.notices)
			sc.add(m, a.notices)
			if m.Status == care.MessageSent && !isNotice(m, a.notices) {
				a.version(m.TemplateVersion).Sent++
			}
			if a.recovers && m.Status == care.MessageSent && !isNotice(m, a.notices) {
				a.chased[m.OrderID] = true
			}
		}
		if next == "" || next == cursor {
			break
		}
		cursor = next
	}

	// A run reaches its outcome after it starts: every run started before
	// to is read, and counted when its outcome falls in the window.
	runs, err := st.ListRuns(ctx, shop, time.Time{}, to)
	if err != nil {
		return Report{}, fmt.Errorf("metrics: list runs: %w", err)
	}
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	for _, r := range runs {
		a := by[r.Workflow]
		if a == nil {
			continue
		}
		if r.Execution != "" {
			a.execVersion[r.Execution] = r.TemplateVersion
		}
		if in(r.StartedAt) {
			a.RunsStarted++
			a.version(r.TemplateVersion).RunsStarted++
		}
		if r.Outcome == "" || !in(outcomeAt(r)) {
			continue
		}
		a.Outcomes[r.Outcome]++
		v := a.version(r.TemplateVersion)
		v.Outcomes[r.Outcome]++
		if a.solicitor != nil && (r.Outcome == a.solicitor.ReviewedOutcome() || r.Outcome == a.solicitor.AskedOutcome()) {
			if err := a.rate(ctx, st, r); err != nil {
				return Report{}, err
			}
		}
		switch r.Outcome {
		case OutcomePaid:
			if a.recovers && r.Sent >= 1 {
				a.ChasedPaid++
				a.gmv = append(a.gmv, r.Value)
			}
		case OutcomeCODConfirmed:
			a.CODConfirmed++
		case OutcomeCODDeclined:
			a.CODDeclined++
		case OutcomeCODUnreachable:
			a.CODUnreachable++
		case OutcomeCODExpired:
			a.CODExpired++
		}
	}

	tasks, err := st.ListTasks(ctx, shop, care.TaskFilter{})
	if err != nil {
		return Report{}, fmt.Errorf("metrics: list tasks: %w", err)
	}
	for _, t := range tasks {
		a := by[t.Workflow]
		if a == nil {
			continue
		}
		v := a.version(a.execVersion[execOf(t.ID)])
		if in(t.CreatedAt) {
			a.TasksOpened++
			v.TasksOpened++
			if t.Appeal != nil {
				a.TasksAppealed++
			}
			if first := firstAction(t); first != nil {
				a.firstAction = append(a.firstAction, first.Sub(t.CreatedAt).Seconds())
			}
		}
		if res, at := t.AppealResult(); at != nil && in(*at) {
			switch res {
			case care.AppealWon:
				a.AppealsWon++
			case care.AppealLost:
				a.AppealsLost++
			}
		}
		if t.Status == care.TaskCancelled && t.OutcomeNote == TaskNoteExpired && t.DoneAt != nil && in(*t.DoneAt) {
			a.TasksExpired++
		}
		if t.Status == care.TaskDone && t.DoneAt != nil && in(*t.DoneAt) {
			a.TasksCompleted++
			a.TaskOutcomes[t.Outcome]++
			v.TaskOutcomes[t.Outcome]++
			if !t.DoneAt.After(t.DueAt) {
				a.TasksWithinSLA++
			}
			a.resolution = append(a.resolution, t.DoneAt.Sub(t.CreatedAt).Seconds())
			if t.ClaimedAt != nil {
				a.handling = append(a.handling, t.DoneAt.Sub(*t.ClaimedAt).Seconds())
			}
		}
	}

	rep := Report{ShopID: shop, From: from.UTC(), To: to.UTC(), Workflows: make([]Workflow, 0, len(wfs))}
	for _, w := range wfs {
		rep.Workflows = append(rep.Workflows, by[w].report(w))
	}
	return rep, nil
}

type acc struct {
	Workflow
	solicitor            steps.Solicitor
	versions             map[int]*Version
	execVersion          map[string]int // a run's execution → its template version
	firstAction          []float64
	solicited, unsolic   []float64
	steps                map[string]*Counts
	chased               map[string]bool // orders sent a chase message
	rated                map[string]bool // orders whose review is counted (one per order, whatever its runs: per parcel)
	recovers             bool            // the workflow is a steps.Recoverer
	notices              map[string]bool // its default template's notify_shop steps
	gmv                  []care.Decimal
	handling, resolution []float64
}

func newCounts() Counts { return Counts{Skipped: map[string]int{}} }

func (c *Counts) add(m care.Message, notices map[string]bool) {
	if m.Kind == care.KindConfirmation {
		if m.Status == care.MessageSent {
			c.Confirmations++
		}
		return
	}
	notice := isNotice(m, notices)
	switch {
	case m.Status == care.MessageSent && notice:
		c.Notices++
	case m.Status == care.MessageSent:
		c.Sent++
	case m.Status == care.MessageFailed && notice:
		c.NoticesFailed++
	case m.Status == care.MessageFailed:
		c.Failed++
	case m.Status == care.MessageSkipped:
		c.Skipped[m.Reason]++
	}
	if m.Receipt != "" {
		if c.Receipts == nil {
			c.Receipts = map[string]int{}
		}
		c.Receipts[m.Receipt]++
	}
	if m.Status == care.MessageFailed && m.Reason == "outcome_unknown" {
		c.Review++
	}
	if m.Status == care.MessageSent {
		c.Segments += m.Segments
	}
}

var noticeCache sync.Map // care.Workflow → map[string]bool

// isNotice reports whether a ledger entry is a notice to the shop. Entries
// written before entries had a kind are recognised by their step: one of
// the workflow's notify_shop steps (notices).
func isNotice(m care.Message, notices map[string]bool) bool {
	if m.Kind != "" {
		return m.Kind == care.KindNotice
	}
	return notices[m.Step]
}

// noticeSteps are the notify_shop steps of w's default template, parsed
// once per workflow name.
func noticeSteps(w steps.Workflow) map[string]bool {
	if v, ok := noticeCache.Load(w.Name()); ok {
		return v.(map[string]bool)
	}
	out := map[string]bool{}
	defer noticeCache.Store(w.Name(), out)
	t, err := playbook.Parse(w.Name(), w.DefaultTemplate())
	if err != nil {
		return out
	}
	for _, s := range t.Steps {
		if s.Action == playbook.ActionNotifyShop {
			out[s.ID] = true
		}
	}
	return out
}

// outcomeAt is when a run reached its outcome: OutcomeAt, else (a run
// marked failed) when it was last updated.
func outcomeAt(r care.Run) time.Time {
	if r.OutcomeAt != nil {
		return *r.OutcomeAt
	}
	return r.UpdatedAt
}

func (a *acc) report(wf care.Workflow) Workflow {
	out := a.Workflow
	out.Workflow = wf
	out.GMVRecovered = care.AddDecimals(a.gmv...)
	out.OrdersChased = len(a.chased)
	out.Steps = make([]Step, 0, len(a.steps))
	for name, c := range a.steps {
		out.Steps = append(out.Steps, Step{Step: name, Counts: *c})
	}
	slices.SortFunc(out.Steps, func(x, y Step) int { return strings.Compare(x.Step, y.Step) })
	out.MedianHandlingSeconds = median(a.handling)
	out.MedianResolutionSeconds = median(a.resolution)
	out.MedianFirstActionSeconds = median(a.firstAction)
	out.SolicitedReviews, out.SolicitedAvgRating = len(a.solicited), mean(a.solicited)
	out.UnsolicitedReviews, out.UnsolicitedAvgRating = len(a.unsolic), mean(a.unsolic)
	out.Versions = make([]Version, 0, len(a.versions))
	for _, v := range a.versions {
		out.Versions = append(out.Versions, *v)
	}
	slices.SortFunc(out.Versions, func(x, y Version) int { return x.TemplateVersion - y.TemplateVersion })
	return out
}

func (a *acc) version(n int) *Version {
	v := a.versions[n]
	if v == nil {
		v = &Version{TemplateVersion: n, Outcomes: map[string]int{}, TaskOutcomes: map[string]int{}}
		a.versions[n] = v
	}
	return v
}

// rate reads the review that ended run r (its order's earliest review) and
// counts its first rating, solicited when the run had sent an ask.
func (a *acc) rate(ctx context.Context, st Source, r care.Run) error {
	g, ok := st.(orderGetter)
	if !ok {
		return nil
	}
	o, err := g.GetOrder(ctx, r.ShopID, r.OrderID)
	if errors.Is(err, care.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("metrics: get order: %w", err)
	}
	if len(o.Reviews) == 0 {
		return nil
	}
	first := o.Reviews[0]
	if a.rated[r.OrderID] {
		return nil // counted with another run of the order (one per parcel)
	}
	if r.Outcome == a.solicitor.AskedOutcome() {
		if first.FirstAt.Before(r.StartedAt) {
			return nil // reviewed before the asks: not this run's
		}
		a.ReviewsAfterAsks++
	}
	a.rated[r.OrderID] = true
	rating := float64(first.FirstRating)
	if r.Sent > 0 {
		a.solicited = append(a.solicited, rating)
	} else {
		a.unsolic = append(a.unsolic, rating)
	}
	return nil
}

// execOf is the execution of a task id (<execution>.<step>).
func execOf(taskID string) string {
	if i := strings.LastIndexByte(taskID, '.'); i > 0 {
		return taskID[:i]
	}
	return ""
}

// firstAction is when an agent first acted on t: the earliest of its
// claim, notes and completion by an agent; nil when none did.
func firstAction(t care.Task) *time.Time {
	var first *time.Time
	consider := func(at *time.Time) {
		if at != nil && (first == nil || at.Before(*first)) {
			first = at
		}
	}
	consider(t.ClaimedAt)
	for i := range t.Notes {
		consider(&t.Notes[i].At)
	}
	if t.Status == care.TaskDone {
		consider(t.DoneAt)
	}
	return first
}

func mean(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	m := sum / float64(len(xs))
	return &m
}

// median returns the middle value (the mean of the two middle ones for an
// even count), or nil for none.
func median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	slices.Sort(xs)
	m := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		m = (xs[len(xs)/2-1] + m) / 2
	}
	return &m
}
