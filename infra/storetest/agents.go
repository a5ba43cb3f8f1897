package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
)

// testAgents pins care.Agents: not found, create-if-absent, ErrNotFound for
// an unknown shop, round trip, listing in id order per shop, update keeping
// CreatedAt, and one winner among concurrent creators of one id.
func testAgents(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	other := newShop(t, s)
	if _, err := s.GetAgent(c, shop.ID, "li-na"); !errors.Is(err, care.ErrNotFound) {
		t.Fatalf("GetAgent(absent) = %v; want ErrNotFound", err)
	}
	if got, err := s.ListAgents(c, shop.ID); err != nil || len(got) != 0 {
		t.Fatalf("ListAgents(no agents) = %v, %v; want empty", got, err)
	}
	if err := s.CreateAgent(c, care.Agent{ShopID: uniqueID("noshop"), ID: "li-na", Name: "x", Active: true}); !errors.Is(err, care.ErrNotFound) {
		t.Errorf("CreateAgent(unknown shop) = %v; want ErrNotFound", err)
	}
	li := care.Agent{ShopID: shop.ID, ID: "li-na", Name: "李娜", Active: true, KeyHash: care.HashKey("k1"),
		CreatedAt: at(time.Hour).In(cst), UpdatedAt: at(time.Hour).In(cst)}
	tom := care.Agent{ShopID: shop.ID, ID: "tom", Name: "Tom", Active: true, KeyHash: care.HashKey("k2"), CreatedAt: at(2 * time.Hour), UpdatedAt: at(2 * time.Hour)}
	for _, a := range []care.Agent{tom, li} {
		if err := s.CreateAgent(c, a); err != nil {
			t.Fatalf("CreateAgent(%s): %v", a.ID, err)
		}
	}
	if err := s.CreateAgent(c, care.Agent{ShopID: shop.ID, ID: "tom", Name: "Other Tom"}); !errors.Is(err, care.ErrConflict) {
		t.Errorf("CreateAgent(same id) = %v; want ErrConflict", err)
	}
	got, err := s.GetAgent(c, shop.ID, "li-na")
	if err != nil {
		t.Fatalf("GetAgent: %v", err)
	}
	if diff := cmp.Diff(li, got); diff != "" {
		t.Errorf("GetAgent round trip (-want +got):\n%s", diff)
	}
	if _, err := s.GetAgent(c, other.ID, "li-na"); !errors.Is(err, care.ErrNotFound) {
		t.Errorf("GetAgent(other shop) = %v; want ErrNotFound", err)
	}
	list, err := s.ListAgents(c, shop.ID)
	if err != nil {
		t.Fatalf("ListAgents: %v", err)
	}
	if diff := cmp.Diff([]care.Agent{li, tom}, list); diff != "" {
		t.Errorf("ListAgents (-want +got):\n%s", diff)
	}
	if l, err := s.ListAgents(c, other.ID); err != nil || len(l) != 0 {
		t.Errorf("ListAgents(other shop) = %v, %v; want empty", l, err)
	}
	upd := li
	upd.Name, upd.Active, upd.KeyHash, upd.UpdatedAt = "李娜 (夜班)", false, care.HashKey("k3"), at(3*time.Hour)
	upd.CreatedAt = at(99 * time.Hour) // ignored: CreatedAt is kept
	if err := s.UpdateAgent(c, upd); err != nil {
		t.Fatalf("UpdateAgent: %v", err)
	}
	want := upd
	want.CreatedAt = li.CreatedAt
	if got, err := s.GetAgent(c, shop.ID, "li-na"); err != nil || !cmp.Equal(want, got) {
		t.Errorf("GetAgent after update = %+v, %v; want %+v", got, err, want)
	}
	if err := s.UpdateAgent(c, care.Agent{ShopID: other.ID, ID: "li-na", Name: "x"}); !errors.Is(err, care.ErrNotFound) {
		t.Errorf("UpdateAgent(other shop) = %v; want ErrNotFound", err)
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range Writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.CreateAgent(c, care.Agent{ShopID: other.ID, ID: "racer", Name: string(rune('a' + i%26)), Active: true})
			switch {
			case err == nil:
				mu.Lock()
				wins++
				mu.Unlock()
			case !errors.Is(err, care.ErrConflict):
				t.Errorf("CreateAgent(race): %v; want nil or ErrConflict", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("concurrent CreateAgent of one id: %d winners; want 1", wins)
	}
}
