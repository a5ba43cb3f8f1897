package router_test

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
	"github.com/ordercare/ordercare/workflows"
	unpaidchase "github.com/ordercare/ordercare/workflows/unpaid_chase"
)

// parcelWatch is a test-only per-parcel workflow (steps.Subjects): one run
// per parcel of an order, pointless once the parcel is delivered (all of
// them once the order is completed). It also
// awaits buyer replies, on each run's own key.
type parcelWatch struct{}

const parcelWatchName care.Workflow = "parcel_watch"

func (parcelWatch) Name() care.Workflow        { return parcelWatchName }
func (parcelWatch) StateMachine() []byte       { return []byte(`{}`) }
func (parcelWatch) Wants(care.OrderState) bool { return true } // not asked: per subject
func (parcelWatch) Pointless(o care.OrderState) string {
	if o.Has(care.StatusCompleted) {
		return "completed"
	}
	return ""
}
func (parcelWatch) Actions() map[string]steps.Action { return nil }
func (parcelWatch) DefaultTemplate() []byte {
	// unpaid_chase's core, without its params (this workflow takes none).
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(unpaidchase.Workflow{}.DefaultTemplate(), &doc); err != nil {
		panic(err)
	}
	delete(doc, "params")
	doc["workflow"] = json.RawMessage(`"parcel_watch"`)
	b, _ := json.Marshal(doc)
	return b
}

func (parcelWatch) Subjects(o care.OrderState, _ care.Event) []string {
	var out []string
	for _, p := range o.Parcels {
		if p.ReplacedBy == "" {
			out = append(out, p.TrackingNumber)
		}
	}
	return out
}

func (parcelWatch) SubjectPointless(o care.OrderState, subject string) string {
	if p := o.Parcel(subject); p != nil && p.Delivered() {
		return "delivered"
	}
	return ""
}

func (parcelWatch) AwaitKey() string { return "parcel_watch" }
func (parcelWatch) Interpret(_ *playbook.Template, text, _ string) playbook.Answer {
	return playbook.Answer("echo:" + text)
}

var (
	_ steps.Subjects = parcelWatch{}
	_ steps.Awaiter  = parcelWatch{}
)

func newSubjectFixture(t *testing.T) *fixture {
	f := newFixture(t)
	f.r.Workflows = append(workflows.All(), parcelWatch{})
	return f
}

func (f *fixture) shipped(orderID string, tracking ...string) care.Change {
	f.t.Helper()
	var ps []care.ParcelReport
	for _, tn := range tracking {
		ps = append(ps, care.ParcelReport{TrackingNumber: tn, Carrier: "SF", Items: []care.ParcelItem{{SKU: "LJ-250", Quantity: 1}}})
	}
	return f.ingest(care.Event{Type: care.OrderShipped, Order: care.Order{ID: orderID}, Parcels: ps})
}

func (f *fixture) parcelStatus(orderID, tracking string, st care.ShipmentStatus) care.Change {
	f.t.Helper()
	now := f.clk.Now()
	return f.ingest(care.Event{Type: care.ShipmentUpdated, Order: care.Order{ID: orderID},
		Parcel: &care.ParcelReport{TrackingNumber: tracking, Status: st, LastScanAt: &now}})
}

// subjectRuns lists the order's parcel_watch runs as "subject status".
func (f *fixture) subjectRuns(orderID string) []string {
	f.t.Helper()
	var out []string
	for _, r := range f.runs(orderID) {
		if r.Workflow == parcelWatchName {
			if r.Execution != (steps.RunRef{Shop: shopID, Order: orderID, Workflow: parcelWatchName, Subject: r.Subject}).Execution() {
				f.t.Errorf("run %s has execution %q, not its subject's", r.Subject, r.Execution)
			}
			out = append(out, r.Subject+" "+string(r.Status))
		}
	}
	sort.Strings(out)
	return out
}

// parcelStarts lists the parcel_watch executions started, as the subject
// their input names.
func (f *fixture) parcelStarts() []string {
	f.t.Helper()
	var out []string
	for _, in := range f.sfn.Starts() {
		if aws.ToString(in.StateMachineArn) != f.r.StateMachineArn(parcelWatchName) {
			continue
		}
		var st steps.State
		if err := json.Unmarshal([]byte(aws.ToString(in.Input)), &st); err != nil {
			f.t.Fatal(err)
		}
		if aws.ToString(in.Name) != st.Run.Execution() {
			f.t.Errorf("execution %s started with input of %s", aws.ToString(in.Name), st.Run.Execution())
		}
		out = append(out, st.Run.Subject)
	}
	sort.Strings(out)
	return slices.Compact(out) // a second start of a running execution is refused, and harmless
}

