package localruntime_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

const stalled care.Workflow = "stalled_parcel"

// shippedOrder creates a prepaid order to Hangzhou (no preship flag), pays
// it and ships parcel tn with carrier YTO (3 business days domestic),
// last scanned at scan.
func (h *harness) shippedOrder(id, tn string, scan time.Time) {
	h.t.Helper()
	h.webhook(h.shop, "", paidOrderAt(id, hangzhou, false, h.now()))
	h.webhook(h.shop, "", event("order.paid", id, h.now(), nil))
	h.webhook(h.shop, "", event("order.shipped", id, h.now(), map[string]any{"parcels": []map[string]any{
		{"tracking_number": tn, "carrier": "YTO", "status": "in_transit", "last_scan_at": scan}}}))
	h.advance("0s")
}

// scan reports a carrier scan of parcel tn at the current time.
func (h *harness) scan(id, tn, status string) {
	h.t.Helper()
	h.webhook(h.shop, "", event("shipment.updated", id, h.now(), map[string]any{"parcel": map[string]any{
		"tracking_number": tn, "status": status, "last_scan_at": h.now()}}))
}

// subjectRun returns the order's stalled_parcel run about subject.
func (h *harness) subjectRun(orderID, subject string) care.Run {
	h.t.Helper()
	for _, r := range h.runs(orderID) {
		if r.Workflow == stalled && r.Subject == subject {
			return r
		}
	}
	h.t.Fatalf("order %s has no stalled_parcel run about %q", orderID, subject)
	return care.Run{}
}

func stallTasks(ts []taskView) []taskView {
	var out []taskView
	for _, t := range ts {
		if t.Workflow == stalled {
			out = append(out, t)
		}
	}
	return out
}

// TestStalledParcelChaseAndScanEnds: no scan for 3 business days opens one
// chase task (tag logistics) and tells the buyer once; a new scan cancels
// the task at once (note scanned) and ends the run scan_resumed.
func TestStalledParcelChaseAndScanEnds(t *testing.T) {
	h := newHarness(t)
	h.shippedOrder("S1", "YT100", start)
	if r := h.subjectRun("S1", "YT100"); r.NextAt == nil || !r.NextAt.Equal(start.Add(72*time.Hour)) {
		t.Fatalf("run %+v, want asleep until 3 days after the scan", r)
	}
	h.advance("71h")
	if open := stallTasks(h.tasks(h.agent(), "open")); len(open) != 0 {
		t.Fatalf("a task before the stall: %+v", open)
	}
	h.advance("1h")
	open := stallTasks(h.tasks(h.agent(), "open"))
	if len(open) != 1 || open[0].Tag != care.TagLogistics || open[0].Step != "chase" || !strings.Contains(open[0].Reason, "催件") {
		t.Fatalf("open tasks %+v", open)
	}
	ms := h.wantEntriesOf("S1", stalled, "stall:sent")
	if !strings.Contains(entry(ms, "stall").Text, "跟进") {
		t.Errorf("stall message %q", entry(ms, "stall").Text)
	}
	h.advance("6h") // a re-check while still stalled: nothing new
	h.wantEntriesOf("S1", stalled, "stall:sent")
	if open := stallTasks(h.tasks(h.agent(), "open")); len(open) != 1 {
		t.Fatalf("open tasks after a re-check %+v", open)
	}
	h.advance("1h")
	h.scan("S1", "YT100", "in_transit")
	h.advance("0s") // not the next re-check: at the scan
	if open := stallTasks(h.tasks(h.agent(), "open")); len(open) != 0 {
		t.Errorf("open tasks after the new scan %+v", open)
	}
	if ts := stallTasks(h.tasks(h.agent(), "cancelled")); len(ts) != 1 || ts[0].OutcomeNote != "scanned" {
		t.Errorf("cancelled tasks %+v, want the chase task, note scanned", ts)
	}
	r := h.subjectRun("S1", "YT100")
	if r.Status != care.RunStopped || r.Outcome != "scan_resumed" {
		t.Errorf("run %+v, want stopped scan_resumed", r)
	}
	h.wantEntriesOf("S1", stalled, "stall:sent")
	t.Logf("stalled_parcel, one stall then a scan: %d state transitions", h.transitions(r))
}

