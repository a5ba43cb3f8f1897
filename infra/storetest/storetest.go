// Package storetest is the one conformance suite every care.Store
// implementation passes: the embedded SQLite store runs it on every go test,
// the DynamoDB store runs it against DynamoDB Local.
//
// Run is the entry point for care.Store, RunCare for the care workflows'
// stores (care.CareStore); call them from Test functions of the store's
// package. The suite never assumes an empty store: every subtest uses its own
// shop ids (unique per call), and it reads the change feed filtered to its own
// shops, so newStore may hand out one shared store. It assumes reads see a
// write once the write returned; feed entries are polled for up to FeedWait,
// for stores whose feed lags behind their writes. Run it under -race: one
// subtest runs Writers goroutines against one store.
//
// What it pins beyond care's doc comments: Ingest passes d.ReceivedAt as now
// (Change.At and UpdatedAt equal it) and sets ShopID; ErrInvalid for a limit
// outside 1..1000 or a cursor the store did not issue; a rejected event leaves
// no trace (its delivery id and event id stay free); data round-trips exactly
// (times with their zone and nanoseconds, decimal strings, ids).
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/ordercare/ordercare/internal/care"
)

// FeedWait bounds how long the suite polls the change feed for entries it
// expects; a store whose feed is written in the same transaction as the
// order never waits. Set it before Run.
var FeedWait = 20 * time.Second

