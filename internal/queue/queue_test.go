package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/infra/caretest"
	"github.com/ordercare/ordercare/infra/sqlitestore"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/queue"
)

var t0 = time.Date(2026, 11, 11, 8, 0, 0, 0, time.UTC)

// resumer records every resume; fail, when set, decides the answer.
type resumer struct {
	mu    sync.Mutex
	calls []resumed
	fail  func(token string) error
}

type resumed struct {
	Token  string
	Output string
}

func (r *resumer) ResumeTask(_ context.Context, token string, output []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(token); err != nil {
			return err
		}
	}
	r.calls = append(r.calls, resumed{token, string(output)})
	return nil
}

func (r *resumer) got() []resumed {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]resumed(nil), r.calls...)
}

type env struct {
	store *sqlitestore.DB
	clock *clock.Virtual
	res   *resumer
	q     *queue.Queue
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st := caretest.Store(t, nil)
	for _, id := range []string{"tea", "rival"} {
		caretest.Shop(t, st, care.Shop{ID: id, CreatedAt: t0})
	}
	vc := clock.NewVirtual(t0, nil)
	res := &resumer{}
	return &env{store: st, clock: vc, res: res, q: &queue.Queue{Store: st, Clock: vc, Resumer: res}}
}

// task stores a task of shop tea, due in `due` from t0.
func (e *env) task(t *testing.T, id, order string, wf care.Workflow, prio int, due time.Duration) care.Task {
	t.Helper()
	tk := care.Task{ID: id, ShopID: "tea", OrderID: order, Workflow: wf, Step: "call", Reason: "unpaid 30 min",
		Script: "Call the buyer", Priority: prio, Outcomes: []string{"paid", "declined", "unreachable"},
		Order: care.OrderSummary{OrderID: order, BuyerPhone: "+8613800138000"}, Status: care.TaskOpen,
		CreatedAt: t0, DueAt: t0.Add(due), Token: "token-" + id}
	got, created, err := e.store.CreateTask(context.Background(), tk)
	if err != nil || !created {
		t.Fatalf("create task %s: %v %v", id, created, err)
	}
	return got
}

func (e *env) advance(t *testing.T, d time.Duration) {
	t.Helper()
	if _, err := e.clock.Advance(d); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestEffective(t *testing.T) {
	lease := t0.Add(15 * time.Minute)
	base := care.Task{ID: "t", Priority: 3, Status: care.TaskClaimed, Agent: "li", LeaseUntil: &lease,
		ClaimedAt: ptr(t0), DueAt: t0.Add(time.Hour)}
	tests := []struct {
		name         string
		status       care.TaskStatus
		now          time.Time
		wantStatus   care.TaskStatus
		wantAgent    string
		wantPriority int
		wantBreached bool
		doneAt       *time.Time
	}{
		{"claimed within lease", care.TaskClaimed, t0.Add(time.Minute), care.TaskClaimed, "li", 3, false, nil},
		{"lease ends exactly now", care.TaskClaimed, lease, care.TaskOpen, "", 3, false, nil},
		{"lease lapsed", care.TaskClaimed, t0.Add(20 * time.Minute), care.TaskOpen, "", 3, false, nil},
		{"open at due time", care.TaskOpen, t0.Add(time.Hour), care.TaskOpen, "li", 3, false, nil},
		{"open past due", care.TaskOpen, t0.Add(time.Hour + time.Second), care.TaskOpen, "li", 1, true, nil},
		{"lapsed and past due", care.TaskClaimed, t0.Add(2 * time.Hour), care.TaskOpen, "", 1, true, nil},
		{"done in time, read past due, is not breached", care.TaskDone, t0.Add(2 * time.Hour), care.TaskDone, "li", 3, false, ptr(t0.Add(time.Hour))},
		{"cancelled as stored", care.TaskCancelled, t0.Add(2 * time.Hour), care.TaskCancelled, "li", 3, false, ptr(t0.Add(30 * time.Minute))},
		{"done past due keeps its breach", care.TaskDone, t0.Add(2 * time.Hour), care.TaskDone, "li", 3, true, ptr(t0.Add(90 * time.Minute))},
		{"cancelled past due keeps its breach", care.TaskCancelled, t0.Add(3 * time.Hour), care.TaskCancelled, "li", 3, true, ptr(t0.Add(2 * time.Hour))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := base
			in.Status, in.DoneAt = tc.status, tc.doneAt
			v := queue.Effective(in, tc.now)
			if v.Status != tc.wantStatus || v.Agent != tc.wantAgent || v.Priority != tc.wantPriority || v.Breached != tc.wantBreached {
				t.Errorf("got status %s agent %q priority %d breached %v", v.Status, v.Agent, v.Priority, v.Breached)
			}
			if v.Status == care.TaskOpen && (v.LeaseUntil != nil || v.ClaimedAt != nil) && tc.status == care.TaskClaimed {
				t.Errorf("a lapsed claim keeps its lease: %+v", v.Task)
			}
		})
	}
}

