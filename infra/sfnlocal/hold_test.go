package sfnlocal

import (
	"context"
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

// TestPauseInvocations: while paused, a started execution's Lambda is not
// invoked (the engine is not idle: its invocation waits); once released,
// it is, and the execution completes.
func TestPauseInvocations(t *testing.T) {
	entered := make(chan struct{}, 1)
	h := newHarness(t, "", false, map[string]any{"f": func(ctx context.Context, in map[string]any) (string, error) {
		entered <- struct{}{}
		return "done", nil
	}})
	sm := h.create("pause", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:f","End":true}}}`)
	release := h.e.PauseInvocations()
	again := h.e.PauseInvocations() // pauses nest
	arn := h.start(sm, "x", `{}`)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := h.e.WaitIdle(ctx); err == nil {
		t.Fatal("paused: the engine went idle; want its invocation waiting")
	}
	again()
	select {
	case <-entered:
		t.Fatal("invoked while one pause is still held")
	default:
	}
	release()
	release() // a second call does nothing
	if d := h.wait(arn); d.Status != StatusSucceeded {
		t.Fatalf("after release: %s, want %s", d.Status, StatusSucceeded)
	}
	if len(entered) != 1 {
		t.Errorf("invoked %d times, want once", len(entered))
	}
}