// Run runs the conformance suite against the store returned by newStore; each
// call must return an empty, isolated store, or one where ids never collide
// (the suite uses unique shop ids per subtest).
func Run(t *testing.T, newStore func(t *testing.T) care.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s care.Store)
	}{
		{"NotFound", testNotFound},
		{"CreateShop", testCreateShop},
		{"CreateShopRace", testCreateShopRace},
		{"Sources", testSources},
		{"IngestRoundTrip", testIngestRoundTrip},
		{"DuplicateDelivery", testDuplicate},
		{"ApplyError", testApplyError},
		{"ConcurrentWriters", testConcurrentWriters},
		{"OutOfOrder", testOutOfOrder},
		{"TenantIsolation", testTenantIsolation},
		{"ListEventsPagination", testListEvents},
		{"GetOrders", testGetOrders},
		{"Feed", testFeed},
		{"FeedTail", testFeedTail},
		{"LargeEvent", testLargeEvent},
		{"ServiceHours", testServiceHours},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// ---- fixtures: real-looking canonical data ----

// t0 is the base time of every fixture: 2026-11-11 00:00:00.123456789 in
// Shanghai, kept in UTC as stores must return it.
var t0 = time.Date(2026, 11, 10, 16, 0, 0, 123456789, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func tp(t time.Time) *time.Time { return &t }

// newShop creates a shop with a unique id and returns it.
func newShop(t *testing.T, s care.Store) care.Shop {
	t.Helper()
	shop := care.Shop{
		ID:        uniqueID("shop"),
		Name:      "杭州小茶铺 Tea House",
		Timezone:  "Asia/Shanghai",
		Locale:    "zh-CN",
		Currency:  "CNY",
		CreatedAt: at(-30 * 24 * time.Hour),
	}
	if err := s.CreateShop(ctx(t), shop, nil); err != nil {
		t.Fatalf("CreateShop(%s): %v", shop.ID, err)
	}
	return shop
}

// uniqueID returns prefix-<random>, unique across calls and processes.
func uniqueID(prefix string) string {
	return prefix + "-" + strings.ReplaceAll(uuid.NewString(), "-", "")[:16]
}

func ctx(t *testing.T) context.Context { return t.Context() }

// sampleOrder is a complete order as order.created carries it.
func sampleOrder(id string) care.Order {
	return care.Order{
		ID:            id,
		PlacedAt:      tp(at(0)),
		Total:         "259.80",
		Currency:      "CNY",
		PaymentMethod: care.PayOnline,
		PayDeadline:   tp(at(30 * time.Minute)),
		Buyer: &care.Buyer{
			Name:     "王小明",
			Phone:    "+8613800138000",
			Email:    "xiaoming.wang@example.com",
			Locale:   "zh-CN",
			Timezone: "Asia/Shanghai",
		},
		ShippingAddress: &care.Address{
			Name:       "王小明",
			Phone:      "+8613800138000",
			Line1:      "南京西路1266号恒隆广场",
			Line2:      "18楼 1801室",
			District:   "静安区",
			City:       "上海市",
			Province:   "上海市",
			PostalCode: "200040",
			Country:    "CN",
		},
		Items: []care.Item{
			{SKU: "LJ-2026-250G", Title: "明前龙井 250g", Quantity: 1, Price: "199.90", Perishable: true, ShelfLifeHours: 8760},
			{SKU: "GIFT-BOX-01", Title: "礼盒包装", Quantity: 2, Price: "29.95"},
		},
	}
}

func idOnly(orderID string) care.Order { return care.Order{ID: orderID} }

func created(orderID string, d time.Duration) care.Event {
	return care.Event{ID: uniqueID("evt"), Type: care.OrderCreated, OccurredAt: at(d), Order: sampleOrder(orderID)}
}

func paid(orderID string, d time.Duration) care.Event {
	o := idOnly(orderID)
	o.Total, o.Currency, o.PaymentMethod = "259.80", "CNY", care.PayOnline
	return care.Event{ID: uniqueID("evt"), Type: care.OrderPaid, OccurredAt: at(d), Order: o}
}

func cancelled(orderID string, d time.Duration) care.Event {
	return care.Event{ID: uniqueID("evt"), Type: care.OrderCancelled, OccurredAt: at(d), Order: idOnly(orderID)}
}

func shipped(orderID, tracking string, d time.Duration) care.Event {
	return care.Event{ID: uniqueID("evt"), Type: care.OrderShipped, OccurredAt: at(d), Order: idOnly(orderID),
		Shipment: &care.Shipment{Carrier: "SF Express", TrackingNumbers: []string{tracking}, Status: care.ShipInTransit}}
}

func shipmentUpdated(orderID, tracking string, st care.ShipmentStatus, d time.Duration) care.Event {
	sh := &care.Shipment{Carrier: "SF Express", TrackingNumbers: []string{tracking}, Status: st}
	if st == care.ShipAwaitingPickup {
		sh.PickupPoint = "丰巢快递柜 静安寺站 A12"
		sh.PickupDeadline = tp(at(d + 72*time.Hour))
	}
	return care.Event{ID: uniqueID("evt"), Type: care.ShipmentUpdated, OccurredAt: at(d), Order: idOnly(orderID), Shipment: sh}
}

func addressChanged(orderID string, d time.Duration) care.Event {
	o := idOnly(orderID)
	o.ShippingAddress = &care.Address{Name: "王小明", Phone: "+8613800138000", Line1: "淮海中路999号", District: "黄浦区",
		City: "上海市", Province: "上海市", PostalCode: "200020", Country: "CN"}
	return care.Event{ID: uniqueID("evt"), Type: care.OrderAddressChanged, OccurredAt: at(d), Order: o}
}

func completed(orderID string, d time.Duration) care.Event {
	return care.Event{ID: uniqueID("evt"), Type: care.OrderCompleted, OccurredAt: at(d), Order: idOnly(orderID)}
}

func reviewed(orderID string, rating int, d time.Duration) care.Event {
	return care.Event{ID: uniqueID("evt"), Type: care.ReviewPosted, OccurredAt: at(d), Order: idOnly(orderID),
		Review: &care.Review{Rating: rating, Text: "茶叶很香，包装精美，物流也快。"}}
}

func replied(orderID string, d time.Duration) care.Event {
	return care.Event{ID: uniqueID("evt"), Type: care.BuyerReplied, OccurredAt: at(d), Order: idOnly(orderID),
		Reply: &care.Reply{Text: "好的，谢谢提醒，马上付款", Channel: "sms"}}
}

// delivery returns a delivery of shop through the standard source with a
// fresh delivery id, received at t0+d.
func delivery(shopID string, d time.Duration) care.Delivery {
	return care.Delivery{ShopID: shopID, Source: care.SourceStandard, DeliveryID: uniqueID("msg"), ReceivedAt: at(d)}
}

// ---- assertions ----

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error = %v, want %v", what, err, target)
	}
}

