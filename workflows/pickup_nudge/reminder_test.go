package pickupnudge_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/caretest"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/steps"
	"github.com/ordercare/ordercare/workflows"
	pickupnudge "github.com/ordercare/ordercare/workflows/pickup_nudge"
)

// TestReminderNamesPointAndDeadline: a reminder names the pickup point as
// the carrier reports it and the point's hold deadline in the buyer's zone,
// written as the buyer's locale writes times; without them it still reads
// well. The point stays out of the step's output (the execution history).
func TestReminderNamesPointAndDeadline(t *testing.T) {
	const point = "菜鸟驿站（文三路88号3幢）"
	hold := time.Date(2026, 11, 14, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, locale, zone string
		point              string
		hold               *time.Time
		step               string
		want, not          []string
	}{
		{"zh-CN, Shanghai", "zh-CN", "Asia/Shanghai", point, &hold, "reminder",
			[]string{point, "可保留至 11月14日 20:00", "西湖茶庄"}, []string{"自提点", "{{", "UTC"}},
		{"en-US, New York", "en-US", "America/New_York", "Locker 12, 5 Main St", &hold, "reminder",
			[]string{"at Locker 12, 5 Main St", "until Sat, Nov 14, 7:00 AM"}, []string{"the pickup point", "Hello ,"}},
		{"en-GB, Singapore, perishable", "en-GB", "Asia/Singapore", "Locker 12, 5 Main St", &hold, "fresh_first",
			[]string{"at Locker 12, 5 Main St", "until Sat 14 Nov, 20:00", "fresh"}, nil},
		{"a carrier's overlong point is cut", "zh-CN", "Asia/Shanghai", strings.Repeat("驿", 5000), &hold, "reminder",
			[]string{strings.Repeat("驿", pickupnudge.MaxPoint) + "…，可保留至"}, []string{strings.Repeat("驿", pickupnudge.MaxPoint+1)}},
		{"no point, no deadline", "zh-CN", "Asia/Shanghai", "", nil, "fresh_last",
			[]string{"还在自提点等您。"}, []string{"保留至"}},
		{"no point, no deadline, en", "en", "", "", nil, "reminder",
			[]string{"at the pickup point. Please"}, []string{"until"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			clk := clock.NewVirtual(t0, nil) // 10:00 in Shanghai, 21:00 the day before in New York
			db := caretest.Store(t, clk)
			caretest.Shop(t, db, caretest.TeaShop("tea", t0))
			h := &steps.Handler{Store: db, Clock: clk, Resumer: &caretest.Resumer{}, Workflows: workflows.All()}
			if err := db.PutTemplate(ctx, care.Template{ShopID: "tea", Workflow: pickupnudge.Name, Version: 1,
				Body: pickupnudge.Workflow{}.DefaultTemplate(), CreatedAt: t0}); err != nil {
				t.Fatal(err)
			}
			ingest := func(ev care.Event) {
				t.Helper()
				if _, err := db.Ingest(ctx, care.Delivery{ShopID: "tea", Source: care.SourceStandard, DeliveryID: ev.ID, ReceivedAt: clk.Now()}, ev, care.Apply); err != nil {
					t.Fatal(err)
				}
			}
			ingest(care.Event{ID: "c", Type: care.OrderCreated, OccurredAt: t0.Add(-72 * time.Hour), Order: care.Order{ID: "1", Name: "#1043",
				Total: "100.00", Currency: "CNY",
				Buyer: &care.Buyer{Phone: "+8613912345678", Locale: tt.locale, Timezone: tt.zone},
				Items: []care.Item{{SKU: "BOOK", Title: "Tea book", Quantity: 1, Price: "100.00"}}}})
			ingest(care.Event{ID: "s", Type: care.OrderShipped, OccurredAt: t0.Add(-48 * time.Hour), Order: care.Order{ID: "1"},
				Parcels: []care.ParcelReport{{TrackingNumber: "A", Carrier: "SF Express"}}})
			ingest(care.Event{ID: "u", Type: care.ShipmentUpdated, OccurredAt: t0.Add(-time.Hour), Order: care.Order{ID: "1"},
				Parcel: &care.ParcelReport{TrackingNumber: "A", Status: care.ShipAvailableForPickup, PickupPoint: tt.point, PickupDeadline: tt.hold}})
			ref := steps.RunRef{Shop: "tea", Order: "1", Workflow: pickupnudge.Name, Version: 1, Subject: "A"}
			if _, _, err := db.CreateRun(ctx, care.Run{ShopID: "tea", OrderID: "1", Workflow: pickupnudge.Name, Subject: "A",
				Execution: ref.Execution(), TemplateVersion: 1, Status: care.RunRunning, StartedAt: t0.Add(-time.Hour), UpdatedAt: t0}); err != nil {
				t.Fatal(err)
			}
			out, err := h.Handle(ctx, steps.Input{Action: pickupnudge.ActionNudge, State: steps.State{Run: ref, Step: tt.step}})
			if err != nil {
				t.Fatal(err)
			}
			ms, err := db.ListOrderMessages(ctx, "tea", "1")
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != 1 || ms[0].Status != care.MessageSent || ms[0].Step != tt.step {
				t.Fatalf("ledger = %+v, want the %s reminder sent", ms, tt.step)
			}
			for _, w := range tt.want {
				if !strings.Contains(ms[0].Text, w) {
					t.Errorf("reminder %q lacks %q", ms[0].Text, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(ms[0].Text, n) {
					t.Errorf("reminder %q has %q", ms[0].Text, n)
				}
			}
			b, _ := json.Marshal(out)
			if tt.point != "" && strings.Contains(string(b), tt.point) {
				t.Errorf("the step's output (the execution history) names the pickup point: %s", b)
			}
		})
	}
}
