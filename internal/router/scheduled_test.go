package router_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/router"
	"github.com/ordercare/ordercare/internal/steps"
)

// placeNow places an unpaid online order now: its first reminder (10 min
// after placing, by the default template) is not due, so its chase is
// scheduled, with no execution.
func placeNow(f *fixture, id string) {
	f.t.Helper()
	f.handle(f.created(id, "129.00", care.PayOnline, func(o *care.Order) { t := f.clk.Now(); o.PlacedAt = &t }))
}

func TestScheduledChase(t *testing.T) {
	t.Run("paid before the first reminder: no execution ever", func(t *testing.T) {
		f := newFixture(t)
		placeNow(f, "TB-1")
		r := f.getRun("TB-1", care.UnpaidChase)
		due := start.Add(10 * time.Minute)
		if r.Status != care.RunScheduled || r.NextAt == nil || !r.NextAt.Equal(due) || r.Execution != "" || r.Step != "nudge" {
			t.Fatalf("run %+v; want scheduled for %v at step nudge, no execution", r, due)
		}
		f.clk.Advance(5 * time.Minute)
		f.handle(f.mark(care.OrderPaid, "TB-1"))
		f.clk.Advance(time.Hour)
		if n, err := f.r.StartDue(f.ctx, 100); err != nil || n != 0 {
			t.Errorf("StartDue = %d, %v; want nothing due", n, err)
		}
		for _, s := range f.sfn.Starts() { // paid starts the pre-ship check, nothing else
			if aws.ToString(s.StateMachineArn) != stateMachines["preship_check"] {
				t.Errorf("started %s; want no chase execution ever", aws.ToString(s.Name))
			}
		}
		if n := len(f.sfn.Stops()); n != 0 {
			t.Errorf("%d stops; want none (the run never had an execution)", n)
		}
		if r := f.getRun("TB-1", care.UnpaidChase); r.Status != care.RunStopped || r.Outcome != "" || r.NextAt != nil {
			t.Errorf("run %+v; want stopped without outcome", r)
		}
	})
	t.Run("due: started with its first reminder, once", func(t *testing.T) {
		f := newFixture(t)
		placeNow(f, "TB-2")
		f.clk.Advance(9 * time.Minute)
		if n, _ := f.r.StartDue(f.ctx, 100); n != 0 || len(f.sfn.Starts()) != 0 {
			t.Fatalf("StartDue before the due time started %d", len(f.sfn.Starts()))
		}
		f.clk.Advance(time.Minute)
		if n, err := f.r.StartDue(f.ctx, 100); err != nil || n != 1 {
			t.Fatalf("StartDue = %d, %v; want 1", n, err)
		}
		starts := f.sfn.Starts()
		if len(starts) != 1 {
			t.Fatalf("%d starts, want 1", len(starts))
		}
		name := steps.ExecutionName(care.UnpaidChase, shopID, "TB-2")
		if aws.ToString(starts[0].Name) != name {
			t.Errorf("started %s, want %s", aws.ToString(starts[0].Name), name)
		}
		in := input(t, starts[0])
		if in["step"] != "nudge" || in["kind"] != "message" {
			t.Errorf("input %v; want the nudge step first", in)
		}
		r := f.getRun("TB-2", care.UnpaidChase)
		if r.Status != care.RunRunning || r.Execution != name || !r.StartedAt.Equal(start) {
			t.Errorf("run %+v; want running %s, started when it was scheduled", r, name)
		}
		// Called again (another timer, a retry): nothing is due any more.
		if n, _ := f.r.StartDue(f.ctx, 100); n != 0 || len(f.sfn.Starts()) != 1 {
			t.Errorf("second StartDue: %d due, %d starts; want 0, 1", n, len(f.sfn.Starts()))
		}
		// Paid now: the execution is stopped as before.
		f.handle(f.mark(care.OrderPaid, "TB-2"))
		if len(f.sfn.Stops()) != 1 {
			t.Errorf("%d stops, want 1", len(f.sfn.Stops()))
		}
	})
	t.Run("cancelled before due: stopped at no cost", func(t *testing.T) {
		f := newFixture(t)
		placeNow(f, "TB-3")
		f.handle(f.mark(care.OrderCancelled, "TB-3"))
		f.clk.Advance(time.Hour)
		if _, err := f.r.StartDue(f.ctx, 100); err != nil {
			t.Fatal(err)
		}
		if len(f.sfn.Starts())+len(f.sfn.Stops()) != 0 {
			t.Errorf("%d starts, %d stops; want none", len(f.sfn.Starts()), len(f.sfn.Stops()))
		}
		if r := f.getRun("TB-3", care.UnpaidChase); r.Status != care.RunStopped {
			t.Errorf("run %s, want stopped", r.Status)
		}
	})
	t.Run("crash after the start, before the run was marked: started again, refused as a duplicate", func(t *testing.T) {
		f := newFixture(t)
		placeNow(f, "TB-4")
		f.clk.Advance(10 * time.Minute)
		name := steps.ExecutionName(care.UnpaidChase, shopID, "TB-4")
		// What StartDue does first, as if the process died right after.
		if _, err := f.sfn.StartExecution(f.ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(stateMachines[care.UnpaidChase]), Name: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		if r := f.getRun("TB-4", care.UnpaidChase); r.Status != care.RunScheduled {
			t.Fatalf("run %s, want still scheduled", r.Status)
		}
		if n, err := f.r.StartDue(f.ctx, 100); err != nil || n != 1 {
			t.Fatalf("StartDue = %d, %v; want 1 (the duplicate is success)", n, err)
		}
		if n := len(f.sfn.Starts()); n != 2 {
			t.Errorf("%d start calls, want 2 (the second refused as a duplicate)", n)
		}
		if r := f.getRun("TB-4", care.UnpaidChase); r.Status != care.RunRunning || r.Execution != name {
			t.Errorf("run %+v; want running %s", r, name)
		}
	})
}

// shopReads counts the shop reads that reach the store.
type shopReads struct {
	care.CareStore
	n atomic.Int64
}

func (s *shopReads) GetShop(ctx context.Context, id string) (care.Shop, error) {
	s.n.Add(1)
	return s.CareStore.GetShop(ctx, id)
}

// TestStartDueMany: runs due together are each started once and marked
// running with their execution: more than one GetOrders chunk of them, and
// more than a page of them (DueHead), where a call looks at exactly limit
// of them and the next at the rest. A call
// reads their shop once, though its first runs all ask at once.
func TestStartDueMany(t *testing.T) {
	for _, tt := range []struct{ n, limit int }{{250, 1000}, {router.DueHead + 150, router.DueHead + 100}} {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			f := newFixture(t)
			for i := range tt.n {
				placeNow(f, fmt.Sprintf("TM-%04d", i))
			}
			f.clk.Advance(10 * time.Minute)
			reads := &shopReads{CareStore: f.r.Store}
			f.r.Store = reads
			want := []int{min(tt.n, tt.limit), tt.n - min(tt.n, tt.limit), 0}
			calls := int64(0) // that found runs due
			for call, w := range want {
				if got, err := f.r.StartDue(f.ctx, tt.limit); err != nil || got != w {
					t.Fatalf("StartDue call %d = %d, %v; want %d", call+1, got, err, w)
				}
				if w > 0 {
					calls++
				}
			}
			if n := reads.n.Load(); n != calls {
				t.Errorf("%d StartDue calls with runs due read the shop %d times, want once each", calls, n)
			}
			started := map[string]int{}
			for _, s := range f.sfn.Starts() {
				started[aws.ToString(s.Name)]++
			}
			for i := range tt.n {
				id := fmt.Sprintf("TM-%04d", i)
				name := steps.ExecutionName(care.UnpaidChase, shopID, id)
				if started[name] != 1 {
					t.Errorf("%s started %d times, want once", id, started[name])
				}
				if r := f.getRun(id, care.UnpaidChase); r.Status != care.RunRunning || r.Execution != name {
					t.Errorf("%s: run %s %q; want running %s", id, r.Status, r.Execution, name)
				}
			}
		})
	}
}
