package steps_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/infra/caretest"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
	codconfirm "github.com/ordercare/ordercare/workflows/cod_confirm"
)

// cstTime is a Shanghai wall time on 2026-11-11 plus days, in UTC.
func cstTime(days, h, m int) time.Time {
	return time.Date(2026, 11, 11+days, h, m, 0, 0, time.FixedZone("CST", 8*3600)).UTC()
}

// TestCallTaskServiceHours: the case, a call task raised at 21:05
// with a 2 h SLA, against the default hours (09:00-21:00 every day) and a
// shop's own.
func TestCallTaskServiceHours(t *testing.T) {
	tests := []struct {
		name     string
		hours    *care.ServiceHours
		at       time.Time     // when the Call state runs
		timeout  time.Duration // until the call's deadline
		wantDue  time.Time     // zero: no task, skipped outside_service_hours
		wantSkip string
	}{
		{"21:05, deadline 09:05: not raised", nil, cstTime(0, 21, 5), 12 * time.Hour, time.Time{}, steps.ReasonOutsideHours},
		{"21:05, deadline next evening: due 11:00", nil, cstTime(0, 21, 5), 22 * time.Hour, cstTime(1, 11, 0), ""},
		{"20:00: an hour tonight, an hour tomorrow", nil, cstTime(0, 20, 0), 24 * time.Hour, cstTime(1, 10, 0), ""},
		{"inside hours", nil, cstTime(0, 10, 0), 24 * time.Hour, cstTime(0, 12, 0), ""},
		{"SLA past the deadline: due at the deadline", nil, cstTime(0, 20, 30), 13 * time.Hour, cstTime(1, 9, 30), ""},
		{"a shop open late", &care.ServiceHours{Wed: []care.Period{{From: "12:00", To: "24:00"}}, Thu: []care.Period{{From: "12:00", To: "24:00"}}},
			cstTime(0, 21, 5), 12 * time.Hour, cstTime(0, 23, 5), ""},
		{"a shop closed on Thursday", &care.ServiceHours{Wed: []care.Period{{From: "09:00", To: "18:00"}}, Fri: []care.Period{{From: "09:00", To: "18:00"}}},
			cstTime(0, 19, 0), 36 * time.Hour, time.Time{}, steps.ReasonOutsideHours},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ref := bigOrder(t)
			if tt.hours != nil {
				if _, err := f.db.SetServiceHours(f.ctx, shopID, tt.hours); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := f.clk.Advance(tt.at.Sub(f.clk.Now())); err != nil {
				t.Fatal(err)
			}
			f.mustHandle(steps.ActionEscalate, steps.State{Run: ref, Step: "call", Kind: steps.KindCall,
				Timeout: int(tt.timeout / time.Second)}, "tok-1")
			ts := f.tasks(ref.Order)
			if tt.wantSkip != "" {
				if len(ts) != 0 {
					t.Errorf("a task was raised: %+v", ts)
				}
				want := []caretest.ResumeCall{{Token: "tok-1", Output: `{"skipped":"` + tt.wantSkip + `"}`}}
				if diff := cmp.Diff(want, f.res.Calls()); diff != "" {
					t.Errorf("ResumeTask calls (-want +got):\n%s", diff)
				}
				if m, ok := f.entry(ref, "call"); !ok || m.Status != care.MessageSkipped || m.Reason != tt.wantSkip {
					t.Errorf("ledger %+v (found %v), want the call skipped as %s", m, ok, tt.wantSkip)
				}
				return
			}
			if len(ts) != 1 {
				t.Fatalf("%d tasks, want 1", len(ts))
			}
			if !ts[0].DueAt.Equal(tt.wantDue) || !ts[0].CreatedAt.Equal(tt.at) {
				t.Errorf("task created %v due %v, want created %v due %v", ts[0].CreatedAt, ts[0].DueAt, tt.at, tt.wantDue)
			}
		})
	}
}

// TestCODCallOutsideServiceHours: a COD call nobody can make in time ends
// the run as expired and tells the shop.
func TestCODCallOutsideServiceHours(t *testing.T) {
	f, ref := codOrder(t)
	if _, err := f.db.SetServiceHours(f.ctx, shopID, &care.ServiceHours{Mon: []care.Period{{From: "09:00", To: "10:00"}}}); err != nil {
		t.Fatal(err)
	}
	call := steps.State{Run: ref, Step: "call", Kind: steps.KindCall, Reply: json.RawMessage(`{"answer":"no"}`), Timeout: 72 * 3600}
	f.mustHandle(steps.ActionEscalate, call, "tok-call") // Wednesday: Monday 09:00 is more than 72 h away
	calls := f.res.Calls()
	if len(calls) != 1 || calls[0].Output != `{"skipped":"outside_service_hours"}` {
		t.Fatalf("ResumeTask calls %+v, want one skipped outside_service_hours", calls)
	}
	call.Outcome = json.RawMessage(calls[0].Output)
	f.mustHandle(codconfirm.ActionOutcome, call, "")
	if r := f.getRun(ref); r.Outcome != codconfirm.OutcomeExpired {
		t.Errorf("run outcome %q, want %s", r.Outcome, codconfirm.OutcomeExpired)
	}
	if m, ok := f.entry(ref, codconfirm.NoticeExpired); !ok || m.Status != care.MessageSent {
		t.Errorf("expired notice %+v (found %v), want sent", m, ok)
	}
}

// TestCallPlannedEarlyEnough: a call planned for 21:00 (12 h after a 09:00
// order) whose order auto-cancels at 09:00 next day is raised at 19:00, so
// agents have its 2 h SLA before closing; with a late deadline it stays.
func TestCallPlannedEarlyEnough(t *testing.T) {
	tests := []struct {
		name     string
		deadline time.Duration // after placement (09:00)
		wantAt   time.Time
	}{
		{"deadline 09:00 next day", 24 * time.Hour, cstTime(0, 19, 0)},
		{"deadline 12:00 next day", 27 * time.Hour, cstTime(0, 21, 0)},
		{"deadline 09:30 next day: an hour tonight", 24*time.Hour + 30*time.Minute, cstTime(0, 19, 30)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			v := f.template(care.UnpaidChase, nil)
			f.createOrder(orderSpec{id: "TB-4004", total: "880.00", deadline: tt.deadline})
			ref := f.run("TB-4004", care.UnpaidChase, v)
			if _, err := f.clk.Advance(cstTime(0, 15, 0).Sub(f.clk.Now())); err != nil {
				t.Fatal(err)
			}
			out := f.chase(steps.State{Run: ref, Step: "coupon"})
			deadline := start.Add(tt.deadline)
			if out.Step != "call" || out.At == nil || !out.At.Equal(tt.wantAt) || out.Timeout != int(deadline.Sub(tt.wantAt)/time.Second) {
				t.Errorf("next %s at %v timeout %d s, want call at %v until %v", out.Step, out.At, out.Timeout, tt.wantAt, deadline)
			}
		})
	}
}
