package localruntime_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/localruntime"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/httpapi"
	shippingnotice "github.com/ordercare/ordercare/workflows/shipping_notice"
)

// BenchmarkShippingSurge is the warehouse's morning after Double 11: b.N
// paid orders ship at once, order i in i%3+1 parcels (one item each), all
// of an order's parcels in one order.shipped, so each order is one digest
// group. No parcel has a carrier scan yet (absent scans are not stale).
// Then time moves past the 2h digest window. It reports how fast the
// shipped events are ingested and how fast the notices go out, and fails
// unless every order got exactly one sent notice and each of its other
// parcels is skipped as digested. Each parcel is its own workflow run:
// parcels-running/s counts them from the first shipped event until all
// wait out the window; notices/s is the advance past it, as
// BenchmarkCareSurge's reminders/s; shipped-to-notice/s spans both.
//
//	go test -run '^$' -bench ShippingSurge -benchtime 2000x ./infra/localruntime/
func BenchmarkShippingSurge(b *testing.B) {
	ctx := context.Background()
	rt, err := localruntime.Open(ctx, localruntime.Options{DataDir: b.TempDir(), Clock: localruntime.ClockVirtual, Start: start,
		AdminToken: "bench-admin-token-0123456789"})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	shop, err := httpapi.CreateShop(ctx, rt.Store, start, httpapi.ShopRequest{ID: "ship", Name: "Ship", Timezone: "Asia/Shanghai", Locale: "zh-CN", Currency: "CNY"})
	if err != nil {
		b.Fatal(err)
	}
	post := func(id string, at time.Time, body []byte) { signedPoster(b, rt, shop, at)(id, body) }
	parcels := func(i int) int { return i%3 + 1 }

	// Untimed: the orders, created and paid.
	fanout(b.N, func(i int) {
		var items []string
		for k := range parcels(i) {
			items = append(items, fmt.Sprintf(`{"sku":"SKU-%d","title":"龙井 %d","quantity":1,"price":"40.00"}`, k, k))
		}
		created := fmt.Appendf(nil, `{"id":"c%d","type":"order.created","occurred_at":"2026-11-11T01:00:00Z","order":{"id":"P%d","placed_at":"2026-11-11T01:00:00Z","total":"%d.00","currency":"CNY","payment_method":"online","pay_deadline":"2026-11-14T01:00:00Z","buyer":{"name":"王芳","phone":"+8613800138000","locale":"zh-CN","timezone":"Asia/Shanghai"},"items":[%s]}}`,
			i, i, 40*parcels(i), strings.Join(items, ","))
		post(fmt.Sprint("dc", i), start, created)
		paid := fmt.Appendf(nil, `{"id":"p%d","type":"order.paid","occurred_at":"2026-11-11T01:00:00Z","order":{"id":"P%d"}}`, i, i)
		post(fmt.Sprint("dp", i), start, paid)
	})
	if err := rt.Settle(ctx); err != nil {
		b.Fatal(err)
	}
	shipAt := start.Add(10 * time.Minute)
	if err := rt.AdvanceTo(ctx, shipAt); err != nil {
		b.Fatal(err)
	}
	if b.Failed() {
		b.FailNow()
	}

	b.ResetTimer()
	t0 := time.Now()
	fanout(b.N, func(i int) {
		var ps []string
		for k := range parcels(i) {
			tn := fmt.Sprintf("SF%06d%d", i, k)
			ps = append(ps, fmt.Sprintf(`{"tracking_number":"%s","carrier":"顺丰速运","tracking_url":"https://www.sf-express.com/track?no=%s","split_reason":"warehouse","items":[{"sku":"SKU-%d","quantity":1}]}`, tn, tn, k))
		}
		shipped := fmt.Appendf(nil, `{"id":"s%d","type":"order.shipped","occurred_at":"%s","order":{"id":"P%d"},"parcels":[%s]}`,
			i, shipAt.Format(time.RFC3339), i, strings.Join(ps, ","))
		post(fmt.Sprint("ds", i), shipAt, shipped)
	})
	ingested := time.Since(t0)
	if err := rt.Settle(ctx); err != nil {
		b.Fatal(err)
	}
	running := time.Since(t0)
	t1 := time.Now()
	if err := rt.AdvanceTo(ctx, shipAt.Add(2*time.Hour+10*time.Minute)); err != nil {
		b.Fatal(err)
	}
	noticed := time.Since(t1)
	all := time.Since(t0)
	b.StopTimer()

	type tally struct{ sent, digested, other int }
	per := map[string]*tally{}
	cursor := ""
	for {
		page, next, err := rt.Store.ListMessages(ctx, "ship", start, start.Add(24*time.Hour), cursor, 1000)
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range page {
			if m.Workflow != "shipping_notice" {
				continue
			}
			t := per[m.OrderID]
			if t == nil {
				t = &tally{}
				per[m.OrderID] = t
			}
			switch {
			case m.Status == care.MessageSent:
				t.sent++
			case m.Status == care.MessageSkipped && m.Reason == shippingnotice.ReasonDigested:
				t.digested++
			default:
				t.other++
				b.Errorf("%s: %s %s", m.ID, m.Status, m.Reason)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	bad := 0
	for i := range b.N {
		t := per[fmt.Sprint("P", i)]
		if t == nil {
			t = &tally{}
		}
		if t.sent != 1 || t.digested != parcels(i)-1 || t.other != 0 {
			if bad++; bad <= 5 {
				b.Errorf("order P%d, %d parcels: %d sent, %d digested, %d other; want 1 sent and %d digested",
					i, parcels(i), t.sent, t.digested, t.other, parcels(i)-1)
			}
		}
	}
	if bad > 0 {
		b.Errorf("%d of %d orders without exactly one notice per digest group", bad, b.N)
	}
	b.ReportMetric(float64(b.N)/ingested.Seconds(), "shipped-ingested/s")
	nParcels := 0
	for i := range b.N {
		nParcels += parcels(i)
	}
	b.ReportMetric(float64(nParcels)/running.Seconds(), "parcels-running/s")
	b.ReportMetric(float64(b.N)/noticed.Seconds(), "notices/s")
	b.ReportMetric(float64(b.N)/all.Seconds(), "shipped-to-notice/s")
	b.ReportMetric(0, "ns/op")
}
