package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ordercare/ordercare/internal/care"
)

func testTasks(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	other := newShop(t, s)
	const orderID = "DY-6921507713982153871"
	task := sampleTask(shop.ID, orderID, "cod_confirm-"+orderID+"/call_buyer")
	task.Rev = 9 // ignored: a created task has Rev 1

	got, created, err := s.CreateTask(c, task)
	if err != nil || !created {
		t.Fatalf("CreateTask(new) = created %v, %v; want true, nil", created, err)
	}
	want := task
	want.Rev = 1
	if diff := careDiff(want, got); diff != "" {
		t.Errorf("CreateTask(new) returned (-want +got):\n%s", diff)
	}
	check := func(want care.Task) {
		t.Helper()
		got, err := s.GetTask(c, want.ShopID, want.ID)
		if err != nil {
			t.Fatalf("GetTask: %v", err)
		}
		if diff := careDiff(want, got); diff != "" {
			t.Errorf("GetTask (-want +got):\n%s", diff)
		}
	}
	check(want)

	// Create-if-absent: the stored task comes back unchanged.
	again := sampleTask(shop.ID, orderID, task.ID)
	again.Script, again.Token = "another script", "another-token"
	got, created, err = s.CreateTask(c, again)
	if err != nil || created {
		t.Fatalf("CreateTask(existing) = created %v, %v; want false, nil", created, err)
	}
	if diff := careDiff(want, got); diff != "" {
		t.Errorf("CreateTask(existing) did not return the stored task (-stored +got):\n%s", diff)
	}
	check(want)

	// An agent claims it, notes, finishes; the outcome reaches the execution.
	claimed := want
	claimed.Status, claimed.Agent = care.TaskClaimed, "agent-li.na"
	claimed.LeaseUntil, claimed.ClaimedAt = tp(at(20*time.Minute).In(cst)), tp(at(5*time.Minute))
	claimed.Notes = []care.Note{{Agent: "agent-li.na", Text: "第一次未接通，稍后再拨", At: at(6 * time.Minute).In(cst)}}
	got, err = s.UpdateTask(c, claimed)
	if err != nil {
		t.Fatalf("UpdateTask(rev 1): %v", err)
	}
	claimed.Rev = 2
	if diff := careDiff(claimed, got); diff != "" {
		t.Errorf("UpdateTask returned (-want +got):\n%s", diff)
	}
	check(claimed)

	stale := want // still Rev 1
	stale.Status, stale.Agent = care.TaskClaimed, "agent-zhao"
	_, err = s.UpdateTask(c, stale)
	wantErr(t, "UpdateTask(stale rev)", err, care.ErrConflict)
	ahead := claimed
	ahead.Rev = 3
	_, err = s.UpdateTask(c, ahead)
	wantErr(t, "UpdateTask(rev ahead)", err, care.ErrConflict)
	check(claimed)

	done := claimed
	done.Status, done.Outcome, done.OutcomeNote = care.TaskDone, "confirmed", "买家确认收货地址，请尽快发货"
	done.DoneAt, done.LeaseUntil = tp(at(12*time.Minute)), nil
	done.ResumingUntil = tp(at(13 * time.Minute)) // its resume is on its way
	done.Notes = append(done.Notes, care.Note{Agent: "agent-li.na", Text: "已确认", At: at(12 * time.Minute)})
	if got, err = s.UpdateTask(c, done); err != nil {
		t.Fatalf("UpdateTask(rev 2): %v", err)
	}
	done.Rev = 3
	if diff := careDiff(done, got); diff != "" {
		t.Errorf("UpdateTask returned (-want +got):\n%s", diff)
	}
	check(done)
	resumed := done
	resumed.Resumed, resumed.Token, resumed.ResumingUntil = true, "", nil
	if got, err = s.UpdateTask(c, resumed); err != nil {
		t.Fatalf("UpdateTask(resumed): %v", err)
	}
	resumed.Rev = 4
	if diff := careDiff(resumed, got); diff != "" {
		t.Errorf("UpdateTask returned (-want +got):\n%s", diff)
	}
	check(resumed)

	// Another shop sees nothing and can touch nothing.
	_, err = s.GetTask(c, other.ID, task.ID)
	wantErr(t, "GetTask(another shop's task)", err, care.ErrNotFound)
	forged := resumed
	forged.ShopID, forged.Agent = other.ID, "intruder"
	_, err = s.UpdateTask(c, forged)
	wantErr(t, "UpdateTask(another shop's task)", err, care.ErrNotFound)
	check(resumed)
	list, err := s.ListTasks(c, other.ID, care.TaskFilter{OrderID: orderID})
	if err != nil || len(list) != 0 {
		t.Errorf("ListTasks(other shop) = %d tasks, %v; want none", len(list), err)
	}
	// The same id in another shop is another task.
	ot := sampleTask(other.ID, orderID, task.ID)
	got, created, err = s.CreateTask(c, ot)
	if err != nil || !created || got.Rev != 1 {
		t.Fatalf("CreateTask(same id, other shop) = created %v, rev %d, %v; want true, 1, nil", created, got.Rev, err)
	}
	check(resumed)
}

