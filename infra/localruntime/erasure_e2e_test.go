package localruntime_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/erasure"
)

// TestEraseBuyer: after DELETE /v1/buyers/{phone}, no API answer about the
// buyer's orders (the order, its events, its ledger, the task queue) holds
// their phone, name or reply; the counts stay (the ledger entries, the
// task), and the erasure is counted in the answer.
func TestEraseBuyer(t *testing.T) {
	h := newHarness(t)
	ev := order("X1", "199.00", true, 0, start)
	ev["order"].(map[string]any)["shipping_address"] = map[string]any{"name": "陈晓燕", "phone": "+8613912345678", "line1": "西湖区文三路 90 号", "city": "杭州", "country": "CN"}
	h.webhook(h.shop, "", ev)
	h.advance("1h")
	h.webhook(h.shop, "", event("buyer.replied", "X1", h.now(), map[string]any{"reply": map[string]string{"text": "我是陈晓燕，不要了"}}))
	h.advance("1h")
	h.webhook(h.shop, "", order("X2", "59.00", false, 72*time.Hour, h.now())) // same buyer, another order
	h.advance("1h")
	paths := []string{"/v1/orders/X1", "/v1/orders/X1/events", "/v1/orders/X1/messages", "/v1/orders/X2", "/v1/orders/X2/messages",
		"/v1/tasks?status=open", "/v1/tasks?status=done", "/v1/tasks?status=cancelled", "/v1/messages"}
	pii := []string{"+8613912345678", "13912345678", "陈晓燕", "文三路", "不要了"}
	before := 0
	for _, p := range paths {
		_, body := h.call("GET", p, h.ops(), nil)
		for _, s := range pii {
			before += strings.Count(string(body), s)
		}
	}
	if before == 0 {
		t.Fatal("no answer held the buyer's data before the erasure: the test would prove nothing")
	}
	ledger := len(h.messages("X1")) + len(h.messages("X2"))

	var rec erasure.Record
	if st, _ := h.call("DELETE", "/v1/buyers/"+url.PathEscape("+8613912345678"), h.agent(), nil); st != 403 {
		t.Errorf("an agent erasing: %d, want 403", st)
	}
	h.must("DELETE", "/v1/buyers/"+url.PathEscape("+8613912345678"), h.ops(), nil, 200, &rec)
	if rec.Orders != 2 || rec.Events < 3 || rec.Messages == 0 {
		t.Errorf("erasure %+v: want both orders, their events and messages", rec)
	}
	for _, p := range paths {
		_, body := h.call("GET", p, h.ops(), nil)
		for _, s := range pii {
			if strings.Contains(string(body), s) {
				t.Errorf("GET %s still holds %q after the erasure", p, s)
			}
		}
	}
	if n := len(h.messages("X1")) + len(h.messages("X2")); n != ledger {
		t.Errorf("ledger entries %d after the erasure, %d before", n, ledger)
	}
	t.Logf("erased %+v (%d mentions before)", rec, before)
}
