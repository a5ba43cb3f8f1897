package sqlitestore_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/sqlitestore"
	"github.com/ordercare/ordercare/internal/care"
)

var t0 = time.Date(2026, 11, 10, 16, 0, 0, 0, time.UTC)

func createShop(t testing.TB, db *sqlitestore.DB, id string) {
	t.Helper()
	shop := care.Shop{ID: id, Name: "杭州小茶铺", Timezone: "Asia/Shanghai", Locale: "zh-CN", Currency: "CNY", CreatedAt: t0}
	if err := db.CreateShop(context.Background(), shop, nil); err != nil {
		t.Fatalf("CreateShop: %v", err)
	}
}

// event returns the i-th event of a synthetic stream: five events per order
// (created, paid, shipped, delivered, completed), ids derived from i.
func event(prefix string, i int) (care.Delivery, care.Event) {
	orderID := fmt.Sprintf("%s%d", prefix, 820982911946154508+int64(i/5))
	at := t0.Add(time.Duration(i) * time.Minute)
	ev := care.Event{ID: fmt.Sprintf("evt-%s-%d", prefix, i), OccurredAt: at, Order: care.Order{ID: orderID}}
	switch i % 5 {
	case 0:
		ev.Type = care.OrderCreated
		ev.Order = care.Order{ID: orderID, PlacedAt: &at, Total: "259.80", Currency: "CNY", PaymentMethod: care.PayOnline,
			Buyer: &care.Buyer{Name: "王小明", Phone: "+8613800138000"},
			Items: []care.Item{{SKU: "LJ-2026-250G", Title: "明前龙井 250g", Quantity: 1, Price: "199.90"},
				{SKU: "GIFT-BOX-01", Title: "礼盒包装", Quantity: 2, Price: "29.95"}}}
	case 1:
		ev.Type = care.OrderPaid
	case 2:
		ev.Type = care.OrderShipped
		ev.Shipment = &care.Shipment{Carrier: "SF Express", TrackingNumbers: []string{fmt.Sprintf("SF%013d", i)}}
	case 3:
		ev.Type = care.OrderDelivered
	case 4:
		ev.Type = care.OrderCompleted
	}
	d := care.Delivery{ShopID: "shop-bench", Source: care.SourceStandard, DeliveryID: fmt.Sprintf("msg-%s-%d", prefix, i), ReceivedAt: at.Add(time.Second)}
	return d, ev
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "care.db")
	db, err := sqlitestore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	createShop(t, db, "shop-bench")
	d, ev := event("r", 0)
	if _, err := db.Ingest(ctx, d, ev, care.Apply); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetOrder(ctx, "shop-bench", ev.Order.ID); err == nil {
		t.Errorf("GetOrder after Close succeeded")
	}
	if _, err := db.Ingest(ctx, d, ev, care.Apply); !errors.Is(err, sqlitestore.ErrClosed) {
		t.Errorf("Ingest after Close = %v, want ErrClosed", err)
	}
	db, err = sqlitestore.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	o, err := db.GetOrder(ctx, "shop-bench", ev.Order.ID)
	if err != nil || o.Version != 1 {
		t.Fatalf("after reopen: GetOrder = version %d, %v", o.Version, err)
	}
	res, err := db.Ingest(ctx, d, ev, care.Apply)
	if err != nil || !res.Duplicate {
		t.Errorf("redelivery after reopen: Duplicate = %v, %v; want a duplicate", res.Duplicate, err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "care.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if db, err := sqlitestore.Open(t.Context(), path); err == nil {
		db.Close()
		t.Fatalf("Open of a database from a newer binary succeeded")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open error = %v, want it to say the schema is newer", err)
	}
}

func TestIngestUnknownShop(t *testing.T) {
	db, _ := open(t)
	d, ev := event("u", 0)
	d.ShopID = "shop-nobody"
	_, err := db.Ingest(t.Context(), d, ev, care.Apply)
	if !errors.Is(err, care.ErrNotFound) {
		t.Errorf("Ingest for an unknown shop = %v, want ErrNotFound", err)
	}
}

