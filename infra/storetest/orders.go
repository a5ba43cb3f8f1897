package storetest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
)

// Writers is how many goroutines the concurrent-writers test runs (each
// event of four orders is delivered two or three times). Set it before Run.
var Writers = 64

func testConcurrentWriters(t *testing.T, s care.Store) {
	c := ctx(t)
	shop := newShop(t, s)
	orderIDs := []string{"820982911946154508", "820982911946154509", "1001", "#1002"}
	type job struct {
		d     care.Delivery
		ev    care.Event
		redel bool // a redelivery of an earlier job's delivery
	}
	var all []care.Event
	var jobs []job
	for k, id := range orderIDs {
		for _, ev := range lifecycle(id, k) {
			all = append(all, ev)
			d := delivery(shop.ID, time.Duration(len(jobs))*time.Millisecond)
			jobs = append(jobs, job{d: d, ev: ev})
			// Every event is delivered twice under the same delivery id, and
			// every third one once more under a new delivery id.
			jobs = append(jobs, job{d: d, ev: ev, redel: true})
			if len(jobs)%3 == 0 {
				jobs = append(jobs, job{d: delivery(shop.ID, time.Hour), ev: ev, redel: true})
			}
		}
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("shuffle seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	rng.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })

	work := make(chan job)
	var mu sync.Mutex
	applied := map[string]int{} // event id -> times reported applied
	dups := 0
	var errs []error
	var wg sync.WaitGroup
	for range Writers {
		wg.Go(func() {
			for j := range work {
				res, err := s.Ingest(c, j.d, j.ev, care.Apply)
				mu.Lock()
				switch {
				case err != nil:
					errs = append(errs, fmt.Errorf("Ingest(%s %s): %w", j.ev.Type, j.ev.ID, err))
				case res.Duplicate:
					dups++
				default:
					applied[j.ev.ID]++
				}
				mu.Unlock()
			}
		})
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	for _, ev := range all {
		if applied[ev.ID] != 1 {
			t.Errorf("event %s (%s) applied %d times, want exactly once", ev.ID, ev.Type, applied[ev.ID])
		}
	}
	if want := len(jobs) - len(all); dups != want {
		t.Errorf("%d ingests reported Duplicate, want %d", dups, want)
	}

	want := applyAll(shop.ID, all)
	for _, id := range orderIDs {
		got := getOrder(t, s, shop.ID, id)
		if diff := cmp.Diff(*want[id], got, ignoreOrderDependent); diff != "" {
			t.Errorf("order %s differs from sequential application (-sequential +concurrent):\n%s", id, diff)
		}
		n := int64(len(lifecycle(id, 0)))
		if got.Version != n {
			t.Errorf("order %s: version %d, want %d (one per distinct event)", id, got.Version, n)
		}
		evs, _ := allEvents(t, s, shop.ID, id, 1000)
		if int64(len(evs)) != n {
			t.Errorf("order %s: %d recorded events, want %d", id, len(evs), n)
		}
		seen := map[string]bool{}
		for i, re := range evs {
			if re.Seq != int64(i+1) {
				t.Errorf("order %s: event %d has seq %d, want %d", id, i, re.Seq, i+1)
			}
			if seen[re.Event.ID] {
				t.Errorf("order %s: event %s recorded twice", id, re.Event.ID)
			}
			seen[re.Event.ID] = true
		}
	}

	// The feed has one change per applied event, per order in apply order.
	feed, _ := feedFor(t, s, "", 1000, len(all), shop.ID)
	if len(feed) != len(all) {
		t.Errorf("feed has %d changes for the shop, want %d", len(feed), len(all))
	}
	next := map[string]int64{}
	for _, ch := range feed {
		next[ch.OrderID]++
		if ch.Version != next[ch.OrderID] {
			t.Errorf("feed: order %s change %s has version %d, want %d", ch.OrderID, ch.EventID, ch.Version, next[ch.OrderID])
		}
	}
}

func testOutOfOrder(t *testing.T, s care.Store) {
	tests := []struct {
		name       string
		events     func(id string) []care.Event // in arrival order
		wantStatus care.Status
		wantHist   []care.Status
	}{
		{
			name: "shipped before paid",
			events: func(id string) []care.Event {
				return []care.Event{created(id, 0), shipped(id, "YT7500123456789", 3*time.Hour), paid(id, 10*time.Minute)}
			},
			wantStatus: care.StatusShipped,
			wantHist:   []care.Status{care.StatusCreated, care.StatusPaid, care.StatusShipped},
		},
		{
			name: "created after cancelled stays cancelled",
			events: func(id string) []care.Event {
				return []care.Event{cancelled(id, time.Hour), created(id, 0)}
			},
			wantStatus: care.StatusCancelled,
			wantHist:   []care.Status{care.StatusCreated, care.StatusCancelled},
		},
		{
			name: "delivered before shipped",
			events: func(id string) []care.Event {
				return []care.Event{
					paid(id, 10*time.Minute),
					shipmentUpdated(id, "JT3104567890123", care.ShipDelivered, 50*time.Hour),
					created(id, 0),
					shipped(id, "JT3104567890123", 5*time.Hour),
				}
			},
			wantStatus: care.StatusDelivered,
			wantHist:   []care.Status{care.StatusCreated, care.StatusPaid, care.StatusShipped, care.StatusDelivered},
		},
		{
			name: "address change arrives after a later payment",
			events: func(id string) []care.Event {
				return []care.Event{created(id, 0), paid(id, 10*time.Minute), addressChanged(id, 8*time.Minute)}
			},
			wantStatus: care.StatusPaid,
			wantHist:   []care.Status{care.StatusCreated, care.StatusPaid},
		},
		{
			name: "older data fills, never overwrites",
			events: func(id string) []care.Event {
				newer := created(id, time.Hour)
				newer.Order.Total = "239.80"
				return []care.Event{newer, created(id, 0)}
			},
			wantStatus: care.StatusCreated,
			wantHist:   []care.Status{care.StatusCreated},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			shop := newShop(t, s)
			const id = "4410527893516"
			evs := tc.events(id)
			for i, ev := range evs {
				ingest(t, s, delivery(shop.ID, time.Duration(i)*time.Second), ev)
			}
			got := getOrder(t, s, shop.ID, id)
			if got.Status != tc.wantStatus {
				t.Errorf("status %q, want %q", got.Status, tc.wantStatus)
			}
			var hist []care.Status
			for _, m := range got.History {
				hist = append(hist, m.Status)
			}
			if diff := cmp.Diff(tc.wantHist, hist); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
			// Convergence: the same as applying them in occurred order.
			sorted := append([]care.Event(nil), evs...)
			for i := range sorted {
				for j := i + 1; j < len(sorted); j++ {
					if sorted[j].OccurredAt.Before(sorted[i].OccurredAt) {
						sorted[i], sorted[j] = sorted[j], sorted[i]
					}
				}
			}
			if diff := cmp.Diff(*applyAll(shop.ID, sorted)[id], got, ignoreOrderDependent); diff != "" {
				t.Errorf("differs from in-order application (-in order +stored):\n%s", diff)
			}
			if got.Version != int64(len(evs)) {
				t.Errorf("version %d, want %d", got.Version, len(evs))
			}
		})
	}
}

func testTenantIsolation(t *testing.T, s care.Store) {
	c := ctx(t)
	a, b, empty := newShop(t, s), newShop(t, s), newShop(t, s)
	const id = "820982911946154508"
	evA := created(id, 0)
	evB := created(id, time.Minute)
	evB.Order.Total = "88.00"
	evB.Order.Items = []care.Item{{SKU: "MUG-01", Title: "Stoneware mug", Quantity: 1, Price: "88.00"}}
	dA := delivery(a.ID, time.Second)
	ingest(t, s, dA, evA)
	// Same event id and delivery id in another shop: a different event.
	evB.ID = evA.ID
	resB := ingest(t, s, care.Delivery{ShopID: b.ID, Source: dA.Source, DeliveryID: dA.DeliveryID, ReceivedAt: at(time.Minute)}, evB)
	if resB.Duplicate {
		t.Fatalf("shop B's event was taken as a duplicate of shop A's")
	}
	ingest(t, s, delivery(a.ID, time.Hour), paid(id, time.Hour))

	gotA, gotB := getOrder(t, s, a.ID, id), getOrder(t, s, b.ID, id)
	if gotA.Order.Total != "259.80" || gotA.Version != 2 || gotA.Status != care.StatusPaid {
		t.Errorf("shop A's order: total %s version %d status %s; want 259.80, 2, paid", gotA.Order.Total, gotA.Version, gotA.Status)
	}
	if gotB.Order.Total != "88.00" || gotB.Version != 1 || gotB.Status != care.StatusCreated {
		t.Errorf("shop B's order: total %s version %d status %s; want 88.00, 1, created", gotB.Order.Total, gotB.Version, gotB.Status)
	}
	if gotA.ShopID != a.ID || gotB.ShopID != b.ID {
		t.Errorf("ShopID: A's order says %q, B's says %q", gotA.ShopID, gotB.ShopID)
	}
	evsB, _ := allEvents(t, s, b.ID, id, 100)
	if len(evsB) != 1 || evsB[0].Delivery.ShopID != b.ID {
		t.Errorf("shop B's events: %+v; want its one event", evsB)
	}
	_, err := s.GetOrder(c, empty.ID, id)
	wantErr(t, "GetOrder(other shop's id)", err, care.ErrNotFound)
	_, _, err = s.ListEvents(c, empty.ID, id, "", 10)
	wantErr(t, "ListEvents(other shop's id)", err, care.ErrNotFound)
}

// testGetOrders: GetOrders answers as GetOrder would for each id, leaves
// out ids of no order (or of another shop's), takes an id twice, and
// refuses more than care.MaxGetOrders ids.
func testGetOrders(t *testing.T, s care.Store) {
	c := ctx(t)
	shop, other := newShop(t, s), newShop(t, s)
	ids := []string{"7301245566770001", "7301245566770002", "7301245566770003"}
	for i, id := range ids {
		ingest(t, s, delivery(shop.ID, time.Duration(i)*time.Minute), created(id, time.Duration(i)*time.Minute))
	}
	ingest(t, s, delivery(shop.ID, time.Hour), lifecycle(ids[0], 0)[1])
	ingest(t, s, delivery(other.ID, 0), created("7301245566779999", 0))

	got, err := s.GetOrders(c, shop.ID, []string{ids[2], ids[0], "no-such-order", ids[0], "7301245566779999", ids[1]})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]care.OrderState{}
	for _, id := range ids {
		o, err := s.GetOrder(c, shop.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		want[id] = o
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetOrders (-GetOrder each +got):\n%s", diff)
	}
	if got, err := s.GetOrders(c, shop.ID, nil); err != nil || len(got) != 0 {
		t.Errorf("GetOrders(no ids) = %v, %v; want none", got, err)
	}
	_, err = s.GetOrders(c, shop.ID, make([]string, care.MaxGetOrders+1))
	wantErr(t, "GetOrders(too many ids)", err, care.ErrInvalid)
}

func testListEvents(t *testing.T, s care.Store) {
	c := ctx(t)
	shop := newShop(t, s)
	const id = "7301245566778899"
	var want []care.RecordedEvent
	for i, ev := range lifecycle(id, 0)[:5] {
		d := delivery(shop.ID, time.Duration(i)*time.Minute)
		ingest(t, s, d, ev)
		want = append(want, care.RecordedEvent{Seq: int64(i + 1), Delivery: d, Event: ev})
	}
	// Another order of the shop must not leak into the list.
	ingest(t, s, delivery(shop.ID, time.Hour), created("7301245566778900", time.Hour))

	for _, limit := range []int{1, 2, 5, 1000} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			got, pages := allEvents(t, s, shop.ID, id, limit)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			// A page is full unless it is the last: ceil(5/limit) pages,
			// plus at most one empty page when the last one was full.
			min := (len(want) + limit - 1) / limit
			if pages < min || pages > min+1 {
				t.Errorf("%d pages, want %d (or %d)", pages, min, min+1)
			}
		})
	}
	t.Run("cursor continues mid-list", func(t *testing.T) {
		page, next, err := s.ListEvents(c, shop.ID, id, "", 2)
		if err != nil || len(page) != 2 || next == "" {
			t.Fatalf("first page: %d events, next %q, %v", len(page), next, err)
		}
		rest, last, err := s.ListEvents(c, shop.ID, id, next, 1000)
		if err != nil {
			t.Fatalf("second page: %v", err)
		}
		if diff := cmp.Diff(want[2:], rest); diff != "" {
			t.Errorf("second page (-want +got):\n%s", diff)
		}
		if last != "" {
			t.Errorf("last page's next cursor = %q, want \"\"", last)
		}
	})
	t.Run("invalid cursor", func(t *testing.T) {
		for _, cur := range []string{"%%% not a cursor %%%", "-1", "\x00"} {
			_, _, err := s.ListEvents(c, shop.ID, id, cur, 10)
			wantErr(t, fmt.Sprintf("ListEvents(cursor %q)", cur), err, care.ErrInvalid)
		}
	})
	t.Run("invalid limit", func(t *testing.T) {
		for _, limit := range []int{0, -1, 1001} {
			_, _, err := s.ListEvents(c, shop.ID, id, "", limit)
			wantErr(t, fmt.Sprintf("ListEvents(limit %d)", limit), err, care.ErrInvalid)
		}
	})
}

