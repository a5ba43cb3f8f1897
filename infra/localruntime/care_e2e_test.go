package localruntime_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/ordercare/ordercare/infra/localruntime"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/httpapi"
	"github.com/ordercare/ordercare/internal/source"
)

// The end-to-end tests below start the local runtime on a virtual clock and
// drive it only through its public HTTP API and the Step Functions API (the
// real AWS SDK client over HTTP), as a shop, its agents and ops would.

// start is 09:00 in Shanghai on Double 11.
var start = time.Date(2026, 11, 11, 1, 0, 0, 0, time.UTC)

type harness struct {
	t      testing.TB
	rt     *localruntime.Runtime
	api    *httptest.Server
	sfn    *sfn.Client
	shop   httpapi.NewShopResponse
	nextID int
	// runsSeen are the orders deliveredOrders created, in order (each
	// buyer gets a phone number of their own).
	runsSeen []string
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessWith(t, localruntime.Options{}, nil)
}

// newHarnessWith is newHarness on opts (its DataDir, Clock and Start are
// set here), with the API wrapped by wrap when it is not nil.
func newHarnessWith(t testing.TB, opts localruntime.Options, wrap func(http.Handler) http.Handler) *harness {
	t.Helper()
	opts.DataDir, opts.Clock, opts.Start = t.TempDir(), localruntime.ClockVirtual, start
	rt, err := localruntime.Open(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	api := rt.API
	if wrap != nil {
		api = wrap(api)
	}
	h := &harness{t: t, rt: rt, api: httptest.NewServer(api)}
	sfnSrv := httptest.NewServer(rt.SFN)
	t.Cleanup(func() {
		h.api.Close()
		sfnSrv.Close()
		rt.Close()
	})
	h.sfn = sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(sfnSrv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(rt.SFNCredentials.AccessKeyID, rt.SFNCredentials.SecretAccessKey, "")})
	h.shop = h.newShop("tea")
	return h
}

func (h *harness) newShop(id string) httpapi.NewShopResponse {
	h.t.Helper()
	var shop httpapi.NewShopResponse
	h.must("POST", "/v1/shops", h.rt.AdminToken, map[string]string{"id": id, "name": "Tea " + id,
		"timezone": "Asia/Shanghai", "locale": "zh-CN", "currency": "CNY"}, 201, &shop)
	return shop
}

