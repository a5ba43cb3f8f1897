package router_test

import (
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	codconfirm "github.com/ordercare/ordercare/workflows/cod_confirm"
)

// TestCODRunShowsItsWait: a COD order placed at night waits for the quiet
// hours to end before it is asked; the run says so from its start (GET
// /v1/runs shows the step and the next time), and a replay keeps it.
func TestCODRunShowsItsWait(t *testing.T) {
	for _, tc := range []struct {
		name   string
		placed time.Time
		want   time.Time
	}{
		{"at night: the ask waits for 08:00", time.Date(2026, 11, 11, 15, 30, 0, 0, time.UTC), time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)},
		{"in the day: the ask is due at once", start, start},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if err := f.clk.Set(tc.placed); err != nil {
				t.Fatal(err)
			}
			c := f.created("TB-9", "199.00", care.PayCOD)
			f.handle(c)
			r := f.getRun("TB-9", care.CODConfirm)
			if r.Step != codconfirm.WaitToAsk || r.NextAt == nil || !r.NextAt.Equal(tc.want) {
				t.Errorf("run step %q next_at %v, want %s at %s", r.Step, r.NextAt, codconfirm.WaitToAsk, tc.want)
			}
			f.clk.Advance(time.Minute)
			f.handle(c) // a redelivery changes nothing
			if r2 := f.getRun("TB-9", care.CODConfirm); r2.Step != r.Step || !r2.NextAt.Equal(*r.NextAt) || r2.Rev != r.Rev {
				t.Errorf("after a replay: run %+v, want %+v", r2, r)
			}
		})
	}
}

// TestLateCODAskKeepsTheGap: Douyin says an order is COD only after the
// chase's first reminder went out; the ask waits the template's minimum gap
// after that reminder instead of following it at once.
func TestLateCODAskKeepsTheGap(t *testing.T) {
	f := newFixture(t)
	f.handle(f.created("TB-8", "199.00", care.PayOnline))
	f.clk.Advance(10 * time.Minute)
	nudged := f.clk.Now()
	f.sent("TB-8", care.UnpaidChase, "nudge", care.MessageSent)
	f.clk.Advance(10 * time.Minute)
	f.handle(f.created("TB-8", "199.00", care.PayCOD))

	want := nudged.Add(30 * time.Minute) // the default min_gap
	r := f.getRun("TB-8", care.CODConfirm)
	if r.Step != codconfirm.WaitToAsk || r.NextAt == nil || !r.NextAt.Equal(want) {
		t.Errorf("run step %q next_at %v, want %s at %s", r.Step, r.NextAt, codconfirm.WaitToAsk, want)
	}
	starts := f.sfn.Starts()
	if got := input(t, starts[len(starts)-1])["at"]; got != want.UTC().Format(time.RFC3339) {
		t.Errorf("execution input at %v, want %s", got, want.UTC().Format(time.RFC3339))
	}
}
