package localruntime_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/infra/shopwebhook"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/metrics"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
	"github.com/ordercare/ordercare/workflows"
	codconfirm "github.com/ordercare/ordercare/workflows/cod_confirm"
)

// crossChase is the unpaid_chase template of the cross-check: the shape of
// a real shop's (a nudge, a "ships today" reminder an hour before the 16:00
// cut-off, a coupon six hours in, a call for large orders), sent through
// the shop's webhook so every message is seen on the shop's side too. For
// an order placed at 09:00 the cut-off reminder and the coupon both fall at
// 15:00: the minimum gap must part them.
const crossChase = `{
  "workflow": "unpaid_chase", "default_locale": "zh-CN", "channel": "webhook", "cutoff": "16:00",
  "quiet_hours": {"from": "22:00", "to": "08:00"}, "pay_window": "72h", "contact_budget": 3,
  "steps": [
    {"id": "nudge", "action": "message", "after": "10m",
     "script": {"zh-CN": "订单 {{ order.id }} 待付款 {{ order.total }}", "en": "Order {{ order.id }} awaits payment"}},
    {"id": "ships_today", "action": "message", "after": "30m", "before_cutoff": "1h",
     "script": {"zh-CN": "今天 {{ cutoff }} 前付款当天发货", "en": "Pay before {{ cutoff }} to ship today"}},
    {"id": "coupon", "action": "message", "after": "6h", "coupon": "SAVE5",
     "script": {"zh-CN": "优惠券 {{ step.coupon }}", "en": "Coupon {{ step.coupon }}"}},
    {"id": "call", "action": "call", "after": "12h", "before_deadline": "1h", "min_total": "500",
     "tag": "vip", "priority": 2, "sla": "2h", "outcomes": ["will_pay", "declined", "unreachable"],
     "reason": {"zh-CN": "大额订单 {{ order.id }} 未付款", "en": "Large order {{ order.id }} unpaid"},
     "script": {"zh-CN": "您好，订单 {{ order.id }} 还没有付款", "en": "Hello, order {{ order.id }} is unpaid"}}
  ]
}`

// shopSide is the shop's webhook receiver: what ordercare delivered, by id
// (a redelivery with the same id counts once, as the shop dedupes).
type shopSide struct {
	mu  sync.Mutex
	got map[string]shopwebhook.Payload
}

func (s *shopSide) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p shopwebhook.Payload
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &p); err != nil || p.ID == "" || p.ID != r.Header.Get("webhook-id") {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.got[p.ID] = p
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *shopSide) payloads() []shopwebhook.Payload {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]shopwebhook.Payload, 0, len(s.got))
	for _, p := range s.got {
		out = append(out, p)
	}
	return out
}

