package localruntime_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

const shippingWF care.Workflow = "shipping_notice"

// splitOrder is an order.created body of a paid two-item order (tea, cup).
func splitOrder(id string, placed time.Time) map[string]any {
	o := order(id, "120.00", false, 0, placed)
	body := o["order"].(map[string]any)
	body["items"] = []map[string]any{{"sku": "TEA", "title": "明前龙井 250g", "quantity": 1, "price": "100.00"},
		{"sku": "CUP", "title": "白瓷茶杯", "quantity": 1, "price": "20.00"}}
	return o
}

// shipEvent is an order.shipped event (id) at at with one parcel per
// (tracking number, sku) pair.
func shipEvent(id, orderID string, at time.Time, pairs ...string) map[string]any {
	var ps []map[string]any
	for i := 0; i+1 < len(pairs); i += 2 {
		ps = append(ps, map[string]any{"tracking_number": pairs[i], "carrier": "顺丰速运",
			"tracking_url": "https://www.sf-express.com/track?no=" + pairs[i], "split_reason": "warehouse",
			"items": []map[string]any{{"sku": pairs[i+1], "quantity": 1}}})
	}
	ev := event("order.shipped", orderID, at, map[string]any{"parcels": ps})
	ev["id"] = id
	return ev
}

// notices returns the order's shipping_notice ledger entries.
func (h *harness) notices(orderID string) []care.Message {
	h.t.Helper()
	var out []care.Message
	for _, m := range h.messages(orderID) {
		if m.Workflow == shippingWF {
			out = append(out, m)
		}
	}
	return out
}

// sent returns the texts of the sent entries among ms.
func sentTexts(ms []care.Message) []string {
	var out []string
	for _, m := range ms {
		if m.Status == care.MessageSent {
			out = append(out, m.Text)
		}
	}
	return out
}

func wantIn(t *testing.T, text string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(text, s) {
			t.Errorf("notice %q lacks %q", text, s)
		}
	}
}

// paidSplit creates order id, paid at once.
func (h *harness) paidSplit(id string) {
	h.webhook(h.shop, "", splitOrder(id, h.now()))
	h.webhook(h.shop, "", event("order.paid", id, h.now(), nil))
	h.advance("0s")
}

// TestShippingSplitHoursApart: two parcels shipped hours apart get two
// notices, the first with what is still to come, the last "2 of 2" and
// complete; the notices count in /v1/metrics.
func TestShippingSplitHoursApart(t *testing.T) {
	h := newHarness(t)
	h.paidSplit("S1")
	h.webhook(h.shop, "", shipEvent("ship-S1-a", "S1", h.now(), "SFA001", "TEA"))
	h.advance("1h")
	if n := sentTexts(h.notices("S1")); len(n) != 0 {
		t.Fatalf("sent within the digest window: %v", n)
	}
	h.advance("1h")
	first := sentTexts(h.notices("S1"))
	if len(first) != 1 {
		t.Fatalf("after the window: %v, want one notice", first)
	}
	wantIn(t, first[0], "顺丰速运", "运单号 SFA001", "https://www.sf-express.com/track?no=SFA001", "明前龙井 250g×1", "不同仓库", "尚未发出：白瓷茶杯×1")
	h.advance("3h")
	h.webhook(h.shop, "", shipEvent("ship-S1-b", "S1", h.now(), "SFB002", "CUP"))
	h.advance("2h")
	ms := h.notices("S1")
	texts := sentTexts(ms)
	if len(texts) != 2 || len(ms) != 2 {
		t.Fatalf("ledger %v, want two notices sent", ledger(ms))
	}
	wantIn(t, texts[1], "包裹 2/2", "运单号 SFB002", "白瓷茶杯×1", "订单已全部发货")
	if strings.Contains(texts[1], "SFA001") {
		t.Errorf("the second notice repeats the first parcel: %q", texts[1])
	}
	for _, r := range h.runs("S1") {
		if r.Workflow != shippingWF {
			continue
		}
		if r.Status != care.RunSucceeded || r.Outcome != "notice_sent" {
			t.Errorf("run %s: %s %q, want succeeded notice_sent", r.Subject, r.Status, r.Outcome)
		}
		// Scheduled, then started when due: the run names the execution that sent.
		if r.Execution == "" || r.ExecutedAt == nil || r.ExecutedAt.Before(r.StartedAt) {
			t.Errorf("run %s: execution %q at %v; want the execution named, started when due", r.Subject, r.Execution, r.ExecutedAt)
		}
		t.Logf("shipping_notice, parcel %s alone: %d state transitions", r.Subject, h.transitions(r))
	}
	var rep struct {
		Workflows []struct {
			Workflow string         `json:"workflow"`
			Sent     int            `json:"sent"`
			Outcomes map[string]int `json:"outcomes"`
		} `json:"workflows"`
	}
	h.must("GET", "/v1/metrics?from=2026-11-11T00:00:00Z&to=2026-11-12T00:00:00Z", h.ops(), nil, 200, &rep)
	found := false
	for _, w := range rep.Workflows {
		if w.Workflow == string(shippingWF) {
			found = true
			if w.Sent != 2 || w.Outcomes["notice_sent"] != 2 {
				t.Errorf("metrics %+v, want 2 sent and 2 notice_sent", w)
			}
		}
	}
	if !found {
		t.Errorf("metrics have no shipping_notice: %+v", rep.Workflows)
	}
}

