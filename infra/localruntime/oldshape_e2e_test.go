package localruntime_test

import (
	"testing"

	"github.com/ordercare/ordercare/internal/care"
)

// TestOldShapeTemplateRuns: a template version of the old shape (stored
// before templates had params: pay_window at the top level) still runs,
// and its pay window still bounds the chase. Start 01:00 UTC (09:00 in
// Shanghai, no quiet hours); pay window 1h, no pay_deadline on the order:
// the nudge goes at 01:10; the reminder due at 01:20 is pushed by the 1h
// min_gap to 02:10, past the 02:00 deadline, so it is skipped min_gap.
// Without the pay window it would have been sent.
func TestOldShapeTemplateRuns(t *testing.T) {
	h := newHarness(t)
	old := map[string]any{"workflow": "unpaid_chase", "default_locale": "zh-CN", "channel": "outbox",
		"pay_window": "1h", "min_gap": "1h", "contact_budget": 3,
		"steps": []map[string]any{
			{"id": "nudge", "action": "message", "after": "10m", "script": map[string]string{"zh-CN": "订单 {{ order.name }} 还未付款"}},
			{"id": "reminder", "action": "message", "after": "20m", "script": map[string]string{"zh-CN": "再提醒一次：订单 {{ order.name }}"}},
		}}
	h.must("PUT", "/v1/templates/unpaid_chase", h.ops(), old, 201, nil)
	if st := h.webhook(h.shop, "", order("O1", "129.90", false, 0, start)); st != 202 {
		t.Fatalf("order.created: %d", st)
	}
	h.advance("0s")
	if r := h.run("O1", care.UnpaidChase); r.Status != care.RunScheduled || r.TemplateVersion != 1 {
		t.Fatalf("run on the old-shape version: %+v", r)
	}
	h.advance("3h")
	h.wantLedger("O1", "nudge:sent", "reminder:skipped:min_gap")
	if r := h.run("O1", care.UnpaidChase); r.Status != care.RunSucceeded || r.Sent != 1 {
		t.Errorf("run %+v", r)
	}
}