// ignoreOrderDependent ignores what legitimately depends on arrival order.
var ignoreOrderDependent = cmp.Options{
	cmpopts.IgnoreFields(care.OrderState{}, "Version", "UpdatedAt"),
	cmpopts.SortSlices(func(a, b care.Parcel) bool { return a.TrackingNumber < b.TrackingNumber }),
	cmpopts.EquateEmpty(),
}

// ingest ingests ev with care.Apply and fails the test on error.
func ingest(t *testing.T, s care.Store, d care.Delivery, ev care.Event) care.IngestResult {
	t.Helper()
	res, err := s.Ingest(ctx(t), d, ev, care.Apply)
	if err != nil {
		t.Fatalf("Ingest(%s %s): %v", ev.Type, ev.ID, err)
	}
	return res
}

// applyAll applies events of one shop in the given order with care.Apply, as
// a reference; rejected events are skipped. Stores set ShopID.
func applyAll(shopID string, events []care.Event) map[string]*care.OrderState {
	out := map[string]*care.OrderState{}
	for _, ev := range events {
		next, err := care.Apply(out[ev.Order.ID], ev, t0)
		if err != nil {
			continue
		}
		next.ShopID = shopID
		out[ev.Order.ID] = &next
	}
	return out
}

func getOrder(t *testing.T, s care.Store, shopID, orderID string) care.OrderState {
	t.Helper()
	o, err := s.GetOrder(ctx(t), shopID, orderID)
	if err != nil {
		t.Fatalf("GetOrder(%s, %s): %v", shopID, orderID, err)
	}
	return o
}

// allEvents pages through an order's events with the given page size.
func allEvents(t *testing.T, s care.Store, shopID, orderID string, limit int) (evs []care.RecordedEvent, pages int) {
	t.Helper()
	cursor := ""
	for {
		page, next, err := s.ListEvents(ctx(t), shopID, orderID, cursor, limit)
		if err != nil {
			t.Fatalf("ListEvents(%s, %s, %q, %d): %v", shopID, orderID, cursor, limit, err)
		}
		if len(page) > limit {
			t.Fatalf("ListEvents(limit %d) returned %d events", limit, len(page))
		}
		pages++
		evs = append(evs, page...)
		if next == "" {
			return evs, pages
		}
		if next == cursor {
			t.Fatalf("ListEvents: next cursor %q equals the cursor it was called with", next)
		}
		if pages > 10000 {
			t.Fatalf("ListEvents: no end after %d pages", pages)
		}
		cursor = next
	}
}

// feedFor reads the feed from cursor until it holds want entries of the
// given shops (polling up to FeedWait) or reaches its end with enough. It
// returns the entries of those shops in feed order and the last cursor.
func feedFor(t *testing.T, s care.Store, cursor string, limit, want int, shops ...string) ([]care.Change, string) {
	t.Helper()
	mine := map[string]bool{}
	for _, id := range shops {
		mine[id] = true
	}
	var out []care.Change
	deadline := time.Now().Add(FeedWait)
	for {
		page, next, err := s.ReadFeed(ctx(t), cursor, limit)
		if err != nil {
			t.Fatalf("ReadFeed(%q, %d): %v", cursor, limit, err)
		}
		if len(page) > limit {
			t.Fatalf("ReadFeed(limit %d) returned %d changes", limit, len(page))
		}
		if len(page) == 0 && next != cursor {
			t.Fatalf("ReadFeed(%q) returned nothing and a new cursor %q; want the same cursor", cursor, next)
		}
		for _, c := range page {
			if mine[c.ShopID] {
				out = append(out, c)
			}
		}
		cursor = next
		if len(page) == 0 {
			if len(out) >= want {
				return out, cursor
			}
			if time.Now().After(deadline) {
				t.Fatalf("ReadFeed: %d changes of this test after %v, want %d", len(out), FeedWait, want)
			}
		}
	}
}

