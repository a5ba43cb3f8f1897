package dynamostore

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
)

// BenchmarkIngest measures Ingest against DynamoDB Local: "new order" is one
// read and one four-item transaction; "existing order" applies paid events to
// orders that exist; parallel spreads writers over distinct orders.
func BenchmarkIngest(b *testing.B) {
	run := func(b *testing.B, parallel bool) {
		s := newStore(b, clock.Real{})
		shop := mustShop(b, s)
		var n atomic.Int64
		one := func() {
			i := n.Add(1)
			id := fmt.Sprintf("bench-%d", i)
			if _, err := s.Ingest(b.Context(), deliv(shop), createdEv(id), care.Apply); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		if parallel {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					one()
				}
			})
		} else {
			for b.Loop() {
				one()
			}
		}
	}
	b.Run("sequential", func(b *testing.B) { run(b, false) })
	b.Run("parallel", func(b *testing.B) { run(b, true) })
	b.Run("existing order", func(b *testing.B) {
		s := newStore(b, clock.Real{})
		shop := mustShop(b, s)
		const id = "bench-existing"
		if _, err := s.Ingest(b.Context(), deliv(shop), createdEv(id), care.Apply); err != nil {
			b.Fatal(err)
		}
		i := 0
		for b.Loop() {
			i++
			if _, err := s.Ingest(b.Context(), deliv(shop), paidEv(id, time.Duration(i)*time.Second), care.Apply); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkReadFeed reads a stream of 500 changes (and their 1,500 skipped
// records) from the start, 500 changes per call.
func BenchmarkReadFeed(b *testing.B) {
	s := newStore(b, clock.Real{})
	shop := mustShop(b, s)
	const n = 500
	for i := range n {
		if _, err := s.Ingest(b.Context(), deliv(shop), createdEv(fmt.Sprintf("feed-%d", i)), care.Apply); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		page, _, err := s.ReadFeed(b.Context(), "", n)
		if err != nil || len(page) != n {
			b.Fatalf("ReadFeed = %d changes, %v", len(page), err)
		}
	}
}
