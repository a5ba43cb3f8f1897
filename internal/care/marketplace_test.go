package care_test

import (
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// TestFromAmazon: amazon and amazon.<site> (any case) are Amazon; a name
// that only starts with the letters is not.
func TestFromAmazon(t *testing.T) {
	for m, want := range map[string]bool{"amazon": true, "Amazon.co.uk": true, "AMAZON_DE": true, "amazon-fba": true,
		" amazon ": true, "amazonia": false, "ebay": false, "": false, "tiktok_shop": false} {
		if got := (care.Order{Marketplace: m}).FromAmazon(); got != want {
			t.Errorf("FromAmazon(%q) = %v, want %v", m, got, want)
		}
	}
}

// TestMarketplaceMerge: marketplace and ship_to_count are kept when a later
// event does not carry them.
func TestMarketplaceMerge(t *testing.T) {
	t0 := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	s, err := care.Apply(nil, care.Event{ID: "c", Type: care.OrderCreated, OccurredAt: t0,
		Order: care.Order{ID: "1", Marketplace: "amazon", ShipToCount: 2}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	s, err = care.Apply(&s, care.Event{ID: "p", Type: care.OrderPaid, OccurredAt: t0.Add(time.Minute), Order: care.Order{ID: "1"}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if s.Order.Marketplace != "amazon" || s.Order.ShipToCount != 2 {
		t.Errorf("after a later event: marketplace %q, ship_to_count %d", s.Order.Marketplace, s.Order.ShipToCount)
	}
}
