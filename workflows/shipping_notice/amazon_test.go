package shippingnotice_test

import (
	"context"
	"encoding/json"
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

// TestAmazonOrderGetsNoNotice: Amazon sends its own shipped notice and
// forbids sellers'; each parcel's run of an Amazon order ends at once with
// its entry skipped (amazon_order) and nothing sent, whatever the case or
// site of the marketplace. Another marketplace's order gets its notice.
func TestAmazonOrderGetsNoNotice(t *testing.T) {
	for _, tt := range []struct { // marketplace "none": the order names none
		marketplace string
		amazon      bool
	}{{"amazon", true}, {"Amazon.de", true}, {"amazon_uk", true}, {"ebay", false}, {"amazonia-crafts", false}, {"none", false}} {
		t.Run(tt.marketplace, func(t *testing.T) {
			ctx := context.Background()
			clk := clock.NewVirtual(t0, nil)
			db := caretest.Store(t, clk)
			caretest.Shop(t, db, caretest.TeaShop("tea", t0))
			ch := &caretest.Channel{}
			h := &steps.Handler{Store: db, Clock: clk, Resumer: &caretest.Resumer{}, Workflows: workflows.All(),
				Channels: map[string]steps.Channel{playbook.ChannelWebhook: ch}}
			var doc map[string]any
			if err := json.Unmarshal(shippingnotice.Workflow{}.DefaultTemplate(), &doc); err != nil {
				t.Fatal(err)
			}
			doc["channel"] = playbook.ChannelWebhook
			tpl, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.PutTemplate(ctx, care.Template{ShopID: "tea", Workflow: shippingnotice.Name, Version: 1, Body: tpl, CreatedAt: t0}); err != nil {
				t.Fatal(err)
			}
			for _, ev := range []care.Event{
				{ID: "c", Type: care.OrderCreated, OccurredAt: t0, Order: care.Order{ID: "1", Total: "100.00", Currency: "CNY", Marketplace: strings.TrimPrefix(tt.marketplace, "none"),
					Buyer: &care.Buyer{Phone: "+8613912345678", Locale: "zh-CN", Timezone: "Asia/Shanghai"},
					Items: []care.Item{{SKU: "TEA", Title: "Longjing", Quantity: 1, Price: "80.00"}, {SKU: "CUP", Title: "Cup", Quantity: 1, Price: "20.00"}}}},
				shipped("s", 0, parcel("A", "TEA", 1), parcel("B", "CUP", 1)),
			} {
				if _, err := db.Ingest(ctx, care.Delivery{ShopID: "tea", Source: care.SourceStandard, DeliveryID: ev.ID, ReceivedAt: clk.Now()}, ev, care.Apply); err != nil {
					t.Fatal(err)
				}
			}
			clk.Advance(3 * time.Hour) // 13:00 in Shanghai: past the digest window, out of quiet hours
			for _, tn := range []string{"A", "B"} {
				ref := steps.RunRef{Shop: "tea", Order: "1", Workflow: shippingnotice.Name, Version: 1, Subject: tn}
				if _, _, err := db.CreateRun(ctx, care.Run{ShopID: "tea", OrderID: "1", Workflow: shippingnotice.Name, Subject: tn,
					Execution: ref.Execution(), TemplateVersion: 1, Status: care.RunRunning, StartedAt: clk.Now(), UpdatedAt: clk.Now()}); err != nil {
					t.Fatal(err)
				}
				st, err := h.Handle(ctx, steps.Input{Action: shippingnotice.ActionNotice, State: steps.State{Run: ref}})
				if err != nil || st.Kind != steps.KindDone {
					t.Fatalf("parcel %s: %+v, %v; want the run done", tn, st, err)
				}
				clk.Advance(time.Minute)
			}
			ms, err := db.ListOrderMessages(ctx, "tea", "1")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, m := range ms {
				got[string(m.Status)+" "+m.Reason]++
			}
			want := map[string]int{"sent ": 1, "skipped " + shippingnotice.ReasonDigested: 1}
			sends := 1
			if tt.amazon {
				want, sends = map[string]int{"skipped " + shippingnotice.ReasonAmazon: 2}, 0
			}
			if len(got) != len(want) || len(ch.Sent()) != sends {
				t.Fatalf("ledger %v, %d sent; want %v, %d sent", got, len(ch.Sent()), want, sends)
			}
			for k, n := range want {
				if got[k] != n {
					t.Errorf("ledger %v, want %v", got, want)
				}
			}
		})
	}
}
