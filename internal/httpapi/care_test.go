package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/httpapi"
	"github.com/ordercare/ordercare/internal/metrics"
	"github.com/ordercare/ordercare/internal/queue"
	"github.com/ordercare/ordercare/workflows"
)

// fakeResumer records every resume; fail, when set, decides the answer.
type fakeResumer struct {
	mu    sync.Mutex
	fail  func(token string) error
	calls []string      // token + " " + output
	gate  chan struct{} // when set, every resume waits for it to close
}

func (f *fakeResumer) ResumeTask(_ context.Context, token string, output []byte) error {
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		if err := f.fail(token); err != nil {
			return err
		}
	}
	f.calls = append(f.calls, token+" "+string(output))
	return nil
}

func (f *fakeResumer) setFail(fn func(string) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fn
}

func (f *fakeResumer) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string{}, f.calls...)
}

// task stores an agent task as a workflow step would, due in `due` from now.
func (e *env) task(shop, id, order string, prio int, due time.Duration) {
	e.t.Helper()
	now := e.clock.Now()
	_, created, err := e.store.CreateTask(context.Background(), care.Task{ID: id, ShopID: shop, OrderID: order,
		Workflow: care.UnpaidChase, Step: "call", Reason: "large order unpaid", Script: "Call the buyer", Tag: care.TagVIP,
		Priority: prio, Outcomes: []string{"will_pay", "declined", "unreachable"},
		Order:  care.OrderSummary{OrderID: order, BuyerName: "王芳", BuyerPhone: "+8613800138000"},
		Status: care.TaskOpen, CreatedAt: now, DueAt: now.Add(due), Token: "sfn-token-" + id})
	if err != nil || !created {
		e.t.Fatalf("create task %s: %v %v", id, created, err)
	}
}

func (e *env) advance(d time.Duration) {
	e.t.Helper()
	if _, err := e.clock.Advance(d); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) tasks(token, status string) []string {
	e.t.Helper()
	r := e.do("GET", "/v1/tasks?status="+status, token, nil, nil)
	if r.Status != 200 {
		e.t.Fatalf("list %s: %d %s", status, r.Status, r.Body)
	}
	var page httpapi.TasksPage
	r.json(e.t, &page)
	ids := []string{}
	for _, v := range page.Tasks {
		ids = append(ids, v.ID)
	}
	return ids
}

// errField returns the field of an error answer.
func errField(t *testing.T, r response) string {
	t.Helper()
	var er struct{ Error struct{ Field string } }
	r.json(t, &er)
	return er.Error.Field
}