// TestBatchMatesIsolated runs concurrent ingests of which half are rejected by
// apply; group commit batches them together, and every accepted one must be
// written while no rejected one is.
func TestBatchMatesIsolated(t *testing.T) {
	db, _ := open(t)
	createShop(t, db, "shop-bench")
	reject := func(*care.OrderState, care.Event, time.Time) (care.OrderState, error) {
		return care.OrderState{}, &care.RejectError{Reason: "no"}
	}
	const n = 400
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			d, ev := event("b", i*5) // each an order.created of its own order
			apply := care.Apply
			if i%2 == 1 {
				apply = reject
			}
			_, err := db.Ingest(t.Context(), d, ev, apply)
			if (err != nil) != (i%2 == 1) {
				t.Errorf("ingest %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	for i := range n {
		_, ev := event("b", i*5)
		_, err := db.GetOrder(t.Context(), "shop-bench", ev.Order.ID)
		if i%2 == 0 && err != nil {
			t.Errorf("accepted order %d: %v", i, err)
		}
		if i%2 == 1 && !errors.Is(err, care.ErrNotFound) {
			t.Errorf("rejected order %d: GetOrder = %v, want ErrNotFound", i, err)
		}
	}
	feed, _, err := db.ReadFeed(t.Context(), "", 1000)
	if err != nil || len(feed) != n/2 {
		t.Errorf("feed: %d changes, %v; want %d", len(feed), err, n/2)
	}
}

const crashChildEnv = "SQLITESTORE_CRASH_CHILD" // "<sync mode>:<db path>"

// TestCrashDurability writes from a child process (this test binary re-run),
// kills it with SIGKILL once it acknowledged enough ingests, reopens the file
// and checks every acknowledged ingest is there.
func TestCrashDurability(t *testing.T) {
	if v := os.Getenv(crashChildEnv); v != "" {
		crashChild(v)
		return
	}
	for _, mode := range []string{"NORMAL", "FULL"} {
		t.Run(mode, func(t *testing.T) {
			const want = 600
			path := filepath.Join(t.TempDir(), "care.db")
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDurability$")
			cmd.Env = append(os.Environ(), crashChildEnv+"="+mode+":"+path)
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var acked []string
			sc := bufio.NewScanner(out)
			for len(acked) < want && sc.Scan() {
				if id, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
					acked = append(acked, id)
				}
			}
			cmd.Process.Kill() // SIGKILL: no deferred code, no Close
			cmd.Wait()
			if len(acked) < want {
				t.Fatalf("child acknowledged %d ingests before it stopped, want %d", len(acked), want)
			}

			db, err := sqlitestore.Open(t.Context(), path)
			if err != nil {
				t.Fatalf("reopen after kill: %v", err)
			}
			defer db.Close()
			for _, id := range acked {
				var i int
				fmt.Sscanf(id, "evt-c-%d", &i)
				d, ev := event("c", i)
				d.ShopID = "shop-crash"
				evs, _, err := db.ListEvents(t.Context(), "shop-crash", ev.Order.ID, "", 10)
				if err != nil || !slices.ContainsFunc(evs, func(re care.RecordedEvent) bool { return re.Event.ID == id }) {
					t.Errorf("acknowledged %s lost after kill (events %d, %v)", id, len(evs), err)
				}
			}
			var n int
			for cur := ""; ; {
				page, next, err := db.ReadFeed(t.Context(), cur, 1000)
				if err != nil {
					t.Fatal(err)
				}
				n += len(page)
				if len(page) == 0 {
					break
				}
				cur = next
			}
			if n < want {
				t.Errorf("feed has %d changes after kill, want at least %d", n, want)
			}
			t.Logf("%s: %d acknowledged, %d in the feed after SIGKILL", mode, len(acked), n)
		})
	}
}

