package localruntime_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/source"
)

const shopifyE2ESecret = "shpss_e2e_0123456789abcdef0123456789ab"

// shopifyBody is a Shopify orders/create fixture (Shopify's documented
// payload shape) placed, processed and updated at the runtime's now.
func (h *harness) shopifyBody(fixture string, edits ...string) []byte {
	h.t.Helper()
	b, err := os.ReadFile("../../internal/source/testdata/" + fixture)
	if err != nil {
		h.t.Fatal(err)
	}
	s := string(b)
	now := h.now().UTC().Format(time.RFC3339)
	for _, f := range []string{"created_at", "processed_at", "updated_at"} {
		s = strings.Replace(s, `"`+f+`":"2024-06-26T12:33:21-04:00"`, `"`+f+`":"`+now+`"`, 1)
		s = strings.Replace(s, `"`+f+`":"2024-06-26T12:33:25-04:00"`, `"`+f+`":"`+now+`"`, 1)
	}
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(s, edits[i]) {
			h.t.Fatalf("%s has no %s", fixture, edits[i])
		}
		s = strings.Replace(s, edits[i], edits[i+1], 1)
	}
	return []byte(s)
}

// shopify delivers body as Shopify does: X-Shopify-Hmac-Sha256 is the base64
// HMAC-SHA256 of the raw body under the app's secret; the topic and the
// webhook id are not signed.
func (h *harness) shopify(topic, webhookID string, body []byte) (int, []byte) {
	h.t.Helper()
	req, _ := http.NewRequestWithContext(h.t.Context(), "POST", h.api.URL+"/webhooks/"+h.shop.ID+"/shopify", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(source.HeaderShopifyTopic, topic)
	req.Header.Set(source.HeaderShopifyWebhookID, webhookID)
	req.Header.Set(source.HeaderShopifyHMAC, source.ShopifySign(shopifyE2ESecret, body))
	req.Header.Set("X-Shopify-Shop-Domain", "tea.myshopify.com")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}

func (h *harness) order(id string) care.OrderState {
	h.t.Helper()
	var o care.OrderState
	h.must("GET", "/v1/orders/"+id, h.ops(), nil, 200, &o)
	return o
}

// TestShopifyPaidOrderNotChased: a buyer who paid at checkout (orders/create
// with financial_status paid) gets no unpaid-chase message; a Shopify test
// order messages nobody; a captured unpaid orders/create resent as
// orders/paid is refused and the unpaid order is still chased.
func TestShopifyPaidOrderNotChased(t *testing.T) {
	h := newHarness(t)
	h.must("PUT", "/v1/shops/"+h.shop.ID+"/sources/shopify", h.ops(), map[string]string{"secret": shopifyE2ESecret}, 200, nil)

	const paidID, pendingID, testID = "5998017560684", "5998017593452", "5998017599999"
	if st, b := h.shopify("orders/create", "w-paid", h.shopifyBody("shopify_orders_create_paid.json")); st != 200 {
		t.Fatalf("paid orders/create: %d %s", st, b)
	}
	pending := h.shopifyBody("shopify_orders_create_pending.json")
	if st, b := h.shopify("orders/create", "w-pending", pending); st != 200 {
		t.Fatalf("pending orders/create: %d %s", st, b)
	}
	testOrder := h.shopifyBody("shopify_orders_create_pending.json", "5998017593452", testID, `"test":false`, `"test":true`)
	if st, b := h.shopify("orders/create", "w-test", testOrder); st != 200 {
		t.Fatalf("test orders/create: %d %s", st, b)
	}
	// The captured unpaid delivery, resent as a payment with a new webhook id.
	st, b := h.shopify("orders/paid", "w-replayed", pending)
	var refusal struct {
		Error struct{ Code, Field, Message string }
	}
	if err := json.Unmarshal(b, &refusal); err != nil || st != 422 || refusal.Error.Field != "financial_status" {
		t.Fatalf("orders/paid with an unpaid body: %d %s; want 422 on financial_status", st, b)
	}
	st, b = h.shopify("orders/updated", "w-updated", pending)
	if st != 200 || strings.TrimSpace(string(b)) != `{"ignored":true,"reason":"topic orders/updated is not used"}` {
		t.Errorf("orders/updated: %d %s", st, b)
	}

	h.advance("72h")

	if o := h.order(paidID); o.Status != care.StatusPaid || o.Order.Name != "#1043" || o.Order.Buyer.Name != "林美" {
		t.Errorf("paid order: status %s, name %q, buyer %q", o.Status, o.Order.Name, o.Order.Buyer.Name)
	}
	// Paid at checkout: no chase; its preship_check (no address, nothing
	// to flag) ends at once and sends nothing.
	if ms, rs := h.messages(paidID), h.runs(paidID); len(ms) != 0 || len(rs) != 1 || rs[0].Workflow != "preship_check" || rs[0].Outcome != "clear" {
		t.Errorf("paid at checkout: messages %v, runs %+v; want none but a clear preship_check", ledger(ms), rs)
	}
	if o := h.order(testID); !o.Order.Test {
		t.Errorf("test order not marked test: %+v", o.Order)
	}
	if ms, rs := h.messages(testID), h.runs(testID); len(ms) != 0 || len(rs) != 0 {
		t.Errorf("test order: messages %v, runs %d; want none", ledger(ms), len(rs))
	}
	o := h.order(pendingID)
	if o.Status != care.StatusCreated || o.Has(care.StatusPaid) {
		t.Errorf("unpaid order after the refused replay: status %s", o.Status)
	}
	sent := 0
	for _, m := range h.messages(pendingID) {
		if m.Status == care.MessageSent {
			sent++
		}
	}
	if sent == 0 {
		t.Errorf("the unpaid order (the control) got no reminder: %v", ledger(h.messages(pendingID)))
	}
	t.Logf("paid: 0 messages; test: 0 messages; unpaid control: %d sent (%s)", sent, fmt.Sprint(ledger(h.messages(pendingID))))
}

// TestPayDeadlineBeforePlacedRefused: an order.created whose pay_deadline is
// not after placed_at is refused (400 on order.pay_deadline), and nothing is
// recorded.
func TestPayDeadlineBeforePlacedRefused(t *testing.T) {
	h := newHarness(t)
	ev := order("PD1", "59.00", false, 0, start)
	ev["order"].(map[string]any)["pay_deadline"] = start.Add(-time.Hour)
	if st := h.webhook(h.shop, "", ev); st != 400 {
		t.Fatalf("pay_deadline before placed_at: %d, want 400", st)
	}
	if st, b := h.call("GET", "/v1/orders/PD1", h.ops(), nil); st != 404 {
		t.Errorf("order after the refusal: %d %s, want 404", st, b)
	}
}
