package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ordercare/ordercare/infra/caretest"
	"github.com/ordercare/ordercare/infra/localruntime"
	"github.com/ordercare/ordercare/infra/sqlitestore"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/console"
	"github.com/ordercare/ordercare/internal/httpapi"
	"github.com/ordercare/ordercare/internal/source"
	"github.com/ordercare/ordercare/workflows"
)

var screenshots = flag.String("screenshots", "", "directory the browser test writes its screenshots to (make screenshots: docs); empty: a temporary directory")

// chromiumPath finds Debian's chromium (make test installs it); "" when absent.
func chromiumPath() string {
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// site is the local runtime after the demo day, served over HTTP.
type site struct {
	t    *testing.T
	rt   *localruntime.Runtime
	url  string
	demo localruntime.DemoShop
}

func (s *site) call(method, path, token string, body any) (int, []byte) {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.url+path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func (s *site) mustCall(method, path, token string, body, out any) {
	s.t.Helper()
	st, b := s.call(method, path, token, body)
	if st/100 != 2 {
		s.t.Fatalf("%s %s: %d %s", method, path, st, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// webhook delivers a signed standard event to the demo shop at the server's time.
func (s *site) webhook(id string, ev map[string]any) {
	s.t.Helper()
	body, _ := json.Marshal(ev)
	key, err := source.StandardKey(s.demo.WebhookSecret)
	if err != nil {
		s.t.Fatal(err)
	}
	now := s.rt.Clock.Now()
	req, _ := http.NewRequest("POST", s.url+s.demo.Webhooks["standard"], bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", fmt.Sprint(now.Unix()))
	req.Header.Set("webhook-signature", source.StandardSign(key, id, now, body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		s.t.Fatalf("webhook %s: %d", id, res.StatusCode)
	}
}

func (s *site) advance(d string) {
	s.t.Helper()
	s.mustCall("POST", "/v1/dev/clock", s.rt.AdminToken, map[string]string{"advance": d}, nil)
}

// TestBrowser drives the console in real Chromium against the local runtime
// after the demo day: agents sign in, see a new task appear, claim it (a
// second agent is refused), complete it and the workflow resumes; ops edit a
// template (an error at its field, fixed, previewed in both locales, saved,
// compared, rolled back); metrics show the demo day's figures; a session of
// one shop cannot read another's. It writes the README's screenshots.
func TestBrowser(t *testing.T) {
	chromium := chromiumPath()
	if chromium == "" {
		t.Skip("skipped: no chromium on PATH (make test installs Debian's chromium with apt-get; set CHROMIUM to another binary)")
	}
	if testing.Short() {
		t.Skip("skipped in -short mode: starts Chromium")
	}
	shots := *screenshots
	if shots == "" {
		shots = t.TempDir()
	}
	dir := t.TempDir()
	// 21:30 in Shanghai: the demo day runs the next day from 09:00 to 22:00.
	start := time.Date(2026, 12, 6, 13, 30, 0, 0, time.UTC)
	rt, err := localruntime.Open(t.Context(), localruntime.Options{DataDir: dir, Clock: localruntime.ClockVirtual, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	d, _, err := rt.EnsureDemoShop(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.ReplayDemoDay(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rt.API)
	defer srv.Close()
	s := &site{t: t, rt: rt, url: srv.URL, demo: d}
	ops := d.Keys["ops"]
	var li, tom struct{ Key string }
	s.mustCall("POST", "/v1/agents", ops, map[string]string{"id": "li-na", "name": "李娜"}, &li)
	s.mustCall("POST", "/v1/agents", ops, map[string]string{"id": "tom", "name": "Tom"}, &tom)

	alloc, cancel := chromedp.NewExecAllocator(t.Context(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 900),
		chromedp.Flag("accept-lang", "zh-CN,zh,en"),
		// The browser lives in neither the shop's zone nor UTC: times must follow the shop.
		chromedp.Env("TZ=America/Los_Angeles"))...)
	defer cancel()
	browser, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(browser); err != nil {
		t.Skipf("skipped: chromium at %s does not start: %v", chromium, err)
	}
	cur := t // the running subtest: the helpers below fail it, not the parent
	// person opens a tab in its own browser context (its own cookies).
	person := func() context.Context {
		ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		cur.Cleanup(cancel)
		ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
		cur.Cleanup(cancel)
		return ctx
	}
	do := func(ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
		cur.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('view') ? document.getElementById('view').innerText : ''`))
			cur.Fatalf("%s: %v\npage: %s", what, err, html)
		}
	}
	wait := func(ctx context.Context, what, js string) {
		cur.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
			html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('view') ? document.getElementById('view').innerText : ''`))
			cur.Fatalf("%s: %v\npage: %s", what, err, html)
		}
	}
	eval := func(ctx context.Context, js string) string {
		cur.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			cur.Fatalf("evaluate %s: %v", js, err)
		}
		return v
	}
	shot := func(ctx context.Context, name string) {
		cur.Helper()
		b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			cur.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), b, 0o644); err != nil {
			cur.Fatal(err)
		}
	}
	signInAt := func(ctx context.Context, base, key, agent, landing string) {
		cur.Helper()
		steps := []chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/"), chromedp.WaitVisible(chromedp.ID("key")),
			chromedp.SendKeys(chromedp.ID("key"), key)}
		if agent != "" {
			steps = append(steps, chromedp.SendKeys(chromedp.ID("agent"), agent))
		}
		do(ctx, "sign in", append(steps, chromedp.Click(chromedp.ID("signin")))...)
		wait(ctx, "landing on "+landing, `document.body.dataset.ready === '`+landing+`'`)
	}
	signIn := func(ctx context.Context, key, agent, landing string) {
		cur.Helper()
		signInAt(ctx, srv.URL, key, agent, landing)
	}

	t.Run("metrics show the demo day", func(t *testing.T) {
		cur = t
		s.t = t
		ctx := person()
		signIn(ctx, ops, "", "#/workflows")
		// The console speaks the browser's language (Accept-Language zh-CN).
		if got := eval(ctx, `document.documentElement.lang + ' ' + document.querySelector('h1').textContent`); got != "zh-CN 工作流" {
			t.Errorf("workflows page heading = %q; want zh-CN 工作流", got)
		}
		do(ctx, "open metrics", chromedp.Navigate(srv.URL+"/#/metrics?days=1"))
		wait(ctx, "metrics", `document.querySelector('#stat-sent .big') !== null`)
		// Expected: the API's figures over the same shop day (00:00 to now).
		loc, _ := time.LoadLocation(d.Timezone)
		now := rt.Clock.Now().In(loc)
		mid := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
		var rep struct {
			Workflows []struct {
				Sent       int `json:"sent"`
				ChasedPaid int `json:"chased_paid"`
			}
		}
		s.mustCall("GET", "/v1/metrics?from="+mid.UTC().Format(time.RFC3339)+"&to="+now.UTC().Format(time.RFC3339Nano), ops, nil, &rep)
		sent, paid := 0, 0
		for _, w := range rep.Workflows {
			sent += w.Sent
			paid += w.ChasedPaid
		}
		if sent == 0 || paid == 0 {
			t.Fatalf("the demo day has no figures: sent %d, chased→paid %d", sent, paid)
		}
		if got := eval(ctx, `document.querySelector('#stat-sent .big').textContent`); got != fmt.Sprint(sent) {
			t.Errorf("metrics page: sent %s; the API says %d", got, sent)
		}
		if got := eval(ctx, `document.querySelector('#stat-paid .big').textContent`); !strings.HasPrefix(got, fmt.Sprint(paid)+" / ") {
			t.Errorf("metrics page: chased→paid %s; the API says %d", got, paid)
		}
		if got := eval(ctx, `String(document.querySelectorAll('#chart-sent rect').length)`); got == "0" {
			t.Errorf("the sent chart has no bars")
		}
		do(ctx, "a week of metrics", chromedp.Navigate(srv.URL+"/#/metrics?days=7"))
		wait(ctx, "a week", `document.body.dataset.ready === '#/metrics?days=7' && document.querySelector('#stat-sent .big') !== null`)
		shot(ctx, "console-metrics.png")
	})

	var taskID string
	t.Run("agents: new task, claim, refused claim, complete, resume", func(t *testing.T) {
		cur = t
		s.t = t
		liCtx, tomCtx := person(), person()
		signIn(liCtx, li.Key, "", "#/queue")
		// Switch to English with the language menu (a cookie, not storage).
		eval(liCtx, `(() => { const l = document.getElementById('lang'); l.value = 'en'; l.dispatchEvent(new Event('change')); return 'ok'; })()`)
		for try := 0; ; try++ { // the page reloads: a poll that started before it ends with the old page
			_, err := chromedp.Run(liCtx, chromedp.Poll[chromedp.Void](`document.documentElement.lang === 'en' && document.body.dataset.ready === '#/queue'`, chromedp.WithPollingTimeout(10*time.Second)))
			if err == nil {
				break
			}
			if try == 3 {
				t.Fatalf("English queue: %v", err)
			}
		}
		// Polling off: the new task must come by push (GET /v1/tasks/events).
		eval(liCtx, `(location.hash = '#/queue?poll=0', 'ok')`)
		wait(liCtx, "the queue listens to the task stream", `document.body.dataset.ready === '#/queue?poll=0' && document.body.dataset.stream === 'live'`)
		// The next morning, inside the shop's service hours and out of quiet hours.
		s.advance("11h")
		before := eval(liCtx, `String(document.querySelectorAll('#queue tr[data-id]').length)`)
		if before == "0" {
			t.Fatalf("the demo day's queue is empty")
		}
		// A COD buyer declines by reply: cod_confirm raises a call task.
		s.webhook("b1", map[string]any{"id": "evt-b1", "type": "order.created", "occurred_at": rt.Clock.Now(), "order": map[string]any{
			"id": "D2001", "placed_at": rt.Clock.Now(), "total": "356.00", "currency": "CNY", "payment_method": "cod", "cod_fee": "8.00",
			"buyer": map[string]any{"name": "陈静", "phone": "+8613900139000", "locale": "zh-CN", "timezone": "Asia/Shanghai"},
			"items": []map[string]any{{"sku": "TEA-9", "title": "大红袍 500g", "quantity": 1, "price": "356.00"}}}})
		s.advance("15m")
		s.webhook("b2", map[string]any{"id": "evt-b2", "type": "buyer.replied", "occurred_at": rt.Clock.Now(), "order": map[string]any{"id": "D2001"},
			"reply": map[string]any{"text": "不要了，不知道要多付钱"}})
		wait(liCtx, "the new task appears without a reload", `[...document.querySelectorAll('#queue tr[data-id]')].some(tr => tr.textContent.includes('D2001') && tr.classList.contains('new'))`)
		taskID = eval(liCtx, `[...document.querySelectorAll('#queue tr[data-id]')].find(tr => tr.textContent.includes('D2001')).dataset.id`)
		// Its due time in the shop's zone (Asia/Shanghai), which the header names.
		var due struct {
			DueAt time.Time `json:"due_at"`
		}
		s.mustCall("GET", "/v1/tasks/"+taskID, ops, nil, &struct{ Task any }{&due})
		loc, _ := time.LoadLocation(d.Timezone)
		la, _ := time.LoadLocation("America/Los_Angeles")
		row := eval(liCtx, `document.querySelector('#queue tr[data-id="`+taskID+`"]').textContent`)
		if shop := due.DueAt.In(loc).Format("15:04"); !strings.Contains(row, shop) || strings.Contains(row, due.DueAt.In(la).Format("15:04")) {
			t.Errorf("due time in the queue: %q; want the shop's %s (not the browser's %s)", row, shop, due.DueAt.In(la).Format("15:04"))
		}
		if got := eval(liCtx, `document.getElementById('tz').textContent`); !strings.Contains(got, d.Timezone) {
			t.Errorf("the header names the zone %q; want %s", got, d.Timezone)
		}
		if !strings.Contains(eval(liCtx, `document.getElementById('live').textContent`), "new task") {
			t.Errorf("the new task was not announced")
		}
		shot(liCtx, "console-queue.png")

		// Tom opens the task too; the buyer's phone is not shown to him.
		do(tomCtx, "tom signs in", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("key")), chromedp.SendKeys(chromedp.ID("key"), tom.Key), chromedp.Click(chromedp.ID("signin")))
		wait(tomCtx, "tom's queue", `document.body.dataset.ready === '#/queue'`)
		// Tom works on a phone: the queue fits its width.
		do(tomCtx, "phone viewport", chromedp.EmulateViewport(390, 844))
		if got := eval(tomCtx, `String(document.documentElement.scrollWidth <= window.innerWidth + 1)`); got != "true" {
			t.Errorf("the queue overflows a phone's width: %s", eval(tomCtx, `document.documentElement.scrollWidth + ' > ' + window.innerWidth`))
		}
		do(tomCtx, "tom opens the task", chromedp.Navigate(srv.URL+"/#/task/"+taskID))
		wait(tomCtx, "tom's task page", `document.getElementById('claim') !== null`)
		if strings.Contains(eval(tomCtx, `document.body.innerText`), "+8613900139000") {
			t.Errorf("the phone is shown to an agent who does not hold the task")
		}

		// Li opens it from the queue with the keyboard and claims it (c).
		eval(liCtx, `(location.hash = '#/task/`+taskID+`', 'ok')`)
		wait(liCtx, "li's task page", `document.getElementById('claim') !== null`)
		// Why, in the agent's language (en), beside the workflow's own words (zh-CN).
		if got := eval(liCtx, `document.getElementById('whyshop') ? document.getElementById('why').textContent : 'no localized reason'`); !strings.Contains(got, "D2001") || strings.ContainsAny(got, "货到付款买家") {
			t.Errorf("reason in English: %q", got)
		}
		do(liCtx, "claim with c", chromedp.KeyEvent("c"))
		wait(liCtx, "claimed: the phone shows", `(document.getElementById('contact') || {}).textContent?.includes('+8613900139000')`)
		shot(liCtx, "console-task.png")

		// Tom's claim is refused with who holds it, in his language (zh-CN),
		// and he is sent back to the queue.
		do(tomCtx, "tom claims", chromedp.Click(chromedp.ID("claim")))
		wait(tomCtx, "tom is told li holds it", `(document.getElementById('taskmsg') || {}).textContent?.includes('li-na')`)
		if got := eval(tomCtx, `document.getElementById('taskmsg').textContent`); !strings.Contains(got, "正在处理该任务") || strings.Contains(got, "claimed by another agent") {
			t.Errorf("the refused claim in a zh-CN console: %q; want the Chinese text, not the API's English", got)
		}
		if got := eval(tomCtx, `String(document.querySelector('#taskmsg #toqueue') !== null)`); got != "true" {
			t.Errorf("the refused claim offers no way back to the queue")
		}

		// Li adds a note and completes; the workflow resumes.
		do(liCtx, "note", chromedp.SendKeys(chromedp.ID("note"), "买家同意付手续费"), chromedp.Click(chromedp.ID("addnote")))
		wait(liCtx, "note on the timeline", `document.getElementById('timeline').textContent.includes('买家同意付手续费')`)
		do(liCtx, "complete", chromedp.Click(chromedp.CSS(`button[data-outcome="confirmed"]`)))
		wait(liCtx, "completed", `document.getElementById('taskmsg').textContent.includes('Completed')`)
		var task struct{ Agent, Outcome, Status string }
		s.mustCall("GET", "/v1/tasks/"+taskID, ops, nil, &struct{ Task any }{&task})
		if task.Agent != "li-na" || task.Outcome != "confirmed" || task.Status != "done" {
			t.Errorf("task after completion = %+v; want done by li-na, confirmed", task)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			var runs struct {
				Runs []struct{ Workflow, Outcome, Status string }
			}
			s.mustCall("GET", "/v1/runs?order=D2001", ops, nil, &runs)
			if len(runs.Runs) > 0 && runs.Runs[0].Outcome == "cod_confirmed" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the workflow did not resume: runs %+v", runs.Runs)
			}
			time.Sleep(100 * time.Millisecond) // the router resumes the execution asynchronously, on the wall clock
		}
	})

	t.Run("agents: a lease that expired, then taken by another agent", func(t *testing.T) {
		cur = t
		s.t = t
		var open struct{ Tasks []struct{ ID, Status string } }
		s.mustCall("GET", "/v1/tasks?status=open", ops, nil, &open)
		if len(open.Tasks) == 0 {
			t.Fatalf("no open task left in the demo queue")
		}
		id := open.Tasks[0].ID
		ctx := person()
		signIn(ctx, li.Key, "", "#/queue")
		do(ctx, "open the task", chromedp.Navigate(srv.URL+"/#/task/"+id))
		wait(ctx, "task page", `document.getElementById('claim') !== null`)
		do(ctx, "claim", chromedp.Click(chromedp.ID("claim")))
		wait(ctx, "claimed", `document.querySelector('#outcomes button[data-outcome]') !== null && (document.getElementById('taskmsg') || {}).textContent?.includes('任务已由您领取')`)
		// The lease (15 min) runs out while Li is on the phone; she completes
		// with the keyboard (the page may have noticed first, on its own timer:
		// then the key does nothing and the same message is there).
		s.advance("16m")
		do(ctx, "complete after the lease", chromedp.KeyEvent("1"))
		wait(ctx, "told the claim expired, offered to claim again", `document.querySelector('#taskmsg #reclaim') !== null`)
		if got := eval(ctx, `document.getElementById('taskmsg').textContent`); !strings.Contains(got, "您的领取已过期") {
			t.Errorf("expired lease message: %q", got)
		}
		if got := eval(ctx, `String(document.getElementById('outcomes') === null)`); got != "true" {
			t.Errorf("outcome buttons offered after the lease ran out; the next action is to claim again")
		}
		var task struct{ Status string }
		s.mustCall("GET", "/v1/tasks/"+id, ops, nil, &struct{ Task any }{&task})
		if task.Status != "open" {
			t.Errorf("the completion after the lease went through: task %s", task.Status)
		}
		do(ctx, "claim again", chromedp.Click(chromedp.ID("reclaim")))
		wait(ctx, "claimed again", `(document.getElementById('taskmsg') || {}).textContent?.includes('任务已由您领取') && document.getElementById('contact').tagName === 'DIV'`)
		if got := eval(ctx, `String(document.querySelector('#outcomes button[data-outcome]') !== null)`); got != "true" {
			t.Errorf("claimed again, but no outcome buttons")
		}
		// It lapses again, and Wang (by the ops key) takes it meanwhile.
		s.advance("16m")
		s.mustCall("POST", "/v1/tasks/"+id+"/claim", ops, map[string]string{"agent": "wang"}, nil)
		do(ctx, "complete after losing it", chromedp.KeyEvent("1"))
		wait(ctx, "told wang holds it now, sent back to the queue", `document.querySelector('#taskmsg #toqueue') !== null && document.getElementById('taskmsg').textContent.includes('wang')`)
		if got := eval(ctx, `document.getElementById('taskmsg').textContent`); !strings.Contains(got, "您的领取已过期") {
			t.Errorf("lost-to message: %q", got)
		}
		do(ctx, "back to the queue", chromedp.Click(chromedp.ID("toqueue")))
		wait(ctx, "the queue", `document.body.dataset.ready === '#/queue'`)
	})

	t.Run("agents: 503 resume_pending offers a retry", func(t *testing.T) {
		cur = t
		s.t = t
		// A second site on the same HTTP API whose workflow engine refuses
		// the first resume (the local runtime's engine never does).
		dir := t.TempDir()
		st, err := sqlitestore.Open(t.Context(), filepath.Join(dir, "care.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		clk := clock.NewVirtual(start, nil)
		var down atomic.Bool
		down.Store(true)
		res := &caretest.Resumer{Resume: func(string, []byte) error {
			if down.Load() {
				return errors.New("the workflow engine is unavailable")
			}
			return nil
		}}
		api, err := httpapi.New(httpapi.Config{Store: st, Clock: clk, AdminToken: "admin-token-for-the-second-site", Resumer: res, Workflows: workflows.All()})
		if err != nil {
			t.Fatal(err)
		}
		srv2 := httptest.NewServer(console.Handler(api))
		defer srv2.Close()
		s2 := &site{t: t, url: srv2.URL}
		var shop struct{ Keys map[string]string }
		s2.mustCall("POST", "/v1/shops", "admin-token-for-the-second-site", map[string]string{"id": "tea", "name": "西湖茶庄", "timezone": "Asia/Shanghai", "locale": "zh-CN", "currency": "CNY"}, &shop)
		var li2 struct{ Key string }
		s2.mustCall("POST", "/v1/agents", shop.Keys["ops"], map[string]string{"id": "li-na", "name": "李娜"}, &li2)
		if _, created, err := st.CreateTask(t.Context(), care.Task{ID: "t1", ShopID: "tea", OrderID: "1001", Workflow: care.CODConfirm, Step: "call",
			Reason: "买家拒收", Script: "您好", Priority: 2, Outcomes: []string{"confirmed", "declined"}, Status: care.TaskOpen,
			CreatedAt: clk.Now(), DueAt: clk.Now().Add(2 * time.Hour), Token: "sfn-token-t1"}); err != nil || !created {
			t.Fatalf("create task: %v %v", created, err)
		}
		ctx := person()
		signInAt(ctx, srv2.URL, li2.Key, "", "#/queue")
		do(ctx, "open the task", chromedp.Navigate(srv2.URL+"/#/task/t1"))
		wait(ctx, "task page", `document.getElementById('claim') !== null`)
		do(ctx, "claim", chromedp.Click(chromedp.ID("claim")))
		wait(ctx, "claimed", `document.querySelector('button[data-outcome="confirmed"]') !== null && (document.getElementById('taskmsg') || {}).textContent?.includes('任务已由您领取')`)
		do(ctx, "complete", chromedp.Click(chromedp.CSS(`button[data-outcome="confirmed"]`)))
		wait(ctx, "told the outcome is saved, offered a retry", `document.querySelector('#taskmsg #retry') !== null`)
		if got := eval(ctx, `document.getElementById('taskmsg').textContent`); !strings.Contains(got, "结果已保存") {
			t.Errorf("resume_pending message: %q", got)
		}
		down.Store(false)
		do(ctx, "retry", chromedp.Click(chromedp.ID("retry")))
		wait(ctx, "completed", `(document.getElementById('taskmsg') || {}).textContent?.includes('已完成')`)
		if calls := res.Calls(); len(calls) != 2 || calls[1].Token != "sfn-token-t1" {
			t.Errorf("resumes: %+v; want the refused one and the retried one", calls)
		}
		var task struct {
			Status, Outcome, Agent string
		}
		s2.mustCall("GET", "/v1/tasks/t1", shop.Keys["ops"], nil, &struct{ Task any }{&task})
		if task.Status != "done" || task.Outcome != "confirmed" || task.Agent != "li-na" {
			t.Errorf("task after the retry: %+v", task)
		}
	})

	t.Run("ops: template error at its field, preview, save, compare, roll back", func(t *testing.T) {
		cur = t
		s.t = t
		ctx := person()
		signIn(ctx, ops, "", "#/workflows")
		do(ctx, "open the editor", chromedp.Navigate(srv.URL+"/#/template/unpaid_chase"))
		// The form is drawn from the workflow's schema: a field per property.
		wait(ctx, "the form and the preview", `document.querySelector('#tplform [data-path="steps[0].after"]') !== null && document.querySelector('#tplform [data-path="quiet_hours.from"]') !== null && document.querySelector('#preview [data-locale="en"] .script') !== null`)
		edit := func(path, js string) { // js computes the new value from v, the old one
			t.Helper()
			eval(ctx, `(() => { const e = document.querySelector('#tplform [data-path="`+path+`"]'); const v = e.value; e.value = `+js+`; e.dispatchEvent(new Event('input', {bubbles: true})); return 'ok'; })()`)
		}
		// An error in a field of the form.
		edit("steps[0].after", `'-10m'`)
		bad := eval(ctx, `document.getElementById('tpl').value`)
		if !strings.Contains(bad, `"after": "-10m"`) {
			t.Fatalf("the JSON view did not follow the form:\n%s", bad)
		}
		do(ctx, "check", chromedp.Click(chromedp.ID("check")))
		wait(ctx, "the error beside its field", `document.querySelector('#tplform .field[data-field="steps[0].after"] .fielderr') !== null`)
		if got := eval(ctx, `document.querySelector('#tplform .field[data-field="steps[0].after"] .fielderr').textContent`); !strings.Contains(got, "未通过校验") {
			t.Errorf("the error at the field: %q; want it in Chinese", got)
		}
		if got := eval(ctx, `document.activeElement.dataset.path || ''`); got != "steps[0].after" {
			t.Errorf("focus on %q after the error; want the field steps[0].after", got)
		}
		if got := eval(ctx, `document.getElementById('errors').textContent`); !strings.Contains(got, "未通过校验") || !strings.Contains(got, "下单后等待") {
			t.Errorf("the template error in a zh-CN console: %q; want it in Chinese", got)
		}
		// The JSON view marks the same field's line.
		errLine := eval(ctx, `document.querySelector('.gutter div.err').dataset.line`)
		wantLine := fmt.Sprint(strings.Count(bad[:strings.Index(bad, `"after": "-10m"`)], "\n") + 1)
		if errLine != wantLine {
			t.Errorf("error marked on line %s; the field is on line %s", errLine, wantLine)
		}
		eval(ctx, `(document.querySelector('#tplform .field[data-field="steps[0].after"]').scrollIntoView({block: 'center'}), 'ok')`)
		shot(ctx, "console-template.png")
		// Fixed in the form, and a script edited there.
		edit("steps[0].after", `'10m'`)
		edit("steps[0].script.zh-CN", `v.replace('还没有付款哦', '还没有付款哦（今天付款今天发）')`)
		// The JSON view and the form stay in step both ways.
		do(ctx, "the JSON view", chromedp.Click(chromedp.ID("tab-json")))
		if got := eval(ctx, `document.getElementById('tpl').value`); !strings.Contains(got, "今天付款今天发") || !strings.Contains(got, `"after": "10m"`) {
			t.Errorf("the JSON view after the form's edits:\n%s", got)
		}
		eval(ctx, `(() => { const e = document.getElementById('tpl'); e.value = e.value.replace('"contact_budget": 3', '"contact_budget": 4'); e.dispatchEvent(new Event('input')); return 'ok'; })()`)
		do(ctx, "back to the form", chromedp.Click(chromedp.ID("tab-form")))
		if got := eval(ctx, `document.querySelector('#tplform [data-path="contact_budget"]').value`); got != "4" {
			t.Errorf("the form after a JSON edit: contact_budget %q; want 4", got)
		}
		// Steps and languages are added and removed in the form too.
		steps := func() string {
			return eval(ctx, `String(JSON.parse(document.getElementById('tpl').value).steps.length)`)
		}
		do(ctx, "add a step", chromedp.Click(chromedp.CSS(`button[data-add="steps"]`)))
		if got := steps(); got != "5" {
			t.Errorf("steps after adding one: %s; want 5", got)
		}
		eval(ctx, `(() => { const e = document.querySelector('#tplform [data-path="steps[4].action"]'); e.value = 'call'; e.dispatchEvent(new Event('change', {bubbles: true})); return 'ok'; })()`)
		wait(ctx, "a call step's fields", `document.querySelector('#tplform [data-path="steps[4].sla"]') !== null && document.querySelector('#tplform [data-path="steps[4].channel"]') === null`)
		do(ctx, "remove it", chromedp.Click(chromedp.CSS(`button[data-remove="steps[4]"]`)))
		if got := steps(); got != "4" {
			t.Errorf("steps after removing the new one: %s; want 4", got)
		}
		do(ctx, "a language", chromedp.SendKeys(chromedp.ID("f-steps_0__script-newloc"), "ja"), chromedp.Click(chromedp.CSS(`button[data-addlocale="steps[0].script"]`)))
		wait(ctx, "its text box", `document.querySelector('#tplform [data-path="steps[0].script.ja"]') !== null`)
		edit("steps[0].script.ja", `''`) // left empty: not in the template
		if got := eval(ctx, `String('ja' in JSON.parse(document.getElementById('tpl').value).steps[0].script)`); got != "false" {
			t.Errorf("an empty new language stays in the template")
		}
		do(ctx, "preview", chromedp.Click(chromedp.ID("previewBtn")))
		wait(ctx, "preview in both locales", `document.querySelector('#errors').textContent === '' && !document.querySelector('#tplform .fielderr') && [...document.querySelectorAll('#preview [data-locale="zh-CN"] .script')].some(e => e.textContent.includes('今天付款今天发')) && document.querySelector('#preview [data-locale="en"] .script') !== null`)
		do(ctx, "save", chromedp.Click(chromedp.ID("save")))
		wait(ctx, "saved as v2", `document.querySelector('#errors .msg.ok') && document.querySelector('#errors').textContent.includes('2')`)
		wait(ctx, "versions", `document.querySelectorAll('#versions tr[data-version]').length === 2`)
		do(ctx, "compare v1 → v2", chromedp.Click(chromedp.ID("compare")))
		wait(ctx, "the diff", `[...document.querySelectorAll('#diff .add')].some(e => e.textContent.includes('今天付款今天发'))`)
		do(ctx, "roll back to v1", chromedp.Click(chromedp.CSS(`button[data-rollback="1"]`)))
		wait(ctx, "rolled back as v3", `document.querySelectorAll('#versions tr[data-version]').length === 3`)
		var vs struct{ Latest int }
		s.mustCall("GET", "/v1/templates/unpaid_chase/versions", ops, nil, &vs)
		_, v1 := s.call("GET", "/v1/templates/unpaid_chase/versions/1", ops, nil)
		_, v3 := s.call("GET", "/v1/templates/unpaid_chase/versions/3", ops, nil)
		if vs.Latest != 3 || !bytes.Equal(v1, v3) {
			t.Errorf("after the rollback: latest v%d, v3 equal to v1: %v", vs.Latest, bytes.Equal(v1, v3))
		}
	})

	t.Run("ops: every workflow's template opens in the form, unchanged", func(t *testing.T) {
		cur = t
		s.t = t
		ctx := person()
		signIn(ctx, ops, "", "#/workflows")
		var wfs struct{ Workflows []struct{ Workflow string } }
		s.mustCall("GET", "/v1/workflows", ops, nil, &wfs)
		for _, w := range wfs.Workflows {
			do(ctx, "open "+w.Workflow, chromedp.Navigate(srv.URL+"/#/template/"+w.Workflow))
			wait(ctx, w.Workflow+" in the form", `document.body.dataset.ready === '#/template/`+w.Workflow+`' && document.querySelector('#tplform [data-path="steps[0].script"]') !== null`)
			// Drawing the form changes nothing; an edit and its undo neither.
			got := eval(ctx, `(() => {
				const e = document.querySelector('#tplform [data-path="contact_budget"]'), v = e.value;
				e.value = '7'; e.dispatchEvent(new Event('input', {bubbles: true}));
				e.value = v; e.dispatchEvent(new Event('input', {bubbles: true}));
				const a = JSON.stringify(JSON.parse(document.getElementById('tpl').value));
				return fetch('/v1/templates/`+w.Workflow+`').then(r => r.json()).then(d => String(JSON.stringify(d) === a) + ' ' + document.querySelectorAll('#tplform [data-path]').length);
			})()`)
			if !strings.HasPrefix(got, "true ") {
				t.Errorf("%s: the form changed the template (%s)", w.Workflow, got)
			}
			if errs := eval(ctx, `document.getElementById('errors').textContent`); errs != "" {
				t.Errorf("%s: errors on opening: %s", w.Workflow, errs)
			}
		}
	})

	t.Run("ops: an order's timeline, settings, deactivating an agent", func(t *testing.T) {
		cur = t
		s.t = t
		ctx := person()
		signIn(ctx, ops, "", "#/workflows")
		do(ctx, "order search", chromedp.Navigate(srv.URL+"/#/orders"))
		wait(ctx, "recent orders", `document.body.dataset.ready === '#/orders'`)
		do(ctx, "search D1006", chromedp.SendKeys(chromedp.ID("orderid"), "D1006"), chromedp.Click(chromedp.ID("search")))
		wait(ctx, "one timeline of events, runs, messages and tasks", `['event', 'run', 'message', 'task'].every(k => document.querySelector('#timeline li.k-' + k))`)
		do(ctx, "settings", chromedp.Navigate(srv.URL+"/#/settings"))
		wait(ctx, "sources and agents", `document.querySelector('#sources tr[data-source="standard"]') && document.querySelector('#agents tr[data-agent="tom"]')`)
		if got := eval(ctx, `document.querySelector('#sources tr[data-source="standard"]').textContent`); !strings.Contains(got, srv.URL+"/webhooks/demo/standard") {
			t.Errorf("the standard source row: %q", got)
		}
		// A refused action in zh-CN: an agent id that exists.
		do(ctx, "add tom again", chromedp.SendKeys(chromedp.ID("newagentid"), "tom"), chromedp.SendKeys(chromedp.ID("newagentname"), "Tom"), chromedp.Click(chromedp.ID("addagent")))
		wait(ctx, "refused in Chinese", `(document.getElementById('settingsmsg') || {}).textContent?.includes('该 ID 的客服已存在')`)
		do(ctx, "deactivate tom", chromedp.Click(chromedp.CSS(`#agents tr[data-agent="tom"] button:nth-of-type(2)`)))
		wait(ctx, "tom deactivated", `(document.querySelector('#agents tr[data-agent="tom"]') || {}).textContent?.includes('停用') && document.querySelector('#agents tr[data-agent="tom"]').textContent.includes('启用')`)
		if st, _ := s.call("GET", "/v1/tasks", tom.Key, nil); st != 401 {
			t.Errorf("tom's key after deactivation: %d; want 401", st)
		}
	})

	t.Run("a session of one shop cannot read another's, nor post without CSRF", func(t *testing.T) {
		cur = t
		s.t = t
		var other struct {
			Keys map[string]string
		}
		s.mustCall("POST", "/v1/shops", rt.AdminToken, map[string]string{"id": "other-shop", "name": "Other", "timezone": "Asia/Shanghai", "locale": "zh-CN", "currency": "CNY"}, &other)
		ctx := person()
		signIn(ctx, other.Keys["ops"], "", "#/workflows")
		for _, path := range []string{"/v1/orders/D2001", "/v1/tasks/" + taskID, "/v1/orders/D1002/messages"} {
			if got := eval(ctx, `fetch('`+path+`').then(r => String(r.status))`); got != "404" {
				t.Errorf("shop B's session reads %s: %s; want 404", path, got)
			}
		}
		if got := eval(ctx, `fetch('/v1/agents', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{"id":"x1","name":"x"}'}).then(r => String(r.status))`); got != "403" {
			t.Errorf("POST without the CSRF token: %s; want 403", got)
		}
		if got := eval(ctx, `document.cookie`); strings.Contains(got, "oc_session") {
			t.Errorf("the session cookie is readable by scripts: %q", got)
		}
	})
}
