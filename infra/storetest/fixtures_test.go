package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// TestFixturesAreValidEvents checks that every event the suite ingests is a
// valid canonical event: stores are tested with what ingestion really sends.
func TestFixturesAreValidEvents(t *testing.T) {
	const id = "820982911946154508"
	evs := append(lifecycle(id, 3),
		cancelled(id, time.Hour),
		shipmentUpdated(id, "SF1", care.ShipStalled, time.Hour),
		reviewed(id, 1, time.Hour),
	)
	for _, ev := range evs {
		if err := ev.Validate(); err != nil {
			t.Errorf("%s: %v", ev.Type, err)
		}
		raw, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var back care.Event
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		if again, _ := json.Marshal(back); string(again) != string(raw) {
			t.Errorf("%s does not round-trip through JSON", ev.Type)
		}
	}
	seen := map[string]bool{}
	for _, ev := range evs {
		if seen[ev.ID] {
			t.Errorf("event id %s used twice", ev.ID)
		}
		seen[ev.ID] = true
	}
}

// TestLifecycleConverges checks the premise of the concurrent-writers test:
// every arrival order of a lifecycle applies every event and ends in one state.
func TestLifecycleConverges(t *testing.T) {
	evs := lifecycle("1001", 0)
	want := applyAll("shop", evs)["1001"]
	perm := append([]care.Event(nil), evs...)
	for i := range 200 {
		// A deterministic pseudo-random permutation per round.
		for j := len(perm) - 1; j > 0; j-- {
			k := (i*7919 + j*104729) % (j + 1)
			perm[j], perm[k] = perm[k], perm[j]
		}
		var cur *care.OrderState
		for _, ev := range perm {
			next, err := care.Apply(cur, ev, t0)
			if err != nil {
				t.Fatalf("round %d: %s rejected: %v", i, ev.Type, err)
			}
			cur = &next
		}
		cur.ShopID = "shop"
		if diff := cmpDiff(*want, *cur); diff != "" {
			t.Fatalf("round %d: differs from in-order application:\n%s", i, diff)
		}
	}
}