func ids(vs []queue.View) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}

func TestListOrderAndLeaseExpiry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.task(t, "a", "1001", care.UnpaidChase, 3, 2*time.Hour)
	e.task(t, "b", "1002", care.UnpaidChase, 2, 3*time.Hour)
	e.task(t, "c", "1003", care.UnpaidChase, 3, time.Hour)
	e.task(t, "d", "1004", care.CODConfirm, 3, time.Hour) // same priority and due as c: by id
	e.task(t, "e", "1005", care.CODConfirm, 5, 30*time.Minute)

	list := func(s care.TaskStatus) []string {
		t.Helper()
		vs, err := e.q.List(ctx, "tea", s)
		if err != nil {
			t.Fatal(err)
		}
		return ids(vs)
	}
	if diff := cmp.Diff([]string{"b", "c", "d", "a", "e"}, list(care.TaskOpen)); diff != "" {
		t.Errorf("open order (-want +got):\n%s", diff)
	}
	if _, err := e.q.Claim(ctx, "tea", "b", "li"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"b"}, list(care.TaskClaimed)); diff != "" {
		t.Errorf("claimed (-want +got):\n%s", diff)
	}
	// 40 minutes on: e (priority 5, due in 30 min) is breached and jumps to the front.
	e.advance(t, 40*time.Minute)
	vs, _ := e.q.List(ctx, "tea", care.TaskOpen)
	if diff := cmp.Diff([]string{"e", "b", "c", "d", "a"}, ids(vs)); diff != "" {
		t.Errorf("after the SLA breach (-want +got):\n%s", diff)
	}
	if !vs[0].Breached || vs[0].Priority != 1 || vs[1].Breached || vs[1].Agent != "" {
		t.Errorf("breach flags: %+v / %+v", vs[0], vs[1])
	}
	// The lease (15 min) of b has lapsed: b is open again, with no holder.
	if got := list(care.TaskClaimed); len(got) != 0 {
		t.Errorf("a lapsed claim is still listed as claimed: %v", got)
	}
	e.advance(t, 30*time.Minute) // 70 min: c and d breached too (due 60 min)
	if diff := cmp.Diff([]string{"e", "c", "d", "b", "a"}, list(care.TaskOpen)); diff != "" {
		t.Errorf("after more breaches (-want +got):\n%s", diff)
	}
	if _, err := e.q.List(ctx, "tea", "closed"); !errors.Is(err, care.ErrInvalid) {
		t.Errorf("bad status: %v", err)
	}
	if got := list(care.TaskDone); len(got) != 0 {
		t.Errorf("done: %v", got)
	}
	if vs, _ := e.q.List(ctx, "rival", care.TaskOpen); len(vs) != 0 {
		t.Errorf("another shop sees tea's tasks: %v", ids(vs))
	}
}

