package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/infra/caretest"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/metrics"
	"github.com/ordercare/ordercare/workflows"
)

// TestReceiptsReviewSegments: delivery receipts, paid sends left for
// review and billed SMS segments are counted per workflow.
func TestReceiptsReviewSegments(t *testing.T) {
	ctx := context.Background()
	st := caretest.Store(t, nil)
	caretest.Shop(t, st, care.Shop{ID: "tea", CreatedAt: t0})
	sent := at(time.Minute)
	for i, m := range []care.Message{
		{Channel: "sms", Status: care.MessageSent, Segments: 2, Receipt: care.ReceiptDelivered},
		{Channel: "sms", Status: care.MessageSent, Segments: 1},
		{Channel: "email", Status: care.MessageSent, Receipt: care.ReceiptBounced},
		{Channel: "email", Status: care.MessageSent, Receipt: care.ReceiptComplained},
		{Channel: "sms", Status: care.MessageFailed, Reason: "outcome_unknown"},
	} {
		m.ID, m.ShopID, m.OrderID, m.Workflow, m.Step, m.At = string(rune('a'+i)), "tea", "1", care.UnpaidChase, "remind_1", at(time.Duration(i)*time.Second)
		if m.Status == care.MessageSent {
			m.SentAt = &sent
		}
		if _, _, err := st.ReserveMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := metrics.Compute(ctx, st, workflows.All(), "tea", t0, at(24*time.Hour), care.UnpaidChase)
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Workflows[0].Counts
	want := map[string]int{care.ReceiptDelivered: 1, care.ReceiptBounced: 1, care.ReceiptComplained: 1}
	if diff := cmp.Diff(want, c.Receipts); diff != "" || c.Review != 1 || c.Segments != 3 {
		t.Errorf("receipts (-want +got):\n%s review %d (want 1), segments %d (want 3)", diff, c.Review, c.Segments)
	}
}
