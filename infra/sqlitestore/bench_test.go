package sqlitestore_test

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/sqlitestore"
	"github.com/ordercare/ordercare/internal/care"
)

// BenchmarkIngest measures Ingest throughput and latency at 1, 8 and 64
// concurrent callers (five events per order, every event new), with the
// default durability (synchronous=FULL) and with NORMAL.
func BenchmarkIngest(b *testing.B) {
	for _, mode := range []string{"FULL", "NORMAL"} {
		for _, writers := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("sync=%s/writers=%d", mode, writers), func(b *testing.B) {
				db, _ := open(b, sqlitestore.Synchronous(mode))
				createShop(b, db, "shop-bench")
				ctx := b.Context()
				lat := make([]time.Duration, b.N)
				var next atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				start := time.Now()
				for range writers {
					wg.Go(func() {
						for {
							i := int(next.Add(1) - 1)
							if i >= b.N {
								return
							}
							d, ev := event("w", i)
							t := time.Now()
							if _, err := db.Ingest(ctx, d, ev, care.Apply); err != nil {
								b.Error(err)
								return
							}
							lat[i] = time.Since(t)
						}
					})
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				slices.Sort(lat)
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}
