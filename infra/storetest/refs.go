package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/receipts"
)

// RunRefs runs the conformance suite of receipts.Refs against s (shared
// stores are fine: every subtest uses its own ids). What it pins beyond
// the doc comments: expiry is exact to the second, at or before now.
func RunRefs(t *testing.T, s receipts.Refs) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	id := func(name string) string { return fmt.Sprintf("%s-%d", name, time.Now().UnixNano()) }
	ref := receipts.Ref{ShopID: "tea", OrderID: "o-1", LedgerID: "run.step"}

	t.Run("put and get until expiry", func(t *testing.T) {
		p := id("msg")
		if err := s.PutRef(ctx, p, ref, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetRef(ctx, p, t0.Add(59*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ref, got); diff != "" {
			t.Errorf("GetRef (-want +got):\n%s", diff)
		}
		if _, err := s.GetRef(ctx, p, t0.Add(time.Hour)); !errors.Is(err, care.ErrNotFound) {
			t.Errorf("at expiry: %v, want ErrNotFound", err)
		}
	})
	t.Run("replace", func(t *testing.T) {
		p := id("msg")
		other := receipts.Ref{ShopID: "tea", OrderID: "o-2", LedgerID: "run2.step"}
		if err := s.PutRef(ctx, p, ref, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.PutRef(ctx, p, other, t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetRef(ctx, p, t0.Add(90*time.Minute)); err != nil || got != other {
			t.Errorf("GetRef = %+v, %v; want %+v", got, err, other)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		if _, err := s.GetRef(ctx, id("none"), t0); !errors.Is(err, care.ErrNotFound) {
			t.Errorf("GetRef = %v, want ErrNotFound", err)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		for _, tc := range []struct {
			p string
			r receipts.Ref
		}{{"", ref}, {id("x"), receipts.Ref{ShopID: "tea", OrderID: "o-1"}}} {
			if err := s.PutRef(ctx, tc.p, tc.r, t0); !errors.Is(err, care.ErrInvalid) {
				t.Errorf("PutRef(%q, %+v) = %v, want ErrInvalid", tc.p, tc.r, err)
			}
		}
	})
}
