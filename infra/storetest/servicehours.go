package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// testServiceHours: SetServiceHours stores a shop's hours with the shop,
// changes nothing else of it, resets them with nil, refuses an unknown
// shop, and concurrent setters leave the shop whole (one of their values).
func testServiceHours(t *testing.T, s care.Store) {
	c := ctx(t)
	shop := newShop(t, s)
	if got, err := s.GetShop(c, shop.ID); err != nil || got.ServiceHours != nil {
		t.Fatalf("a new shop: hours %+v, %v; want none", got.ServiceHours, err)
	}
	hours := care.ServiceHours{Mon: []care.Period{{From: "09:00", To: "12:00"}, {From: "13:30", To: "18:00"}},
		Sat: []care.Period{{From: "10:00", To: "24:00"}}}
	got, err := s.SetServiceHours(c, shop.ID, &hours)
	if err != nil {
		t.Fatalf("SetServiceHours: %v", err)
	}
	want := shop
	want.ServiceHours = &hours
	if diff := careDiff(want, got); diff != "" {
		t.Errorf("SetServiceHours returned (-want +got):\n%s", diff)
	}
	if stored, err := s.GetShop(c, shop.ID); err != nil {
		t.Fatal(err)
	} else if diff := careDiff(want, stored); diff != "" {
		t.Errorf("GetShop after SetServiceHours (-want +got):\n%s", diff)
	}
	if _, err := s.SetServiceHours(c, shop.ID, nil); err != nil {
		t.Fatalf("SetServiceHours(nil): %v", err)
	}
	if stored, err := s.GetShop(c, shop.ID); err != nil || stored.ServiceHours != nil || stored.Name != shop.Name {
		t.Errorf("after reset: %+v, %v; want the shop without hours", stored, err)
	}
	_, err = s.SetServiceHours(c, uniqueID("nope"), &hours)
	wantErr(t, "SetServiceHours(unknown shop)", err, care.ErrNotFound)

	// Concurrent setters: every call succeeds and the shop ends with one of the values.
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		h := care.ServiceHours{Sun: []care.Period{{From: time.Date(0, 1, 1, 8+i, 0, 0, 0, time.UTC).Format("15:04"), To: "20:00"}}}
		wg.Go(func() { _, errs[i] = s.SetServiceHours(c, shop.ID, &h) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent SetServiceHours %d: %v", i, err)
		}
	}
	stored, err := s.GetShop(c, shop.ID)
	if err != nil || stored.ServiceHours == nil || len(stored.ServiceHours.Sun) != 1 || stored.Name != shop.Name || stored.Timezone != shop.Timezone {
		t.Errorf("after concurrent setters: %+v, %v", stored, err)
	}
	// A shop whose hours were set is still listed (the rewrite keeps its
	// place in the shop list).
	if lister, ok := s.(interface {
		ListShops(ctx context.Context, cursor string, limit int) ([]care.Shop, string, error)
	}); ok {
		listed, cursor := false, ""
		for range 1000 {
			page, next, err := lister.ListShops(c, cursor, 100)
			if err != nil {
				t.Fatalf("ListShops: %v", err)
			}
			for _, sh := range page {
				listed = listed || sh.ID == shop.ID
			}
			if next == "" || listed {
				break
			}
			cursor = next
		}
		if !listed {
			t.Errorf("shop %s is no longer listed after SetServiceHours", shop.ID)
		}
	}
}
