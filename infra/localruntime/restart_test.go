package localruntime_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/localruntime"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
)

// TestRestartResumesInterruptedStep stops the runtime while a step is being
// invoked (the invocation is handed back, pending in sfn.db) and opens it
// again on the same data directory: the step must run again under the real
// handler and the buyer get the first reminder. Before the engine held its
// invocations until the handler was registered, the resumed invocation
// found no function and the run failed with Lambda.ResourceNotFoundException.
func TestRestartResumesInterruptedStep(t *testing.T) {
	for round := range 3 {
		dir := t.TempDir()
		rt, err := localruntime.Open(t.Context(), localruntime.Options{DataDir: dir, Clock: localruntime.ClockVirtual, Start: start})
		if err != nil {
			t.Fatal(err)
		}
		h := &harness{t: t, rt: rt, api: httptest.NewServer(rt.API)}
		h.shop = h.newShop("crash")
		// The step handler blocks until the engine closes, as a step
		// cut short by a shutdown does.
		entered := make(chan struct{}, 16)
		rt.Engine.Register(localruntime.StepFunction, func(ctx context.Context, in steps.Input) (steps.State, error) {
			entered <- struct{}{}
			<-ctx.Done()
			return steps.State{}, ctx.Err()
		})
		id := []string{"R1", "R2", "R3"}[round]
		// Placed 10 min ago: the first reminder is due, so the run starts at once.
		if st := h.webhook(h.shop, "", order(id, "129.90", false, 72*time.Hour, h.now().Add(-10*time.Minute))); st != 202 {
			t.Fatalf("order.created: %d", st)
		}
		select {
		case <-entered:
		case <-time.After(20 * time.Second): // a safety bound, not a sleep: the router starts the run at once
			t.Fatal("the first step was never invoked")
		}
		h.api.Close()
		if err := rt.Close(); err != nil {
			t.Fatal(err)
		}

		rt, err = localruntime.Open(t.Context(), localruntime.Options{DataDir: dir, Clock: localruntime.ClockVirtual})
		if err != nil {
			t.Fatal(err)
		}
		h = &harness{t: t, rt: rt, api: httptest.NewServer(rt.API), shop: h.shop}
		h.advance("1h")
		r := h.run(id, care.UnpaidChase)
		if r.Status == care.RunFailed {
			t.Fatalf("round %d: run failed after the restart: %+v", round, r)
		}
		if got := ledger(h.messages(id)); len(got) == 0 || got[0] != "nudge:sent" {
			t.Fatalf("round %d: ledger after the restart = %v, want the first reminder sent", round, got)
		}
		h.api.Close()
		if err := rt.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