// TestStalledParcelScansCostNothing: 20 scans 6 hours apart and delivery:
// no stall, no message, and a handful of transitions (deadlines, not scans).
func TestStalledParcelScansCostNothing(t *testing.T) {
	h := newHarness(t)
	h.shippedOrder("S2", "YT200", start)
	for i := 0; i < 20; i++ {
		h.advance("6h")
		h.scan("S2", "YT200", "in_transit")
	}
	h.advance("6h")
	h.scan("S2", "YT200", "delivered")
	h.advance("0s")
	r := h.subjectRun("S2", "YT200")
	if r.Status != care.RunStopped {
		t.Errorf("run %+v, want stopped on delivery", r)
	}
	h.wantEntriesOf("S2", stalled)
	if open := stallTasks(h.tasks(h.agent(), "open")); len(open) != 0 {
		t.Errorf("open tasks %+v", open)
	}
	n := h.transitions(r)
	if n > 8 {
		t.Errorf("%d transitions for 20 scans without a stall", n)
	}
	t.Logf("stalled_parcel, 20 scans over 5 days, no stall: %d state transitions", n)
}

// TestStalledParcelExceptionAtOnce: an exception opens its task at once
// with its own script and tells the buyer; the parcel moving again stops
// that run and cancels the task.
func TestStalledParcelExceptionAtOnce(t *testing.T) {
	h := newHarness(t)
	h.shippedOrder("S3", "YT300", start)
	h.advance("1h")
	h.scan("S3", "YT300", "exception")
	h.advance("0s")
	open := stallTasks(h.tasks(h.agent(), "open"))
	if len(open) != 1 || open[0].Step != "exception_call" || open[0].Tag != care.TagLogistics || open[0].Priority != 1 {
		t.Fatalf("open tasks %+v", open)
	}
	ms := h.wantEntriesOf("S3", stalled, "exception:sent")
	if !strings.Contains(entry(ms, "exception").Text, "遇到了问题") {
		t.Errorf("exception message %q", entry(ms, "exception").Text)
	}
	r := h.subjectRun("S3", "YT300#exception")
	t.Logf("stalled_parcel, exception: task raised after %d state transitions", h.transitions(r))
	h.advance("1h")
	h.scan("S3", "YT300", "in_transit")
	h.advance("0s")
	if r := h.subjectRun("S3", "YT300#exception"); r.Status != care.RunStopped {
		t.Errorf("exception run %+v, want stopped", r)
	}
	if open := stallTasks(h.tasks(h.agent(), "open")); len(open) != 0 {
		t.Errorf("open tasks after the parcel moved %+v", open)
	}
}