func TestTasksAPI(t *testing.T) {
	e := newEnv(t)
	shop, rival := e.createShop("tea"), e.createShop("rival")
	agent, ops := shop.Keys[care.RoleAgent], shop.Keys[care.RoleOps]
	e.task("tea", "t1", "1001", 3, 2*time.Hour)
	e.task("tea", "t2", "1002", 2, 4*time.Hour)
	e.task("tea", "t3", "1003", 5, 30*time.Minute)
	e.task("rival", "t1", "9001", 3, 2*time.Hour) // the same id in another shop

	r := e.do("GET", "/v1/tasks", agent, nil, nil)
	if r.Status != 200 || strings.Contains(string(r.Body), "sfn-token-") || strings.Contains(string(r.Body), `"token"`) {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	if diff := cmp.Diff([]string{"t2", "t1", "t3"}, e.tasks(agent, "")); diff != "" {
		t.Errorf("default (open) order (-want +got):\n%s", diff)
	}

	claim := func(token, id, who string) response {
		return e.do("POST", "/v1/tasks/"+id+"/claim", token, fmt.Appendf(nil, `{"agent":%q}`, who), nil)
	}
	// Tenancy: rival's keys see and touch only rival's t1.
	if r := claim(rival.Keys[care.RoleAgent], "t2", "mole"); r.Status != 404 {
		t.Errorf("rival claims tea's task: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", "/v1/tasks/t2/complete", rival.Keys[care.RoleOps], []byte(`{"agent":"mole","outcome":"declined"}`), nil); r.Status != 404 {
		t.Errorf("rival completes tea's task: %d %s", r.Status, r.Body)
	}
	if diff := cmp.Diff([]string{"t1"}, e.tasks(rival.Keys[care.RoleAgent], "open")); diff != "" {
		t.Errorf("rival's list (-want +got):\n%s", diff)
	}

	// Six agents race for t1: exactly one wins, the others get 409.
	codes := make([]int, 6)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = claim(agent, "t1", fmt.Sprintf("agent-%d", i)).Status
		}()
	}
	wg.Wait()
	won := 0
	for _, c := range codes {
		switch c {
		case 200:
			won++
		case 409:
		default:
			t.Errorf("race answer %d", c)
		}
	}
	if won != 1 {
		t.Fatalf("%d claims won, want 1: %v", won, codes)
	}
	if diff := cmp.Diff([]string{"t1"}, e.tasks(ops, "claimed")); diff != "" {
		t.Errorf("claimed (-want +got):\n%s", diff)
	}

	// The lease (15 min) lapses: t1 is open again and another agent takes it.
	e.advance(16 * time.Minute)
	if got := e.tasks(agent, "claimed"); len(got) != 0 {
		t.Errorf("claimed after the lease: %v", got)
	}
	if got := e.tasks(agent, "open"); !cmp.Equal(got, []string{"t2", "t1", "t3"}) {
		t.Errorf("open after the lease: %v", got)
	}
	r = claim(agent, "t1", "li")
	var v queue.View
	r.json(t, &v)
	if r.Status != 200 || v.Status != care.TaskClaimed || v.Agent != "li" || !v.LeaseUntil.Equal(e.clock.Now().Add(15*time.Minute)) {
		t.Fatalf("claim after the lease: %d %s", r.Status, r.Body)
	}
	if r := claim(agent, "t1", "wang"); r.Status != 409 {
		t.Errorf("claim of a held task: %d %s", r.Status, r.Body)
	}

	// SLA: t3 (priority 5) is due 30 min after it was raised; past that it leads the list.
	e.advance(14*time.Minute + 30*time.Second) // li's lease runs 30 s more
	var page httpapi.TasksPage
	e.do("GET", "/v1/tasks?status=open", agent, nil, nil).json(t, &page)
	if len(page.Tasks) == 0 || page.Tasks[0].ID != "t3" || !page.Tasks[0].Breached || page.Tasks[0].Priority != 1 {
		t.Fatalf("breached task not first: %+v", page.Tasks)
	}

	bad := []struct {
		name, method, path, token, body string
		want                            int
		field                           string
	}{
		{"bad status", "GET", "/v1/tasks?status=closed", agent, "", 400, "status"},
		{"no key", "GET", "/v1/tasks", "", "", 401, ""},
		{"no agent name", "POST", "/v1/tasks/t2/claim", agent, `{"agent":""}`, 400, "agent"},
		{"unknown field", "POST", "/v1/tasks/t2/claim", agent, `{"agent":"li","force":true}`, 400, "force"},
		{"unknown task", "POST", "/v1/tasks/nope/claim", agent, `{"agent":"li"}`, 404, ""},
		{"empty note", "POST", "/v1/tasks/t1/notes", agent, `{"agent":"li","text":""}`, 400, "text"},
		{"outcome not allowed", "POST", "/v1/tasks/t1/complete", agent, `{"agent":"li","outcome":"refunded"}`, 400, "outcome"},
		{"another agent's task", "POST", "/v1/tasks/t1/complete", agent, `{"agent":"wang","outcome":"declined"}`, 409, ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			r := e.do(tc.method, tc.path, tc.token, body, nil)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			if tc.field != "" {
				if f := errField(t, r); f != tc.field {
					t.Errorf("field %q, want %q", f, tc.field)
				}
			}
		})
	}

	r = e.do("POST", "/v1/tasks/t1/notes", agent, []byte(`{"agent":"li","text":"no answer, retry at 14:00"}`), nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), "retry at 14:00") {
		t.Fatalf("note: %d %s", r.Status, r.Body)
	}
	r = e.do("POST", "/v1/tasks/t1/complete", agent, []byte(`{"agent":"li","outcome":"will_pay","note":"pays tonight"}`), nil)
	r.json(t, &v)
	if r.Status != 200 || v.Status != care.TaskDone || v.Outcome != "will_pay" || v.OutcomeNote != "pays tonight" {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", "/v1/tasks/t1/complete", agent, []byte(`{"agent":"li","outcome":"will_pay"}`), nil); r.Status != 409 {
		t.Errorf("second completion: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", "/v1/tasks/t2/complete", ops, []byte(`{"agent":"lead","outcome":"declined"}`), nil); r.Status != 200 {
		t.Errorf("complete an open task: %d %s", r.Status, r.Body)
	}
	want := []string{`sfn-token-t1 {"outcome":"will_pay","agent":"li"}`, `sfn-token-t2 {"outcome":"declined","agent":"lead"}`}
	if diff := cmp.Diff(want, e.res.got()); diff != "" {
		t.Errorf("one resume per completion (-want +got):\n%s", diff)
	}
	if got := e.tasks(ops, "done"); !cmp.Equal(got, []string{"t2", "t1"}) {
		t.Errorf("done: %v", got)
	}
}

