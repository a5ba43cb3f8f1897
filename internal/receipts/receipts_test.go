package receipts_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/caretest"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/consent"
	"github.com/ordercare/ordercare/internal/receipts"
)

var t0 = time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)

// TestApply runs receipts in sequence against the embedded store: the
// entry keeps the strongest outcome, a hard bounce or a complaint
// suppresses the contact on that channel only, and an unknown entry is
// ErrNotFound.
func TestApply(t *testing.T) {
	tests := []struct {
		name      string
		channel   string
		outcomes  []string
		want      string
		suppessed bool
	}{
		{"delivered", "email", []string{care.ReceiptDelivered}, care.ReceiptDelivered, false},
		{"hard bounce", "email", []string{care.ReceiptBounced}, care.ReceiptBounced, true},
		{"complaint after delivery", "email", []string{care.ReceiptDelivered, care.ReceiptComplained}, care.ReceiptComplained, true},
		{"delivery after a bounce does not undo it", "sms", []string{care.ReceiptBounced, care.ReceiptDelivered, care.ReceiptDelivered}, care.ReceiptBounced, true},
		{"failed", "sms", []string{care.ReceiptFailed}, care.ReceiptFailed, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := caretest.Store(t, clock.NewVirtual(t0, nil))
			caretest.Shop(t, db, caretest.TeaShop("tea", t0))
			ord := care.Order{ID: "o-1", PlacedAt: &t0, Total: "10.00", Currency: "CNY", PaymentMethod: care.PayOnline,
				Buyer: &care.Buyer{Name: "Li", Phone: "+8613800138000", Email: "li@example.com"}, Items: []care.Item{{SKU: "a", Title: "a", Quantity: 1, Price: "10.00"}}}
			ev := care.Event{ID: "e-1", Type: care.OrderCreated, OccurredAt: t0, Order: ord}
			if _, err := db.Ingest(ctx, care.Delivery{ShopID: "tea", Source: care.SourceStandard, DeliveryID: "e-1", ReceivedAt: t0}, ev, care.Apply); err != nil {
				t.Fatal(err)
			}
			sent := t0
			m := care.Message{ID: "run.step", ShopID: "tea", OrderID: "o-1", Step: "step", Channel: tc.channel, Status: care.MessageSent, At: t0, SentAt: &sent}
			if _, _, err := db.ReserveMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
			for i, o := range tc.outcomes {
				if err := receipts.Apply(ctx, db, receipts.Receipt{ShopID: "tea", OrderID: "o-1", LedgerID: m.ID, Outcome: o, At: t0.Add(time.Duration(i) * time.Minute)}); err != nil {
					t.Fatalf("Apply %s: %v", o, err)
				}
			}
			msgs, _ := db.ListOrderMessages(ctx, "tea", "o-1")
			if len(msgs) != 1 || msgs[0].Receipt != tc.want || msgs[0].Status != care.MessageSent {
				t.Fatalf("entry %+v, want receipt %s", msgs, tc.want)
			}
			for _, ch := range []string{"email", "sms"} {
				contact := map[string]string{"email": "li@example.com", "sms": "+8613800138000"}[ch]
				recs, _ := db.ListConsents(ctx, "tea", care.ContactKey(contact))
				blocked := consent.Decide(recs, ch, false, false) != ""
				if want := tc.suppessed && ch == tc.channel; blocked != want {
					t.Errorf("%s suppressed %v, want %v (%+v)", ch, blocked, want, recs)
				}
			}
		})
	}
	t.Run("unknown entry", func(t *testing.T) {
		db := caretest.Store(t, clock.NewVirtual(t0, nil))
		err := receipts.Apply(context.Background(), db, receipts.Receipt{ShopID: "tea", OrderID: "o-9", LedgerID: "x", Outcome: care.ReceiptDelivered})
		if !errors.Is(err, care.ErrNotFound) {
			t.Errorf("err = %v", err)
		}
	})
}
