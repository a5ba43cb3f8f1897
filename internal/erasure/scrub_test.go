package erasure_test

import (
	"testing"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/erasure"
)

// TestScrubOrderReviewsAndRefunds: every review's text and title (not only
// the latest review's) and every refund's reason are erased.
func TestScrubOrderReviewsAndRefunds(t *testing.T) {
	s := care.OrderState{
		Review:  &care.Review{Rating: 1, Text: "王芳 13800138000 勒索"},
		Reviews: []care.ReviewState{{Review: care.Review{ID: "a", Rating: 1, Title: "王芳说", Text: "打电话 13800138000"}}, {Review: care.Review{ID: "b", Rating: 5}}},
		Refunds: []care.RefundState{{Refund: care.Refund{Full: true, Reason: "王芳说坏了"}}},
	}
	erasure.ScrubOrder(&s)
	if s.Review.Text != erasure.Erased || s.Reviews[0].Text != erasure.Erased || s.Reviews[0].Title != erasure.Erased ||
		s.Reviews[1].Text != "" || s.Refunds[0].Reason != erasure.Erased || s.Reviews[0].Rating != 1 {
		t.Errorf("scrubbed: %+v", s)
	}
	ev := care.Event{Refund: &care.Refund{Full: true, Reason: "王芳"}}
	erasure.ScrubEvent(&ev)
	if ev.Refund.Reason != erasure.Erased {
		t.Errorf("event refund reason %q", ev.Refund.Reason)
	}
}