// TestStalledParcelAgentOutcome: a returning parcel's task completed by
// the agent ends the run with the agent's outcome, counted in /v1/metrics.
func TestStalledParcelAgentOutcome(t *testing.T) {
	h := newHarness(t)
	h.shippedOrder("S5", "YT500", start)
	h.advance("1h")
	h.scan("S5", "YT500", "returning")
	h.advance("0s")
	open := stallTasks(h.tasks(h.agent(), "open"))
	if len(open) != 1 || open[0].Step != "returning_call" {
		t.Fatalf("open tasks %+v", open)
	}
	h.wantEntriesOf("S5", stalled, "returning:sent")
	h.must("POST", "/v1/tasks/"+open[0].ID+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": "reshipped"}, 200, nil)
	h.advance("0s")
	if r := h.subjectRun("S5", "YT500#returning"); r.Status != care.RunSucceeded || r.Outcome != "reshipped" {
		t.Errorf("run %+v", r)
	}
	var rep struct {
		Workflows []struct {
			Workflow care.Workflow  `json:"workflow"`
			Outcomes map[string]int `json:"outcomes"`
		} `json:"workflows"`
	}
	h.must("GET", "/v1/metrics?from=2026-11-11T00:00:00Z&to=2026-11-12T00:00:00Z", h.ops(), nil, 200, &rep)
	found := false
	for _, w := range rep.Workflows {
		if w.Workflow == stalled {
			found = w.Outcomes["reshipped"] == 1
		}
	}
	if !found {
		t.Errorf("metrics %+v: want stalled_parcel outcome reshipped counted once", rep)
	}
}

// TestStalledParcelQuietHoursDefer: a stall due at 23:00 in the buyer's
// zone is told at 08:00, when quiet hours end, with the task raised then
// (no agent works at night).
func TestStalledParcelQuietHoursDefer(t *testing.T) {
	h := newHarness(t)
	lastScan := start.Add(14 * time.Hour) // 23:00 Shanghai
	h.shippedOrder("S4", "YT400", lastScan)
	h.advance(fmt.Sprint(72*time.Hour + 14*time.Hour + 30*time.Minute))
	h.wantEntriesOf("S4", stalled)
	if open := stallTasks(h.tasks(h.agent(), "open")); len(open) != 0 {
		t.Fatalf("a task at night %+v", open)
	}
	h.advance("9h") // 08:30
	ms := h.wantEntriesOf("S4", stalled, "stall:sent")
	if want := lastScan.Add(72*time.Hour + 9*time.Hour); entry(ms, "stall").SentAt == nil || !entry(ms, "stall").SentAt.Equal(want) {
		t.Errorf("stall sent at %v, want %v (08:00 Shanghai)", entry(ms, "stall").SentAt, want)
	}
	if open := stallTasks(h.tasks(h.agent(), "open")); len(open) != 1 {
		t.Errorf("open tasks %+v", open)
	}
}

// TestStalledParcelOptedOut: a buyer who opted out is not told (the skip
// is recorded with its reason); the carrier is chased all the same.
func TestStalledParcelOptedOut(t *testing.T) {
	h := newHarness(t)
	h.shippedOrder("S6", "YT600", start)
	h.advance("1h")
	h.webhook(h.shop, "", event("buyer.replied", "S6", h.now(), map[string]any{"reply": map[string]string{"text": "退订"}}))
	h.advance("71h")
	h.wantEntriesOf("S6", stalled, "stall:skipped:opted_out")
	if open := stallTasks(h.tasks(h.agent(), "open")); len(open) != 1 || open[0].Step != "chase" {
		t.Errorf("open tasks %+v", open)
	}
}

// TestStalledParcelStallsTwice: a parcel that moves again after a stall is
// watched again, and its second stall is chased too: a second task and a
// second message, on the parcel's second watch (subject "<tn>#2").
func TestStalledParcelStallsTwice(t *testing.T) {
	h := newHarness(t)
	h.shippedOrder("S7", "YT700", start)
	h.advance("72h")
	if open := stallTasks(h.tasks(h.agent(), "open")); len(open) != 1 {
		t.Fatalf("first stall: open tasks %+v", open)
	}
	h.advance("1h")
	h.scan("S7", "YT700", "in_transit")
	h.advance("0s")
	second := h.subjectRun("S7", "YT700#2")
	if second.Status != care.RunScheduled || second.NextAt == nil || !second.NextAt.After(h.now()) {
		t.Fatalf("second watch %+v, want scheduled for the next stall", second)
	}
	// No scan again for 3 business days (over a weekend: Nov 14 is a Saturday).
	h.advance(second.NextAt.Sub(h.now()).String())
	open := stallTasks(h.tasks(h.agent(), "open"))
	if len(open) != 1 || open[0].Step != "chase" {
		t.Fatalf("second stall: open tasks %+v, want a new chase task", open)
	}
	var stalls int
	for _, m := range h.messages("S7") {
		if m.Workflow == stalled && m.Step == "stall" && m.Status == care.MessageSent {
			stalls++
		}
	}
	if stalls != 2 {
		t.Errorf("%d stall messages sent, want one per stall", stalls)
	}
	if first := h.subjectRun("S7", "YT700"); first.Outcome != "scan_resumed" {
		t.Errorf("first watch %+v, want scan_resumed", first)
	}
	// Delivered: the second watch stops, no third is armed.
	h.scan("S7", "YT700", "delivered")
	h.advance("0s")
	if r := h.subjectRun("S7", "YT700#2"); r.Status != care.RunStopped {
		t.Errorf("second watch %s after delivery, want stopped", r.Status)
	}
	for _, r := range h.runs("S7") {
		if r.Subject == "YT700#3" {
			t.Errorf("a third watch after delivery: %+v", r)
		}
	}
}
