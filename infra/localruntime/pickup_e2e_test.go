package localruntime_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

const pickup care.Workflow = "pickup_nudge"

// shippedToPickup creates a paid order (one item, perishable with a shelf
// life or not) shipped at shipped in parcel tn, and reports the parcel
// available for pickup at avail with hold deadline hold.
func (h *harness) shippedToPickup(id, tn string, shelfLifeHours int, shipped, avail, hold time.Time) {
	h.t.Helper()
	o := paidOrderAt(id, hangzhou, shelfLifeHours > 0, shipped.Add(-2*time.Minute))
	if shelfLifeHours > 0 {
		o["order"].(map[string]any)["items"].([]map[string]any)[0]["shelf_life_hours"] = shelfLifeHours
	}
	h.webhook(h.shop, "", o)
	h.webhook(h.shop, "", event("order.paid", id, shipped.Add(-time.Minute), nil))
	h.webhook(h.shop, "", event("order.shipped", id, shipped, map[string]any{"parcels": []map[string]any{
		{"tracking_number": tn, "carrier": "SF Express", "items": []map[string]any{{"sku": "FR-1", "quantity": 1}}}}}))
	h.advance(avail.Sub(h.now()).String())
	h.webhook(h.shop, "", event("shipment.updated", id, avail, map[string]any{"parcel": map[string]any{
		"tracking_number": tn, "status": "available_for_pickup", "pickup_point": "菜鸟驿站", "pickup_deadline": hold, "last_scan_at": avail}}))
	h.advance("0s")
}

// pickupRun returns the order's pickup_nudge run (one parcel).
func (h *harness) pickupRun(orderID string) care.Run {
	h.t.Helper()
	r := h.run(orderID, pickup)
	if r.Subject == "" {
		h.t.Fatalf("pickup_nudge run without a subject: %+v", r)
	}
	return r
}

// pickupEntries is the order's ledger of pickup_nudge only.
func (h *harness) pickupEntries(orderID string) []care.Message {
	var out []care.Message
	for _, m := range h.messages(orderID) {
		if m.Workflow == pickup {
			out = append(out, m)
		}
	}
	return out
}

// pickupOutcomes is pickup_nudge's outcomes in /v1/metrics over Nov 11-20.
func (h *harness) pickupOutcomes() map[string]any {
	h.t.Helper()
	var rep struct {
		Workflows []map[string]any `json:"workflows"`
	}
	h.must("GET", "/v1/metrics?from=2026-11-11T00:00:00Z&to=2026-11-20T00:00:00Z", h.ops(), nil, 200, &rep)
	for _, w := range rep.Workflows {
		if w["workflow"] == string(pickup) {
			out, _ := w["outcomes"].(map[string]any)
			return out
		}
	}
	h.t.Fatal("no pickup_nudge in /v1/metrics")
	return nil
}

func wantSteps(t *testing.T, ms []care.Message, want ...string) {
	t.Helper()
	if got := ledger(ms); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("pickup ledger:\n got  %v\n want %v", got, want)
	}
}