func TestClaim(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.task(t, "a", "1001", care.UnpaidChase, 3, 2*time.Hour)

	v, err := e.q.Claim(ctx, "tea", "a", "li")
	if err != nil || v.Status != care.TaskClaimed || v.Agent != "li" || !v.LeaseUntil.Equal(t0.Add(queue.DefaultLease)) || !v.ClaimedAt.Equal(t0) {
		t.Fatalf("claim: %+v %v", v.Task, err)
	}
	e.advance(t, 10*time.Minute)
	if v, err = e.q.Claim(ctx, "tea", "a", "li"); err != nil || !v.LeaseUntil.Equal(t0.Add(25*time.Minute)) || !v.ClaimedAt.Equal(t0) {
		t.Fatalf("re-claim extends the lease and keeps ClaimedAt: %+v %v", v.Task, err)
	}
	if _, err := e.q.Claim(ctx, "tea", "a", "wang"); !errors.Is(err, care.ErrConflict) {
		t.Fatalf("another agent within the lease: %v", err)
	}
	e.advance(t, 15*time.Minute) // exactly at the lease end
	if v, err = e.q.Claim(ctx, "tea", "a", "wang"); err != nil || v.Agent != "wang" || !v.ClaimedAt.Equal(t0.Add(25*time.Minute)) {
		t.Fatalf("claim after the lease lapsed: %+v %v", v.Task, err)
	}
	for _, tc := range []struct {
		name, shop, id, agent string
		want                  error
	}{
		{"no agent", "tea", "a", "  ", care.ErrInvalid},
		{"agent too long", "tea", "a", string(make([]byte, 65)), care.ErrInvalid},
		{"unknown task", "tea", "zz", "li", care.ErrNotFound},
		{"another shop's task", "rival", "a", "li", care.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.q.Claim(ctx, tc.shop, tc.id, tc.agent); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := e.q.Complete(ctx, "tea", "a", "wang", "paid", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.q.Claim(ctx, "tea", "a", "wang"); !errors.Is(err, care.ErrConflict) {
		t.Errorf("claiming a done task: %v", err)
	}
}

func TestClaimRace(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.task(t, "a", "1001", care.UnpaidChase, 3, 2*time.Hour)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.q.Claim(ctx, "tea", "a", fmt.Sprintf("agent-%d", i))
		}()
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, care.ErrConflict):
			t.Errorf("agent %d: %v", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d agents won the claim, want exactly 1: %v", won, errs)
	}
}

func TestComplete(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.task(t, "a", "1001", care.UnpaidChase, 3, 2*time.Hour)
	e.task(t, "b", "1002", care.UnpaidChase, 3, 2*time.Hour)
	if _, err := e.q.Claim(ctx, "tea", "a", "li"); err != nil {
		t.Fatal(err)
	}
	e.advance(t, 5*time.Minute)

	var fe *care.FieldError
	if _, err := e.q.Complete(ctx, "tea", "a", "li", "refunded", ""); !errors.As(err, &fe) || fe.Field != "outcome" {
		t.Fatalf("outcome not allowed: %v", err)
	}
	if _, err := e.q.Complete(ctx, "tea", "a", "wang", "paid", ""); !errors.Is(err, care.ErrConflict) {
		t.Fatalf("completing another agent's claim: %v", err)
	}
	v, err := e.q.Complete(ctx, "tea", "a", "li", "paid", "buyer paid on the phone")
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != care.TaskDone || v.Outcome != "paid" || v.OutcomeNote != "buyer paid on the phone" || !v.DoneAt.Equal(t0.Add(5*time.Minute)) ||
		v.LeaseUntil != nil || !v.ClaimedAt.Equal(t0) || !v.Resumed {
		t.Errorf("completed: %+v", v.Task)
	}
	if _, err := e.q.Complete(ctx, "tea", "a", "li", "paid", ""); !errors.Is(err, care.ErrConflict) {
		t.Errorf("second completion: %v", err)
	}
	// An open task may be completed without a claim; handling starts then.
	e.advance(t, time.Minute)
	if v, err := e.q.Complete(ctx, "tea", "b", "wang", "unreachable", ""); err != nil || !v.ClaimedAt.Equal(t0.Add(6*time.Minute)) {
		t.Errorf("complete an open task: %+v %v", v.Task, err)
	}
	want := []resumed{{"token-a", `{"outcome":"paid","agent":"li"}`}, {"token-b", `{"outcome":"unreachable","agent":"wang"}`}}
	if diff := cmp.Diff(want, e.res.got()); diff != "" {
		t.Errorf("resumes (-want +got):\n%s", diff)
	}
	stored, _ := e.store.GetTask(ctx, "tea", "a")
	if !stored.Resumed {
		t.Errorf("Resumed not stored")
	}
	if n, err := e.q.ResumePending(ctx, "tea"); n != 0 || err != nil {
		t.Errorf("nothing was pending: %d %v", n, err)
	}
	if len(e.res.got()) != 2 {
		t.Errorf("ResumePending resumed a resumed task again")
	}
}

func TestResumePendingAfterFailure(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.task(t, "a", "1001", care.UnpaidChase, 3, 2*time.Hour)
	e.task(t, "b", "1002", care.UnpaidChase, 3, 2*time.Hour)
	down := errors.New("states endpoint unreachable")
	e.res.fail = func(string) error { return down }

	var re *queue.ResumeError
	for _, id := range []string{"a", "b"} {
		v, err := e.q.Complete(ctx, "tea", id, "li", "paid", "")
		if !errors.As(err, &re) || v.Status != care.TaskDone || v.Resumed {
			t.Fatalf("a failed resume must not undo the completion, and must say so: %+v %v", v.Task, err)
		}
	}
	if _, err := e.q.Complete(ctx, "tea", "a", "li", "paid", ""); !errors.As(err, &re) {
		t.Fatalf("the same completion again retries the resume: %v", err)
	}
	if _, err := e.q.Complete(ctx, "tea", "a", "li", "declined", ""); !errors.Is(err, care.ErrConflict) {
		t.Fatalf("another outcome after the completion: %v", err)
	}
	// Still down for a, back for b.
	e.res.fail = func(tok string) error {
		if tok == "token-a" {
			return down
		}
		return nil
	}
	n, err := e.q.ResumePending(ctx, "tea")
	if n != 1 || !errors.Is(err, down) {
		t.Fatalf("partial sweep: %d %v", n, err)
	}
	e.res.fail = nil
	if n, err := e.q.ResumePending(ctx, "tea"); n != 1 || err != nil {
		t.Fatalf("second sweep: %d %v", n, err)
	}
	if n, err := e.q.ResumePending(ctx, "tea"); n != 0 || err != nil {
		t.Fatalf("third sweep: %d %v", n, err)
	}
	want := []resumed{{"token-b", `{"outcome":"paid","agent":"li"}`}, {"token-a", `{"outcome":"paid","agent":"li"}`}}
	if diff := cmp.Diff(want, e.res.got()); diff != "" {
		t.Errorf("resumes (-want +got):\n%s", diff)
	}
	for _, c := range e.res.got() {
		var out map[string]string
		if err := json.Unmarshal([]byte(c.Output), &out); err != nil || len(out) != 2 {
			t.Errorf("output carries more than outcome and agent: %s", c.Output)
		}
	}
}

func TestNilResumer(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.task(t, "a", "1001", care.UnpaidChase, 3, 2*time.Hour)
	q := &queue.Queue{Store: e.store, Clock: e.clock}
	if v, err := q.Complete(ctx, "tea", "a", "li", "paid", ""); err != nil || v.Resumed {
		t.Fatalf("complete without a resumer: %+v %v", v.Task, err)
	}
	if n, err := q.ResumePending(ctx, "tea"); n != 0 || err != nil {
		t.Fatalf("sweep without a resumer: %d %v", n, err)
	}
	if n, err := e.q.ResumePending(ctx, "tea"); n != 1 || err != nil {
		t.Fatalf("sweep with a resumer: %d %v", n, err)
	}
}

func TestNotesAndCancel(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.task(t, "a", "1001", care.UnpaidChase, 3, 2*time.Hour)
	e.task(t, "b", "1001", care.UnpaidChase, 3, 2*time.Hour)
	e.task(t, "c", "1001", care.CODConfirm, 3, 2*time.Hour)
	e.task(t, "d", "1001", care.UnpaidChase, 3, 2*time.Hour)
	e.task(t, "e", "1002", care.UnpaidChase, 3, 2*time.Hour)

	v, err := e.q.AddNote(ctx, "tea", "a", "li", "no answer, try after 14:00")
	if err != nil || len(v.Notes) != 1 || v.Notes[0] != (care.Note{Agent: "li", Text: "no answer, try after 14:00", At: t0}) {
		t.Fatalf("note: %+v %v", v.Notes, err)
	}
	for _, tc := range []struct{ name, text string }{{"empty", " "}, {"too long", string(make([]rune, 2001))}} {
		var fe *care.FieldError
		if _, err := e.q.AddNote(ctx, "tea", "a", "li", tc.text); !errors.As(err, &fe) || fe.Field != "text" {
			t.Errorf("%s note: %v", tc.name, err)
		}
	}
	if _, err := e.q.Claim(ctx, "tea", "b", "li"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.q.Complete(ctx, "tea", "d", "li", "declined", ""); err != nil {
		t.Fatal(err)
	}
	e.advance(t, time.Minute)
	n, err := e.q.Cancel(ctx, "tea", "1001", care.UnpaidChase, "order paid")
	if err != nil || n != 2 {
		t.Fatalf("cancel: %d %v", n, err)
	}
	for id, want := range map[string]care.TaskStatus{"a": care.TaskCancelled, "b": care.TaskCancelled, "c": care.TaskOpen, "d": care.TaskDone, "e": care.TaskOpen} {
		got, _ := e.store.GetTask(ctx, "tea", id)
		if got.Status != want {
			t.Errorf("task %s: %s, want %s", id, got.Status, want)
		}
		if want == care.TaskCancelled && (got.OutcomeNote != "order paid" || got.Agent != "" || got.LeaseUntil != nil) {
			t.Errorf("cancelled task %s: %+v", id, got)
		}
	}
	if n, err := e.q.Cancel(ctx, "tea", "1001", care.UnpaidChase, "order paid"); n != 0 || err != nil {
		t.Errorf("cancel again: %d %v", n, err)
	}
	if _, err := e.q.AddNote(ctx, "tea", "a", "li", "late"); !errors.Is(err, care.ErrConflict) {
		t.Errorf("note on a cancelled task: %v", err)
	}
	if _, err := e.q.AddNote(ctx, "tea", "d", "li", "buyer will re-order"); err != nil {
		t.Errorf("note on a done task: %v", err)
	}
	for _, id := range []string{"a", "b"} {
		if _, err := e.q.Complete(ctx, "tea", id, "li", "paid", ""); !errors.Is(err, care.ErrConflict) {
			t.Errorf("complete cancelled %s: %v", id, err)
		}
	}
	if got := e.res.got(); len(got) != 1 {
		t.Errorf("resumes: %v", got)
	}
}

// TestCompletionWhoseResumerDied: a completion stored but never resumed
// (its process died mid-resume) refuses the same completion while the
// resume may still be on its way, then lets it retry after ResumeHold.
func TestCompletionWhoseResumerDied(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.task(t, "t1", "1001", care.UnpaidChase, 3, 2*time.Hour)
	// The first process stored the completion and died before resuming.
	tk, _ := e.store.GetTask(ctx, "tea", "t1")
	hold := e.clock.Now().Add(queue.ResumeHold)
	tk.Status, tk.Agent, tk.Outcome, tk.DoneAt, tk.ResumingUntil = care.TaskDone, "li", "paid", ptr(e.clock.Now()), &hold
	if _, err := e.store.UpdateTask(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if _, err := e.q.Complete(ctx, "tea", "t1", "li", "paid", ""); !errors.Is(err, care.ErrConflict) {
		t.Fatalf("a repeat while the resume may be on its way: %v, want ErrConflict", err)
	}
	if n, err := e.q.ResumePending(ctx, "tea"); n != 0 || err != nil {
		t.Fatalf("sweep while the resume may be on its way: %d %v, want 0", n, err)
	}
	e.advance(t, queue.ResumeHold)
	if _, err := e.q.Complete(ctx, "tea", "t1", "li", "paid", ""); err != nil {
		t.Fatalf("the same completion after the hold: %v", err)
	}
	if _, err := e.q.Complete(ctx, "tea", "t1", "li", "paid", ""); !errors.Is(err, care.ErrConflict) {
		t.Fatalf("after the resume: %v, want ErrConflict", err)
	}
	want := []resumed{{"token-t1", `{"outcome":"paid","agent":"li"}`}}
	if diff := cmp.Diff(want, e.res.got()); diff != "" {
		t.Errorf("resumes (-want +got):\n%s", diff)
	}
	got, _ := e.store.GetTask(ctx, "tea", "t1")
	if !got.Resumed || got.ResumingUntil != nil {
		t.Errorf("stored resumed=%v resuming_until=%v, want resumed and no hold", got.Resumed, got.ResumingUntil)
	}
}