// TestShippingDigestOutOfOrder: two parcels shipped 30 minutes apart go in
// one message, whether their events arrive in order, reversed or
// redelivered; the other parcel's entry is skipped (digested). A parcel
// whose event arrives after its group's notice went out gets its own, and
// nothing is told twice.
func TestShippingDigestOutOfOrder(t *testing.T) {
	h := newHarness(t)
	h.paidSplit("D1")
	t0 := h.now()
	a := shipEvent("ship-D1-a", "D1", t0, "SFA101", "TEA")
	b := shipEvent("ship-D1-b", "D1", t0.Add(30*time.Minute), "SFB102", "CUP")
	h.advance("30m")
	h.webhook(h.shop, "", b) // the later parcel arrives first
	h.advance("10m")
	h.webhook(h.shop, "", a)
	h.webhook(h.shop, "redelivery-1", b)
	h.webhook(h.shop, "redelivery-2", a)
	h.advance("3h")
	ms := h.notices("D1")
	texts := sentTexts(ms)
	if len(texts) != 1 || len(ms) != 2 {
		t.Fatalf("ledger %v, want one notice sent and one digested", ledger(ms))
	}
	wantIn(t, texts[0], "包裹 1/2", "包裹 2/2", "SFA101", "SFB102", "已全部发货")
	if got := ledger(ms); !strings.Contains(strings.Join(got, " "), "notice:skipped:digested") {
		t.Errorf("ledger %v lacks the digested parcel", got)
	}
	for _, r := range h.runs("D1") {
		if r.Workflow == shippingWF {
			t.Logf("shipping_notice, parcel %s of a digest of 2: %d state transitions", r.Subject, h.transitions(r))
		}
	}

	// A third parcel shipped within the first's window but reported after
	// the notice: its own notice, the first two not repeated.
	h.webhook(h.shop, "", shipEvent("ship-D1-c", "D1", t0.Add(20*time.Minute), "SFC103", "CUP"))
	h.webhook(h.shop, "redelivery-3", b)
	h.advance("1h")
	ms = h.notices("D1")
	texts = sentTexts(ms)
	if len(texts) != 2 || len(ms) != 3 {
		t.Fatalf("ledger %v, want a second notice for the late parcel only", ledger(ms))
	}
	wantIn(t, texts[1], "SFC103")
	if strings.Contains(texts[1], "SFA101") || strings.Contains(texts[1], "SFB102") {
		t.Errorf("the late notice repeats a parcel: %q", texts[1])
	}
}

// TestShippingQuietHoursDefer: a parcel shipped at 21:30 in the buyer's
// zone is told at 08:00 the next morning, not at night and not never.
func TestShippingQuietHoursDefer(t *testing.T) {
	h := newHarness(t)
	h.paidSplit("Q1")
	h.advance("12h30m") // 21:30 in Shanghai
	h.webhook(h.shop, "", shipEvent("ship-Q1", "Q1", h.now(), "SFQ201", "TEA", "SFQ202", "CUP"))
	h.advance("10h") // 07:30
	if ms := h.notices("Q1"); len(sentTexts(ms)) != 0 {
		t.Fatalf("sent in quiet hours: %v", ledger(ms))
	}
	h.advance("1h")
	ms := h.notices("Q1")
	texts := sentTexts(ms)
	if len(texts) != 1 {
		t.Fatalf("ledger %v, want one notice after quiet hours", ledger(ms))
	}
	wantIn(t, texts[0], "已全部发货", "SFQ201", "SFQ202")
	for _, m := range ms {
		if m.Status == care.MessageSent {
			local := m.SentAt.In(time.FixedZone("CST", 8*3600))
			if local.Hour() != 8 || local.Minute() != 0 {
				t.Errorf("sent at %s Shanghai, want 08:00", local)
			}
		}
	}
}

