package localruntime_test

import (
	"context"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// TestScheduledRunThatCannotStart: a scheduled run whose start keeps
// failing (its pinned template version is gone) is logged and stays due;
// time still moves, and every other run starts at its time.
func TestScheduledRunThatCannotStart(t *testing.T) {
	h := newHarness(t)
	h.webhook(h.shop, "", order("B1", "129.90", false, 72*time.Hour, start))
	h.webhook(h.shop, "", order("B2", "129.90", false, 72*time.Hour, start))
	h.advance("0s")
	// B1's chase is scheduled for its first reminder; pin it to a template
	// version that does not exist, so its Starter cannot plan it.
	bad := h.run("B1", care.UnpaidChase)
	if bad.Status != care.RunScheduled {
		t.Fatalf("B1's chase %+v, want scheduled", bad)
	}
	stored, err := h.rt.Store.GetRun(context.Background(), h.shop.ID, "B1", care.UnpaidChase, "")
	if err != nil {
		t.Fatal(err)
	}
	stored.TemplateVersion = 99
	if _, err := h.rt.Store.UpdateRun(context.Background(), stored); err != nil {
		t.Fatal(err)
	}
	h.advance("1h") // answers 200: the clock moved past B1's failing start
	h.wantLedger("B2", "nudge:sent")
	if r := h.run("B1", care.UnpaidChase); r.Status != care.RunScheduled || r.Execution != "" {
		t.Errorf("B1's chase %+v, want still scheduled (retried), no execution", r)
	}
	h.advance("1h")
	if got := h.now(); !got.Equal(start.Add(2 * time.Hour)) {
		t.Errorf("clock at %v, want %v", got, start.Add(2*time.Hour))
	}
}