// ---- subtests ----

func testNotFound(t *testing.T, s care.Store) {
	shop := newShop(t, s)
	ghost := uniqueID("shop")
	c := ctx(t)

	_, err := s.GetShop(c, ghost)
	wantErr(t, "GetShop(unknown)", err, care.ErrNotFound)
	_, err = s.KeyByHash(c, care.HashKey("ock_"+uniqueID("never-issued")))
	wantErr(t, "KeyByHash(unknown)", err, care.ErrNotFound)
	_, err = s.GetSource(c, shop.ID, care.SourceShopify)
	wantErr(t, "GetSource(known shop, unset source)", err, care.ErrNotFound)
	_, err = s.GetSource(c, ghost, care.SourceShopify)
	wantErr(t, "GetSource(unknown shop)", err, care.ErrNotFound)
	_, err = s.GetOrder(c, shop.ID, "820982911946154508")
	wantErr(t, "GetOrder(unknown order)", err, care.ErrNotFound)
	_, err = s.GetOrder(c, ghost, "820982911946154508")
	wantErr(t, "GetOrder(unknown shop)", err, care.ErrNotFound)
	_, _, err = s.ListEvents(c, shop.ID, "820982911946154508", "", 10)
	wantErr(t, "ListEvents(unknown order)", err, care.ErrNotFound)
	_, err = s.Ingest(c, delivery(ghost, 0), created("820982911946154508", 0), care.Apply)
	wantErr(t, "Ingest(unknown shop)", err, care.ErrNotFound)
	_, err = s.GetOrder(c, ghost, "820982911946154508")
	wantErr(t, "GetOrder(unknown shop) after Ingest", err, care.ErrNotFound)
}

func testCreateShop(t *testing.T, s care.Store) {
	c := ctx(t)
	shop := care.Shop{ID: uniqueID("shop"), Name: "Maple & Moss Ceramics", Timezone: "America/Toronto",
		Locale: "en-CA", Currency: "CAD", CreatedAt: time.Date(2026, 3, 1, 14, 30, 0, 987654321, time.UTC)}
	keys := []care.APIKey{
		{Hash: care.HashKey("ock_" + uniqueID("ops")), ShopID: shop.ID, Role: care.RoleOps},
		{Hash: care.HashKey("ock_" + uniqueID("agent")), ShopID: shop.ID, Role: care.RoleAgent},
	}
	if err := s.CreateShop(c, shop, keys); err != nil {
		t.Fatalf("CreateShop: %v", err)
	}
	got, err := s.GetShop(c, shop.ID)
	if err != nil {
		t.Fatalf("GetShop: %v", err)
	}
	if diff := cmp.Diff(shop, got); diff != "" {
		t.Errorf("GetShop mismatch (-want +got):\n%s", diff)
	}
	for _, k := range keys {
		got, err := s.KeyByHash(c, k.Hash)
		if err != nil {
			t.Fatalf("KeyByHash(%s role): %v", k.Role, err)
		}
		if diff := cmp.Diff(k, got); diff != "" {
			t.Errorf("KeyByHash mismatch (-want +got):\n%s", diff)
		}
	}

	fresh := func() care.APIKey {
		return care.APIKey{Hash: care.HashKey("ock_" + uniqueID("k")), Role: care.RoleOps}
	}
	tests := []struct {
		name string
		shop care.Shop
		keys []care.APIKey
	}{
		{"same shop id", care.Shop{ID: shop.ID, Name: "Impostor", Timezone: "UTC", Locale: "en", Currency: "USD"}, []care.APIKey{fresh()}},
		{"existing key hash", care.Shop{ID: uniqueID("shop"), Name: "Other", Timezone: "UTC", Locale: "en", Currency: "USD"}, []care.APIKey{fresh(), keys[1]}},
		{"same hash twice in one call", care.Shop{ID: uniqueID("shop"), Name: "Twice", Timezone: "UTC", Locale: "en", Currency: "USD"}, func() []care.APIKey {
			k := fresh()
			return []care.APIKey{k, k}
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.keys {
				tc.keys[i].ShopID = tc.shop.ID
			}
			err := s.CreateShop(c, tc.shop, tc.keys)
			wantErr(t, "CreateShop", err, care.ErrConflict)
			// Nothing partially written: the original shop and keys are
			// intact, and no new shop or key is visible.
			if got, err := s.GetShop(c, shop.ID); err != nil || got.Name != shop.Name {
				t.Errorf("after conflict, GetShop(original) = %+v, %v", got, err)
			}
			if tc.shop.ID != shop.ID {
				_, err := s.GetShop(c, tc.shop.ID)
				wantErr(t, "GetShop(shop of the failed create)", err, care.ErrNotFound)
			}
			for _, k := range tc.keys {
				got, err := s.KeyByHash(c, k.Hash)
				if k.Hash == keys[1].Hash {
					if err != nil || got.ShopID != shop.ID {
						t.Errorf("after conflict, KeyByHash(existing key) = %+v, %v; want it still to belong to %s", got, err, shop.ID)
					}
					continue
				}
				wantErr(t, "KeyByHash(key of the failed create)", err, care.ErrNotFound)
			}
		})
	}
}