// TestShippingWaitsForFirstScan: with params.first_scan.wait the notice
// waits past the digest window for the carrier's first scan (looking every
// 3 h), so its link is not dead; a parcel never scanned is told at the
// limit (8 h after it shipped).
func TestShippingWaitsForFirstScan(t *testing.T) {
	h := newHarness(t)
	var tpl map[string]any
	h.must("GET", "/v1/templates/shipping_notice", h.ops(), nil, 200, &tpl)
	tpl["params"] = map[string]any{"digest_window": "2h", "first_scan": map[string]any{"wait": true, "limit": "8h", "every": "3h"}}
	delete(tpl, "version")
	h.must("PUT", "/v1/templates/shipping_notice", h.ops(), tpl, 201, nil)
	h.paidSplit("F1")
	h.paidSplit("F2")
	h.webhook(h.shop, "", shipEvent("ship-F1", "F1", h.now(), "SFF301", "TEA", "SFF302", "CUP"))
	h.webhook(h.shop, "", shipEvent("ship-F2", "F2", h.now(), "SFF401", "TEA", "SFF402", "CUP"))
	h.advance("3h") // the window ended an hour ago, no scan yet
	if ms := h.notices("F1"); len(ms) != 0 {
		t.Fatalf("sent before the first scan: %v", ledger(ms))
	}
	for _, tn := range []string{"SFF301", "SFF302"} {
		h.webhook(h.shop, "", event("shipment.updated", "F1", h.now(), map[string]any{"id": "scan-" + tn, "parcel": map[string]any{
			"tracking_number": tn, "status": "in_transit", "last_scan_at": h.now()}}))
	}
	h.advance("1h")
	if ms := h.notices("F1"); len(sentTexts(ms)) != 0 {
		t.Fatalf("sent before the next look: %v", ledger(ms))
	}
	h.advance("1h") // the look 3 h after the window's end finds the scans
	if ms := h.notices("F1"); len(sentTexts(ms)) != 1 {
		t.Fatalf("after the scan: %v, want one notice", ledger(ms))
	}
	h.advance("2h") // 7 h: F2 still has no scan
	if ms := h.notices("F2"); len(ms) != 0 {
		t.Fatalf("the unscanned parcels were told before the limit: %v", ledger(ms))
	}
	h.advance("2h")
	texts := sentTexts(h.notices("F2"))
	if len(texts) != 1 {
		t.Fatalf("at the limit: %v, want the notice", ledger(h.notices("F2")))
	}
	wantIn(t, texts[0], "SFF401", "SFF402", "已全部发货")
	for _, o := range []string{"F1", "F2"} {
		for _, r := range h.runs(o) {
			if r.Workflow == shippingWF {
				t.Logf("shipping_notice, order %s, parcel %s with first_scan.wait: %d state transitions", o, r.Subject, h.transitions(r))
			}
		}
	}
}

// TestShippingOptOutSkips: a buyer who opts out within the digest window
// gets no notice; every parcel's entry is skipped with reason opted_out
// (the live re-check before the send).
func TestShippingOptOutSkips(t *testing.T) {
	h := newHarness(t)
	h.paidSplit("O1")
	h.webhook(h.shop, "", shipEvent("ship-O1", "O1", h.now(), "SFO501", "TEA"))
	h.advance("30m")
	h.webhook(h.shop, "", shipEvent("ship-O1-b", "O1", h.now(), "SFO502", "CUP"))
	h.webhook(h.shop, "", event("buyer.replied", "O1", h.now(), map[string]any{"reply": map[string]string{"text": "退订"}}))
	h.advance("3h")
	ms := h.notices("O1")
	if got := strings.Join(ledger(ms), " "); got != "notice:skipped:opted_out notice:skipped:opted_out" {
		t.Fatalf("ledger %s, want both parcels skipped opted_out", got)
	}
}
