package sqlitestore_test

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/infra/sqlitestore"
	"github.com/ordercare/ordercare/internal/care"
)

func TestCursors(t *testing.T) {
	db, path := open(t)
	c := t.Context()
	if cur, err := db.Cursor(c, "router"); err != nil || cur != "" {
		t.Fatalf("Cursor(never set) = %q, %v; want \"\", nil", cur, err)
	}
	for _, want := range []string{"17", "4096", ""} {
		if err := db.PutCursor(c, "router", want); err != nil {
			t.Fatalf("PutCursor(%q): %v", want, err)
		}
		if cur, err := db.Cursor(c, "router"); err != nil || cur != want {
			t.Errorf("Cursor after PutCursor(%q) = %q, %v", want, cur, err)
		}
	}
	if err := db.PutCursor(c, "router", "99"); err != nil {
		t.Fatal(err)
	}
	if cur, err := db.Cursor(c, "other"); err != nil || cur != "" {
		t.Errorf("Cursor(other name) = %q, %v; want \"\"", cur, err)
	}
	// Cursors survive a reopen.
	db2, err := sqlitestore.Open(c, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if cur, err := db2.Cursor(c, "router"); err != nil || cur != "99" {
		t.Errorf("Cursor through a second handle = %q, %v; want 99", cur, err)
	}
}

// pending reports whether a signal is waiting on ch, taking it.
func pending(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestNotify(t *testing.T) {
	db, _ := open(t)
	c := t.Context()
	createShop(t, db, "shop-bench")
	n := db.Notify()
	if n != db.Notify() {
		t.Errorf("Notify returned two different channels")
	}
	if pending(n) {
		t.Errorf("signal before any ingest")
	}
	d, ev := event("n", 0)
	if _, err := db.Ingest(c, d, ev, care.Apply); err != nil {
		t.Fatal(err)
	}
	if !pending(n) {
		t.Fatalf("no signal after an applied Ingest")
	}
	// A duplicate, a rejection and other writes append nothing.
	if res, err := db.Ingest(c, d, ev, care.Apply); err != nil || !res.Duplicate {
		t.Fatalf("redelivery: %+v, %v", res, err)
	}
	reject := func(*care.OrderState, care.Event, time.Time) (care.OrderState, error) {
		return care.OrderState{}, &care.RejectError{Reason: "no"}
	}
	d1, ev1 := event("n", 1)
	if _, err := db.Ingest(c, d1, ev1, reject); err == nil {
		t.Fatal("rejecting apply did not fail")
	}
	if err := db.PutCursor(c, "router", "1"); err != nil {
		t.Fatal(err)
	}
	if pending(n) {
		t.Errorf("signal after writes that appended nothing")
	}
	// Signals do not queue or block: many ingests leave one signal.
	for i := 1; i < 20; i++ {
		d, ev := event("n", i)
		if _, err := db.Ingest(c, d, ev, care.Apply); err != nil {
			t.Fatal(err)
		}
	}
	if !pending(n) || pending(n) {
		t.Errorf("after 19 ingests: want exactly one pending signal")
	}
	// A waiting reader wakes on another goroutine's ingest.
	var wg sync.WaitGroup
	woke := make(chan struct{})
	wg.Go(func() {
		<-n
		close(woke)
	})
	d, ev = event("n", 20)
	if _, err := db.Ingest(c, d, ev, care.Apply); err != nil {
		t.Fatal(err)
	}
	<-woke
	wg.Wait()
}

// TestCareTablesMigrateOldFile opens a file made by a binary that only knew
// schema version 1, with data in it: the care tables are added and the old
// data stays.
func TestCareTablesMigrateOldFile(t *testing.T) {
	c := t.Context()
	path := filepath.Join(t.TempDir(), "care.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{sqlitestore.SchemaV1ForTest, `INSERT INTO shops (id, shop) VALUES ('shop-old', '{"id":"shop-old","name":"Old"}')`, `PRAGMA user_version = 1`} {
		if _, err := raw.ExecContext(c, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()
	db, err := sqlitestore.Open(c, path)
	if err != nil {
		t.Fatalf("Open of a version 1 file: %v", err)
	}
	defer db.Close()
	if s, err := db.GetShop(c, "shop-old"); err != nil || s.Name != "Old" {
		t.Errorf("GetShop after migration = %+v, %v", s, err)
	}
	tpl := care.Template{ShopID: "shop-old", Workflow: care.UnpaidChase, Version: 1, Body: []byte(`{}`), CreatedAt: t0}
	if err := db.PutTemplate(c, tpl); err != nil {
		t.Errorf("PutTemplate after migration: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening the migrated file changes nothing.
	db2, err := sqlitestore.Open(c, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db2.Close()
	if _, err := db2.GetTemplate(c, "shop-old", care.UnpaidChase, 0); err != nil {
		t.Errorf("GetTemplate after reopen: %v", err)
	}
}

// TestRunsMigrateToSubjects opens a file whose runs were stored before runs
// had subjects: each stays readable as its order's order-level run (subject
// ""), and the workflow may then get per-subject runs beside it.
func TestRunsMigrateToSubjects(t *testing.T) {
	c := t.Context()
	path := filepath.Join(t.TempDir(), "care.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	old := care.Run{ShopID: "shop-old", OrderID: "TB-1", Workflow: care.UnpaidChase, Execution: "unpaid_chase-0123456789abcdef01234567",
		TemplateVersion: 1, Status: care.RunRunning, StartedAt: t0, UpdatedAt: t0}
	body, _ := json.Marshal(old)
	qs := append([]string(nil), sqlitestore.SchemaBeforeSubjectsForTest...)
	qs = append(qs, `INSERT INTO runs (shop_id, order_id, workflow, started_at, rev, run) VALUES ('shop-old', 'TB-1', 'unpaid_chase', '2026-11-10T16:00:00.000000000Z', 4, '`+string(body)+`')`,
		`PRAGMA user_version = 3`)
	for _, q := range qs {
		if _, err := raw.ExecContext(c, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()
	db, err := sqlitestore.Open(c, path)
	if err != nil {
		t.Fatalf("Open of a version 3 file: %v", err)
	}
	defer db.Close()
	got, err := db.GetRun(c, "shop-old", "TB-1", care.UnpaidChase, "")
	old.Rev = 4
	if err != nil || !cmp.Equal(old, got) {
		t.Fatalf("GetRun(order-level) after migration = %+v, %v; want %+v", got, err, old)
	}
	got.Status = care.RunStopped
	if _, err := db.UpdateRun(c, got); err != nil {
		t.Errorf("UpdateRun after migration: %v", err)
	}
	sub := old
	sub.Subject, sub.Execution = "SF100", old.Execution+"-0011223344556677"
	if _, created, err := db.CreateRun(c, sub); err != nil || !created {
		t.Errorf("CreateRun(subject) after migration = created %v, %v", created, err)
	}
	if runs, err := db.ListOrderRuns(c, "shop-old", "TB-1"); err != nil || len(runs) != 2 {
		t.Errorf("ListOrderRuns after migration = %d runs, %v; want 2", len(runs), err)
	}
}