func TestCompletionWithFailingResumer(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	agent := shop.Keys[care.RoleAgent]
	e.task("tea", "t1", "1001", 3, 2*time.Hour)
	e.res.setFail(func(string) error { return fmt.Errorf("states endpoint down") })

	complete := func(outcome string) response {
		return e.do("POST", "/v1/tasks/t1/complete", agent, []byte(`{"agent":"li","outcome":"`+outcome+`"}`), nil)
	}
	if r := complete("declined"); r.Status != 503 || !bytes.Contains(r.Body, []byte("resume_pending")) {
		t.Fatalf("a failed resume: %d %s, want 503 resume_pending", r.Status, r.Body)
	}
	stored, _ := e.store.GetTask(context.Background(), "tea", "t1")
	if stored.Status != care.TaskDone || stored.Resumed {
		t.Fatalf("stored: %s resumed=%v; the completion must stand", stored.Status, stored.Resumed)
	}
	if r := complete("confirmed"); r.Status != 409 {
		t.Fatalf("another outcome: %d %s, want 409", r.Status, r.Body)
	}
	// The endpoint is back: the same completion again delivers it, once.
	e.res.setFail(nil)
	if r := complete("declined"); r.Status != 200 {
		t.Fatalf("retried completion: %d %s", r.Status, r.Body)
	}
	if r := complete("declined"); r.Status != 409 {
		t.Fatalf("completion after the resume: %d %s, want 409", r.Status, r.Body)
	}
	sweeper := &queue.Queue{Store: e.store, Clock: e.clock, Resumer: e.res}
	if n, err := sweeper.ResumePending(context.Background(), "tea"); n != 0 || err != nil {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if diff := cmp.Diff([]string{`sfn-token-t1 {"outcome":"declined","agent":"li"}`}, e.res.got()); diff != "" {
		t.Errorf("resumes (-want +got):\n%s", diff)
	}
}

func TestTemplatesAPI(t *testing.T) {
	e := newEnv(t)
	shop, rival := e.createShop("tea"), e.createShop("rival")
	ops, agent := shop.Keys[care.RoleOps], shop.Keys[care.RoleAgent]

	r := e.do("GET", "/v1/templates/unpaid_chase", agent, nil, nil)
	def, _ := workflows.DefaultTemplate(care.UnpaidChase)
	if r.Status != 200 || r.Header.Get("ETag") != `"0"` || r.Header.Get(httpapi.HeaderTemplateDefault) != "true" || !jsonEqual(t, def, r.Body) {
		t.Fatalf("default: %d %v %s", r.Status, r.Header, r.Body)
	}

	edit := func(f func(map[string]any)) []byte {
		var d map[string]any
		_ = json.Unmarshal(def, &d)
		f(d)
		b, _ := json.Marshal(d)
		return b
	}
	step := func(d map[string]any, i int) map[string]any { return d["steps"].([]any)[i].(map[string]any) }

	bad := []struct {
		name, path, token string
		body              []byte
		want              int
		field             string
	}{
		{"agent may not edit", "/v1/templates/unpaid_chase", agent, def, 403, ""},
		{"unknown workflow", "/v1/templates/review_ask", ops, def, 404, ""},
		{"malformed", "/v1/templates/unpaid_chase", ops, []byte(`{"workflow":`), 400, ""},
		{"bad step delay", "/v1/templates/unpaid_chase", ops, edit(func(d map[string]any) { step(d, 1)["after"] = "soon" }), 400, "steps[1].after"},
		{"script in an unknown variable", "/v1/templates/unpaid_chase", ops,
			edit(func(d map[string]any) { step(d, 0)["script"].(map[string]any)["en"] = "Hi {{ buyer.nickname }}" }), 400, "steps[0].script.en"},
		{"workflow mismatch", "/v1/templates/cod_confirm", ops, def, 400, ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("PUT", tc.path, tc.token, tc.body, nil)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			if tc.want == 400 && tc.field != "" {
				if f := errField(t, r); f != tc.field {
					t.Errorf("field %q, want %q: %s", f, tc.field, r.Body)
				}
			}
		})
	}

	v2 := edit(func(d map[string]any) { d["contact_budget"] = 2 })
	for i, body := range [][]byte{def, v2} {
		r := e.do("PUT", "/v1/templates/unpaid_chase", ops, body, nil)
		var tv httpapi.TemplateVersion
		r.json(t, &tv)
		if r.Status != 201 || tv.Version != i+1 || tv.Workflow != care.UnpaidChase || !tv.CreatedAt.Equal(e.clock.Now()) {
			t.Fatalf("put %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r = e.do("GET", "/v1/templates/unpaid_chase", ops, nil, nil)
	if r.Status != 200 || r.Header.Get(httpapi.HeaderTemplateVersion) != "2" || r.Header.Get(httpapi.HeaderTemplateDefault) != "" ||
		r.Header.Get(httpapi.HeaderTemplateCreatedAt) != e.clock.Now().UTC().Format(time.RFC3339) || !jsonEqual(t, v2, r.Body) {
		t.Fatalf("latest: %d %v %s", r.Status, r.Header, r.Body)
	}
	// The other shop and the other workflow still have the default.
	for _, path := range []string{"/v1/templates/cod_confirm"} {
		if r := e.do("GET", path, ops, nil, nil); r.Status != 200 || r.Header.Get(httpapi.HeaderTemplateDefault) != "true" {
			t.Errorf("%s: %d %s", path, r.Status, r.Body)
		}
	}
	if r := e.do("GET", "/v1/templates/unpaid_chase", rival.Keys[care.RoleOps], nil, nil); r.Header.Get(httpapi.HeaderTemplateDefault) != "true" {
		t.Errorf("rival sees tea's template: %s", r.Body)
	}
	if r := e.do("GET", "/v1/templates/review_ask", ops, nil, nil); r.Status != 404 {
		t.Errorf("unknown workflow: %d %s", r.Status, r.Body)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return cmp.Equal(x, y)
}

func TestLedgerRunsMetricsAPI(t *testing.T) {
	e := newEnv(t)
	shop, rival := e.createShop("tea"), e.createShop("rival")
	ops, agent := shop.Keys[care.RoleOps], shop.Keys[care.RoleAgent]
	if r := e.sendStandard(shop, "d1", event("e1", "order.created", "")); r.Status != 202 {
		t.Fatalf("order: %d %s", r.Status, r.Body)
	}
	e.advance(12 * time.Hour)
	now := e.clock.Now()
	ctx := context.Background()
	for i, m := range []struct {
		step   string
		status care.MessageStatus
		reason string
		ago    time.Duration
	}{
		{"nudge", care.MessageSent, "", 11 * time.Hour},
		{"ships_today", care.MessageSkipped, "quiet_hours", 10 * time.Hour},
		{"coupon", care.MessageSent, "", 5 * time.Hour},
		{"coupon", care.MessageFailed, "channel 503", 30 * time.Hour}, // outside the default window
	} {
		msg := care.Message{ID: fmt.Sprintf("m%d", i), ShopID: "tea", OrderID: "1001", Workflow: care.UnpaidChase, Step: m.step,
			TemplateVersion: 1, Channel: "sms", Text: "亲，王芳", Status: m.status, Reason: m.reason, At: now.Add(-m.ago)}
		if _, _, err := e.store.ReserveMessage(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	run := care.Run{ShopID: "tea", OrderID: "1001", Workflow: care.UnpaidChase, Execution: "tea-1001-unpaid_chase", TemplateVersion: 1,
		Status: care.RunSucceeded, Sent: 2, Outcome: "paid", Value: "129.90", StartedAt: now.Add(-11 * time.Hour), UpdatedAt: now}
	paidAt := now.Add(-time.Hour) // outcomes count when they are reached
	run.OutcomeAt = &paidAt
	if _, _, err := e.store.CreateRun(ctx, run); err != nil {
		t.Fatal(err)
	}

	var page httpapi.MessagesPage
	r := e.do("GET", "/v1/orders/1001/messages", agent, nil, nil)
	r.json(t, &page)
	if r.Status != 200 || len(page.Messages) != 4 || page.Messages[0].ID != "m3" || page.Next != "" {
		t.Fatalf("order messages: %d %s", r.Status, r.Body)
	}
	page = httpapi.MessagesPage{}
	r = e.do("GET", "/v1/messages?limit=2&to="+now.Format(time.RFC3339), ops, nil, nil)
	r.json(t, &page)
	if r.Status != 200 || len(page.Messages) != 2 || page.Messages[0].ID != "m0" || page.Next == "" {
		t.Fatalf("messages page 1: %d %s", r.Status, r.Body)
	}
	next := page.Next
	page = httpapi.MessagesPage{}
	e.do("GET", "/v1/messages?limit=2&to="+now.Format(time.RFC3339)+"&cursor="+next, ops, nil, nil).json(t, &page)
	if len(page.Messages) != 1 || page.Messages[0].ID != "m2" || page.Next != "" {
		t.Fatalf("messages page 2: %+v", page)
	}
	// Without from, since or to: the most recent entries, newest first,
	// whatever their age.
	var recent []string
	for cursor, pages := "", 0; pages == 0 || cursor != ""; pages++ {
		page = httpapi.MessagesPage{}
		r = e.do("GET", "/v1/messages?limit=3&cursor="+cursor, ops, nil, nil)
		r.json(t, &page)
		if r.Status != 200 || pages > 2 {
			t.Fatalf("recent messages: %d %s", r.Status, r.Body)
		}
		for _, m := range page.Messages {
			recent = append(recent, m.ID)
		}
		cursor = page.Next
	}
	if diff := cmp.Diff([]string{"m2", "m1", "m0", "m3"}, recent); diff != "" {
		t.Errorf("recent messages (-want +got):\n%s", diff)
	}
	since := now.Add(-40 * time.Hour).Format(time.RFC3339)
	page = httpapi.MessagesPage{}
	e.do("GET", "/v1/messages?since="+since, ops, nil, nil).json(t, &page)
	if len(page.Messages) != 4 {
		t.Errorf("since: %+v", page)
	}

	var runs httpapi.RunsPage
	r = e.do("GET", "/v1/runs?order=1001", agent, nil, nil)
	r.json(t, &runs)
	if r.Status != 200 || len(runs.Runs) != 1 || runs.Runs[0].Outcome != "paid" || runs.Runs[0].Execution != run.Execution {
		t.Fatalf("runs: %d %s", r.Status, r.Body)
	}

	var rep metrics.Report
	r = e.do("GET", "/v1/metrics", ops, nil, nil)
	r.json(t, &rep)
	if r.Status != 200 || !rep.To.Equal(now) || !rep.From.Equal(now.Add(-24*time.Hour)) || len(rep.Workflows) != len(workflows.All().Names()) {
		t.Fatalf("metrics: %d %s", r.Status, r.Body)
	}
	if w := rep.Workflows[0]; w.Sent != 2 || w.Failed != 0 || w.Skipped["quiet_hours"] != 1 || w.OrdersChased != 1 || w.GMVRecovered != "129.90" {
		t.Errorf("unpaid_chase figures: %+v", w)
	}
	r = e.do("GET", "/v1/metrics?workflow=cod_confirm&from="+since, ops, nil, nil)
	rep = metrics.Report{}
	r.json(t, &rep)
	if r.Status != 200 || len(rep.Workflows) != 1 || rep.Workflows[0].Workflow != care.CODConfirm {
		t.Errorf("metrics of one workflow: %d %s", r.Status, r.Body)
	}

	future := now.Add(time.Hour).Format(time.RFC3339)
	bad := []struct {
		name, path, token string
		want              int
		field             string
	}{
		{"another shop's order messages", "/v1/orders/1001/messages", rival.Keys[care.RoleAgent], 404, ""},
		{"unknown order messages", "/v1/orders/404/messages", agent, 404, ""},
		{"agent may not read the ledger", "/v1/messages", agent, 403, ""},
		{"limit 0", "/v1/messages?limit=0", ops, 400, "limit"},
		{"limit too large", "/v1/messages?limit=1001", ops, 400, "limit"},
		{"bad from", "/v1/messages?from=yesterday", ops, 400, "from"},
		{"bad since", "/v1/messages?since=2026-13-01T00:00:00Z", ops, 400, "since"},
		{"from and since", "/v1/messages?from=" + since + "&since=" + since, ops, 400, "since"},
		{"bad cursor", "/v1/messages?cursor=zzz", ops, 400, "cursor"},
		{"runs of an unknown workflow", "/v1/runs?workflow=nope", ops, 400, "workflow"},
		{"runs of an unknown status", "/v1/runs?status=done", ops, 400, "status"},
		{"runs bad cursor", "/v1/runs?cursor=zzz", ops, 400, "cursor"},
		{"another shop's runs", "/v1/runs?order=1001", rival.Keys[care.RoleOps], 200, ""},
		{"agent may not read metrics", "/v1/metrics", agent, 403, ""},
		{"metrics bad to", "/v1/metrics?to=now", ops, 400, "to"},
		{"metrics bad from", "/v1/metrics?from=2026-11-11", ops, 400, "from"},
		{"metrics from after the default to", "/v1/metrics?from=" + future, ops, 400, "from"},
		{"metrics unknown workflow", "/v1/metrics?workflow=review_ask", ops, 400, "workflow"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", tc.path, tc.token, nil, nil)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			if tc.field != "" {
				if f := errField(t, r); f != tc.field {
					t.Errorf("field %q, want %q: %s", f, tc.field, r.Body)
				}
			}
			if tc.want == 200 && !strings.Contains(string(r.Body), `"runs":[]`) {
				t.Errorf("another shop's runs leak: %s", r.Body)
			}
		})
	}
}

func TestWebhookChannel(t *testing.T) {
	e := newEnv(t)
	shop, rival := e.createShop("tea"), e.createShop("rival")
	ops := shop.Keys[care.RoleOps]
	secret := httpapi.NewWebhookSecret()
	body := func(url, secret string) []byte { return fmt.Appendf(nil, `{"url":%q,"secret":%q}`, url, secret) }

	tests := []struct {
		name, path, token string
		body              []byte
		want              int
		field             string
	}{
		{"https", "/v1/shops/tea/channels/webhook", ops, body("https://hooks.tea.example/care", secret), 200, ""},
		{"http to localhost", "/v1/shops/tea/channels/webhook", ops, body("http://localhost:8080/care", secret), 200, ""},
		{"http to 127.0.0.1", "/v1/shops/tea/channels/webhook", ops, body("http://127.0.0.1:9/care", secret), 200, ""},
		{"plain http", "/v1/shops/tea/channels/webhook", ops, body("http://hooks.tea.example/care", secret), 400, "url"},
		{"not a URL", "/v1/shops/tea/channels/webhook", ops, body("hooks.tea.example", secret), 400, "url"},
		{"credentials in the URL", "/v1/shops/tea/channels/webhook", ops, body("https://u:p@hooks.tea.example/", secret), 400, "url"},
		{"secret without prefix", "/v1/shops/tea/channels/webhook", ops, body("https://hooks.tea.example/", strings.TrimPrefix(secret, "whsec_")), 400, "secret"},
		{"secret too short", "/v1/shops/tea/channels/webhook", ops, body("https://hooks.tea.example/", "whsec_AAAAAAAA"), 400, "secret"},
		{"unknown field", "/v1/shops/tea/channels/webhook", ops, []byte(`{"url":"https://x.example/","secret":"x","events":[]}`), 400, "events"},
		{"agent", "/v1/shops/tea/channels/webhook", shop.Keys[care.RoleAgent], body("https://hooks.tea.example/care", secret), 403, ""},
		{"another shop", "/v1/shops/tea/channels/webhook", rival.Keys[care.RoleOps], body("https://hooks.tea.example/care", secret), 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("PUT", tc.path, tc.token, tc.body, nil)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			if strings.Contains(string(r.Body), strings.TrimPrefix(secret, "whsec_")) {
				t.Errorf("the secret was echoed: %s", r.Body)
			}
			if tc.field != "" {
				if f := errField(t, r); f != tc.field {
					t.Errorf("field %q, want %q: %s", f, tc.field, r.Body)
				}
			}
		})
	}
	src, err := e.store.GetSource(context.Background(), "tea", care.ChannelWebhook)
	if err != nil || src.URL != "http://127.0.0.1:9/care" || src.Secret != secret {
		t.Fatalf("stored channel: %v %v", src.URL, err)
	}
	if _, err := e.store.GetSource(context.Background(), "rival", care.ChannelWebhook); err == nil {
		t.Errorf("rival got a channel")
	}
	// The channel's credentials are no webhook source, even correctly signed.
	ev := event("e1", "order.created", "")
	if r := e.do("POST", "/webhooks/tea/"+care.ChannelWebhook, "", ev, signStandard(secret, "d1", e.clock.Now(), ev)); r.Status != 404 {
		t.Errorf("webhook to channel.webhook: %d %s", r.Status, r.Body)
	}
	if r := e.do("PUT", "/v1/shops/tea/sources/"+care.ChannelWebhook, ops, []byte(`{"secret":"12345678"}`), nil); r.Status != 404 {
		t.Errorf("channel.webhook set as a source: %d %s", r.Status, r.Body)
	}
}

// TestConcurrentCompletions: the same completion sent N times at once is
// answered 200 once and 409 for every other, and the workflow resumes once.
func TestConcurrentCompletions(t *testing.T) {
	const n = 10
	for _, same := range []bool{true, false} {
		t.Run(map[bool]string{true: "same agent and outcome", false: "different agents"}[same], func(t *testing.T) {
			e := newEnv(t)
			shop := e.createShop("tea")
			agent := shop.Keys[care.RoleAgent]
			e.task("tea", "t1", "1001", 3, 2*time.Hour)
			// The winner's resume is held until the others have their answer,
			// so they all arrive while the outcome is still on its way.
			gate := make(chan struct{})
			e.res.mu.Lock()
			e.res.gate = gate
			e.res.mu.Unlock()
			answered := make(chan int, n)
			codes := make([]int, n)
			var wg sync.WaitGroup
			for i := range n {
				who := "li"
				if !same {
					who = fmt.Sprintf("agent-%d", i)
				}
				wg.Go(func() {
					codes[i] = e.do("POST", "/v1/tasks/t1/complete", agent, fmt.Appendf(nil, `{"agent":%q,"outcome":"declined"}`, who), nil).Status
					answered <- codes[i]
				})
			}
			// n-1 answers come back while the winner's resume is held (a
			// guard of 10 s real time frees it if the others are stuck too).
			guard := time.After(10 * time.Second)
		wait:
			for range n - 1 {
				select {
				case <-answered:
				case <-guard:
					t.Errorf("the other completions did not answer while the first was resuming")
					break wait
				}
			}
			close(gate)
			wg.Wait()
			count := map[int]int{}
			for _, c := range codes {
				count[c]++
			}
			if diff := cmp.Diff(map[int]int{200: 1, 409: n - 1}, count); diff != "" {
				t.Errorf("answers by status (-want +got):\n%s", diff)
			}
			if got := e.res.got(); len(got) != 1 {
				t.Errorf("resumed %d times: %q", len(got), got)
			}
		})
	}
}
