// Package stalledparcel is the stalled_parcel workflow (domain.md 5): one
// run per parcel (the subject is its tracking number) watches for a stall:
// no carrier scan for longer than the template's threshold (per carrier,
// domestic or cross-border, in business days: the shop's service-hours
// weekdays minus params.holidays). A stalled parcel opens an agent task to
// chase the carrier (tag logistics) and tells the buyer once that the shop
// is following up; a new scan ends the stall (the task is cancelled at the
// next re-check and the run ends). A parcel in exception, attempt_failed or
// returning gets a run of its own (subject "<tracking number>#<status>"),
// started by the router on the update that reports it: an immediate agent
// task and its own buyer script; leaving that status stops the run.
//
// Transitions come from deadlines passing, not from scans arriving: the
// watching run sleeps until last scan + threshold, then re-reads the
// parcel; a scan that came meanwhile only moves the next wake-up.
package stalledparcel

import (
	"context"
	_ "embed"
	"strconv"
	"strings"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
)

// Name is the workflow's name.
const Name care.Workflow = "stalled_parcel"

//go:embed stalled_parcel.asl.json
var stateMachine []byte

//go:embed template.json
var defaultTemplate []byte

// Workflow is stalled_parcel as the kernel sees it (steps.Workflow).
type Workflow struct{}

var _ interface {
	steps.Workflow
	steps.Trigger
	steps.Subjects
	steps.ParamsParser
	steps.Starter
	steps.RunEnder
	steps.Rearmer
	steps.StopOutcomer
} = Workflow{}

// Name implements steps.Workflow.
func (Workflow) Name() care.Workflow { return Name }

// StateMachine implements steps.Workflow.
func (Workflow) StateMachine() []byte { return stateMachine }

// DefaultTemplate implements steps.Workflow.
func (Workflow) DefaultTemplate() []byte { return defaultTemplate }

// StartsOn implements steps.Trigger: the events that reveal or update parcels.
func (Workflow) StartsOn() []care.EventType {
	return []care.EventType{care.OrderShipped, care.ShipmentUpdated}
}

// Wants implements steps.Workflow: never (runs are per parcel: Subjects).
func (Workflow) Wants(care.OrderState) bool { return false }

// Pointless implements steps.Workflow: nothing order-wide (cancellation is
// the kernel's).
func (Workflow) Pointless(care.OrderState) string { return "" }

// Alert statuses: a parcel in one of them gets an immediate task and its
// own buyer script, in a run about "<tracking number>#<status>".
var alerts = []care.ShipmentStatus{care.ShipException, care.ShipAttemptFailed, care.ShipReturning}

func isAlert(s care.ShipmentStatus) bool {
	for _, a := range alerts {
		if s == a {
			return true
		}
	}
	return false
}

// Skip reasons a run stops with.
const (
	ReasonFinished = "parcel_finished" // delivered, returned or replaced
	ReasonCleared  = "status_changed"  // an alert run's parcel left that status
)

// AlertSubject is the subject of the alert run of parcel tn in status s.
func AlertSubject(tn string, s care.ShipmentStatus) string { return tn + "#" + string(s) }

// WatchSubject is the subject of the n-th watch of parcel tn (n counts
// stalls: the first watch is the tracking number itself; after a stall
// ended by a scan, the next watch is "<tn>#2", and so on).
func WatchSubject(tn string, n int) string {
	if n <= 1 {
		return tn
	}
	return tn + "#" + strconv.Itoa(n)
}

// maxWatches bounds the watches of one parcel (a parcel that stalls and
// moves again this often is an agent's case already).
const maxWatches = 5

// splitSubject returns the tracking number and the alert status ("" for
// a watching run) of a subject.
func splitSubject(subject string) (string, care.ShipmentStatus) {
	tn, alert, _ := parseSubject(subject)
	return tn, alert
}