func testFeed(t *testing.T, s care.Store) {
	c := ctx(t)
	shop := newShop(t, s)
	// Where the feed ends now; this test's changes all come after it.
	_, start := feedFor(t, s, "", 1000, 0, shop.ID)

	ids := []string{"6001", "6002"}
	type applied struct {
		ev  care.Event
		d   care.Delivery
		res care.IngestResult
	}
	var order []applied
	evsA, evsB := lifecycle(ids[0], 0)[:4], lifecycle(ids[1], 1)[:3]
	for i := 0; i < len(evsA) || i < len(evsB); i++ {
		for _, evs := range [][]care.Event{evsA, evsB} {
			if i < len(evs) {
				d := delivery(shop.ID, time.Duration(len(order))*time.Second)
				order = append(order, applied{evs[i], d, ingest(t, s, d, evs[i])})
			}
		}
	}
	n := len(order)
	wantOf := func(a applied) care.Change {
		return care.Change{ShopID: shop.ID, OrderID: a.ev.Order.ID, EventID: a.ev.ID, Type: a.ev.Type,
			Version: a.res.Order.Version, At: a.d.ReceivedAt}
	}

	check := func(t *testing.T, got []care.Change) {
		t.Helper()
		if len(got) != n {
			t.Fatalf("%d changes, want %d: %+v", len(got), n, got)
		}
		seen := map[string]bool{}
		pos := map[string]int{}
		for i, ch := range got {
			if seen[ch.EventID] {
				t.Errorf("change %s appears twice", ch.EventID)
			}
			seen[ch.EventID] = true
			pos[ch.EventID] = i
		}
		for _, a := range order {
			i, ok := pos[a.ev.ID]
			if !ok {
				t.Errorf("change of %s (%s) missing", a.ev.ID, a.ev.Type)
				continue
			}
			if diff := cmp.Diff(wantOf(a), got[i]); diff != "" {
				t.Errorf("change %s (-want +got):\n%s", a.ev.ID, diff)
			}
		}
		// Per order, apply order.
		last := map[string]int64{}
		for _, ch := range got {
			if ch.Version != last[ch.OrderID]+1 {
				t.Errorf("order %s: change version %d after %d", ch.OrderID, ch.Version, last[ch.OrderID])
			}
			last[ch.OrderID] = ch.Version
		}
	}

	var paged []care.Change
	var end string
	for _, limit := range []int{1, 2, 3, 1000} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			got, cur := feedFor(t, s, start, limit, n, shop.ID)
			check(t, got)
			if paged == nil {
				paged, end = got, cur
			} else if diff := cmp.Diff(byOrder(paged), byOrder(got)); diff != "" {
				t.Errorf("re-reading gives other changes (-first read +this read):\n%s", diff)
			}
		})
	}
	t.Run("from the start again", func(t *testing.T) {
		got, _ := feedFor(t, s, "", 1000, n, shop.ID)
		if diff := cmp.Diff(byOrder(paged), byOrder(got)); diff != "" {
			t.Errorf("reading from \"\" again (-first read +this read):\n%s", diff)
		}
	})
	t.Run("nothing new", func(t *testing.T) {
		page, next, err := s.ReadFeed(c, end, 10)
		if err != nil {
			t.Fatalf("ReadFeed(end): %v", err)
		}
		for _, ch := range page {
			if ch.ShopID == shop.ID {
				t.Errorf("ReadFeed(end) returned this test's change %s again", ch.EventID)
			}
		}
		if len(page) == 0 && next != end {
			t.Errorf("ReadFeed(end) = nothing, cursor %q; want the same cursor %q", next, end)
		}
	})
	t.Run("continuation", func(t *testing.T) {
		ev := completed(ids[0], 10*24*time.Hour)
		d := delivery(shop.ID, time.Hour)
		res := ingest(t, s, d, ev)
		got, _ := feedFor(t, s, end, 1000, 1, shop.ID)
		want := []care.Change{wantOf(applied{ev, d, res})}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("changes after the end cursor (-want +got):\n%s", diff)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		_, _, err := s.ReadFeed(c, "%%% not a cursor %%%", 10)
		wantErr(t, "ReadFeed(bad cursor)", err, care.ErrInvalid)
		_, _, err = s.ReadFeed(c, "", 0)
		wantErr(t, "ReadFeed(limit 0)", err, care.ErrInvalid)
	})
}

