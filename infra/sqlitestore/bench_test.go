package sqlitestore_test

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/sqlitestore"
	"github.com/ordercare/ordercare/internal/care"
)

// BenchmarkIngest measures Ingest throughput and latency at 1, 8 and 64
// concurrent callers (five events per order, every event new), with the
// default durability (synchronous=NORMAL) and with FULL. cpu-µs/event is the
// whole process's CPU time per event, which unlike events/s and latency does
// not depend on what else the machine runs.
func BenchmarkIngest(b *testing.B) {
	for _, mode := range []string{"NORMAL", "FULL"} {
		for _, writers := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("sync=%s/writers=%d", mode, writers), func(b *testing.B) {
				db, _ := open(b, sqlitestore.Synchronous(mode))
				createShop(b, db, "shop-bench")
				ctx := b.Context()
				lat := make([]time.Duration, b.N)
				var next atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				st0 := db.Stats()
				cpu0 := cpuTime()
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
				cpu := cpuTime() - cpu0
				b.StopTimer()
				slices.Sort(lat)
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
				if st := db.Stats(); st.Batches > st0.Batches {
					b.ReportMetric(float64(st.Writes-st0.Writes)/float64(st.Batches-st0.Batches), "events/commit")
				}
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// cpuTime is the process's user+system CPU time: a figure that, unlike
// events/s, does not depend on what else the machine is running.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
