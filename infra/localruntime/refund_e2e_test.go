package localruntime_test

import (
	"fmt"
	"strings"
	"testing"
)

// refund posts an order.refunded through the standard source.
func (h *harness) refund(id string, refund map[string]any) {
	h.t.Helper()
	h.nextID++
	ev := event("order.refunded", id, h.now(), map[string]any{"refund": refund})
	ev["id"] = fmt.Sprintf("evt-refund-%s-%d", id, h.nextID)
	if st := h.webhook(h.shop, "", ev); st != 200 && st != 202 {
		h.t.Fatalf("order.refunded: %d", st)
	}
	h.advance("0s")
}

// TestRefundStopsAsksAndCare: a delivered order refunded in full before
// its care message gets none (skipped refunded) and no review ask (the run
// ends refunded, counted in metrics); a partial refund after the care
// message stops the asks too, and an order without refund still gets its
// ask.
func TestRefundStopsAsksAndCare(t *testing.T) {
	h := newHarness(t)
	h.advance("12h")
	h.deliveredOrders("", "F1", "f1@example.com", "F2", "f2@example.com", "F3", "f3@example.com")
	h.refund("F1", map[string]any{"id": "rf-1", "full": true, "amount": "198.00", "reason": "坏了"})
	h.advance("40h") // past the care messages
	h.wantEntriesOf("F1", deliveryCare, "care:skipped:refunded")
	h.wantEntriesOf("F2", deliveryCare, "care:sent")
	h.refund("F2", map[string]any{"id": "rf-2", "items": []map[string]any{{"sku": "FR-1", "quantity": 1}}})
	h.advance("200h") // past the asks
	h.wantEntriesOf("F1", reviewRequest)
	h.wantEntriesOf("F2", reviewRequest)
	h.wantEntriesOf("F3", reviewRequest, "ask:sent")
	for _, id := range []string{"F1", "F2"} {
		if r := h.runOf(id, reviewRequest); r.Outcome != "refunded" {
			t.Errorf("%s review_request run %s %q, want refunded", id, r.Status, r.Outcome)
		}
	}
	out := h.outcomesOf(reviewRequest)
	if out["refunded"] != 2.0 {
		t.Errorf("review_request outcomes %v, want refunded 2", out)
	}
	// A refund naming nothing is refused with its field and changes nothing.
	ev := event("order.refunded", "F3", h.now(), map[string]any{"refund": map[string]any{"id": "rf-3"}})
	if st, body := h.signedStandard(ev); st != 400 || !strings.Contains(body, `"refund"`) {
		t.Errorf("empty refund: %d %s", st, body)
	}
}