func (f *fixture) parcelStops() []string {
	var out []string
	for _, in := range f.sfn.Stops() {
		if arn := aws.ToString(in.ExecutionArn); strings.Contains(arn, ":ordercare-parcel_watch:") {
			out = append(out, arn)
		}
	}
	sort.Strings(out)
	return out
}

func parcelArn(f *fixture, orderID, subject string) string {
	return "arn:aws:states:ap-east-1:123456789012:execution:ordercare-parcel_watch:" +
		(steps.RunRef{Shop: shopID, Order: orderID, Workflow: parcelWatchName, Subject: subject}).Execution()
}

func TestPerParcelRuns(t *testing.T) {
	f := newSubjectFixture(t)
	f.handle(f.created("TB-1", "259.00", care.PayOnline))
	f.handle(f.mark(care.OrderPaid, "TB-1"))
	if got := f.subjectRuns("TB-1"); len(got) != 0 {
		t.Fatalf("runs before shipping: %v; want none (no order-level run of a per-subject workflow)", got)
	}

	// Two parcels: two runs, each with its own execution.
	shipped := f.shipped("TB-1", "SF100", "SF200")
	f.handle(shipped)
	want := []string{"SF100 running", "SF200 running"}
	if diff := cmp.Diff(want, f.subjectRuns("TB-1")); diff != "" {
		t.Fatalf("runs after two parcels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"SF100", "SF200"}, f.parcelStarts()); diff != "" {
		t.Errorf("executions started (-want +got):\n%s", diff)
	}

	// The order.shipped handled again (a redelivery, a replay) and a later
	// scan start nothing new.
	f.handle(shipped)
	f.handle(f.parcelStatus("TB-1", "SF100", care.ShipInTransit))
	if diff := cmp.Diff([]string{"SF100", "SF200"}, f.parcelStarts()); diff != "" {
		t.Errorf("executions started after a redelivery (-want +got):\n%s", diff)
	}

	// A delivered parcel stops its run only; its tasks go, the other's stay.
	other := f.subjectTask("TB-1", "SF200", "chase_carrier")
	mine := f.subjectTask("TB-1", "SF100", "chase_carrier")
	f.handle(f.parcelStatus("TB-1", "SF100", care.ShipDelivered))
	if diff := cmp.Diff([]string{"SF100 stopped", "SF200 running"}, f.subjectRuns("TB-1")); diff != "" {
		t.Errorf("runs after SF100 delivered (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{parcelArn(f, "TB-1", "SF100")}, f.parcelStops()); diff != "" {
		t.Errorf("executions stopped (-want +got):\n%s", diff)
	}
	if got := f.getTask(mine).Status; got != care.TaskCancelled {
		t.Errorf("SF100's task: %s, want cancelled", got)
	}
	if got := f.getTask(other).Status; got != care.TaskOpen {
		t.Errorf("SF200's task: %s, want open", got)
	}

	// Cancelled: every run of the order stops (the chase already stopped on paid).
	f.handle(f.mark(care.OrderCancelled, "TB-1"))
	if diff := cmp.Diff([]string{"SF100 stopped", "SF200 stopped"}, f.subjectRuns("TB-1")); diff != "" {
		t.Errorf("runs after cancelled (-want +got):\n%s", diff)
	}
	wantStops := []string{parcelArn(f, "TB-1", "SF100"), parcelArn(f, "TB-1", "SF200")}
	sort.Strings(wantStops)
	if diff := cmp.Diff(wantStops, f.parcelStops()); diff != "" {
		t.Errorf("executions stopped after cancelled (-want +got):\n%s", diff)
	}
	// A parcel reported after the cancellation gets no run.
	f.handle(f.shipped("TB-1", "SF300"))
	if diff := cmp.Diff([]string{"SF100", "SF200"}, f.parcelStarts()); diff != "" {
		t.Errorf("executions started after cancelled (-want +got):\n%s", diff)
	}
}

// TestPerParcelRunsAnyOrder: a parcel's scan arriving before the
// order.shipped that lists it starts its run; order.shipped then starts the
// other parcel's only; a parcel delivered before any run gets none.
func TestPerParcelRunsAnyOrder(t *testing.T) {
	f := newSubjectFixture(t)
	f.handle(f.created("TB-2", "259.00", care.PayOnline))
	f.handle(f.parcelStatus("TB-2", "SF200", care.ShipInTransit))
	if diff := cmp.Diff([]string{"SF200 running"}, f.subjectRuns("TB-2")); diff != "" {
		t.Fatalf("runs after the scan came first (-want +got):\n%s", diff)
	}
	f.handle(f.parcelStatus("TB-2", "SF300", care.ShipDelivered))
	f.handle(f.shipped("TB-2", "SF100", "SF200", "SF300"))
	if diff := cmp.Diff([]string{"SF100 running", "SF200 running"}, f.subjectRuns("TB-2")); diff != "" {
		t.Errorf("runs after order.shipped (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"SF100", "SF200"}, f.parcelStarts()); diff != "" {
		t.Errorf("executions started (-want +got):\n%s", diff)
	}
	// The workflow's Pointless(order) stops every one of its runs.
	f.handle(f.mark(care.OrderCompleted, "TB-2"))
	if diff := cmp.Diff([]string{"SF100 stopped", "SF200 stopped"}, f.subjectRuns("TB-2")); diff != "" {
		t.Errorf("runs after completed (-want +got):\n%s", diff)
	}
	if n := len(f.parcelStops()); n != 2 {
		t.Errorf("%d executions stopped, want 2", n)
	}
}

// TestPerParcelReply: a buyer's reply goes to each running parcel run on
// its own key (RunRef.AwaitKey), and to no stopped one.
func TestPerParcelReply(t *testing.T) {
	f := newSubjectFixture(t)
	f.handle(f.created("TB-3", "259.00", care.PayOnline))
	f.handle(f.shipped("TB-3", "SF100", "SF200"))
	f.handle(f.parcelStatus("TB-3", "SF200", care.ShipDelivered))
	ref := steps.RunRef{Shop: shopID, Order: "TB-3", Workflow: parcelWatchName, Subject: "SF100"}
	if _, found, err := f.db.Await(f.ctx, shopID, "TB-3", ref.AwaitKey(parcelWatch{}.AwaitKey()), "tok-SF100"); err != nil || found {
		t.Fatalf("Await = found %v, %v", found, err)
	}
	f.handle(f.reply("TB-3", "ok"))
	got := f.sfn.Successes()
	if len(got) != 1 || aws.ToString(got[0].TaskToken) != "tok-SF100" {
		t.Fatalf("resumed %d tasks, want tok-SF100 once", len(got))
	}
	var a steps.Answer
	if err := json.Unmarshal([]byte(aws.ToString(got[0].Output)), &a); err != nil || a.Answer != "echo:ok" {
		t.Errorf("answer = %+v, %v; want echo:ok", a, err)
	}
	ref.Subject = "SF200" // stopped: nothing kept for it
	if _, found, err := f.db.Await(context.Background(), shopID, "TB-3", ref.AwaitKey(parcelWatch{}.AwaitKey()), "tok-SF200"); err != nil || found {
		t.Errorf("the stopped run's key holds an answer: found %v, %v", found, err)
	}
}

// subjectTask stores an open agent task of a step of a parcel_watch run.
func (f *fixture) subjectTask(orderID, subject, step string) string {
	f.t.Helper()
	ref := steps.RunRef{Shop: shopID, Order: orderID, Workflow: parcelWatchName, Subject: subject}
	now := f.clk.Now()
	id := ref.Key(step)
	if _, _, err := f.db.CreateTask(f.ctx, care.Task{ID: id, ShopID: shopID, OrderID: orderID, Workflow: parcelWatchName, Step: step,
		Reason: "r", Script: "s", Tag: care.TagVIP, Priority: 2, Outcomes: []string{"done"}, Status: care.TaskOpen,
		CreatedAt: now, DueAt: now, Token: "tok-" + id}); err != nil {
		f.t.Fatalf("CreateTask: %v", err)
	}
	return id
}

// TestPerParcelRunStartedAfterACrash: the router died after creating a
// parcel's run and before starting its execution; handling the change
// again (the feed's replay) starts the execution.
func TestPerParcelRunStartedAfterACrash(t *testing.T) {
	f := newSubjectFixture(t)
	f.handle(f.created("TB-7", "259.00", care.PayOnline))
	f.handle(f.mark(care.OrderPaid, "TB-7"))
	shipped := f.shipped("TB-7", "SF700")
	crashed := true
	f.sfn.start = func(in *sfn.StartExecutionInput) error {
		if crashed && aws.ToString(in.StateMachineArn) == f.r.StateMachineArn(parcelWatchName) {
			return errors.New("the router died here")
		}
		return nil
	}
	if err := f.r.Handle(f.ctx, shipped); err == nil {
		t.Fatal("Handle with the start failing: want an error")
	}
	if diff := cmp.Diff([]string{"SF700 running"}, f.subjectRuns("TB-7")); diff != "" {
		t.Fatalf("runs after the crash (-want +got):\n%s", diff)
	}
	crashed = false
	f.handle(shipped) // the replay
	var started bool
	f.sfn.mu.Lock()
	started = f.sfn.started[(steps.RunRef{Shop: shopID, Order: "TB-7", Workflow: parcelWatchName, Subject: "SF700"}).Execution()]
	f.sfn.mu.Unlock()
	if !started {
		t.Fatalf("the replay did not start SF700's execution; starts %v", f.parcelStarts())
	}
}
