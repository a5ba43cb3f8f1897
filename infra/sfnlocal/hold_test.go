package sfnlocal

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/clock"
)

// TestHoldInvocations: an invocation interrupted by Close is handed back
// and, on an engine opened with HoldInvocations, waits for Start instead
// of failing its execution for want of a registered function.
func TestHoldInvocations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sfn.db")
	const def = `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:f","End":true}}}`
	entered := make(chan struct{}, 1)
	h := newHarness(t, path, false, map[string]any{"f": func(ctx context.Context, in map[string]any) (string, error) {
		entered <- struct{}{}
		<-ctx.Done()
		return "", ctx.Err()
	}})
	arn := h.start(h.create("hold", def), "x", `{}`)
	select {
	case <-entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the task was never invoked")
	}
	if err := h.e.Close(); err != nil {
		t.Fatal(err)
	}

	closed := make(chan string, 1)
	e, err := Open(context.Background(), Config{Path: path, Clock: clock.NewVirtual(t0, nil), HoldInvocations: true,
		OnExecutionClosed: func(_, status string) { closed <- status }})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// Held: the API answers, the execution runs on, nothing is invoked.
	d, err := e.DescribeExecution(context.Background(), &DescribeExecutionInput{ExecutionArn: arn})
	if err != nil || d.Status != StatusRunning {
		t.Fatalf("before Start: %+v, %v; want RUNNING", d, err)
	}
	if st := e.Stats(); st.Busy == 0 {
		t.Fatalf("before Start: nothing pending (%+v); want the interrupted invocation held", st)
	}
	e.Register("f", func(ctx context.Context, in map[string]any) (string, error) { return "done", nil })
	e.Start()
	e.Start() // idempotent
	select {
	case st := <-closed:
		if st != StatusSucceeded {
			d, _ := e.DescribeExecution(context.Background(), &DescribeExecutionInput{ExecutionArn: arn})
			t.Fatalf("after Start: %s (%v: %v), want SUCCEEDED", st, deref(d.Error), deref(d.Cause))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the held invocation did not run after Start")
	}
}

// TestCloseWithoutStart: an engine held and never started closes cleanly.
func TestCloseWithoutStart(t *testing.T) {
	e, err := Open(context.Background(), Config{Path: filepath.Join(t.TempDir(), "sfn.db"), HoldInvocations: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e.Start() // after Close: does nothing
}

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
