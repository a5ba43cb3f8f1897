package sfnlocal

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestOpensWithoutRowidTables: an sfn.db created when executions, history
// and invocations were WITHOUT ROWID tables still opens, and runs
// executions to completion through them.
func TestOpensWithoutRowidTables(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sfn.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE executions(arn TEXT PRIMARY KEY, sm_arn TEXT NOT NULL, rev INTEGER NOT NULL, name TEXT NOT NULL,
			status TEXT NOT NULL, input TEXT NOT NULL, output TEXT, error TEXT, cause TEXT,
			start INTEGER NOT NULL, stop INTEGER, runnable INTEGER NOT NULL DEFAULT 0, state BLOB,
			trace TEXT, hist0 BLOB) WITHOUT ROWID`,
		`CREATE TABLE history(arn TEXT NOT NULL, seq INTEGER NOT NULL, events BLOB NOT NULL, PRIMARY KEY(arn, seq)) WITHOUT ROWID`,
		`CREATE TABLE invocations(arn TEXT NOT NULL, key INTEGER NOT NULL, function TEXT NOT NULL, payload BLOB NOT NULL,
			PRIMARY KEY(arn, key)) WITHOUT ROWID`,
	} {
		if _, err := old.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()
	h := newHarness(t, path, false, map[string]any{"f": func(ctx context.Context, in map[string]any) (map[string]any, error) {
		return map[string]any{"seen": in["n"]}, nil
	}})
	sm := h.create("old", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:f","End":true}}}`)
	arn := h.start(sm, "x", `{"n":7}`)
	if d := h.wait(arn); d.Status != StatusSucceeded || deref(d.Output) != `{"seen":7}` {
		t.Fatalf("on the older tables: %s %s, want SUCCEEDED {\"seen\":7}", d.Status, deref(d.Output))
	}
	var withoutRowid int
	if err := h.e.db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name IN ('executions','history','invocations') AND sql LIKE '%WITHOUT ROWID%'`).Scan(&withoutRowid); err != nil || withoutRowid != 3 {
		t.Fatalf("the older tables: %d WITHOUT ROWID, %v; want them kept (3)", withoutRowid, err)
	}
}

// TestOpensWithoutHash: an sfn.db whose executions, history and
// invocations have no h column (created before it) gets the column and its
// indexes when opened: an execution closed before keeps its description and
// history, one waiting before goes on to the end, and a new one runs.
func TestOpensWithoutHash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sfn.db")
	fns := map[string]any{"f": func(ctx context.Context, in map[string]any) (map[string]any, error) {
		return map[string]any{"seen": in["n"]}, nil
	}}
	task := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:f","End":true}}}`
	before := newHarness(t, path, false, fns)
	sm := before.create("old", task)
	waiting := before.create("waits", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"Next":"T"},"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:f","End":true}}}`)
	done := before.start(sm, "done", `{"n":1}`)
	before.wait(done)
	events := len(before.historyAll(done))
	asleep := before.start(waiting, "asleep", `{"n":2}`)
	before.waitEvent(asleep, "WaitStateEntered")
	if err := before.e.Close(); err != nil {
		t.Fatal(err)
	}
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP INDEX executions_h`, `DROP INDEX history_h`, `DROP INDEX invocations_h`,
		`ALTER TABLE executions DROP COLUMN h`, `ALTER TABLE history DROP COLUMN h`, `ALTER TABLE invocations DROP COLUMN h`} {
		if _, err := old.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	h := newHarness(t, path, false, fns)
	var missing int
	if err := h.e.db.QueryRow(`SELECT (SELECT count(*) FROM executions WHERE h IS NULL) + (SELECT count(*) FROM history WHERE h IS NULL)`).Scan(&missing); err != nil || missing != 0 {
		t.Fatalf("rows without h after opening: %d, %v; want 0", missing, err)
	}
	if d := h.wait(done); d.Status != StatusSucceeded || deref(d.Output) != `{"seen":1}` {
		t.Fatalf("closed before: %s %s, want SUCCEEDED {\"seen\":1}", d.Status, deref(d.Output))
	}
	if n := len(h.historyAll(done)); n != events {
		t.Fatalf("closed before: %d history events, want the %d it had", n, events)
	}
	h.clk.Advance(time.Minute)
	if d := h.wait(asleep); d.Status != StatusSucceeded || deref(d.Output) != `{"seen":2}` {
		t.Fatalf("waiting before: %s %s, want SUCCEEDED {\"seen\":2}", d.Status, deref(d.Output))
	}
	if d := h.wait(h.start(sm, "new", `{"n":3}`)); d.Status != StatusSucceeded || deref(d.Output) != `{"seen":3}` {
		t.Fatalf("started after: %s %s, want SUCCEEDED {\"seen\":3}", d.Status, deref(d.Output))
	}
}

// TestMachineParsedOnce: the first executions of a state machine, started
// all at once (a surge of due runs), parse its definition once between
// them, not once each.
func TestMachineParsedOnce(t *testing.T) {
	h := newHarness(t, "", false, map[string]any{"f": func(ctx context.Context, in map[string]any) (map[string]any, error) {
		return in, nil
	}})
	sm := h.create("surge", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:f","End":true}}}`)
	var wg sync.WaitGroup
	arns := make([]string, 64)
	for i := range arns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			arns[i] = h.start(sm, fmt.Sprint("x", i), `{}`)
		}()
	}
	wg.Wait()
	for _, arn := range arns {
		if d := h.wait(arn); d.Status != StatusSucceeded {
			t.Fatalf("%s: %s, want SUCCEEDED", arn, d.Status)
		}
	}
	if n := h.e.Stats().Parsed; n != 1 {
		t.Fatalf("64 executions started at once parsed their definition %d times, want once", n)
	}
}
