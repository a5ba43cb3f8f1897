package httpapi_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/consent"
)

// TestSESReceipt: an SES bounce relayed by EventBridge (admin token)
// marks the ledger entry bounced and suppresses the address on email.
func TestSESReceipt(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	ctx := context.Background()
	t0 := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	ord := care.Order{ID: "o-1", PlacedAt: &t0, Total: "10.00", Currency: "CNY", PaymentMethod: care.PayOnline,
		Buyer: &care.Buyer{Name: "Jon", Email: "jon@example.com"}, Items: []care.Item{{SKU: "a", Title: "a", Quantity: 1, Price: "10.00"}}}
	if _, err := e.store.Ingest(ctx, care.Delivery{ShopID: "tea", Source: care.SourceStandard, DeliveryID: "d1", ReceivedAt: t0},
		care.Event{ID: "e1", Type: care.OrderCreated, OccurredAt: t0, Order: ord}, care.Apply); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.store.ReserveMessage(ctx, care.Message{ID: "run.nudge", ShopID: "tea", OrderID: "o-1", Step: "nudge", Channel: "email", Status: care.MessageSent, At: t0}); err != nil {
		t.Fatal(err)
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	event := func(ledger, typ string) []byte {
		return fmt.Appendf(nil, `{"detail-type":"Email Bounced","source":"aws.ses","detail":{"eventType":%q,"mail":{"timestamp":"2026-11-11T00:00:00Z","messageId":"m",
			"tags":{"oc_shop":[%q],"oc_order":[%q],"oc_msg":[%q]}},"bounce":{"bounceType":"Permanent","timestamp":"2026-11-11T00:05:00Z"}}}`, typ, b64("tea"), b64("o-1"), b64(ledger))
	}
	for _, tc := range []struct {
		name, token string
		body        []byte
		want        int
	}{
		{"shop key", shop.Keys[care.RoleOps], event("run.nudge", "Bounce"), 403},
		{"unknown entry", adminToken, event("run.other", "Bounce"), 404},
		{"an open is no receipt", adminToken, event("run.nudge", "Open"), 200},
		{"bounce", adminToken, event("run.nudge", "Bounce"), 200},
		{"bounce again", adminToken, event("run.nudge", "Bounce"), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := e.do("POST", "/v1/receipts/ses", tc.token, tc.body, nil); r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
		})
	}
	msgs, _ := e.store.ListOrderMessages(ctx, "tea", "o-1")
	if len(msgs) != 1 || msgs[0].Receipt != care.ReceiptBounced {
		t.Errorf("ledger %+v, want the entry bounced", msgs)
	}
	recs, _ := e.store.ListConsents(ctx, "tea", care.ContactKey("jon@example.com"))
	if consent.Decide(recs, "email", false, false) != consent.ReasonOptedOut {
		t.Errorf("the address is not suppressed: %+v", recs)
	}
}