// parseSubject returns the tracking number of a subject, its alert status
// ("" for a watching run) and, for a watching run, which watch it is (1…).
func parseSubject(subject string) (string, care.ShipmentStatus, int) {
	if i := strings.LastIndexByte(subject, '#'); i >= 0 {
		suffix := subject[i+1:]
		if s := care.ShipmentStatus(suffix); isAlert(s) {
			return subject[:i], s, 0
		}
		if n, err := strconv.Atoi(suffix); err == nil && n >= 2 && strconv.Itoa(n) == suffix {
			return subject[:i], "", n
		}
	}
	return subject, "", 1
}

func tracked(p *care.Parcel) bool {
	return p != nil && p.ReplacedBy == "" && !p.Status.Terminal()
}

// Subjects implements steps.Subjects: every parcel still moving gets a
// watching run; a parcel now in an alert status gets that status's run.
func (Workflow) Subjects(o care.OrderState, _ care.Event) []string {
	var out []string
	for i := range o.Parcels {
		p := &o.Parcels[i]
		if !tracked(p) || p.TrackingNumber == "" {
			continue
		}
		out = append(out, p.TrackingNumber)
		if isAlert(p.Status) {
			out = append(out, AlertSubject(p.TrackingNumber, p.Status))
		}
	}
	return out
}

// SubjectPointless implements steps.Subjects: a delivered, returned or
// replaced parcel; for an alert run, a parcel no longer in its status.
func (Workflow) SubjectPointless(o care.OrderState, subject string) string {
	tn, alert := splitSubject(subject)
	p := o.Parcel(tn)
	if !tracked(p) {
		return ReasonFinished
	}
	if alert != "" && p.Status != alert {
		return ReasonCleared
	}
	return ""
}

// Start implements steps.Starter: a parcel's watching run is scheduled
// until its stall is due (StallDue: the last scan plus the threshold in
// business days). When that time comes the router asks again: a scan since
// then moves the start later (one write per deadline passed, none per
// scan), and only a parcel really stalled costs an execution. A parcel at
// a pickup point or in an alert status (that status's run has the task)
// is looked at again params.recheck later. An alert run starts at once.
func (Workflow) Start(ctx context.Context, s steps.StartEnv) (steps.Start, error) {
	start := steps.Start{Input: steps.State{Run: s.Ref}}
	tn, alert := splitSubject(s.Ref.Subject)
	p := s.Order.Parcel(tn)
	if alert != "" || p == nil {
		return start, nil
	}
	shop, err := s.Shop(ctx)
	if err != nil {
		return steps.Start{}, err
	}
	start.At = StallDue(s.Template, shop, s.Order, p)
	if isAlert(p.Status) || p.Status == care.ShipAvailableForPickup {
		start.At = maxTime(start.At, s.Now.Add(params(s.Template).Recheck.Std()))
	}
	return start, nil
}

// RunPointless implements steps.RunEnder: a watching run runs (has an
// execution) only once its parcel stalled, so a carrier scan newer than
// that moment ends the stall: the router stops the run at once and cancels
// its chase task (note scanned), rather than at the next re-check.
func (Workflow) RunPointless(o care.OrderState, run care.Run) string {
	tn, alert := splitSubject(run.Subject)
	p := o.Parcel(tn)
	if alert != "" || p == nil || p.LastScanAt == nil || run.ExecutedAt == nil {
		return ""
	}
	if p.LastScanAt.After(*run.ExecutedAt) {
		return ReasonScanned
	}
	return ""
}

// StopOutcome implements steps.StopOutcomer: a stall ended by a new scan
// is scan_resumed.
func (Workflow) StopOutcome(reason string) string {
	if reason == ReasonScanned {
		return OutcomeResumed
	}
	return ""
}

// Rearm implements steps.Rearmer: a parcel whose stall a scan ended is
// watched again (the next watch, WatchSubject), so a second stall is
// chased too, up to maxWatches per parcel.
func (Workflow) Rearm(o care.OrderState, run care.Run) string {
	tn, alert, n := parseSubject(run.Subject)
	if alert != "" || n >= maxWatches || !tracked(o.Parcel(tn)) {
		return ""
	}
	return WatchSubject(tn, n+1)
}
