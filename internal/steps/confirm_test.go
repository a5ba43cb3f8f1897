package steps_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/consent"
	"github.com/ordercare/ordercare/internal/steps"
)

// TestConfirmOptOut: at most one confirmation per buyer and shop, on the
// reply's channel when it is here (else the outbox), in the buyer's
// language; a paid channel whose call's outcome is unknown is not called
// again.
func TestConfirmOptOut(t *testing.T) {
	t.Run("once, by sms", func(t *testing.T) {
		f := newFixture(t)
		f.createOrder(orderSpec{id: "A1", total: "10.00"})
		f.createOrder(orderSpec{id: "A2", total: "10.00"}) // same buyer, another order
		sms := &media{}
		f.h.Channels["sms"] = sms
		for _, o := range []string{"A1", "A1", "A2"} {
			if err := f.h.ConfirmOptOut(f.ctx, shopID, o, care.CODConfirm, "sms", consent.ScopeAll); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(sms.Sent()); n != 1 {
			t.Fatalf("%d confirmations sent, want 1", n)
		}
		m := sms.Sent()[0].Message
		if m.Kind != care.KindConfirmation || m.Locale != "zh-CN" || !strings.HasPrefix(m.Text, "您已退订") {
			t.Errorf("confirmation %+v", m)
		}
	})
	t.Run("outbox when the channel is not here", func(t *testing.T) {
		f := newFixture(t)
		f.createOrder(orderSpec{id: "A1", total: "10.00"})
		if err := f.h.ConfirmOptOut(f.ctx, shopID, "A1", care.CODConfirm, "im", consent.ScopeMarketing); err != nil {
			t.Fatal(err)
		}
		msgs, _ := f.db.ListOrderMessages(f.ctx, shopID, "A1")
		if len(msgs) != 1 || msgs[0].Channel != "outbox" || msgs[0].Status != care.MessageSent || msgs[0].Kind != care.KindConfirmation {
			t.Fatalf("ledger %+v", msgs)
		}
	})
	t.Run("paid, outcome unknown", func(t *testing.T) {
		f := newFixture(t)
		f.createOrder(orderSpec{id: "A1", total: "10.00"})
		sms := &media{paid: true}
		sms.SendFunc = func(steps.Envelope) error { return context.DeadlineExceeded }
		f.h.Channels["sms"] = sms
		if err := f.h.ConfirmOptOut(f.ctx, shopID, "A1", care.CODConfirm, "sms", consent.ScopeAll); err == nil {
			t.Fatal("the timeout was not returned")
		}
		f.clk.Advance(time.Minute)
		if err := f.h.ConfirmOptOut(f.ctx, shopID, "A1", care.CODConfirm, "sms", consent.ScopeAll); err != nil {
			t.Fatal(err)
		}
		msgs, _ := f.db.ListOrderMessages(f.ctx, shopID, "A1")
		if len(sms.Sent()) != 1 || len(msgs) != 1 || msgs[0].Reason != "outcome_unknown" {
			t.Fatalf("calls %d, ledger %+v", len(sms.Sent()), msgs)
		}
	})
}