func testListTasks(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	other := newShop(t, s)
	const a, b = "1001", "1002"
	mk := func(id, orderID string, st care.TaskStatus) care.Task {
		task := sampleTask(shop.ID, orderID, id)
		task.Status = st
		if st == care.TaskClaimed {
			task.Agent, task.LeaseUntil = "agent-wu", tp(at(time.Hour))
		}
		return task
	}
	tasks := []care.Task{
		mk("t1", a, care.TaskOpen),
		mk("t2", a, care.TaskClaimed),
		mk("t3", a, care.TaskDone),
		mk("t4", b, care.TaskOpen),
		mk("t5", b, care.TaskCancelled),
	}
	for i := range tasks {
		got, created, err := s.CreateTask(c, tasks[i])
		if err != nil || !created {
			t.Fatalf("CreateTask(%s) = created %v, %v", tasks[i].ID, created, err)
		}
		tasks[i] = got
	}
	if _, _, err := s.CreateTask(c, sampleTask(other.ID, a, "t9")); err != nil {
		t.Fatalf("CreateTask(other shop): %v", err)
	}
	pick := func(idx ...int) []care.Task {
		var out []care.Task
		for _, i := range idx {
			out = append(out, tasks[i])
		}
		return out
	}
	run := func(name string, f care.TaskFilter, want []care.Task) {
		t.Run(name, func(t *testing.T) {
			got, err := s.ListTasks(c, shop.ID, f)
			if err != nil {
				t.Fatalf("ListTasks(%+v): %v", f, err)
			}
			if diff := careDiff(sortTasks(want), sortTasks(got)); diff != "" {
				t.Errorf("ListTasks(%+v) (-want +got):\n%s", f, diff)
			}
		})
	}
	run("all", care.TaskFilter{}, pick(0, 1, 2, 3, 4))
	run("open", care.TaskFilter{Statuses: []care.TaskStatus{care.TaskOpen}}, pick(0, 3))
	run("open or claimed", care.TaskFilter{Statuses: []care.TaskStatus{care.TaskOpen, care.TaskClaimed}}, pick(0, 1, 3))
	run("order", care.TaskFilter{OrderID: a}, pick(0, 1, 2))
	run("order and status", care.TaskFilter{OrderID: b, Statuses: []care.TaskStatus{care.TaskCancelled, care.TaskDone}}, pick(4))
	run("no match", care.TaskFilter{OrderID: a, Statuses: []care.TaskStatus{care.TaskCancelled}}, nil)
	run("unknown order", care.TaskFilter{OrderID: "9999"}, nil)

	// An update moves the task between filters.
	upd := tasks[0]
	upd.Status, upd.Outcome, upd.DoneAt = care.TaskDone, "unreachable", tp(at(time.Hour))
	got, err := s.UpdateTask(c, upd)
	if err != nil {
		t.Fatalf("UpdateTask: %v", err)
	}
	tasks[0] = got
	run("open after update", care.TaskFilter{Statuses: []care.TaskStatus{care.TaskOpen}}, pick(3))
	run("done after update", care.TaskFilter{Statuses: []care.TaskStatus{care.TaskDone}}, pick(0, 2))
}