// testCreateShopRace creates one shop id from many goroutines at once, each
// with its own key: exactly one wins, and only the winner's key exists.
func testCreateShopRace(t *testing.T, s care.Store) {
	c := ctx(t)
	id := uniqueID("shop")
	const n = 16
	errs := make([]error, n)
	keys := make([]care.APIKey, n)
	var wg sync.WaitGroup
	for i := range n {
		keys[i] = care.APIKey{Hash: care.HashKey("ock_" + uniqueID("race")), ShopID: id, Role: care.RoleOps}
		wg.Go(func() {
			shop := care.Shop{ID: id, Name: fmt.Sprintf("racer %d", i), Timezone: "Asia/Shanghai", Locale: "zh-CN", Currency: "CNY", CreatedAt: at(0)}
			errs[i] = s.CreateShop(c, shop, []care.APIKey{keys[i]})
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("CreateShop succeeded twice for one id (racers %d and %d)", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, care.ErrConflict):
			t.Errorf("racer %d: error %v, want ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no racer created the shop")
	}
	got, err := s.GetShop(c, id)
	if err != nil || got.Name != fmt.Sprintf("racer %d", winner) {
		t.Errorf("GetShop = %q, %v; want the winner's shop (racer %d)", got.Name, err, winner)
	}
	for i, k := range keys {
		_, err := s.KeyByHash(c, k.Hash)
		if i == winner && err != nil {
			t.Errorf("winner's key: %v", err)
		}
		if i != winner {
			wantErr(t, fmt.Sprintf("KeyByHash(racer %d's key)", i), err, care.ErrNotFound)
		}
	}
}

func testSources(t *testing.T, s care.Store) {
	c := ctx(t)
	shop := newShop(t, s)
	other := newShop(t, s)

	err := s.PutSource(c, care.Source{ShopID: uniqueID("shop"), Name: care.SourceShopify, Secret: "shpss_x", UpdatedAt: at(0)})
	wantErr(t, "PutSource(unknown shop)", err, care.ErrNotFound)

	v1 := care.Source{ShopID: shop.ID, Name: care.SourceShopify, Secret: "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", UpdatedAt: at(time.Hour)}
	v2 := care.Source{ShopID: shop.ID, Name: care.SourceShopify, Secret: "shpss_rotated_0a1b2c3d4e5f", UpdatedAt: at(2 * time.Hour)}
	dy := care.Source{ShopID: shop.ID, Name: care.SourceDouyin, AppKey: "7312345678901234567", AppSecret: "d1e2f3a4-b5c6-7d8e-9f00-112233445566", UpdatedAt: at(3 * time.Hour)}
	for _, src := range []care.Source{v1, dy} {
		if err := s.PutSource(c, src); err != nil {
			t.Fatalf("PutSource(%s): %v", src.Name, err)
		}
	}
	check := func(want care.Source) {
		t.Helper()
		got, err := s.GetSource(c, want.ShopID, want.Name)
		if err != nil {
			t.Fatalf("GetSource(%s): %v", want.Name, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetSource(%s) mismatch (-want +got):\n%s", want.Name, diff)
		}
	}
	check(v1)
	check(dy)
	if err := s.PutSource(c, v2); err != nil {
		t.Fatalf("PutSource(replace): %v", err)
	}
	check(v2)
	check(dy)
	_, err = s.GetSource(c, other.ID, care.SourceShopify)
	wantErr(t, "GetSource(another shop's source)", err, care.ErrNotFound)
}

func testIngestRoundTrip(t *testing.T, s care.Store) {
	c := ctx(t)
	shop := newShop(t, s)
	const orderID = "820982911946154508"
	ev := created(orderID, 0)
	d := delivery(shop.ID, time.Second)
	d.Source = care.SourceShopify
	d.DeliveryID = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"

	var gotCur []*care.OrderState
	apply := func(cur *care.OrderState, ev care.Event, now time.Time) (care.OrderState, error) {
		gotCur = append(gotCur, cur)
		return care.Apply(cur, ev, now)
	}
	res, err := s.Ingest(c, d, ev, apply)
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	for _, cur := range gotCur {
		if cur != nil {
			t.Errorf("apply got cur = %+v for a new order, want nil", cur)
		}
	}
	if res.Duplicate {
		t.Errorf("first Ingest: Duplicate = true")
	}
	if !res.Order.UpdatedAt.Equal(d.ReceivedAt) || res.Order.ShopID != shop.ID {
		t.Errorf("first Ingest: UpdatedAt %v, ShopID %q; want d.ReceivedAt %v and %q", res.Order.UpdatedAt, res.Order.ShopID, d.ReceivedAt, shop.ID)
	}
	if res.Order.Version != 1 || res.Order.Status != care.StatusCreated {
		t.Errorf("first Ingest: version %d status %q, want 1 created", res.Order.Version, res.Order.Status)
	}
	got := getOrder(t, s, shop.ID, orderID)
	if diff := cmp.Diff(res.Order, got); diff != "" {
		t.Errorf("GetOrder differs from Ingest's result (-ingest +get):\n%s", diff)
	}
	if diff := cmp.Diff(ev.Order, got.Order, cmpopts.IgnoreFields(care.Order{}, "NeedsEnrichment")); diff != "" {
		t.Errorf("stored order differs from the event's (-event +stored):\n%s", diff)
	}

	// The second event sees the first's state.
	gotCur = nil
	p := paid(orderID, 10*time.Minute)
	d2 := delivery(shop.ID, 11*time.Minute)
	res2, err := s.Ingest(c, d2, p, apply)
	if err != nil {
		t.Fatalf("Ingest(paid): %v", err)
	}
	if len(gotCur) == 0 || gotCur[len(gotCur)-1] == nil {
		t.Fatalf("apply for an existing order got cur = nil")
	}
	if diff := cmp.Diff(got, *gotCur[len(gotCur)-1]); diff != "" {
		t.Errorf("apply's cur differs from the stored order (-stored +cur):\n%s", diff)
	}
	if res2.Order.Version != 2 || res2.Order.Status != care.StatusPaid {
		t.Errorf("after paid: version %d status %q, want 2 paid", res2.Order.Version, res2.Order.Status)
	}

	evs, _ := allEvents(t, s, shop.ID, orderID, 10)
	want := []care.RecordedEvent{{Seq: 1, Delivery: d, Event: ev}, {Seq: 2, Delivery: d2, Event: p}}
	if diff := cmp.Diff(want, evs); diff != "" {
		t.Errorf("ListEvents mismatch (-want +got):\n%s", diff)
	}
}

func testDuplicate(t *testing.T, s care.Store) {
	c := ctx(t)
	shop := newShop(t, s)
	other := newShop(t, s)
	const orderID = "5467091828893"
	first := created(orderID, 0)
	d := delivery(shop.ID, time.Second)
	ingest(t, s, d, first)
	p := paid(orderID, time.Minute)
	dp := delivery(shop.ID, time.Minute+time.Second)
	ingest(t, s, dp, p)
	before := getOrder(t, s, shop.ID, orderID)
	beforeEvents, _ := allEvents(t, s, shop.ID, orderID, 100)
	feedBefore, _ := feedFor(t, s, "", 1000, 2, shop.ID)

	tests := []struct {
		name string
		d    care.Delivery
		ev   care.Event
	}{
		{"same delivery id, other event", care.Delivery{ShopID: shop.ID, Source: d.Source, DeliveryID: d.DeliveryID, ReceivedAt: at(time.Hour)}, shipped(orderID, "SF1234567890123", 50*time.Minute)},
		{"same delivery id, same event", care.Delivery{ShopID: shop.ID, Source: d.Source, DeliveryID: d.DeliveryID, ReceivedAt: at(time.Hour)}, first},
		{"same event id, other delivery id", delivery(shop.ID, time.Hour), p},
		{"same event id, other source", care.Delivery{ShopID: shop.ID, Source: care.SourceShopify, DeliveryID: uniqueID("msg"), ReceivedAt: at(time.Hour)}, p},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.Ingest(c, tc.d, tc.ev, care.Apply)
			if err != nil {
				t.Fatalf("Ingest: %v", err)
			}
			if !res.Duplicate {
				t.Errorf("Duplicate = false, want true")
			}
			if diff := cmp.Diff(before, res.Order); diff != "" {
				t.Errorf("Duplicate's Order is not the current state (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, getOrder(t, s, shop.ID, orderID)); diff != "" {
				t.Errorf("order changed (-before +after):\n%s", diff)
			}
			evs, _ := allEvents(t, s, shop.ID, orderID, 100)
			if diff := cmp.Diff(beforeEvents, evs); diff != "" {
				t.Errorf("events changed (-before +after):\n%s", diff)
			}
		})
	}
	feedAfter, _ := feedFor(t, s, "", 1000, 2, shop.ID)
	if diff := cmp.Diff(feedBefore, feedAfter); diff != "" {
		t.Errorf("feed changed by duplicates (-before +after):\n%s", diff)
	}

	// Delivery ids are unique per (shop, source), event ids per shop: the
	// same ids under another source or another shop are new events.
	t.Run("same delivery id, other source", func(t *testing.T) {
		res := ingest(t, s, care.Delivery{ShopID: shop.ID, Source: care.SourceWooCommerce, DeliveryID: d.DeliveryID, ReceivedAt: at(2 * time.Hour)}, shipped(orderID, "SF1234567890123", 90*time.Minute))
		if res.Duplicate || res.Order.Version != 3 {
			t.Errorf("Duplicate = %v, version %d; want a new event, version 3", res.Duplicate, res.Order.Version)
		}
	})
	t.Run("same ids, other shop", func(t *testing.T) {
		res := ingest(t, s, care.Delivery{ShopID: other.ID, Source: d.Source, DeliveryID: d.DeliveryID, ReceivedAt: at(2 * time.Hour)}, first)
		if res.Duplicate || res.Order.Version != 1 {
			t.Errorf("Duplicate = %v, version %d; want a new event, version 1", res.Duplicate, res.Order.Version)
		}
	})
}

func testApplyError(t *testing.T, s care.Store) {
	c := ctx(t)
	shop := newShop(t, s)
	const orderID = "DY-6921507713982153871"
	rejectAll := func(*care.OrderState, care.Event, time.Time) (care.OrderState, error) {
		return care.OrderState{}, &care.RejectError{Reason: "test says no"}
	}

	t.Run("new order", func(t *testing.T) {
		ev := created(orderID, 0)
		d := delivery(shop.ID, time.Second)
		res, err := s.Ingest(c, d, ev, rejectAll)
		var rej *care.RejectError
		if !errors.As(err, &rej) || rej.Reason != "test says no" || !errors.Is(err, care.ErrRejected) {
			t.Fatalf("Ingest with a rejecting apply = %+v, %v; want the *care.RejectError", res, err)
		}
		_, err = s.GetOrder(c, shop.ID, orderID)
		wantErr(t, "GetOrder after rejection", err, care.ErrNotFound)
		_, _, err = s.ListEvents(c, shop.ID, orderID, "", 10)
		wantErr(t, "ListEvents after rejection", err, care.ErrNotFound)

		// Not even the delivery id was recorded: the retry applies.
		res = ingest(t, s, d, ev)
		if res.Duplicate || res.Order.Version != 1 {
			t.Errorf("retry: Duplicate = %v, version %d; want applied, version 1", res.Duplicate, res.Order.Version)
		}
	})

	t.Run("existing order", func(t *testing.T) {
		ingest(t, s, delivery(shop.ID, time.Hour), cancelled(orderID, time.Hour))
		before := getOrder(t, s, shop.ID, orderID)
		evsBefore, _ := allEvents(t, s, shop.ID, orderID, 100)
		// Paid after the cancellation: care.Apply rejects it.
		late := paid(orderID, 2*time.Hour)
		d := delivery(shop.ID, 2*time.Hour)
		_, err := s.Ingest(c, d, late, care.Apply)
		wantErr(t, "Ingest(paid after cancelled)", err, care.ErrRejected)
		if diff := cmp.Diff(before, getOrder(t, s, shop.ID, orderID)); diff != "" {
			t.Errorf("order changed by a rejected event (-before +after):\n%s", diff)
		}
		evs, _ := allEvents(t, s, shop.ID, orderID, 100)
		if diff := cmp.Diff(evsBefore, evs); diff != "" {
			t.Errorf("events changed by a rejected event (-before +after):\n%s", diff)
		}
		// The event id and delivery id stay free: a payment dated before the
		// cancellation, redelivered under the same ids, applies.
		late.OccurredAt = at(30 * time.Minute)
		res := ingest(t, s, d, late)
		if res.Duplicate || res.Order.Version != before.Version+1 || !res.Order.Has(care.StatusPaid) {
			t.Errorf("retry: Duplicate = %v, version %d, paid %v; want applied", res.Duplicate, res.Order.Version, res.Order.Has(care.StatusPaid))
		}
		feed, _ := feedFor(t, s, "", 1000, 3, shop.ID)
		if len(feed) != 3 {
			t.Errorf("feed has %d changes for the shop, want 3 (rejections append nothing)", len(feed))
		}
	})
}

// lifecycle returns a complete, convergent event history of one order: every
// arrival order of these events applies all of them and ends in one state.
func lifecycle(orderID string, k int) []care.Event {
	base := time.Duration(k) * time.Minute
	tracking := fmt.Sprintf("SF%013d", 1000000+k)
	return []care.Event{
		created(orderID, base),
		replied(orderID, base+5*time.Minute),
		addressChanged(orderID, base+8*time.Minute),
		paid(orderID, base+10*time.Minute),
		shipped(orderID, tracking, base+4*time.Hour),
		shipmentUpdated(orderID, tracking, care.ShipAwaitingPickup, base+30*time.Hour),
		shipmentUpdated(orderID, tracking, care.ShipDelivered, base+40*time.Hour),
		completed(orderID, base+7*24*time.Hour),
		reviewed(orderID, 5, base+8*24*time.Hour),
		reviewed(orderID, 2, base+7*24*time.Hour+time.Hour),
	}
}

// cmpDiff diffs two orders, ignoring what depends on arrival order.
func cmpDiff(want, got care.OrderState) string { return cmp.Diff(want, got, ignoreOrderDependent) }
