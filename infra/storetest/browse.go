package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
)

// The conformance cases of care.ShopAdmin and care.Browse (run by RunCare).

// pageAll pages through a list with limit, returning each page's keys; it
// fails the test on an error or more than 50 pages.
func pageAll(t *testing.T, what string, limit int, list func(cursor string, limit int) ([]string, string, error)) []string {
	t.Helper()
	var all []string
	cursor := ""
	for pages := 0; ; pages++ {
		keys, next, err := list(cursor, limit)
		if err != nil {
			t.Fatalf("%s page %d: %v", what, pages, err)
		}
		if len(keys) > limit {
			t.Fatalf("%s page %d: %d entries, limit %d", what, pages, len(keys), limit)
		}
		all = append(all, keys...)
		if next == "" {
			return all
		}
		if pages == 50 {
			t.Fatalf("%s: more than 50 pages", what)
		}
		cursor = next
	}
}

func testListShops(t *testing.T, s care.CareStore) {
	c := ctx(t)
	var mine []string
	for range 3 {
		mine = append(mine, newShop(t, s).ID)
	}
	slices.Sort(mine)
	var got []care.Shop
	ids := pageAll(t, "ListShops", 2, func(cursor string, limit int) ([]string, string, error) {
		shops, next, err := s.ListShops(c, cursor, limit)
		got = append(got, shops...)
		var ids []string
		for _, sh := range shops {
			ids = append(ids, sh.ID)
		}
		return ids, next, err
	})
	if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Errorf("ListShops ids not strictly ascending: %v", ids)
	}
	var found []string
	for _, sh := range got {
		if slices.Contains(mine, sh.ID) {
			found = append(found, sh.ID)
			if want, _ := s.GetShop(c, sh.ID); careDiff(want, sh) != "" {
				t.Errorf("ListShops entry differs from GetShop: %s", careDiff(want, sh))
			}
		}
	}
	if diff := cmp.Diff(mine, found); diff != "" {
		t.Errorf("ListShops misses shops (-want +got):\n%s", diff)
	}
	_, _, err := s.ListShops(c, "", 0)
	wantErr(t, "ListShops(limit 0)", err, care.ErrInvalid)
	_, _, err = s.ListShops(c, "nonsense!", 10)
	wantErr(t, "ListShops(bad cursor)", err, care.ErrInvalid)
}

func newKey(shopID string, role care.Role) care.APIKey {
	return care.APIKey{Hash: care.HashKey(uniqueID("secret")), ShopID: shopID, Role: role}
}

func testReplaceKeys(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := care.Shop{ID: uniqueID("shop"), Name: "Keys", Timezone: "UTC", Locale: "en", Currency: "USD", CreatedAt: at(0)}
	ops1, ops2, agent := newKey(shop.ID, care.RoleOps), newKey(shop.ID, care.RoleOps), newKey(shop.ID, care.RoleAgent)
	if err := s.CreateShop(c, shop, []care.APIKey{ops1, ops2, agent}); err != nil {
		t.Fatal(err)
	}
	other := newShop(t, s)
	otherOps := newKey(other.ID, care.RoleOps)
	if err := s.ReplaceKeys(c, otherOps); err != nil {
		t.Fatalf("ReplaceKeys(shop without keys): %v", err)
	}

	fresh := newKey(shop.ID, care.RoleOps)
	if err := s.ReplaceKeys(c, fresh); err != nil {
		t.Fatalf("ReplaceKeys: %v", err)
	}
	for _, k := range []care.APIKey{ops1, ops2} {
		_, err := s.KeyByHash(c, k.Hash)
		wantErr(t, "KeyByHash(replaced ops key)", err, care.ErrNotFound)
	}
	for _, k := range []care.APIKey{fresh, agent, otherOps} {
		if got, err := s.KeyByHash(c, k.Hash); err != nil || got != k {
			t.Errorf("KeyByHash(%s key of %s) = %+v, %v; want it kept", k.Role, k.ShopID, got, err)
		}
	}

	err := s.ReplaceKeys(c, newKey(uniqueID("shop"), care.RoleOps))
	wantErr(t, "ReplaceKeys(unknown shop)", err, care.ErrNotFound)
	err = s.ReplaceKeys(c, care.APIKey{Hash: agent.Hash, ShopID: shop.ID, Role: care.RoleOps})
	wantErr(t, "ReplaceKeys(hash exists)", err, care.ErrConflict)
	if got, err := s.KeyByHash(c, fresh.Hash); err != nil || got != fresh {
		t.Errorf("a refused ReplaceKeys changed the keys: %+v, %v", got, err)
	}
	// Replacing twice: the second replaces the first.
	again := newKey(shop.ID, care.RoleOps)
	if err := s.ReplaceKeys(c, again); err != nil {
		t.Fatal(err)
	}
	_, err = s.KeyByHash(c, fresh.Hash)
	wantErr(t, "KeyByHash(key replaced twice)", err, care.ErrNotFound)
}