// TestMetricsCrossCheck drives a realistic day and a half of a shop through
// the local runtime — chased orders paid early, late, after a call, never;
// cancelled, opted out, placed at night; COD orders confirmed and declined
// by reply and by agents, unreachable, never called back, some decided the
// next day — then checks, for every six-hour window and for the whole run,
// that each figure of GET /v1/metrics equals what is counted directly from
// the ledger (GET /v1/messages), the shop's side of the webhook channel,
// the runs (GET /v1/runs), the orders' payment history and the tasks; that
// the windows add up to the whole; and that the whole matches the script.
func TestMetricsCrossCheck(t *testing.T) {
	h := newHarness(t)
	shop := &shopSide{got: map[string]shopwebhook.Payload{}}
	srv := httptest.NewServer(shop)
	defer srv.Close()
	h.must("PUT", "/v1/shops/tea/channels/webhook", h.ops(), map[string]string{"url": srv.URL, "secret": h.shop.WebhookSecret}, 200, nil)
	var chaseTpl map[string]any
	if err := json.Unmarshal([]byte(crossChase), &chaseTpl); err != nil {
		t.Fatal(err)
	}
	putTemplate(h, care.UnpaidChase, chaseTpl)
	codTpl := map[string]any{}
	b, _ := workflows.DefaultTemplate(care.CODConfirm)
	if err := json.Unmarshal(b, &codTpl); err != nil {
		t.Fatal(err)
	}
	codTpl["channel"] = "webhook"
	putTemplate(h, care.CODConfirm, codTpl)

	sh, _ := time.LoadLocation("Asia/Shanghai")
	day := func(d, hh, mm int) time.Time { return time.Date(2026, 11, 10+d, hh, mm, 0, 0, sh) } // day(1, 9, 0) = start
	to := func(at time.Time) {
		t.Helper()
		h.must("POST", "/v1/dev/clock", h.rt.AdminToken, map[string]any{"to": at}, 200, nil)
	}
	buyers := 0
	create := func(id, total string, cod bool, deadline time.Duration) {
		t.Helper()
		ev := order(id, total, cod, deadline, h.now())
		buyers++ // each order its own buyer: one buyer's opt-out is not another's
		ev["order"].(map[string]any)["buyer"].(map[string]any)["phone"] = fmt.Sprintf("+86139%08d", buyers)
		if st := h.webhook(h.shop, "", ev); st != 202 {
			t.Fatalf("order.created %s: %d", id, st)
		}
	}
	mark := func(typ, id string, extra map[string]any) {
		t.Helper()
		if st := h.webhook(h.shop, "", event(typ, id, h.now(), extra)); st != 202 {
			t.Fatalf("%s %s: %d", typ, id, st)
		}
	}
	reply := func(id, text string) {
		mark("buyer.replied", id, map[string]any{"reply": map[string]string{"text": text}})
	}
	// complete has an agent finish the order's open task; an optional one
	// may not exist (a task outside the shop's service hours).
	complete := func(id, outcome string, optional ...bool) {
		t.Helper()
		h.advance("0s")
		for _, tk := range h.tasks(h.agent(), "open") {
			if tk.OrderID == id {
				h.must("POST", "/v1/tasks/"+tk.ID+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": outcome}, 200, nil)
				h.advance("0s")
				return
			}
		}
		if len(optional) == 0 {
			t.Fatalf("no open task for order %s", id)
		}
		t.Logf("no open task for order %s at %s", id, h.now())
	}

	// The script. U: unpaid_chase orders, C: COD orders. Totals are CNY.
	totals := map[string]string{}
	for _, o := range []struct {
		id, total string
		cod       bool
		deadline  time.Duration
	}{
		{"U1", "129.90", false, 72 * time.Hour},  // paid after the nudge
		{"U2", "239.00", false, 72 * time.Hour},  // paid after the coupon
		{"U3", "1288.00", false, 72 * time.Hour}, // called by an agent, then paid
		{"U4", "129.90", false, 72 * time.Hour},  // cancelled
		{"U5", "99.00", false, 5 * time.Hour},    // a short pay deadline, never paid
		{"U6", "129.90", false, 72 * time.Hour},  // paid before any reminder
		{"U7", "129.90", false, 72 * time.Hour},  // opts out
		{"C1", "129.90", true, 0},                // confirms by reply
		{"C2", "129.90", true, 0},                // declines by reply, an agent confirms the decline
		{"C3", "129.90", true, 0},                // silent, unreachable by phone
		{"C4", "129.90", true, 0},                // silent, confirms on the phone
		{"C6", "129.90", true, 0},                // silent, nobody ever calls
	} {
		totals[o.id] = o.total
		create(o.id, o.total, o.cod, o.deadline)
	}
	h.advance("0s")
	to(day(1, 9, 1))
	reply("C2", "不要了")
	to(day(1, 9, 5))
	mark("order.paid", "U6", nil)
	reply("C1", "是的，确认")
	to(day(1, 9, 15))
	reply("U7", "退订")
	to(day(1, 9, 20))
	mark("order.paid", "U1", nil)
	to(day(1, 9, 30))
	complete("C2", "declined")
	to(day(1, 10, 0))
	mark("order.cancelled", "U4", nil)
	to(day(1, 11, 30))
	complete("C3", "unreachable")
	complete("C4", "confirmed")
	to(day(1, 14, 25))
	totals["U8"] = "129.90"
	create("U8", "129.90", false, 72*time.Hour) // the gap moves its cut-off reminder to 15:05
	to(day(1, 15, 40))
	mark("order.paid", "U2", nil)
	to(day(1, 16, 50))
	totals["C7"] = "129.90"
	create("C7", "129.90", true, 0) // declined the next day
	to(day(1, 16, 55))
	reply("C7", "不要了")
	to(day(1, 21, 30))
	complete("U3", "will_pay", true)
	to(day(1, 22, 0))
	mark("order.paid", "U3", nil)
	to(day(1, 22, 30))
	totals["U9"] = "129.90"
	create("U9", "129.90", false, 72*time.Hour) // nudged at 08:00
	to(day(1, 23, 30))
	totals["C5"] = "129.90"
	create("C5", "129.90", true, 0) // asked at 08:00
	h.advance("0s")
	if r := h.run("C5", care.CODConfirm); r.Step != codconfirm.WaitToAsk || r.NextAt == nil || !r.NextAt.Equal(day(2, 8, 0)) {
		t.Errorf("COD run waiting out quiet hours: step %q next_at %v, want %s at %s", r.Step, r.NextAt, codconfirm.WaitToAsk, day(2, 8, 0))
	}
	to(day(2, 8, 10))
	reply("C5", "是的")
	to(day(2, 8, 30))
	mark("order.paid", "U9", nil)
	to(day(2, 10, 0))
	complete("C7", "declined")
	totals["U10"] = "129.90"
	create("U10", "129.90", false, 72*time.Hour) // paid the day after
	to(day(3, 9, 0))
	mark("order.paid", "U10", nil)
	to(day(6, 0, 0)) // every deadline and call timeout has passed
	end := h.now()

	orders := slices.Sorted(func(yield func(string) bool) {
		for id := range totals {
			if !yield(id) {
				return
			}
		}
	})
	truth := collect(t, h, orders, shop)

	// Never bunched: two messages to one buyer are at least the gap apart.
	for _, id := range orders {
		var last time.Time
		for _, m := range truth.ledger[id] {
			if m.Status != care.MessageSent || m.Kind != care.KindMessage {
				continue
			}
			if !last.IsZero() && m.SentAt.Sub(last) < playbook.DefaultMinGap {
				t.Errorf("order %s: %s sent %s after the message before", id, m.Step, m.SentAt.Sub(last))
			}
			last = *m.SentAt
		}
	}

	// Every six-hour window, then the whole: metrics = direct counts.
	var slices6 []metrics.Report
	begin := start.Add(-time.Hour).Truncate(6 * time.Hour)
	for f := begin; f.Before(end); f = f.Add(6 * time.Hour) {
		slices6 = append(slices6, crossCheck(t, h, truth, f, f.Add(6*time.Hour)))
	}
	whole := crossCheck(t, h, truth, begin, begin.Add(time.Duration(len(slices6))*6*time.Hour))

	// The windows add up to the whole.
	sum := map[care.Workflow]figures{}
	for _, rep := range slices6 {
		for _, w := range rep.Workflows {
			sum[w.Workflow] = sum[w.Workflow].plus(figuresOf(w))
		}
	}
	for _, w := range whole.Workflows {
		if d := cmp.Diff(figuresOf(w), sum[w.Workflow]); d != "" {
			t.Errorf("%s: the six-hour windows do not add up to the whole (-whole +sum):\n%s", w.Workflow, d)
		}
	}

	// And the whole is what the script did.
	got := map[care.Workflow]metrics.Workflow{}
	for _, w := range whole.Workflows {
		got[w.Workflow] = w
	}
	chase, cod := got[care.UnpaidChase], got[care.CODConfirm]
	if chase.ChasedPaid != 5 || chase.GMVRecovered != "1916.70" || chase.OrdersChased != 9 || chase.RunsStarted != 10 {
		t.Errorf("unpaid_chase: chased %d, paid %d, GMV %s, runs %d; want 9 chased (U1-U5, U7-U10), 5 paid (U1, U2, U3, U9, U10), GMV 1916.70, 10 runs",
			chase.OrdersChased, chase.ChasedPaid, chase.GMVRecovered, chase.RunsStarted)
	}
	if chase.Skipped[steps.ReasonOptedOut] < 1 || chase.Skipped[playbook.SkipDeadlinePassed] < 1 || chase.Skipped[playbook.SkipBelowThreshold] < 1 {
		t.Errorf("unpaid_chase skips %v: want opted_out (U7), deadline_passed (U5) and below_threshold (small orders' calls)", chase.Skipped)
	}
	if cod.CODConfirmed != 3 || cod.CODDeclined != 2 || cod.RunsStarted != 7 || cod.Sent != 7 || cod.Notices < 5 {
		t.Errorf("cod_confirm: confirmed %d, declined %d, runs %d, asks %d, notices %d; want 3 (C1, C4, C5), 2 (C2, C7), 7, 7, at least 5",
			cod.CODConfirmed, cod.CODDeclined, cod.RunsStarted, cod.Sent, cod.Notices)
	}
	n := 0
	for _, v := range cod.Outcomes {
		n += v
	}
	if n != 7 || cod.Outcomes["cod_unreachable"] < 1 {
		t.Errorf("cod_confirm outcomes %v: want 7 (C3 unreachable, C6 never called back among them)", cod.Outcomes)
	}
	t.Logf("whole window: unpaid_chase sent %d, skipped %v, chased %d, paid %d, GMV %s; cod_confirm asks %d, notices %d, outcomes %v, tasks %d/%d",
		chase.Sent, chase.Skipped, chase.OrdersChased, chase.ChasedPaid, chase.GMVRecovered, cod.Sent, cod.Notices, cod.Outcomes,
		cod.TasksOpened, cod.TasksCompleted)
}

func putTemplate(h *harness, wf care.Workflow, doc map[string]any) {
	h.t.Helper()
	st, body := h.call("PUT", "/v1/templates/"+string(wf), h.ops(), doc)
	if st/100 != 2 {
		h.t.Fatalf("PUT template %s: %d %s", wf, st, body)
	}
}

// world is everything the cross-check counts from, read once at the end.
type world struct {
	ledger   map[string][]care.Message // by order, oldest first
	runs     []care.Run
	orders   map[string]care.OrderState
	tasks    []care.Task
	payloads []shopwebhook.Payload
}

func collect(t *testing.T, h *harness, orders []string, shop *shopSide) world {
	t.Helper()
	w := world{ledger: map[string][]care.Message{}, orders: map[string]care.OrderState{}, payloads: shop.payloads()}
	for _, id := range orders {
		w.ledger[id] = h.messages(id)
		w.runs = append(w.runs, h.runs(id)...)
		var o care.OrderState
		h.must("GET", "/v1/orders/"+id, h.ops(), nil, 200, &o)
		w.orders[id] = o
	}
	var err error
	if w.tasks, err = h.rt.Store.ListTasks(t.Context(), "tea", care.TaskFilter{}); err != nil {
		t.Fatal(err)
	}
	return w
}

// figures are the numbers of one workflow's report that windows add up.
type figures struct {
	Sent, Failed, Notices, NoticesFailed  int
	Skipped                               map[string]int
	Steps                                 map[string]int // sent + notices + skipped + failed per step
	RunsStarted                           int
	Outcomes                              map[string]int
	ChasedPaid, CODConfirmed, CODDeclined int
	CODUnreachable                        int
	GMV                                   string
	TasksOpened, TasksCompleted           int
}

func figuresOf(w metrics.Workflow) figures {
	f := figures{Sent: w.Sent, Failed: w.Failed, Notices: w.Notices, NoticesFailed: w.NoticesFailed, Skipped: w.Skipped,
		Steps: map[string]int{}, RunsStarted: w.RunsStarted, Outcomes: w.Outcomes, ChasedPaid: w.ChasedPaid,
		CODConfirmed: w.CODConfirmed, CODDeclined: w.CODDeclined, CODUnreachable: w.CODUnreachable,
		GMV: string(w.GMVRecovered), TasksOpened: w.TasksOpened, TasksCompleted: w.TasksCompleted}
	for _, s := range w.Steps {
		n := s.Sent + s.Failed + s.Notices + s.NoticesFailed
		for _, v := range s.Skipped {
			n += v
		}
		f.Steps[s.Step] = n
	}
	return f
}

func (f figures) plus(g figures) figures {
	add := func(a, b map[string]int) map[string]int {
		out := map[string]int{}
		for k, v := range a {
			out[k] += v
		}
		for k, v := range b {
			out[k] += v
		}
		return out
	}
	gmv := care.AddDecimals(care.Decimal(f.GMV), care.Decimal(g.GMV))
	if f.GMV == "" {
		gmv = care.Decimal(g.GMV)
	}
	return figures{Sent: f.Sent + g.Sent, Failed: f.Failed + g.Failed, Notices: f.Notices + g.Notices,
		NoticesFailed: f.NoticesFailed + g.NoticesFailed, Skipped: add(f.Skipped, g.Skipped), Steps: add(f.Steps, g.Steps),
		RunsStarted: f.RunsStarted + g.RunsStarted, Outcomes: add(f.Outcomes, g.Outcomes), ChasedPaid: f.ChasedPaid + g.ChasedPaid,
		CODConfirmed: f.CODConfirmed + g.CODConfirmed, CODDeclined: f.CODDeclined + g.CODDeclined,
		CODUnreachable: f.CODUnreachable + g.CODUnreachable, GMV: string(gmv),
		TasksOpened: f.TasksOpened + g.TasksOpened, TasksCompleted: f.TasksCompleted + g.TasksCompleted}
}

// crossCheck compares GET /v1/metrics over [from, to) with direct counts
// and returns the report.
func crossCheck(t *testing.T, h *harness, w world, from, to time.Time) metrics.Report {
	t.Helper()
	q := "from=" + url.QueryEscape(from.Format(time.RFC3339)) + "&to=" + url.QueryEscape(to.Format(time.RFC3339))
	var rep metrics.Report
	h.must("GET", "/v1/metrics?"+q, h.ops(), nil, 200, &rep)
	in := func(at time.Time) bool { return !at.Before(from) && at.Before(to) }

	// The ledger of the window, as the API pages it.
	var ledger []care.Message
	for cursor := ""; ; {
		var page struct {
			Messages []care.Message `json:"messages"`
			Next     string         `json:"next_cursor"`
		}
		p := "/v1/messages?limit=1000&" + q
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		h.must("GET", p, h.ops(), nil, 200, &page)
		ledger = append(ledger, page.Messages...)
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}

	for _, got := range rep.Workflows {
		wf := got.Workflow
		name := fmt.Sprintf("%s [%s, %s)", wf, from.Format("01-02 15:04Z"), to.Format("01-02 15:04Z"))
		want := figures{Skipped: map[string]int{}, Steps: map[string]int{}, Outcomes: map[string]int{}, GMV: "0"}
		chased := map[string]bool{}
		for _, m := range ledger {
			if m.Workflow != wf {
				continue
			}
			if m.Kind == care.KindConfirmation {
				continue // an opt-out's confirmation: no step, counted apart (Counts.Confirmations)
			}
			if m.Status != care.MessagePending {
				want.Steps[m.Step]++
			}
			switch {
			case m.Status == care.MessageSent && m.Kind == care.KindNotice:
				want.Notices++
			case m.Status == care.MessageSent && m.Kind == care.KindMessage:
				want.Sent++
				if wf == care.UnpaidChase {
					chased[m.OrderID] = true
				}
			case m.Status == care.MessageSent:
				t.Errorf("%s: sent entry %s has kind %q", name, m.ID, m.Kind)
			case m.Status == care.MessageFailed && m.Kind == care.KindNotice:
				want.NoticesFailed++
			case m.Status == care.MessageFailed:
				want.Failed++
			case m.Status == care.MessageSkipped:
				want.Skipped[m.Reason]++
			}
		}
		// The shop's side of the webhook channel: every message and notice
		// of the window arrived there once.
		var msgs, notices int
		for _, p := range w.payloads {
			if p.Workflow == wf && in(p.At) {
				switch p.Type {
				case "message":
					msgs++
				case "notice":
					notices++
				}
			}
		}
		if msgs != want.Sent || notices != want.Notices {
			t.Errorf("%s: the shop's webhook received %d messages and %d notices; the ledger says %d and %d",
				name, msgs, notices, want.Sent, want.Notices)
		}
		var gmv []care.Decimal
		for _, r := range w.runs {
			if r.Workflow != wf {
				continue
			}
			if in(r.StartedAt) {
				want.RunsStarted++
			}
			if r.Outcome == "" {
				continue
			}
			at := r.UpdatedAt
			if r.OutcomeAt != nil {
				at = *r.OutcomeAt
			}
			if !in(at) {
				continue
			}
			want.Outcomes[r.Outcome]++
			switch r.Outcome {
			case "cod_confirmed":
				want.CODConfirmed++
			case "cod_declined":
				want.CODDeclined++
			case "cod_unreachable":
				want.CODUnreachable++
			}
		}
		// Paid after a chase, from the orders themselves: paid in the
		// window, after at least one chase message reached the buyer.
		if wf == care.UnpaidChase {
			for id, o := range w.orders {
				i := slices.IndexFunc(o.History, func(m care.Milestone) bool { return m.Status == care.StatusPaid })
				if i < 0 || !in(o.History[i].At) {
					continue
				}
				paid := o.History[i]
				for _, m := range w.ledger[id] {
					if m.Workflow == wf && m.Status == care.MessageSent && m.Kind == care.KindMessage && m.SentAt.Before(paid.At) {
						want.ChasedPaid++
						gmv = append(gmv, o.Order.Total)
						break
					}
				}
			}
			if n := want.Outcomes["paid"]; n != want.ChasedPaid {
				t.Errorf("%s: %d runs ended paid, %d orders paid after a chase message", name, n, want.ChasedPaid)
			}
		}
		want.GMV = string(care.AddDecimals(gmv...))
		// COD outcomes against the notices the shop received for them.
		if wf == care.CODConfirm {
			byStep := map[string]int{}
			for _, p := range w.payloads {
				if p.Workflow == wf && p.Type == "notice" && in(p.At) {
					byStep[p.Step]++
				}
			}
			if byStep[codconfirm.NoticeConfirmed] != want.CODConfirmed || byStep[codconfirm.NoticeDeclined] != want.CODDeclined {
				t.Errorf("%s: the shop was told of %d confirmed and %d declined orders; runs say %d and %d",
					name, byStep[codconfirm.NoticeConfirmed], byStep[codconfirm.NoticeDeclined], want.CODConfirmed, want.CODDeclined)
			}
		}
		for _, tk := range w.tasks {
			if tk.Workflow != wf {
				continue
			}
			if in(tk.CreatedAt) {
				want.TasksOpened++
			}
			if tk.Status == care.TaskDone && tk.DoneAt != nil && in(*tk.DoneAt) {
				want.TasksCompleted++
			}
		}

		gotF := figuresOf(got)
		if d := cmp.Diff(want, gotF); d != "" {
			t.Errorf("%s: metrics differ from the direct counts (-direct +metrics):\n%s", name, d)
		}
		if got.OrdersChased != len(chased) {
			t.Errorf("%s: orders_chased %d, want %d (orders sent a chase message)", name, got.OrdersChased, len(chased))
		}
	}
	return rep
}