func (h *harness) call(method, path, key string, body any) (int, []byte) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(h.t.Context(), method, h.api.URL+path, rd)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// must calls and decodes the answer into out, failing unless the status is want.
func (h *harness) must(method, path, key string, body any, want int, out any) {
	h.t.Helper()
	st, b := h.call(method, path, key, body)
	if st != want {
		h.t.Fatalf("%s %s: %d %s, want %d", method, path, st, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			h.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

func (h *harness) ops() string   { return h.shop.Keys[care.RoleOps] }
func (h *harness) agent() string { return h.shop.Keys[care.RoleAgent] }

// webhook delivers an event as the shop's system would, signed with
// Standard Webhooks at the current virtual time; deliveryID "" makes one up.
func (h *harness) webhook(shop httpapi.NewShopResponse, deliveryID string, ev map[string]any) int {
	h.t.Helper()
	if deliveryID == "" {
		h.nextID++
		deliveryID = fmt.Sprintf("msg_%d", h.nextID)
	}
	body, _ := json.Marshal(ev)
	key, _ := source.StandardKey(shop.WebhookSecret)
	req, _ := http.NewRequestWithContext(h.t.Context(), "POST", h.api.URL+"/webhooks/"+shop.ID+"/standard", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", deliveryID)
	req.Header.Set("webhook-timestamp", fmt.Sprint(h.now().Unix()))
	req.Header.Set("webhook-signature", source.StandardSign(key, deliveryID, h.now(), body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func (h *harness) now() time.Time { return h.rt.Clock.Now() }

// advance moves the runtime's time through POST /v1/dev/clock, which
// answers once everything due has run.
func (h *harness) advance(d string) {
	h.t.Helper()
	h.must("POST", "/v1/dev/clock", h.rt.AdminToken, map[string]string{"advance": d}, 200, nil)
}

// order is an order.created event body.
func order(id string, total string, cod bool, deadline time.Duration, placed time.Time) map[string]any {
	o := map[string]any{"id": id, "placed_at": placed, "total": total, "currency": "CNY",
		"buyer":          map[string]any{"name": "陈晓燕", "phone": "+8613912345678", "locale": "zh-CN", "timezone": "Asia/Shanghai"},
		"payment_method": "online",
		"items":          []map[string]any{{"sku": "LJ-250", "title": "明前龙井 250g", "quantity": 1, "price": total}}}
	if cod {
		o["payment_method"], o["cod_fee"] = "cod", "8.00"
	}
	if deadline > 0 {
		o["pay_deadline"] = placed.Add(deadline)
	}
	return map[string]any{"id": "evt-created-" + id, "type": "order.created", "occurred_at": placed, "order": o}
}

func event(typ, orderID string, at time.Time, extra map[string]any) map[string]any {
	ev := map[string]any{"id": "evt-" + typ + "-" + orderID + fmt.Sprint(at.Unix()), "type": typ, "occurred_at": at,
		"order": map[string]any{"id": orderID}}
	for k, v := range extra {
		ev[k] = v
	}
	return ev
}

func (h *harness) messages(orderID string) []care.Message {
	h.t.Helper()
	var page struct{ Messages []care.Message }
	h.must("GET", "/v1/orders/"+orderID+"/messages", h.ops(), nil, 200, &page)
	return page.Messages
}

func (h *harness) runs(orderID string) []care.Run {
	h.t.Helper()
	var page struct{ Runs []care.Run }
	h.must("GET", "/v1/runs?order="+orderID, h.ops(), nil, 200, &page)
	return page.Runs
}

type taskView struct {
	care.Task
	Breached bool `json:"breached"`
}

func (h *harness) tasks(key, status string) []taskView {
	h.t.Helper()
	var page struct{ Tasks []taskView }
	h.must("GET", "/v1/tasks?status="+status, key, nil, 200, &page)
	return page.Tasks
}

// ledger summarises messages as "step:status[:reason]" in ledger order.
func ledger(ms []care.Message) []string {
	var out []string
	for _, m := range ms {
		s := m.Step + ":" + string(m.Status)
		if m.Reason != "" {
			s += ":" + m.Reason
		}
		out = append(out, s)
	}
	return out
}

func (h *harness) wantLedger(orderID string, want ...string) []care.Message {
	h.t.Helper()
	ms := h.messages(orderID)
	if got := ledger(ms); strings.Join(got, " ") != strings.Join(want, " ") {
		h.t.Fatalf("ledger of %s:\n got  %v\n want %v", orderID, got, want)
	}
	return ms
}

func (h *harness) run(orderID string, wf care.Workflow) care.Run {
	h.t.Helper()
	for _, r := range h.runs(orderID) {
		if r.Workflow == wf {
			return r
		}
	}
	h.t.Fatalf("order %s has no %s run", orderID, wf)
	return care.Run{}
}

// execution describes the run's execution through the Step Functions API.
func (h *harness) execution(r care.Run) *sfn.DescribeExecutionOutput {
	h.t.Helper()
	arn := fmt.Sprintf("arn:aws:states:us-east-1:111111111111:execution:%s:%s", r.Workflow, r.Execution)
	out, err := h.sfn.DescribeExecution(h.t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// transitions counts the states an execution entered: what AWS bills.
// transitions counts the states entered by every execution of run r
// (counts: each generation's).
func (h *harness) transitions(r care.Run) int {
	h.t.Helper()
	return h.counts(r).transitions
}

func TestChaseStopsWhenPaid(t *testing.T) {
	h := newHarness(t)
	if st := h.webhook(h.shop, "", order("A1", "129.90", false, 72*time.Hour, start)); st != 202 {
		t.Fatalf("order.created: %d", st)
	}
	h.advance("0s")
	// Scheduled for the first reminder: no execution until it is due.
	r := h.run("A1", care.UnpaidChase)
	if r.Status != care.RunScheduled || r.Step != "nudge" || r.TemplateVersion != 1 || r.NextAt == nil || !r.NextAt.Equal(start.Add(10*time.Minute)) {
		t.Fatalf("run after order.created: %+v", r)
	}
	h.advance("10m")
	ms := h.wantLedger("A1", "nudge:sent")
	if ms[0].Channel != "outbox" || ms[0].Locale != "zh-CN" || !strings.Contains(ms[0].Text, "129.90") || !ms[0].SentAt.Equal(start.Add(10*time.Minute)) {
		t.Errorf("nudge: %+v", ms[0])
	}
	if st := h.webhook(h.shop, "", event("order.paid", "A1", h.now(), nil)); st != 202 {
		t.Fatalf("order.paid: %d", st)
	}
	h.advance("72h")
	h.wantLedger("A1", "nudge:sent")
	r = h.run("A1", care.UnpaidChase)
	if r.Status != care.RunStopped || r.Outcome != "paid" || r.Value != "129.90" || r.Sent != 1 {
		t.Errorf("run after paid: %+v", r)
	}
	// The reminder's execution ended by resting the run until the next
	// one: the payment stopped a run with no execution to abort.
	if r.Execution != "" || r.Gen != 1 {
		t.Errorf("run %+v, want stopped while resting (gen 1, no execution)", r)
	}
	if n := h.transitions(r); n != 2 {
		t.Errorf("%d transitions for one reminder, want 2 (Which, Step)", n)
	}
}

// TestPaidOrderNeverReminded: an execution still running for an order that
// is already paid (a router behind, a stop in flight) skips its send,
// because every send checks the order first.
func TestPaidOrderNeverReminded(t *testing.T) {
	h := newHarness(t)
	h.webhook(h.shop, "", order("B1", "59.00", false, 72*time.Hour, start))
	h.advance("0s")
	h.webhook(h.shop, "", event("order.paid", "B1", h.now(), nil))
	h.advance("0s")
	// The router stopped the run; now an execution acts as a late one would.
	in := `{"run":{"shop":"tea","order":"B1","workflow":"unpaid_chase","version":1},"step":"nudge"}`
	_, err := h.sfn.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:111111111111:stateMachine:unpaid_chase"),
		Name: aws.String("late-b1"), Input: aws.String(in)})
	if err != nil {
		t.Fatal(err)
	}
	h.advance("1h")
	h.wantLedger("B1", "nudge:skipped:paid")
}

func TestChaseNeverAfterDeadline(t *testing.T) {
	h := newHarness(t)
	// A live-stream order: the platform closes it 30 minutes after it was placed.
	h.webhook(h.shop, "", order("C1", "89.00", false, 30*time.Minute, start))
	h.advance("24h")
	// All four entries are written at 09:10 (the send, then the plan that
	// skips the rest); the ledger orders ties by id.
	ms := h.wantLedger("C1", "call:skipped:below_threshold", "coupon:skipped:deadline_passed", "nudge:sent", "ships_today:skipped:deadline_passed")
	for _, m := range ms {
		if m.SentAt != nil && !m.SentAt.Before(start.Add(30*time.Minute)) {
			t.Errorf("%s sent at %s, after the deadline", m.Step, m.SentAt)
		}
	}
	if r := h.run("C1", care.UnpaidChase); r.Status != care.RunSucceeded {
		t.Errorf("run %+v, want succeeded", r)
	}
}

func TestChaseEscalatesLargeOrder(t *testing.T) {
	h := newHarness(t)
	h.webhook(h.shop, "", order("D1", "899.00", false, 24*time.Hour, start))
	h.advance("13h")
	open := h.tasks(h.agent(), "open")
	if len(open) != 1 {
		t.Fatalf("open tasks %+v, want the call", open)
	}
	task := open[0]
	if task.Tag != care.TagVIP || task.OrderID != "D1" || task.Order.BuyerPhone == "" || len(task.Order.Said) == 0 || task.Script == "" {
		t.Errorf("task %+v", task.Task)
	}
	_, raw := h.call("GET", "/v1/tasks?status=open", h.agent(), nil)
	if bytes.Contains(raw, []byte("token")) || bytes.Contains(raw, []byte("AAAA")) {
		t.Errorf("the task list shows the task token: %s", raw)
	}
	h.must("POST", "/v1/tasks/"+task.ID+"/claim", h.agent(), map[string]string{"agent": "xiaoli"}, 200, nil)
	h.must("POST", "/v1/tasks/"+task.ID+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": "will_pay", "note": "pays tonight"}, 200, nil)
	h.must("POST", "/v1/tasks/"+task.ID+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": "will_pay"}, 409, nil)
	h.advance("0s")
	r := h.run("D1", care.UnpaidChase)
	if d := h.execution(r); d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Errorf("execution %s after the agent's outcome, want SUCCEEDED", d.Status)
	}
	t.Logf("unpaid_chase with 3 reminders and a call: %d state transitions", h.transitions(r))
	hist := h.historyJSON(r)
	said := h.messages("D1")[0].Text
	if !strings.Contains(hist, "D1") || !strings.Contains(hist, "escalate") {
		t.Fatalf("the history holds no execution data: %.300s", hist)
	}
	for _, secret := range []string{"+8613912345678", "13912345678", "陈晓燕", said} {
		if strings.Contains(hist, secret) {
			t.Errorf("the execution history contains %q", secret)
		}
	}
}

// historyJSON is the execution's whole history as the SDK returns it.
func (h *harness) historyJSON(r care.Run) string {
	h.t.Helper()
	arn := fmt.Sprintf("arn:aws:states:us-east-1:111111111111:execution:%s:%s", r.Workflow, r.Execution)
	var all []sfntypes.HistoryEvent
	p := sfn.NewGetExecutionHistoryPaginator(h.sfn, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), IncludeExecutionData: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(h.t.Context())
		if err != nil {
			h.t.Fatal(err)
		}
		all = append(all, page.Events...)
	}
	b, _ := json.Marshal(all)
	return string(b)
}

func TestCODConfirmedByReply(t *testing.T) {
	h := newHarness(t)
	h.webhook(h.shop, "", order("E1", "129.90", true, 0, start))
	h.advance("0s")
	ms := h.wantLedger("E1", "ask:sent")
	if !strings.Contains(ms[0].Text, "137.90") {
		t.Errorf("the ask does not state the COD total 137.90: %q", ms[0].Text)
	}
	h.advance("5m")
	h.webhook(h.shop, "", event("buyer.replied", "E1", h.now(), map[string]any{"reply": map[string]string{"text": "是的，确认"}}))
	h.advance("0s")
	r := h.run("E1", care.CODConfirm)
	if r.Status != care.RunSucceeded || r.Outcome != "cod_confirmed" || r.Sent != 1 {
		t.Errorf("run %+v", r)
	}
	notice := h.wantLedger("E1", "ask:sent", "confirmed:sent")[1]
	if notice.Channel != "outbox" || !strings.Contains(notice.Text, "可以发货") {
		t.Errorf("the shop's notice: %+v", notice)
	}
	if n := h.transitions(r); n > 5 {
		t.Errorf("%d transitions, want at most 5", n)
	} else {
		t.Logf("cod_confirm confirmed by reply: %d state transitions", n)
	}
	if tasks := h.tasks(h.agent(), "open"); len(tasks) != 0 {
		t.Errorf("tasks %+v", tasks)
	}
}

func TestCODConfirmedByAgentAfterSilence(t *testing.T) {
	h := newHarness(t)
	h.webhook(h.shop, "", order("F1", "129.90", true, 0, start))
	h.advance("3h")
	open := h.tasks(h.agent(), "open")
	if len(open) != 1 || !strings.Contains(open[0].Reason, "买家未回复确认消息") {
		t.Fatalf("open tasks %+v", open)
	}
	h.must("POST", "/v1/tasks/"+open[0].ID+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": "confirmed"}, 200, nil)
	h.advance("0s")
	r := h.run("F1", care.CODConfirm)
	if r.Status != care.RunSucceeded || r.Outcome != "cod_confirmed" {
		t.Errorf("run %+v", r)
	}
	t.Logf("cod_confirm confirmed by an agent: %d state transitions", h.transitions(r))
}

func TestCODDeclined(t *testing.T) {
	h := newHarness(t)
	var got [][]byte
	shopSide := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, b)
	}))
	defer shopSide.Close()
	h.must("PUT", "/v1/shops/tea/channels/webhook", h.ops(), map[string]string{"url": shopSide.URL, "secret": h.shop.WebhookSecret}, 200, nil)
	h.webhook(h.shop, "", order("G1", "129.90", true, 0, start))
	h.advance("1m")
	h.webhook(h.shop, "", event("buyer.replied", "G1", h.now(), map[string]any{"reply": map[string]string{"text": "不要了"}}))
	h.advance("0s")
	open := h.tasks(h.agent(), "open")
	if len(open) != 1 || !strings.Contains(open[0].Reason, "买家回复拒绝：“不要了”") {
		t.Fatalf("open tasks %+v", open)
	}
	h.must("POST", "/v1/tasks/"+open[0].ID+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": "declined"}, 200, nil)
	h.advance("0s")
	h.wantLedger("G1", "ask:sent", "declined:sent")
	var page struct{ Runs []care.Run }
	h.must("GET", "/v1/runs?order=G1", h.ops(), nil, 200, &page)
	if len(page.Runs) != 1 || page.Runs[0].Sent != 1 {
		t.Errorf("runs %+v: the notice to the shop is not a message to the buyer", page.Runs)
	}
	if r := h.run("G1", care.CODConfirm); r.Outcome != "cod_declined" {
		t.Errorf("run %+v", r)
	}
	if len(got) != 1 || !bytes.Contains(got[0], []byte(`"type":"notice"`)) || !bytes.Contains(got[0], []byte(`"order_id":"G1"`)) {
		t.Errorf("shop callbacks %s", got)
	}
}

func TestRedeliveryStartsOneRun(t *testing.T) {
	h := newHarness(t)
	ev := order("H1", "129.90", false, 72*time.Hour, start)
	for range 3 {
		if st := h.webhook(h.shop, "same-delivery", ev); st != 202 {
			t.Fatalf("redelivery: %d", st)
		}
	}
	h.webhook(h.shop, "", ev) // the same event id under a new delivery id
	h.advance("20m")
	h.wantLedger("H1", "nudge:sent")
	if rs := h.runs("H1"); len(rs) != 1 {
		t.Errorf("runs %+v", rs)
	}
}

func TestAgentsRaceAndTenancy(t *testing.T) {
	h := newHarness(t)
	other := h.newShop("rival")
	h.webhook(h.shop, "", order("J1", "129.90", true, 0, start))
	h.advance("3h")
	open := h.tasks(h.agent(), "open")
	if len(open) != 1 {
		t.Fatalf("open %+v", open)
	}
	id := open[0].ID
	codes := make(chan int, 2)
	for _, agent := range []string{"a", "b"} {
		go func() {
			st, _ := h.call("POST", "/v1/tasks/"+id+"/claim", h.agent(), map[string]string{"agent": agent})
			codes <- st
		}()
	}
	if a, b := <-codes, <-codes; a+b != 200+409 {
		t.Errorf("two agents claiming: %d and %d, want one 200 and one 409", a, b)
	}
	if ts := h.tasks(other.Keys[care.RoleAgent], "claimed"); len(ts) != 0 {
		t.Errorf("another shop's agent sees %+v", ts)
	}
	if st, _ := h.call("POST", "/v1/tasks/"+id+"/complete", other.Keys[care.RoleAgent], map[string]string{"agent": "c", "outcome": "confirmed"}); st != 404 {
		t.Errorf("another shop's agent completing: %d, want 404", st)
	}
}

func TestTemplateEditAppliesToNewRunsOnly(t *testing.T) {
	h := newHarness(t)
	h.webhook(h.shop, "", order("K1", "129.90", false, 72*time.Hour, start))
	h.advance("1m")
	var cur struct {
		Version int             `json:"latest"`
		Body    json.RawMessage `json:"-"`
	}
	h.must("GET", "/v1/templates/unpaid_chase/versions", h.ops(), nil, 200, &cur)
	if cur.Version != 1 {
		t.Fatalf("template version %d, want 1 (pinned by the first run)", cur.Version)
	}
	_, cur.Body = h.call("GET", "/v1/templates/unpaid_chase", h.ops(), nil) // the bare document
	var tpl map[string]any
	json.Unmarshal(cur.Body, &tpl)
	steps := tpl["steps"].([]any)
	steps[0].(map[string]any)["script"].(map[string]any)["zh-CN"] = "新版提醒：订单 {{ order.id }} 待付款"

	bad := map[string]any{}
	json.Unmarshal(cur.Body, &bad)
	bad["steps"].([]any)[1].(map[string]any)["script"].(map[string]any)["zh-CN"] = "{{ order.totl }}"
	st, body := h.call("PUT", "/v1/templates/unpaid_chase", h.ops(), bad)
	if st != 400 || !bytes.Contains(body, []byte(`"field":"steps[1].script.zh-CN"`)) {
		t.Errorf("invalid template: %d %s, want 400 naming steps[1].script.zh-CN", st, body)
	}
	if st, _ := h.call("PUT", "/v1/templates/unpaid_chase", h.agent(), tpl); st != 403 {
		t.Errorf("an agent editing a template: %d, want 403", st)
	}
	var saved struct{ Version int }
	h.must("PUT", "/v1/templates/unpaid_chase", h.ops(), tpl, 201, &saved)
	if saved.Version != 2 {
		t.Fatalf("saved version %d, want 2", saved.Version)
	}
	h.webhook(h.shop, "", order("K2", "129.90", false, 72*time.Hour, h.now()))
	h.advance("10m")
	old, edited := h.messages("K1"), h.messages("K2")
	if len(old) != 1 || strings.Contains(old[0].Text, "新版") || old[0].TemplateVersion != 1 {
		t.Errorf("the run in flight changed: %+v", old)
	}
	if len(edited) != 1 || edited[0].Text != "新版提醒：订单 K2 待付款" || edited[0].TemplateVersion != 2 {
		t.Errorf("the new run: %+v", edited)
	}
}

func TestMetricsAndSLA(t *testing.T) {
	h := newHarness(t)
	h.webhook(h.shop, "", order("M1", "129.90", false, 72*time.Hour, start))
	h.webhook(h.shop, "", order("M2", "239.00", true, 0, start))
	h.advance("15m")
	h.webhook(h.shop, "", event("order.paid", "M1", h.now(), nil))
	h.advance("2h30m") // M2: no reply in 2 h → a call task with a 4 h SLA
	h.advance("5h")    // past the SLA
	open := h.tasks(h.agent(), "open")
	if len(open) != 1 || !open[0].Breached || open[0].Priority != 1 {
		t.Fatalf("after the SLA: %+v", open)
	}
	h.must("POST", "/v1/tasks/"+open[0].ID+"/claim", h.agent(), map[string]string{"agent": "xiaoli"}, 200, nil)
	h.advance("6m")
	h.must("POST", "/v1/tasks/"+open[0].ID+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": "unreachable"}, 200, nil)
	h.advance("0s")
	var rep struct {
		Workflows []map[string]any `json:"workflows"`
	}
	h.must("GET", "/v1/metrics?from=2026-11-11T00:00:00Z&to=2026-11-12T00:00:00Z", h.ops(), nil, 200, &rep)
	got := map[string]map[string]any{}
	for _, w := range rep.Workflows {
		got[w["workflow"].(string)] = w
	}
	chase, cod := got["unpaid_chase"], got["cod_confirm"]
	if chase["orders_chased"] != 1.0 || chase["chased_paid"] != 1.0 || chase["gmv_recovered"] != "129.90" {
		t.Errorf("unpaid_chase %v", chase)
	}
	if cod["cod_unreachable"] != 1.0 || cod["tasks_opened"] != 1.0 || cod["tasks_completed"] != 1.0 || cod["median_handling_seconds"] != 360.0 {
		t.Errorf("cod_confirm %v", cod)
	}
	if st, _ := h.call("GET", "/v1/metrics?from=2026-11-11T00:00:00Z", h.agent(), nil); st != 403 {
		t.Errorf("metrics with an agent key: %d, want 403", st)
	}
}

// TestLateCODIsConfirmedNotChased: Douyin says an order is cash on delivery
// only after creating it (tag 101 with pay_type 0 becomes a second
// order.created carrying payment_method cod): the chase stops, the COD
// confirmation starts.
func TestLateCODIsConfirmedNotChased(t *testing.T) {
	h := newHarness(t)
	ev := order("L1", "129.90", false, 72*time.Hour, start)
	o := ev["order"].(map[string]any)
	delete(o, "payment_method")
	o["needs_enrichment"] = true // as Douyin's first push: ids and times only
	if st := h.webhook(h.shop, "", ev); st != 202 {
		t.Fatalf("order.created: %d", st)
	}
	h.advance("1m")
	cod := order("L1", "129.90", true, 0, start)
	cod["id"] = "evt-cod-L1"
	h.webhook(h.shop, "", cod)
	h.advance("20m")
	h.wantLedger("L1", "ask:sent")
	if r := h.run("L1", care.UnpaidChase); r.Status != care.RunStopped || r.Outcome != "" {
		t.Errorf("chase %+v, want stopped without outcome", r)
	}
	if r := h.run("L1", care.CODConfirm); r.Status != care.RunRunning {
		t.Errorf("cod_confirm %+v, want running (waiting for the reply)", r)
	}
}

// TestFailedStepMarksTheRun: a step that cannot act (here: an execution
// started by hand with a template version that does not exist) fails the
// execution and marks the run failed, so ops see it in GET /v1/runs.
func TestFailedStepMarksTheRun(t *testing.T) {
	h := newHarness(t)
	h.webhook(h.shop, "", order("N1", "129.90", false, 72*time.Hour, start))
	h.advance("0s")
	in := `{"run":{"shop":"tea","order":"N1","workflow":"unpaid_chase","version":99},"step":""}`
	out, err := h.sfn.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:111111111111:stateMachine:unpaid_chase"),
		Name: aws.String("bad-version"), Input: aws.String(in)})
	if err != nil {
		t.Fatal(err)
	}
	h.advance("0s")
	d, err := h.sfn.DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn})
	if err != nil || d.Status != sfntypes.ExecutionStatusFailed || aws.ToString(d.Error) != "StepFailed" {
		t.Fatalf("execution %+v %v", d, err)
	}
	if r := h.run("N1", care.UnpaidChase); r.Status != care.RunFailed || r.Outcome != "error:InputError" {
		t.Errorf("run %+v, want failed with error:InputError", r)
	}
}

// TestCODAskWaitsForQuietHoursToEnd: an order at 23:30 shop time is asked
// to confirm at 08:00 (the template's quiet hours end), not at night.
func TestCODAskWaitsForQuietHoursToEnd(t *testing.T) {
	h := newHarness(t)
	night := time.Date(2026, 11, 11, 15, 30, 0, 0, time.UTC) // 23:30 in Shanghai
	h.must("POST", "/v1/dev/clock", h.rt.AdminToken, map[string]any{"to": night}, 200, nil)
	h.webhook(h.shop, "", order("Q1", "129.90", true, 0, night))
	h.advance("8h") // 07:30
	if ms := h.messages("Q1"); len(ms) != 0 {
		t.Fatalf("asked during quiet hours: %+v", ms)
	}
	h.advance("1h") // 08:30
	ms := h.wantLedger("Q1", "ask:sent")
	if want := time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC); !ms[0].SentAt.Equal(want) {
		t.Errorf("asked at %s, want %s (08:00 in Shanghai)", ms[0].SentAt, want)
	}
}

// TestReminderDueDuringDowntimeWaitsForMorning: the runtime was down from
// 21:48 to 03:00 (shop time) and a reminder came due at 21:58 meanwhile;
// waking at 03:00 it waits for the quiet hours to end instead of texting
// at night.
func TestReminderDueDuringDowntimeWaitsForMorning(t *testing.T) {
	h := newHarness(t)
	evening := time.Date(2026, 11, 11, 13, 48, 0, 0, time.UTC) // 21:48 in Shanghai
	h.must("POST", "/v1/dev/clock", h.rt.AdminToken, map[string]any{"to": evening}, 200, nil)
	h.webhook(h.shop, "", order("W1", "129.90", false, 72*time.Hour, evening))
	h.advance("0s") // the nudge is planned for 21:58
	// Jump the whole runtime's clock to 03:00 at once, as a process that slept.
	night := time.Date(2026, 11, 11, 19, 0, 0, 0, time.UTC)
	if err := h.rt.Virtual.Set(night); err != nil {
		t.Fatal(err)
	}
	h.advance("0s")
	if ms := h.messages("W1"); len(ms) != 0 {
		t.Fatalf("sent during quiet hours: %+v", ms)
	}
	h.advance("6h") // 09:00
	ms := h.messages("W1")
	if len(ms) == 0 || ms[0].Step != "nudge" || ms[0].Status != care.MessageSent || !ms[0].SentAt.Equal(night.Add(5*time.Hour)) {
		t.Errorf("ledger %+v, want the nudge sent at 08:00 shop time", ms)
	}
}
