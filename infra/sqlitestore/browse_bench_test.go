package sqlitestore_test

import (
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// BenchmarkListOrders measures the first page (100) of ListOrders, all
// statuses and one, over a shop of 20,000 orders: the orders table has no
// index on the update time, so each page sorts the shop's orders.
func BenchmarkListOrders(b *testing.B) {
	db, _ := open(b)
	createShop(b, db, "shop-bench")
	ctx := b.Context()
	const n = 20000 // orders; order j gets the first j%5+1 of its five events, so statuses mix
	for i := range 5 * n {
		if i%5 > (i/5)%5 {
			continue
		}
		d, ev := event("l", i)
		d.ReceivedAt = time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
		if _, err := db.Ingest(ctx, d, ev, care.Apply); err != nil {
			b.Fatal(err)
		}
	}
	for _, f := range []care.OrderFilter{{}, {Status: care.StatusPaid}} {
		b.Run("status="+string(f.Status), func(b *testing.B) {
			for b.Loop() {
				got, _, err := db.ListOrders(ctx, "shop-bench", f, "", 100)
				if err != nil || len(got) == 0 {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}
