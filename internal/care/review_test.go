package care

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func review(id string, min int, rid string, rating int) Event {
	e := ev(id, ReviewPosted, min)
	e.Review = &Review{ID: rid, Rating: rating, Platform: PlatformJudgeme, SKU: "TEA-1", Title: "t"}
	return e
}

func TestReviewsByID(t *testing.T) {
	evs := []Event{created("e1", 0), review("r1", 100, "jm-1", 1), review("r2", 200, "jm-2", 5),
		review("r3", 300, "jm-1", 4), ev("r4", ReviewPosted, 400)}
	want := applyAll(t, evs)
	if len(want.Reviews) != 3 {
		t.Fatalf("reviews = %d, want 3 (jm-1, jm-2, one without id)", len(want.Reviews))
	}
	r := want.ReviewByID("jm-1")
	if r == nil || r.Rating != 4 || r.FirstRating != 1 || !r.Revised() || r.EventID != "r3" {
		t.Fatalf("jm-1 = %+v, want rating 4, first 1, revised, from r3", r)
	}
	if r := want.ReviewByID("jm-2"); r.Revised() {
		t.Errorf("jm-2 revised without a second post")
	}
	if want.Review.Rating != 2 || want.ReviewAt == nil || !want.ReviewAt.Equal(at(400)) {
		t.Errorf("legacy review = %+v at %v, want the latest post (rating 2 at 400)", want.Review, want.ReviewAt)
	}
	// Any arrival order gives the same reviews.
	for _, order := range [][]int{{0, 3, 1, 2, 4}, {4, 3, 2, 1, 0}, {0, 2, 3, 4, 1}} {
		var in []Event
		for _, i := range order {
			in = append(in, evs[i])
		}
		got := applyAll(t, in)
		if d := cmp.Diff(want.Reviews, got.Reviews); d != "" {
			t.Errorf("arrival %v: reviews differ (-want +got):\n%s", order, d)
		}
	}
}

func TestReviewValidate(t *testing.T) {
	tests := []struct {
		name, field string
		r           Review
	}{
		{"rating", "review.rating", Review{Rating: 6}},
		{"id", "review.id", Review{Rating: 3, ID: "a b"}},
		{"platform", "review.platform", Review{Rating: 3, Platform: "Judge Me"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ev("x", ReviewPosted, 1)
			e.Review = &tt.r
			var fe *FieldError
			if err := e.Validate(); !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("Validate = %v, want a FieldError on %s", err, tt.field)
			}
		})
	}
}