// testUpdateTaskRace has Racers agents update one task at the same Rev:
// exactly one wins, the rest get ErrConflict.
func testUpdateTaskRace(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	task, _, err := s.CreateTask(c, sampleTask(shop.ID, "1001", uniqueID("task")))
	if err != nil {
		t.Fatalf("CreateTask: %v", err)
	}
	errs := make([]error, Racers)
	results := make([]care.Task, Racers)
	var wg sync.WaitGroup
	for i := range Racers {
		wg.Go(func() {
			claim := task
			claim.Status, claim.Agent = care.TaskClaimed, fmt.Sprintf("agent-%d", i)
			results[i], errs[i] = s.UpdateTask(c, claim)
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("UpdateTask at one Rev succeeded twice (agents %d and %d)", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, care.ErrConflict):
			t.Errorf("agent %d: error %v, want ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no agent won")
	}
	got, err := s.GetTask(c, shop.ID, task.ID)
	if err != nil {
		t.Fatalf("GetTask: %v", err)
	}
	if got.Agent != fmt.Sprintf("agent-%d", winner) || got.Rev != 2 {
		t.Errorf("stored task: agent %q rev %d; want agent-%d rev 2", got.Agent, got.Rev, winner)
	}
	if diff := careDiff(results[winner], got); diff != "" {
		t.Errorf("stored task differs from the winner's result (-result +stored):\n%s", diff)
	}
}

// testCreateTaskRace creates one task id from Racers goroutines: exactly one
// creates it, and every caller gets the stored task back.
func testCreateTaskRace(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	id := uniqueID("task")
	results := make([]care.Task, Racers)
	created := make([]bool, Racers)
	errs := make([]error, Racers)
	var wg sync.WaitGroup
	for i := range Racers {
		wg.Go(func() {
			task := sampleTask(shop.ID, "1001", id)
			task.Script = fmt.Sprintf("script %d", i)
			results[i], created[i], errs[i] = s.CreateTask(c, task)
		})
	}
	wg.Wait()
	winner := -1
	for i := range Racers {
		switch {
		case errs[i] != nil:
			t.Errorf("racer %d: %v", i, errs[i])
		case created[i] && winner >= 0:
			t.Errorf("CreateTask created one id twice (racers %d and %d)", winner, i)
		case created[i]:
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("no racer created the task")
	}
	got, err := s.GetTask(c, shop.ID, id)
	if err != nil {
		t.Fatalf("GetTask: %v", err)
	}
	if got.Script != fmt.Sprintf("script %d", winner) || got.Rev != 1 {
		t.Errorf("stored task: script %q rev %d; want the winner's (script %d) at rev 1", got.Script, got.Rev, winner)
	}
	for i := range Racers {
		if errs[i] != nil {
			continue
		}
		if diff := careDiff(got, results[i]); diff != "" {
			t.Errorf("racer %d did not get the stored task (-stored +got):\n%s", i, diff)
		}
	}
}

func testRuns(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	other := newShop(t, s)
	const orderID = "820982911946154508"
	run := sampleRun(shop.ID, orderID, care.UnpaidChase, at(time.Second).In(cst))
	run.Rev = 5 // ignored

	got, created, err := s.CreateRun(c, run)
	if err != nil || !created {
		t.Fatalf("CreateRun(new) = created %v, %v; want true, nil", created, err)
	}
	want := run
	want.Rev = 1
	if diff := careDiff(want, got); diff != "" {
		t.Errorf("CreateRun(new) returned (-want +got):\n%s", diff)
	}
	check := func(want care.Run) {
		t.Helper()
		got, err := s.GetRun(c, want.ShopID, want.OrderID, want.Workflow, want.Subject)
		if err != nil {
			t.Fatalf("GetRun(%s): %v", want.Workflow, err)
		}
		if diff := careDiff(want, got); diff != "" {
			t.Errorf("GetRun(%s) (-want +got):\n%s", want.Workflow, diff)
		}
	}
	check(want)

	// At most one run per (shop, order, workflow).
	again := sampleRun(shop.ID, orderID, care.UnpaidChase, at(time.Hour))
	again.Execution = "another-execution"
	got, created, err = s.CreateRun(c, again)
	if err != nil || created {
		t.Fatalf("CreateRun(existing) = created %v, %v; want false, nil", created, err)
	}
	if diff := careDiff(want, got); diff != "" {
		t.Errorf("CreateRun(existing) did not return the stored run (-stored +got):\n%s", diff)
	}
	check(want)

	// A step reports progress, then the outcome.
	step := want
	step.Step, step.Sent, step.NextAt, step.UpdatedAt = "remind_2", 1, tp(at(2*time.Hour)), at(16*time.Minute)
	got, err = s.UpdateRun(c, step)
	if err != nil {
		t.Fatalf("UpdateRun(rev 1): %v", err)
	}
	step.Rev = 2
	if diff := careDiff(step, got); diff != "" {
		t.Errorf("UpdateRun returned (-want +got):\n%s", diff)
	}
	check(step)
	stale := want
	stale.Status = care.RunStopped
	_, err = s.UpdateRun(c, stale)
	wantErr(t, "UpdateRun(stale rev)", err, care.ErrConflict)
	ahead := step
	ahead.Rev = 7
	_, err = s.UpdateRun(c, ahead)
	wantErr(t, "UpdateRun(rev ahead)", err, care.ErrConflict)
	check(step)

	done := step
	done.Status, done.Step, done.NextAt = care.RunSucceeded, "", nil
	done.Outcome, done.OutcomeAt, done.Value = "paid", tp(at(40*time.Minute).In(cst)), "259.80"
	done.UpdatedAt = at(40 * time.Minute)
	if got, err = s.UpdateRun(c, done); err != nil {
		t.Fatalf("UpdateRun(rev 2): %v", err)
	}
	done.Rev = 3
	if diff := careDiff(done, got); diff != "" {
		t.Errorf("UpdateRun returned (-want +got):\n%s", diff)
	}
	check(done)

	// Another workflow of the same order is another run.
	cod := sampleRun(shop.ID, orderID, care.CODConfirm, at(-time.Minute))
	if _, created, err := s.CreateRun(c, cod); err != nil || !created {
		t.Fatalf("CreateRun(other workflow) = created %v, %v", created, err)
	}
	cod.Rev = 1
	runs, err := s.ListOrderRuns(c, shop.ID, orderID)
	if err != nil {
		t.Fatalf("ListOrderRuns: %v", err)
	}
	if diff := careDiff([]care.Run{cod, done}, runs); diff != "" {
		t.Errorf("ListOrderRuns, oldest first (-want +got):\n%s", diff)
	}

	// Another shop sees nothing and can touch nothing.
	_, err = s.GetRun(c, other.ID, orderID, care.UnpaidChase, "")
	wantErr(t, "GetRun(another shop's run)", err, care.ErrNotFound)
	forged := done
	forged.ShopID, forged.Outcome = other.ID, "forged"
	_, err = s.UpdateRun(c, forged)
	wantErr(t, "UpdateRun(another shop's run)", err, care.ErrNotFound)
	check(done)
	if runs, err := s.ListOrderRuns(c, other.ID, orderID); err != nil || len(runs) != 0 {
		t.Errorf("ListOrderRuns(other shop) = %d runs, %v; want none", len(runs), err)
	}
	or := sampleRun(other.ID, orderID, care.UnpaidChase, at(0))
	if got, created, err := s.CreateRun(c, or); err != nil || !created || got.Rev != 1 {
		t.Fatalf("CreateRun(other shop) = created %v, rev %d, %v; want true, 1, nil", created, got.Rev, err)
	}
	check(done)
}

func testListRuns(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	other := newShop(t, s)
	from, to := at(0), at(24*time.Hour)
	sec := time.Date(2026, 11, 10, 17, 0, 0, 0, time.UTC)
	runs := []care.Run{
		sampleRun(shop.ID, "1001", care.UnpaidChase, at(-time.Nanosecond)),                  // out
		sampleRun(shop.ID, "1002", care.UnpaidChase, from.In(cst)),                          // in
		sampleRun(shop.ID, "1003", care.CODConfirm, sec.Add(100*time.Millisecond)),          // in
		sampleRun(shop.ID, "1004", care.UnpaidChase, sec.Add(123*time.Millisecond).In(cst)), // in
		sampleRun(shop.ID, "1005", care.UnpaidChase, sec),                                   // in
		sampleRun(shop.ID, "1006", care.CODConfirm, to.Add(-time.Nanosecond)),               // in
		sampleRun(shop.ID, "1007", care.UnpaidChase, to),                                    // out
		sampleRun(other.ID, "1002", care.UnpaidChase, at(time.Hour)),                        // out
	}
	for _, i := range []int{5, 2, 7, 0, 4, 6, 1, 3} {
		got, created, err := s.CreateRun(c, runs[i])
		if err != nil || !created {
			t.Fatalf("CreateRun(%s) = created %v, %v", runs[i].OrderID, created, err)
		}
		runs[i] = got
	}
	tests := []struct {
		name     string
		from, to time.Time
		want     []care.Run
	}{
		{"day", from, to, []care.Run{runs[1], runs[4], runs[2], runs[3], runs[5]}},
		{"zone of the bounds is irrelevant", sec.In(cst), sec.Add(123 * time.Millisecond).In(cst), []care.Run{runs[4], runs[2]}},
		{"empty window", from, from, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListRuns(c, shop.ID, tc.from, tc.to)
			if err != nil {
				t.Fatalf("ListRuns: %v", err)
			}
			if diff := careDiff(tc.want, got); diff != "" {
				t.Errorf("ListRuns (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("a run updated with another StartedAt moves", func(t *testing.T) {
		moved := runs[0] // out of the day, until now
		moved.StartedAt = at(2 * time.Hour)
		moved, err := s.UpdateRun(c, moved)
		if err != nil {
			t.Fatalf("UpdateRun(StartedAt moved) = %v", err)
		}
		if _, err := s.UpdateRun(c, runs[0]); !errors.Is(err, care.ErrConflict) {
			t.Errorf("UpdateRun(the run as it was) = %v, want ErrConflict", err)
		}
		got, err := s.ListRuns(c, shop.ID, from, to)
		if err != nil {
			t.Fatalf("ListRuns: %v", err)
		}
		want := []care.Run{runs[1], runs[4], runs[2], runs[3], moved, runs[5]}
		if diff := careDiff(want, got); diff != "" {
			t.Errorf("ListRuns after the move (-want +got):\n%s", diff)
		}
	})
}

// testUpdateRunRace has Racers step handlers update one run at the same Rev.
func testUpdateRunRace(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	run, _, err := s.CreateRun(c, sampleRun(shop.ID, uniqueID("order"), care.UnpaidChase, at(0)))
	if err != nil {
		t.Fatalf("CreateRun: %v", err)
	}
	errs := make([]error, Racers)
	var wg sync.WaitGroup
	for i := range Racers {
		wg.Go(func() {
			r := run
			r.Sent = i + 1
			_, errs[i] = s.UpdateRun(c, r)
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("UpdateRun at one Rev succeeded twice (%d and %d)", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, care.ErrConflict):
			t.Errorf("racer %d: error %v, want ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no racer won")
	}
	got, err := s.GetRun(c, shop.ID, run.OrderID, run.Workflow, run.Subject)
	if err != nil || got.Sent != winner+1 || got.Rev != 2 {
		t.Errorf("stored run: sent %d rev %d, %v; want sent %d rev 2", got.Sent, got.Rev, err, winner+1)
	}
}

func testWaits(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	other := newShop(t, s)
	key := string(care.CODConfirm)
	answer := func(text string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"type": "buyer.replied", "reply": {"text": %q, "channel": "sms"}}`, text))
	}
	await := func(orderID, token string, wantAnswer json.RawMessage) {
		t.Helper()
		got, found, err := s.Await(c, shop.ID, orderID, key, token)
		if err != nil {
			t.Fatalf("Await(%s, %s): %v", orderID, token, err)
		}
		if found != (wantAnswer != nil) {
			t.Fatalf("Await(%s, %s): found = %v, want %v", orderID, token, found, wantAnswer != nil)
		}
		if wantAnswer != nil {
			if diff := careDiff(wantAnswer, got); diff != "" {
				t.Errorf("Await(%s) answer (-want +got):\n%s", orderID, diff)
			}
		}
	}
	deliver := func(shopID, orderID, k string, ans json.RawMessage, wantToken string) {
		t.Helper()
		tok, found, err := s.Deliver(c, shopID, orderID, k, ans)
		if err != nil {
			t.Fatalf("Deliver(%s): %v", orderID, err)
		}
		if found != (wantToken != "") || tok != wantToken {
			t.Errorf("Deliver(%s) = %q, %v; want %q, %v", orderID, tok, found, wantToken, wantToken != "")
		}
	}

	t.Run("await first", func(t *testing.T) {
		const o = "1001"
		await(o, "token-1", nil)
		// Another shop, order or key does not find the token.
		deliver(other.ID, o, key, answer("other shop"), "")
		deliver(shop.ID, "1002", key, answer("other order"), "")
		deliver(shop.ID, o, string(care.UnpaidChase), answer("other key"), "")
		deliver(shop.ID, o, key, answer("确认"), "token-1")
		// The token was handed over once: this answer is kept instead.
		deliver(shop.ID, o, key, answer("again"), "")
		await(o, "token-2", answer("again"))
	})
	t.Run("deliver first", func(t *testing.T) {
		const o = "2001"
		deliver(shop.ID, o, key, answer("好的"), "")
		await(o, "token-a", answer("好的"))
		// The answer was consumed: the next Await keeps its token.
		await(o, "token-b", nil)
		deliver(shop.ID, o, key, answer("later"), "token-b")
	})
	t.Run("latest answer kept", func(t *testing.T) {
		const o = "3001"
		deliver(shop.ID, o, key, answer("first"), "")
		deliver(shop.ID, o, key, answer("second"), "")
		await(o, "token-x", answer("second"))
		await(o, "token-y", nil)
	})
	t.Run("latest token wins", func(t *testing.T) {
		const o = "4001"
		await(o, "token-old", nil)
		await(o, "token-new", nil)
		deliver(shop.ID, o, key, answer("x"), "token-new")
		deliver(shop.ID, o, key, answer("y"), "")
	})
	t.Run("answers stay per shop", func(t *testing.T) {
		const o = "5001"
		deliver(other.ID, o, key, answer("other shop's"), "")
		await(o, "token-s", nil)
		got, found, err := s.Await(c, other.ID, o, key, "token-o")
		if err != nil || !found {
			t.Fatalf("Await(other shop) = found %v, %v; want its own answer", found, err)
		}
		if diff := careDiff(answer("other shop's"), got); diff != "" {
			t.Errorf("Await(other shop) (-want +got):\n%s", diff)
		}
		deliver(shop.ID, o, key, answer("mine"), "token-s")
	})
}

// testWaitsRace runs Await and Deliver of one (shop, order, key) at the same
// time, Racers times: whichever comes second must find the first, never both
// and never neither.
func testWaitsRace(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	type result struct {
		awaitFound, deliverFound bool
		answer                   json.RawMessage
		token                    string
		err                      error
	}
	results := make([]result, Racers)
	var wg sync.WaitGroup
	for i := range Racers {
		orderID := fmt.Sprintf("race-%d", i)
		token := fmt.Sprintf("token-%d", i)
		ans := json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))
		var mu sync.Mutex
		wg.Go(func() {
			a, found, err := s.Await(c, shop.ID, orderID, "k", token)
			mu.Lock()
			defer mu.Unlock()
			results[i].answer, results[i].awaitFound = a, found
			results[i].err = errors.Join(results[i].err, err)
		})
		wg.Go(func() {
			tok, found, err := s.Deliver(c, shop.ID, orderID, "k", ans)
			mu.Lock()
			defer mu.Unlock()
			results[i].token, results[i].deliverFound = tok, found
			results[i].err = errors.Join(results[i].err, err)
		})
	}
	wg.Wait()
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("pair %d: %v", i, r.err)
		case r.awaitFound == r.deliverFound:
			t.Errorf("pair %d: Await found %v, Deliver found %v; want exactly one to find the other", i, r.awaitFound, r.deliverFound)
		case r.awaitFound && !equalJSON(r.answer, json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))):
			t.Errorf("pair %d: Await got answer %s", i, r.answer)
		case r.deliverFound && r.token != fmt.Sprintf("token-%d", i):
			t.Errorf("pair %d: Deliver got token %q", i, r.token)
		}
	}
}

func equalJSON(a, b json.RawMessage) bool { return careDiff(a, b) == "" }

func testOptOuts(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	other := newShop(t, s)
	phone := care.ContactKey("+8613800138000")
	email := care.ContactKey("Xiaoming.Wang@example.com ")
	check := func(shopID, contact string, want bool) {
		t.Helper()
		got, err := s.OptedOut(c, shopID, contact)
		if err != nil || got != want {
			t.Errorf("OptedOut = %v, %v; want %v, nil", got, err, want)
		}
	}
	check(shop.ID, phone, false)
	if err := s.OptOut(c, shop.ID, phone, at(time.Hour)); err != nil {
		t.Fatalf("OptOut: %v", err)
	}
	check(shop.ID, phone, true)
	check(shop.ID, email, false)
	check(other.ID, phone, false)
	if err := s.OptOut(c, shop.ID, phone, at(2*time.Hour).In(cst)); err != nil {
		t.Fatalf("OptOut again: %v", err)
	}
	check(shop.ID, phone, true)
	if err := s.OptOut(c, other.ID, email, at(time.Hour)); err != nil {
		t.Fatalf("OptOut(other shop): %v", err)
	}
	check(other.ID, email, true)
	check(shop.ID, email, false)
}

// testCreateRaces creates one message id and one run key from Racers
// goroutines each: exactly one creates, and every caller gets the stored
// entity back (a retried step never sends twice).
func testCreateRaces(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	t.Run("ReserveMessage", func(t *testing.T) {
		id := uniqueID("msg")
		got := make([]care.Message, Racers)
		created := make([]bool, Racers)
		errs := make([]error, Racers)
		var wg sync.WaitGroup
		for i := range Racers {
			wg.Go(func() {
				m := sampleMessage(shop.ID, "1001", id, at(time.Duration(i)*time.Second))
				got[i], created[i], errs[i] = s.ReserveMessage(c, m)
			})
		}
		wg.Wait()
		winner := raceWinner(t, created, errs)
		list, err := s.ListOrderMessages(c, shop.ID, "1001")
		if err != nil || len(list) != 1 || !list[0].At.Equal(at(time.Duration(winner)*time.Second)) {
			t.Fatalf("ListOrderMessages = %+v, %v; want the winner's entry only", list, err)
		}
		for i := range Racers {
			if diff := careDiff(list[0], got[i]); errs[i] == nil && diff != "" {
				t.Errorf("racer %d did not get the stored entry (-stored +got):\n%s", i, diff)
			}
		}
	})
	t.Run("CreateRun", func(t *testing.T) {
		orderID := uniqueID("order")
		got := make([]care.Run, Racers)
		created := make([]bool, Racers)
		errs := make([]error, Racers)
		var wg sync.WaitGroup
		for i := range Racers {
			wg.Go(func() {
				r := sampleRun(shop.ID, orderID, care.UnpaidChase, at(0))
				r.Execution = fmt.Sprintf("exec-%d", i)
				got[i], created[i], errs[i] = s.CreateRun(c, r)
			})
		}
		wg.Wait()
		winner := raceWinner(t, created, errs)
		stored, err := s.GetRun(c, shop.ID, orderID, care.UnpaidChase, "")
		if err != nil || stored.Execution != fmt.Sprintf("exec-%d", winner) || stored.Rev != 1 {
			t.Fatalf("GetRun = execution %q rev %d, %v; want exec-%d rev 1", stored.Execution, stored.Rev, err, winner)
		}
		for i := range Racers {
			if diff := careDiff(stored, got[i]); errs[i] == nil && diff != "" {
				t.Errorf("racer %d did not get the stored run (-stored +got):\n%s", i, diff)
			}
		}
	})
}

// raceWinner checks that no racer failed and exactly one created, and
// returns that one.
func raceWinner(t *testing.T, created []bool, errs []error) int {
	t.Helper()
	winner := -1
	for i := range created {
		switch {
		case errs[i] != nil:
			t.Errorf("racer %d: %v", i, errs[i])
		case created[i] && winner >= 0:
			t.Errorf("created twice (racers %d and %d)", winner, i)
		case created[i]:
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("no racer created it")
	}
	return winner
}

// testSubjectRuns covers several runs of one workflow per order, one per
// subject (care.Run.Subject), beside the order-level run ("" subject).
func testSubjectRuns(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	const orderID, wf = "TB-7", care.Workflow("parcel_watch")
	start := at(time.Minute)
	mk := func(w care.Workflow, subject string) care.Run {
		r := sampleRun(shop.ID, orderID, w, start)
		r.Subject = subject
		r.Execution += "-" + subject
		return r
	}
	order := mk(care.UnpaidChase, "")
	subjects := []string{"SF200", "SF100", "SF1#2", "SF1"}
	for _, r := range append([]care.Run{order}, mk(wf, subjects[0]), mk(wf, subjects[1]), mk(wf, subjects[2]), mk(wf, subjects[3])) {
		if _, created, err := s.CreateRun(c, r); err != nil || !created {
			t.Fatalf("CreateRun(%s %q) = created %v, %v; want true, nil", r.Workflow, r.Subject, created, err)
		}
	}
	// One run per (shop, order, workflow, subject): a second create returns the stored run.
	again := mk(wf, "SF100")
	again.Execution = "another-execution"
	got, created, err := s.CreateRun(c, again)
	if err != nil || created || got.Execution != mk(wf, "SF100").Execution {
		t.Fatalf("CreateRun(existing subject) = %q created %v, %v; want the stored run, false, nil", got.Execution, created, err)
	}
	// Each subject's run is its own; the workflow has no order-level run.
	for _, sub := range subjects {
		got, err := s.GetRun(c, shop.ID, orderID, wf, sub)
		want := mk(wf, sub)
		want.Rev = 1
		if err != nil {
			t.Fatalf("GetRun(%q): %v", sub, err)
		}
		if diff := careDiff(want, got); diff != "" {
			t.Errorf("GetRun(%q) (-want +got):\n%s", sub, diff)
		}
	}
	_, err = s.GetRun(c, shop.ID, orderID, wf, "")
	wantErr(t, "GetRun(no order-level run)", err, care.ErrNotFound)
	_, err = s.GetRun(c, shop.ID, orderID, care.UnpaidChase, "SF100")
	wantErr(t, "GetRun(order-level workflow, a subject)", err, care.ErrNotFound)
	if got, err := s.GetRun(c, shop.ID, orderID, care.UnpaidChase, ""); err != nil || got.Execution != order.Execution {
		t.Errorf("GetRun(order-level) = %q, %v; want %q", got.Execution, err, order.Execution)
	}

	// Updating one subject's run leaves the others alone.
	upd := mk(wf, "SF100")
	upd.Rev = 1
	upd.Status, upd.Step, upd.NextAt = care.RunStopped, "", nil
	if _, err := s.UpdateRun(c, upd); err != nil {
		t.Fatalf("UpdateRun(SF100): %v", err)
	}
	upd.Rev = 2
	wrong := mk(wf, "SF9")
	wrong.Rev = 1
	_, err = s.UpdateRun(c, wrong)
	wantErr(t, "UpdateRun(unknown subject)", err, care.ErrNotFound)

	// Lists hold every run, by start, workflow, then subject.
	want := []care.Run{order}
	for _, sub := range []string{"SF1", "SF1#2", "SF100", "SF200"} {
		r := mk(wf, sub)
		r.Rev = 1
		if sub == "SF100" {
			r = upd
		}
		want = append(want, r)
	}
	want[0].Rev = 1
	wantSorted := append([]care.Run(nil), want...)
	sort.SliceStable(wantSorted, func(i, j int) bool {
		if wantSorted[i].Workflow != wantSorted[j].Workflow {
			return wantSorted[i].Workflow < wantSorted[j].Workflow
		}
		return wantSorted[i].Subject < wantSorted[j].Subject
	})
	runs, err := s.ListOrderRuns(c, shop.ID, orderID)
	if err != nil {
		t.Fatalf("ListOrderRuns: %v", err)
	}
	if diff := careDiff(wantSorted, runs); diff != "" {
		t.Errorf("ListOrderRuns (-want +got):\n%s", diff)
	}
	runs, err = s.ListRuns(c, shop.ID, at(0), at(time.Hour))
	if err != nil {
		t.Fatalf("ListRuns: %v", err)
	}
	if diff := careDiff(wantSorted, runs); diff != "" {
		t.Errorf("ListRuns (-want +got):\n%s", diff)
	}
	// Paging newest first one run at a time skips and repeats none of the
	// runs that share a start time.
	var seen []string
	cursor := ""
	for range 10 {
		page, next, err := s.ListRecentRuns(c, shop.ID, care.RunFilter{Workflow: wf}, cursor, 1)
		if err != nil {
			t.Fatalf("ListRecentRuns: %v", err)
		}
		for _, r := range page {
			seen = append(seen, r.Subject)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	sort.Strings(seen)
	if diff := cmp.Diff([]string{"SF1", "SF1#2", "SF100", "SF200"}, seen); diff != "" {
		t.Errorf("ListRecentRuns pages (-want +got):\n%s", diff)
	}
}

// testDueRuns covers scheduled runs (care.RunScheduled): listed by DueRuns
// once due, earliest first, across orders and subjects; a run leaves the
// list when it is updated out of scheduled or its start moves later.
// DueRuns spans every shop, so the test keeps only its own shop's runs.
func testDueRuns(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	created := at(time.Minute)
	mk := func(order, subject string, due time.Duration) care.Run {
		r := sampleRun(shop.ID, order, "parcel_watch", created)
		r.Subject, r.Execution = subject, r.Execution+"-"+subject
		r.Status, r.Step, r.NextAt = care.RunScheduled, "", tp(created.Add(due))
		return r
	}
	runs := []care.Run{mk("D-1", "", 3*time.Hour), mk("D-2", "SF1", time.Hour), mk("D-2", "SF2", 2*time.Hour), mk("D-3", "", 5*time.Hour)}
	running := sampleRun(shop.ID, "D-4", "parcel_watch", created) // NextAt set, but running: never due
	for _, r := range append(runs, running) {
		if _, ok, err := s.CreateRun(c, r); err != nil || !ok {
			t.Fatalf("CreateRun(%s %q) = %v, %v", r.OrderID, r.Subject, ok, err)
		}
	}
	due := func(before time.Time, limit int) []string {
		t.Helper()
		// Other tests' shops may hold scheduled runs too: ask for more, keep ours.
		got, _, err := s.DueRuns(c, before, "", limit+1000)
		if err != nil {
			t.Fatalf("DueRuns: %v", err)
		}
		var ids []string
		for _, r := range got {
			if r.ShopID == shop.ID && len(ids) < limit {
				if r.Rev == 0 {
					t.Errorf("DueRuns: run %s %q without its Rev", r.OrderID, r.Subject)
				}
				ids = append(ids, r.OrderID+"/"+r.Subject)
			}
		}
		return ids
	}
	check := func(name string, got, want []string) {
		t.Helper()
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	check("DueRuns(before the first)", due(created.Add(59*time.Minute), 10), nil)
	check("DueRuns(at the third, inclusive)", due(created.Add(3*time.Hour), 10), []string{"D-2/SF1", "D-2/SF2", "D-1/"})
	check("DueRuns(limit 2)", due(created.Add(9*time.Hour), 2), []string{"D-2/SF1", "D-2/SF2"})
	if got, _, err := s.DueRuns(c, created.Add(9*time.Hour), "", 0); err != nil || len(got) != 0 {
		t.Errorf("DueRuns(limit 0) = %d runs, %v; want none", len(got), err)
	}

	// Started: no longer listed. Moved later: listed at its new time.
	started, err := s.GetRun(c, shop.ID, "D-2", "parcel_watch", "SF1")
	if err != nil {
		t.Fatal(err)
	}
	started.Status, started.NextAt = care.RunRunning, nil
	if _, err := s.UpdateRun(c, started); err != nil {
		t.Fatal(err)
	}
	moved, err := s.GetRun(c, shop.ID, "D-1", "parcel_watch", "")
	if err != nil {
		t.Fatal(err)
	}
	moved.NextAt = tp(created.Add(6 * time.Hour))
	if _, err := s.UpdateRun(c, moved); err != nil {
		t.Fatal(err)
	}
	check("DueRuns(after a start and a move)", due(created.Add(9*time.Hour), 10), []string{"D-2/SF2", "D-3/", "D-1/"})

	// Listed as stored: a run changed since it was created is listed with
	// that change and its current Rev, so it can be written back as listed.
	changed, err := s.GetRun(c, shop.ID, "D-3", "parcel_watch", "")
	if err != nil {
		t.Fatal(err)
	}
	changed.Step = "moved_on"
	if _, err := s.UpdateRun(c, changed); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.DueRuns(c, created.Add(9*time.Hour), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if r.ShopID != shop.ID || r.OrderID != "D-3" {
			continue
		}
		if r.Step != "moved_on" {
			t.Errorf("DueRuns lists D-3 at step %q; want the stored %q", r.Step, "moved_on")
		}
		r.Status, r.NextAt = care.RunRunning, nil
		if _, err := s.UpdateRun(c, r); err != nil {
			t.Errorf("UpdateRun of the run DueRuns listed: %v; want it written (its Rev is current)", err)
		}
	}
	check("DueRuns(after starting the listed run)", due(created.Add(9*time.Hour), 10), []string{"D-2/SF2", "D-1/"})

	// In pages: five more runs, three due at one instant; pages of two list
	// every due run once, earliest first, and the last page says so.
	for i, d := range []time.Duration{4 * time.Hour, 4 * time.Hour, 4 * time.Hour, 30 * time.Minute, 8 * time.Hour} {
		if _, ok, err := s.CreateRun(c, mk(fmt.Sprintf("P-%d", i), "", d)); err != nil || !ok {
			t.Fatalf("CreateRun(P-%d) = %v, %v", i, ok, err)
		}
	}
	var paged []string
	var last time.Time
	after, pages := "", 0
	for {
		page, next, err := s.DueRuns(c, created.Add(9*time.Hour), after, 2)
		if err != nil {
			t.Fatalf("DueRuns(page %d): %v", pages+1, err)
		}
		pages++
		if len(page) > 2 || (next != "" && len(page) != 2) {
			t.Fatalf("DueRuns(page %d) = %d runs, next %q; want at most 2, and 2 unless it is the last", pages, len(page), next)
		}
		for _, r := range page {
			if r.NextAt.Before(last) {
				t.Errorf("DueRuns(page %d) lists %s due %s after one due %s", pages, r.OrderID, r.NextAt, last)
			}
			last = *r.NextAt
			if r.ShopID == shop.ID {
				paged = append(paged, r.OrderID+"/"+r.Subject)
			}
		}
		if after = next; after == "" {
			break
		}
		if pages == 1000 {
			t.Fatalf("DueRuns: still a next page after %d pages of 2 (does after move on?)", pages)
		}
	}
	slices.Sort(paged)
	check("DueRuns, every page", paged, []string{"D-1/", "D-2/SF2", "P-0/", "P-1/", "P-2/", "P-3/", "P-4/"})
	if _, _, err := s.DueRuns(c, created.Add(9*time.Hour), "not a cursor", 2); !errors.Is(err, care.ErrInvalid) {
		t.Errorf("DueRuns(after a made-up cursor) = %v, want ErrInvalid", err)
	}
}
