package sfnlocal

import (
	"context"
	"testing"
	"time"
)

// TestWaitIdleAndNextTimer: a caller stepping a virtual clock through the
// engine's timers sees each execution reach its next Wait before WaitIdle
// returns, and finds the next timer where the Wait put it.
func TestWaitIdleAndNextTimer(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "", false, map[string]any{"inc": func(_ context.Context, in map[string]int) (map[string]int, error) {
		return map[string]int{"n": in["n"] + 1}, nil
	}})
	sm := h.create("twice", `{"StartAt":"A","States":{
		"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"inc","Payload.$":"$"},"OutputPath":"$.Payload","Next":"W"},
		"W":{"Type":"Wait","Seconds":600,"Next":"B"},
		"B":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"inc","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}}`)
	if _, ok := h.e.NextTimer(); ok {
		t.Fatal("a timer before any execution")
	}
	arn := h.start(sm, "x", `{"n":0}`)
	if err := h.e.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	next, ok := h.e.NextTimer()
	if !ok || !next.Equal(t0.Add(600*time.Second)) {
		t.Fatalf("next timer %s %v, want %s", next, ok, t0.Add(600*time.Second))
	}
	if got := types(h.history(arn)); got[len(got)-1] != "WaitStateEntered" {
		t.Fatalf("idle before the Wait: %v", got)
	}
	if err := h.clk.Set(next); err != nil {
		t.Fatal(err)
	}
	if err := h.e.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := h.e.DescribeExecution(ctx, &DescribeExecutionInput{ExecutionArn: arn})
	if err != nil || d.Status != StatusSucceeded || *d.Output != `{"n":2}` {
		t.Fatalf("after the timer: %+v %v", d, err)
	}
}