// TestPickupPerishableCallThenReissue: perishables (shelf life 48h from
// shipping) wait at a point that would hold them 72h: the deadline is the
// spoilage time. Two tighter reminders, a call early enough to act before
// spoilage (inside service hours), then at the deadline the shop is told
// and a reship-or-refund task (tag reissue) opens.
func TestPickupPerishableCallThenReissue(t *testing.T) {
	h := newHarness(t)
	shipped := start.Add(5 * time.Minute)            // 09:05 Shanghai, Nov 11
	avail := start.Add(24*time.Hour + 5*time.Minute) // 09:05, Nov 12
	spoils := shipped.Add(48 * time.Hour)            // 09:05, Nov 13
	h.shippedToPickup("K1", "SF200", 48, shipped, avail, avail.Add(72*time.Hour))
	// Scheduled for the first reminder: no execution until it is due.
	r := h.pickupRun("K1")
	if r.Subject != "SF200" || r.Status != care.RunScheduled || r.Step != "fresh_first" || r.NextAt == nil || !r.NextAt.Equal(avail.Add(10*time.Minute)) {
		t.Fatalf("run %+v", r)
	}
	h.advance("10m")
	wantSteps(t, h.pickupEntries("K1"), "fresh_first:sent")
	h.advance("8h") // 17:15
	wantSteps(t, h.pickupEntries("K1"), "fresh_first:sent", "fresh_last:sent")
	// call_before 6h puts the call at 03:05, outside service hours (09:00-21:00)
	// with 5 minutes left before the deadline: it opens its 2h SLA before
	// 21:00, at 19:05 Shanghai.
	callAt := start.Add(34*time.Hour + 5*time.Minute)
	if r := h.pickupRun("K1"); r.Step != "call" || r.NextAt == nil || !r.NextAt.Equal(callAt) {
		t.Fatalf("run waits for %q until %v, want call at %v", r.Step, r.NextAt, callAt)
	}
	h.advance(callAt.Sub(h.now()).String())
	open := h.tasks(h.agent(), "open")
	if len(open) != 1 || open[0].Tag != care.TagLogistics || open[0].DueAt.After(spoils) || !strings.Contains(open[0].Reason, "SF200") {
		t.Fatalf("open tasks at the call %+v", open)
	}
	// Nobody acts: at spoilage the call ends, the shop is told, and the
	// reissue task opens.
	h.advance(spoils.Sub(h.now()).String())
	h.advance("0s")
	ms := h.pickupEntries("K1")
	if got := ledger(ms); len(got) == 0 || got[len(got)-1] != "expired:sent" {
		t.Fatalf("ledger %v, want the shop's expired notice last", got)
	}
	if n := entry(ms, "expired"); n.Kind != care.KindNotice || !strings.Contains(n.Text, "SF200") {
		t.Errorf("notice %+v", n)
	}
	open = h.tasks(h.agent(), "open")
	if len(open) != 1 || open[0].Tag != care.TagReissue {
		t.Fatalf("open tasks after the deadline %+v", open)
	}
	r = h.pickupRun("K1")
	if r.Outcome != "perishable_lost" || r.Step != "reissue" {
		t.Errorf("run %+v", r)
	}
	h.must("POST", "/v1/tasks/"+open[0].ID+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": "reshipped"}, 200, nil)
	h.advance("0s")
	r = h.pickupRun("K1")
	if r.Status != care.RunSucceeded || r.Outcome != "perishable_lost" || r.Sent != 2 {
		t.Errorf("run %+v", r)
	}
	if got := h.pickupOutcomes(); got["perishable_lost"] != 1.0 {
		t.Errorf("metrics outcomes %v, want perishable_lost 1", got)
	}
	t.Logf("pickup_nudge, perishable, 2 reminders + call + reissue: %d state transitions", h.transitions(r))
}

// TestPickupCollectedStops: a parcel delivered (picked up) after the
// first reminder stops its run: nothing more is sent, no task opens.
func TestPickupCollectedStops(t *testing.T) {
	h := newHarness(t)
	shipped := start.Add(5 * time.Minute)
	avail := start.Add(24*time.Hour + 5*time.Minute)
	h.shippedToPickup("K2", "SF201", 48, shipped, avail, avail.Add(72*time.Hour))
	h.advance("1h")
	wantSteps(t, h.pickupEntries("K2"), "fresh_first:sent")
	h.webhook(h.shop, "", event("shipment.updated", "K2", h.now(), map[string]any{"parcel": map[string]any{
		"tracking_number": "SF201", "status": "delivered", "last_scan_at": h.now()}}))
	h.advance("72h")
	wantSteps(t, h.pickupEntries("K2"), "fresh_first:sent")
	r := h.pickupRun("K2")
	if r.Status != care.RunStopped || r.Outcome != "picked_up" {
		t.Errorf("run %+v, want stopped, picked up", r)
	}
	if got := h.pickupOutcomes(); got["picked_up"] != 1.0 {
		t.Errorf("metrics outcomes %v, want picked_up 1", got)
	}
	if open := h.tasks(h.agent(), "open"); len(open) != 0 {
		t.Errorf("open tasks %+v", open)
	}
	t.Logf("pickup_nudge, perishable, picked up after one reminder: %d state transitions", h.transitions(r))
}

// TestPickupOrdinarySparse: ordinary goods get one reminder a day in; the
// carrier's hold deadline passing without pickup tells the shop and opens a
// reissue task.
func TestPickupOrdinarySparse(t *testing.T) {
	h := newHarness(t)
	shipped := start.Add(5 * time.Minute)
	avail := start.Add(25 * time.Hour) // 10:00 Shanghai, Nov 12
	hold := avail.Add(48 * time.Hour)
	h.shippedToPickup("K3", "SF202", 0, shipped, avail, hold)
	h.advance("23h")
	wantSteps(t, h.pickupEntries("K3"))
	h.advance("1h")
	wantSteps(t, h.pickupEntries("K3"), "reminder:sent")
	if r := h.pickupRun("K3"); r.Step != "expired" || r.NextAt == nil || !r.NextAt.Equal(hold) {
		t.Fatalf("run %+v, want waiting for the hold deadline", r)
	}
	h.advance(hold.Sub(h.now()).String())
	h.advance("0s")
	wantSteps(t, h.pickupEntries("K3"), "reminder:sent", "expired:sent")
	open := h.tasks(h.agent(), "open")
	if len(open) != 1 || open[0].Tag != care.TagReissue {
		t.Fatalf("open tasks %+v", open)
	}
	h.must("POST", "/v1/tasks/"+open[0].ID+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": "refunded"}, 200, nil)
	h.advance("0s")
	r := h.pickupRun("K3")
	if r.Status != care.RunSucceeded || r.Outcome != "pickup_expired" || r.Sent != 1 {
		t.Errorf("run %+v", r)
	}
	t.Logf("pickup_nudge, ordinary, one reminder, expired, reissue task done: %d state transitions", h.transitions(r))
}

// TestPickupQuietHoursDefer: an ordinary parcel available at 23:00 would be
// reminded at 23:00 the next day, inside quiet hours: it goes out at 08:00.
func TestPickupQuietHoursDefer(t *testing.T) {
	h := newHarness(t)
	shipped := start.Add(5 * time.Minute)
	avail := start.Add(14 * time.Hour) // 23:00 Shanghai, Nov 11
	h.shippedToPickup("K4", "SF203", 0, shipped, avail, avail.Add(72*time.Hour))
	h.advance("24h")
	wantSteps(t, h.pickupEntries("K4"))
	morning := start.Add(47 * time.Hour) // 08:00, Nov 13
	if r := h.pickupRun("K4"); r.Step != "reminder" || r.NextAt == nil || !r.NextAt.Equal(morning) {
		t.Fatalf("run waits for %q until %v, want reminder at %v", r.Step, r.NextAt, morning)
	}
	h.advance(morning.Sub(h.now()).String())
	ms := h.pickupEntries("K4")
	wantSteps(t, ms, "reminder:sent")
	if m := entry(ms, "reminder"); m.SentAt == nil || !m.SentAt.Equal(morning) {
		t.Errorf("reminder sent at %v, want %v", m.SentAt, morning)
	}
}

// TestPickupSpoiledOnArrival: goods whose shelf life (12h from shipping)
// ended before the parcel reached the point get no reminder: the shop is
// told and the reissue task opens at once.
func TestPickupSpoiledOnArrival(t *testing.T) {
	h := newHarness(t)
	shipped := start.Add(5 * time.Minute)
	avail := start.Add(24 * time.Hour)
	h.shippedToPickup("K5", "SF204", 12, shipped, avail, avail.Add(72*time.Hour))
	wantSteps(t, h.pickupEntries("K5"), "expired:sent")
	open := h.tasks(h.agent(), "open")
	if len(open) != 1 || open[0].Tag != care.TagReissue {
		t.Fatalf("open tasks %+v", open)
	}
	if r := h.pickupRun("K5"); r.Outcome != "perishable_lost" || r.Sent != 0 {
		t.Errorf("run %+v", r)
	}
}