// crashChild ingests until killed, printing "ack <event id>" after each
// acknowledged ingest. It stops by itself after a bound, should the parent
// have gone.
func crashChild(v string) {
	mode, path, _ := strings.Cut(v, ":")
	ctx := context.Background()
	db, err := sqlitestore.Open(ctx, path, sqlitestore.Synchronous(mode))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	shop := care.Shop{ID: "shop-crash", Name: "crash", Timezone: "UTC", Locale: "en", Currency: "CNY", CreatedAt: t0}
	if err := db.CreateShop(ctx, shop, nil); err != nil {
		fmt.Fprintln(os.Stderr, "child create shop:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i > 200000 {
					return
				}
				d, ev := event("c", i)
				d.ShopID = shop.ID
				if _, err := db.Ingest(ctx, d, ev, care.Apply); err != nil {
					fmt.Fprintln(os.Stderr, "child ingest:", err)
					os.Exit(2)
				}
				mu.Lock()
				_, err := fmt.Printf("ack %s\n", ev.ID)
				mu.Unlock()
				if err != nil {
					os.Exit(3)
				}
			}
		})
	}
	wg.Wait()
	os.Exit(0)
}

// TestTwoHandlesShareFile writes one order through two DB handles on the same
// file in turn: each writer's order cache must notice the other's commits.
func TestTwoHandlesShareFile(t *testing.T) {
	a, path := open(t)
	b, err := sqlitestore.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	createShop(t, a, "shop-bench")
	for i := range 10 {
		db := a
		if i%2 == 1 {
			db = b
		}
		d, ev := event("two", i%5+5*(i/5))
		res, err := db.Ingest(t.Context(), d, ev, care.Apply)
		if err != nil {
			t.Fatalf("ingest %d: %v", i, err)
		}
		if want := int64(i%5 + 1); res.Order.Version != want {
			t.Errorf("ingest %d through handle %d: version %d, want %d", i, i%2, res.Order.Version, want)
		}
	}
}

func TestCancelledContextWritesNothing(t *testing.T) {
	db, _ := open(t)
	createShop(t, db, "shop-bench")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	d, ev := event("x", 0)
	if _, err := db.Ingest(ctx, d, ev, care.Apply); !errors.Is(err, context.Canceled) {
		t.Fatalf("Ingest with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := db.GetOrder(t.Context(), d.ShopID, ev.Order.ID); !errors.Is(err, care.ErrNotFound) {
		t.Errorf("GetOrder after a cancelled Ingest = %v, want ErrNotFound", err)
	}
}

func TestPanickingApplyIsContained(t *testing.T) {
	db, _ := open(t)
	createShop(t, db, "shop-bench")
	d, ev := event("p", 0)
	_, err := db.Ingest(t.Context(), d, ev, func(*care.OrderState, care.Event, time.Time) (care.OrderState, error) {
		panic("apply bug")
	})
	if err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("Ingest with a panicking apply = %v, want a panic error", err)
	}
	res, err := db.Ingest(t.Context(), d, ev, care.Apply)
	if err != nil || res.Duplicate || res.Order.Version != 1 {
		t.Errorf("retry after the panic = %+v, %v; want applied, version 1", res, err)
	}
}

// TestCheckpoint: Checkpoint empties the WAL into the database file, and
// the store writes and reads on as before; after Close it fails.
func TestCheckpoint(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "care.db")
	db, err := sqlitestore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	createShop(t, db, "shop-bench")
	for i := range 20 {
		d, ev := event(fmt.Sprint("c", i), i)
		if _, err := db.Ingest(ctx, d, ev, care.Apply); err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("before: WAL %v, %v; want frames in it", fi, err)
	}
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() != 0 {
		t.Fatalf("after Checkpoint: WAL %d bytes, %v; want 0", fi.Size(), err)
	}
	d, ev := event("after", 99)
	if _, err := db.Ingest(ctx, d, ev, care.Apply); err != nil {
		t.Fatalf("Ingest after Checkpoint: %v", err)
	}
	if o, err := db.GetOrder(ctx, "shop-bench", ev.Order.ID); err != nil || o.Version != 1 {
		t.Fatalf("GetOrder after Checkpoint = version %d, %v", o.Version, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Checkpoint(ctx); err == nil {
		t.Error("Checkpoint after Close succeeded")
	}
}
