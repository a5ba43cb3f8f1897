package shippingnotice_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/caretest"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
	"github.com/ordercare/ordercare/workflows"
	shippingnotice "github.com/ordercare/ordercare/workflows/shipping_notice"
)

// TestHeadRetryKeepsItsDigest: the head's notice fails transiently after
// it claimed the other parcel's entry (the channel fails; or the step
// crashed between the claim and its own entry); the retry still tells
// both parcels, once, and the other parcel's run then ends without sending.
func TestHeadRetryKeepsItsDigest(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewVirtual(t0, nil)
	db := caretest.Store(t, clk)
	caretest.Shop(t, db, caretest.TeaShop("tea", t0))
	calls := 0
	ch := &caretest.Channel{SendFunc: func(steps.Envelope) error {
		if calls++; calls == 1 {
			return errors.New("connection reset")
		}
		return nil
	}}
	h := &steps.Handler{Store: db, Clock: clk, Resumer: &caretest.Resumer{}, Workflows: workflows.All(),
		Channels: map[string]steps.Channel{playbook.ChannelWebhook: ch}}
	var body map[string]any
	if err := json.Unmarshal(shippingnotice.Workflow{}.DefaultTemplate(), &body); err != nil {
		t.Fatal(err)
	}
	body["channel"] = playbook.ChannelWebhook
	b, _ := json.Marshal(body)
	if err := db.PutTemplate(ctx, care.Template{ShopID: "tea", Workflow: shippingnotice.Name, Version: 1, Body: b, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	ingest := func(ev care.Event) {
		t.Helper()
		if _, err := db.Ingest(ctx, care.Delivery{ShopID: "tea", Source: care.SourceStandard, DeliveryID: ev.ID, ReceivedAt: clk.Now()}, ev, care.Apply); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"1", "2"} {
		ingest(care.Event{ID: "c" + id, Type: care.OrderCreated, OccurredAt: t0, Order: care.Order{ID: id, Total: "100.00", Currency: "CNY",
			Buyer: &care.Buyer{Phone: "+8613912345678", Locale: "zh-CN", Timezone: "Asia/Shanghai"},
			Items: []care.Item{{SKU: "TEA", Title: "Longjing", Quantity: 1, Price: "80.00"}, {SKU: "CUP", Title: "Cup", Quantity: 1, Price: "20.00"}}}})
		ev := shipped("s"+id, 0, parcel("A", "TEA", 1), parcel("B", "CUP", 1))
		ev.Order.ID = id
		ingest(ev)
	}
	clk.Advance(3 * time.Hour) // 13:00 in Shanghai: past the window, out of quiet hours
	refs := map[string]steps.RunRef{}
	for _, id := range []string{"1", "2"} {
		for _, tn := range []string{"A", "B"} {
			ref := steps.RunRef{Shop: "tea", Order: id, Workflow: shippingnotice.Name, Version: 1, Subject: tn}
			refs[id+tn] = ref
			if _, _, err := db.CreateRun(ctx, care.Run{ShopID: "tea", OrderID: id, Workflow: shippingnotice.Name, Subject: tn,
				Execution: ref.Execution(), TemplateVersion: 1, Status: care.RunRunning, StartedAt: clk.Now(), UpdatedAt: clk.Now()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	act := func(key string) (steps.State, error) {
		return h.Handle(ctx, steps.Input{Action: shippingnotice.ActionNotice, State: steps.State{Run: refs[key]}})
	}
	// Order 1: the channel fails the first attempt.
	if _, err := act("1A"); err == nil {
		t.Fatal("the first attempt succeeded, want the channel's transient error")
	}
	// Order 2: as if the first attempt had crashed after claiming B,
	// before reserving its own entry.
	if _, _, err := db.ReserveMessage(ctx, care.Message{ID: refs["2B"].Key(shippingnotice.StepNotice), ShopID: "tea", OrderID: "2",
		Workflow: shippingnotice.Name, Step: shippingnotice.StepNotice, TemplateVersion: 1, Kind: care.KindMessage,
		Status: care.MessageSkipped, Reason: shippingnotice.ReasonDigested, Text: shippingnotice.DigestedInto("A"), At: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"1", "2"} {
		if st, err := act(id + "A"); err != nil || st.Kind != steps.KindDone {
			t.Fatalf("order %s, retry: %+v, %v", id, st, err)
		}
		clk.Advance(time.Minute)
		if st, err := act(id + "B"); err != nil || st.Kind != steps.KindDone {
			t.Fatalf("order %s, B: %+v, %v", id, st, err)
		}
		ms, err := db.ListOrderMessages(ctx, "tea", id)
		if err != nil {
			t.Fatal(err)
		}
		sent := 0
		for _, m := range ms {
			switch {
			case m.Status == care.MessageSent:
				sent++
				if !strings.Contains(m.Text, "运单号 A") || !strings.Contains(m.Text, "运单号 B") {
					t.Errorf("order %s: the retried notice lost a parcel: %q", id, m.Text)
				}
			case m.Reason != shippingnotice.ReasonDigested:
				t.Errorf("entry %s: %s %s", m.ID, m.Status, m.Reason)
			}
		}
		if sent != 1 || len(ms) != 2 {
			t.Errorf("order %s: %d sent of %d entries, want 1 of 2", id, sent, len(ms))
		}
	}
}
