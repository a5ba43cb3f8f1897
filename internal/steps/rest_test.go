package steps_test

import (
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
)

// TestRest: a step that rests ends its execution and leaves the run
// scheduled for the next step under the next generation's execution name;
// a late retry of the rested execution (Rest or Done again) changes nothing.
func TestRest(t *testing.T) {
	f := newFixture(t)
	f.createOrder(orderSpec{id: "R1", total: "129.00", deadline: 72 * time.Hour})
	ref := f.run("R1", care.UnpaidChase, f.template(care.UnpaidChase, nil))
	e, err := f.h.Load(f.ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	at := f.clk.Now().Add(6 * time.Hour)
	out, err := f.h.Rest(f.ctx, e, "coupon", at)
	if err != nil || out.Kind != steps.KindDone {
		t.Fatalf("Rest = %+v, %v; want KindDone", out, err)
	}
	r := f.getRun(ref)
	if r.Status != care.RunScheduled || r.Gen != 1 || r.Execution != "" || r.Step != "coupon" || r.NextAt == nil || !r.NextAt.Equal(at) {
		t.Fatalf("run after Rest %+v; want scheduled for coupon at %v, generation 1, no execution yet", r, at)
	}
	next := ref
	next.Gen = 1
	if next.Execution() == ref.Execution() {
		t.Errorf("generation 1 is named %q like generation 0", next.Execution())
	}
	if next.Key("coupon") != ref.Key("coupon") { // a step is told at most once per run
		t.Errorf("generation 1's ledger key %q differs from generation 0's %q", next.Key("coupon"), ref.Key("coupon"))
	}
	// A retry of generation 0 after it rested: nothing moves.
	if _, err := f.h.Rest(f.ctx, e, "coupon", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.h.Done(f.ctx, e, "paid"); err != nil {
		t.Fatal(err)
	}
	if got := f.getRun(ref); got.Status != care.RunScheduled || got.Gen != 1 || !got.NextAt.Equal(at) || got.Outcome != "" {
		t.Errorf("run after a late retry of generation 0 %+v; want it unchanged", got)
	}
}