// testFeedTail tails the feed while writers ingest: the reader, continuing
// from each cursor it got, must see every change exactly once, per order in
// version order, and reading again from its start must give the same changes.
func testFeedTail(t *testing.T, s care.Store) {
	c := ctx(t)
	shop := newShop(t, s)
	_, start := feedFor(t, s, "", 1000, 0, shop.ID)
	var all []care.Event
	for k := range 8 {
		all = append(all, lifecycle(fmt.Sprintf("%d", 9100+k), k)...)
	}
	work := make(chan care.Event)
	errs := make(chan error, len(all))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for ev := range work {
				if _, err := s.Ingest(c, delivery(shop.ID, 0), ev, care.Apply); err != nil {
					errs <- fmt.Errorf("Ingest(%s): %w", ev.Type, err)
				}
			}
		})
	}
	go func() {
		for _, ev := range all {
			work <- ev
		}
		close(work)
	}()

	var tailed []care.Change
	seen := map[string]bool{}
	cursor := start
	deadline := time.Now().Add(FeedWait)
	for len(tailed) < len(all) && time.Now().Before(deadline) {
		page, next, err := s.ReadFeed(c, cursor, 7)
		if err != nil {
			t.Fatalf("ReadFeed(%q): %v", cursor, err)
		}
		for _, ch := range page {
			if ch.ShopID != shop.ID {
				continue
			}
			if seen[ch.EventID] {
				t.Errorf("tail: change %s seen twice", ch.EventID)
			}
			seen[ch.EventID] = true
			tailed = append(tailed, ch)
		}
		cursor = next
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(tailed) != len(all) {
		t.Fatalf("tail saw %d changes, want %d", len(tailed), len(all))
	}
	last := map[string]int64{}
	for _, ch := range tailed {
		if ch.Version != last[ch.OrderID]+1 {
			t.Errorf("tail: order %s version %d after %d", ch.OrderID, ch.Version, last[ch.OrderID])
		}
		last[ch.OrderID] = ch.Version
	}
	again, _ := feedFor(t, s, start, 1000, len(all), shop.ID)
	if diff := cmp.Diff(byOrder(tailed), byOrder(again)); diff != "" {
		t.Errorf("re-reading differs from the tail (-tail +again):\n%s", diff)
	}
}