func testReplaceKeysRace(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	keys := make([]care.APIKey, Racers)
	errs := make([]error, Racers)
	var wg sync.WaitGroup
	for i := range keys {
		keys[i] = newKey(shop.ID, care.RoleAgent)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.ReplaceKeys(c, keys[i])
		}()
	}
	wg.Wait()
	live := 0
	for i, k := range keys {
		if errs[i] != nil && !errors.Is(errs[i], care.ErrConflict) {
			t.Errorf("racer %d: %v", i, errs[i])
		}
		if _, err := s.KeyByHash(c, k.Hash); err == nil {
			live++
		}
	}
	if live != 1 {
		t.Errorf("after %d concurrent ReplaceKeys, %d agent keys work; want exactly 1", Racers, live)
	}
}

func testListOrders(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	// Orders updated one minute apart, in different zones: A (oldest) … E.
	ids := []string{"A", "B", "C", "D", "E"}
	for i, id := range ids {
		d := delivery(shop.ID, time.Duration(i)*time.Minute)
		if i%2 == 1 {
			d.ReceivedAt = d.ReceivedAt.In(cst)
		}
		ingest(t, s, d, created(id, 0))
	}
	// B is paid last, so it is the most recently updated.
	ingest(t, s, delivery(shop.ID, 10*time.Minute), paid("B", time.Minute))
	list := func(f care.OrderFilter) []string {
		return pageAll(t, "ListOrders", 2, func(cursor string, limit int) ([]string, string, error) {
			os, next, err := s.ListOrders(c, shop.ID, f, cursor, limit)
			var keys []string
			for _, o := range os {
				if o.ShopID != shop.ID {
					t.Errorf("ListOrders returned an order of shop %q", o.ShopID)
				}
				keys = append(keys, o.Order.ID+":"+string(o.Status))
			}
			return keys, next, err
		})
	}
	if diff := cmp.Diff([]string{"B:paid", "E:created", "D:created", "C:created", "A:created"}, list(care.OrderFilter{})); diff != "" {
		t.Errorf("ListOrders (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"E:created", "D:created", "C:created", "A:created"}, list(care.OrderFilter{Status: care.StatusCreated})); diff != "" {
		t.Errorf("ListOrders(created) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"B:paid"}, list(care.OrderFilter{Status: care.StatusPaid})); diff != "" {
		t.Errorf("ListOrders(paid) (-want +got):\n%s", diff)
	}
	got, _, err := s.ListOrders(c, shop.ID, care.OrderFilter{}, "", 1)
	if want := getOrder(t, s, shop.ID, "B"); err != nil || len(got) != 1 || careDiff(want, got[0]) != "" {
		t.Errorf("ListOrders entry differs from GetOrder: %v %s", err, careDiff(want, got))
	}
	if os, next, err := s.ListOrders(c, uniqueID("shop"), care.OrderFilter{}, "", 10); err != nil || len(os) != 0 || next != "" {
		t.Errorf("ListOrders(unknown shop) = %d, %q, %v; want none", len(os), next, err)
	}
	_, _, err = s.ListOrders(c, shop.ID, care.OrderFilter{}, "", 1001)
	wantErr(t, "ListOrders(limit 1001)", err, care.ErrInvalid)
	_, _, err = s.ListOrders(c, shop.ID, care.OrderFilter{}, "zzz", 10)
	wantErr(t, "ListOrders(bad cursor)", err, care.ErrInvalid)
}

func testListRecentRuns(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	for i, r := range []struct {
		order string
		wf    care.Workflow
		st    care.RunStatus
	}{
		{"1", care.UnpaidChase, care.RunSucceeded}, {"2", care.CODConfirm, care.RunRunning},
		{"3", care.UnpaidChase, care.RunRunning}, {"4", care.UnpaidChase, care.RunStopped},
	} {
		run := sampleRun(shop.ID, r.order, r.wf, at(time.Duration(i)*time.Minute).In(cst))
		run.Status = r.st
		if _, _, err := s.CreateRun(c, run); err != nil {
			t.Fatal(err)
		}
	}
	other := newShop(t, s)
	if _, _, err := s.CreateRun(c, sampleRun(other.ID, "9", care.UnpaidChase, at(time.Hour))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f    care.RunFilter
		want []string
	}{
		{care.RunFilter{}, []string{"4", "3", "2", "1"}},
		{care.RunFilter{Workflow: care.UnpaidChase}, []string{"4", "3", "1"}},
		{care.RunFilter{Status: care.RunRunning}, []string{"3", "2"}},
		{care.RunFilter{Workflow: care.CODConfirm, Status: care.RunFailed}, nil},
	} {
		got := pageAll(t, "ListRecentRuns", 1, func(cursor string, limit int) ([]string, string, error) {
			runs, next, err := s.ListRecentRuns(c, shop.ID, tc.f, cursor, limit)
			var keys []string
			for _, r := range runs {
				if r.Rev != 1 {
					t.Errorf("ListRecentRuns: run %s has Rev %d, want 1", r.OrderID, r.Rev)
				}
				keys = append(keys, r.OrderID)
			}
			return keys, next, err
		})
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ListRecentRuns(%+v) (-want +got):\n%s", tc.f, diff)
		}
	}
	_, _, err := s.ListRecentRuns(c, shop.ID, care.RunFilter{}, "", 0)
	wantErr(t, "ListRecentRuns(limit 0)", err, care.ErrInvalid)
	_, _, err = s.ListRecentRuns(c, shop.ID, care.RunFilter{}, "zzz", 10)
	wantErr(t, "ListRecentRuns(bad cursor)", err, care.ErrInvalid)
}

func testListRecentMessages(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	var want []string
	for i := range 5 {
		id := fmt.Sprintf("m%d", i)
		when := at(time.Duration(i) * time.Hour)
		if i == 2 {
			when = when.In(cst)
		}
		if _, _, err := s.ReserveMessage(c, sampleMessage(shop.ID, "1001", id, when)); err != nil {
			t.Fatal(err)
		}
		want = append([]string{id}, want...)
	}
	// Two entries at one instant: ID breaks the tie (descending).
	if _, _, err := s.ReserveMessage(c, sampleMessage(shop.ID, "1002", "m5", at(4*time.Hour))); err != nil {
		t.Fatal(err)
	}
	want = append([]string{"m5"}, want...)
	got := pageAll(t, "ListRecentMessages", 2, func(cursor string, limit int) ([]string, string, error) {
		ms, next, err := s.ListRecentMessages(c, shop.ID, cursor, limit)
		var keys []string
		for _, m := range ms {
			keys = append(keys, m.ID)
		}
		return keys, next, err
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListRecentMessages (-want +got):\n%s", diff)
	}
	if ms, next, err := s.ListRecentMessages(c, uniqueID("shop"), "", 10); err != nil || len(ms) != 0 || next != "" {
		t.Errorf("ListRecentMessages(unknown shop) = %d, %q, %v; want none", len(ms), next, err)
	}
	_, _, err := s.ListRecentMessages(c, shop.ID, "zzz", 10)
	wantErr(t, "ListRecentMessages(bad cursor)", err, care.ErrInvalid)
}