// byOrder groups changes by order, keeping their feed order: only the order
// within one order is part of the Feed contract.
func byOrder(chs []care.Change) map[string][]care.Change {
	out := map[string][]care.Change{}
	for _, ch := range chs {
		out[ch.OrderID] = append(out[ch.OrderID], ch)
	}
	return out
}

// LargeItems is how many items the large order carries: about 1 MiB of JSON
// with 4000. Set it before Run.
var LargeItems = 4000

func testLargeEvent(t *testing.T, s care.Store) {
	shop := newShop(t, s)
	const id = "820982911946154508"
	ev := created(id, 0)
	// A time with nanoseconds in UTC, and one at +08:00: both come back as given.
	ev.OccurredAt = time.Date(2026, 11, 10, 16, 0, 0, 1, time.UTC)
	cst := time.FixedZone("", 8*3600)
	ev.Order.PlacedAt = tp(time.Date(2026, 11, 11, 0, 0, 0, 999999999, cst))
	ev.Order.Total = "1234567890123456789.01"
	ev.Order.Items = nil
	pad := strings.Repeat("手工茶具 handmade tea set ", 6)
	for i := range LargeItems {
		ev.Order.Items = append(ev.Order.Items, care.Item{
			SKU:      fmt.Sprintf("SKU-%06d-820982911946154508", i),
			Title:    fmt.Sprintf("%s #%d", pad, i),
			Quantity: 1 + i%7,
			Price:    care.Decimal(fmt.Sprintf("%d.%02d", i, i%100)),
		})
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("event is %d bytes of JSON", len(raw))
	d := delivery(shop.ID, time.Second)
	d.ReceivedAt = time.Date(2026, 11, 10, 16, 0, 1, 123456789, time.UTC)
	res := ingest(t, s, d, ev)

	got := getOrder(t, s, shop.ID, id)
	if diff := cmp.Diff(res.Order, got); diff != "" {
		t.Errorf("GetOrder differs from Ingest's result (-ingest +get):\n%s", diff)
	}
	evs, _ := allEvents(t, s, shop.ID, id, 10)
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	// Byte for byte: exact ids, decimal strings, zones and nanoseconds.
	back, err := json.Marshal(evs[0].Event)
	if err != nil {
		t.Fatal(err)
	}
	if string(back) != string(raw) {
		t.Errorf("event does not round-trip exactly: %d bytes back, %d sent; diff:\n%s", len(back), len(raw), cmp.Diff(ev, evs[0].Event))
	}
	if evs[0].Event.OccurredAt.Location() != time.UTC {
		t.Errorf("occurred_at came back in %v, want UTC", evs[0].Event.OccurredAt.Location())
	}
	if !evs[0].Delivery.ReceivedAt.Equal(d.ReceivedAt) || evs[0].Delivery.ReceivedAt.Nanosecond() != 123456789 {
		t.Errorf("received_at came back as %v, want %v", evs[0].Delivery.ReceivedAt, d.ReceivedAt)
	}
	wantOrder, _ := json.Marshal(ev.Order)
	gotOrder, _ := json.Marshal(got.Order)
	if string(wantOrder) != string(gotOrder) {
		t.Errorf("stored order does not round-trip exactly; diff:\n%s", cmp.Diff(ev.Order, got.Order))
	}
}
