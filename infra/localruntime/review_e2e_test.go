package localruntime_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/source"
)

const (
	deliveryCare  care.Workflow = "delivery_care"
	reviewRequest care.Workflow = "review_request"
	badReview     care.Workflow = "bad_review"
)

const jmSecret = "judgeme-secret-0123456789"

// deliveredOrder creates a paid order of buyer email placed now (on
// marketplace when not ""), ships it and reports it delivered after 2 days.
func (h *harness) deliveredOrder(id, email, marketplace string) {
	h.t.Helper()
	h.deliveredOrders(marketplace, id, email)
}

// deliveredOrders is deliveredOrder for several orders at once: pairs of
// id and email, all delivered at the same time.
func (h *harness) deliveredOrders(marketplace string, pairs ...string) {
	h.t.Helper()
	for i := 0; i < len(pairs); i += 2 {
		id, email := pairs[i], pairs[i+1]
		o := paidOrderAt(id, hangzhou, false, h.now())
		body := o["order"].(map[string]any)
		body["buyer"].(map[string]any)["email"] = email
		body["buyer"].(map[string]any)["phone"] = fmt.Sprintf("+861390000%04d", len(h.runsSeen))
		h.runsSeen = append(h.runsSeen, id)
		if marketplace != "" {
			body["marketplace"] = marketplace
		}
		h.webhook(h.shop, "", o)
		h.webhook(h.shop, "", event("order.paid", id, h.now(), nil))
		h.webhook(h.shop, "", event("order.shipped", id, h.now(), map[string]any{"parcels": []map[string]any{
			{"tracking_number": "YT" + id, "carrier": "YTO", "status": "in_transit", "last_scan_at": h.now(), "message": "已揽收"}}}))
	}
	h.advance("48h")
	for i := 0; i < len(pairs); i += 2 {
		id := pairs[i]
		h.webhook(h.shop, "", event("shipment.updated", id, h.now(), map[string]any{"parcel": map[string]any{
			"tracking_number": "YT" + id, "status": "delivered", "last_scan_at": h.now(), "message": "已签收，签收人：本人"}}))
	}
	h.advance("0s")
}

func (h *harness) reply(id, text string) {
	h.t.Helper()
	h.nextID++
	ev := event("buyer.replied", id, h.now(), map[string]any{"reply": map[string]string{"text": text}})
	ev["id"] = fmt.Sprintf("evt-reply-%s-%d", id, h.nextID)
	h.webhook(h.shop, "", ev)
	h.advance("0s")
}

// review posts a review.posted through the standard source.
func (h *harness) review(id, reviewID, platform string, rating int, text string) {
	h.t.Helper()
	h.nextID++
	ev := event("review.posted", id, h.now(), map[string]any{"review": map[string]any{
		"id": reviewID, "platform": platform, "rating": rating, "text": text}})
	ev["id"] = fmt.Sprintf("evt-review-%s-%d", id, h.nextID)
	h.webhook(h.shop, "", ev)
	h.advance("0s")
}

// judgeme posts a testdata payload of the judgeme source, re-timed to now,
// with the reviewer email and rating given.
func (h *harness) judgeme(file, email string, rating int) {
	h.t.Helper()
	b, err := os.ReadFile("../../internal/source/testdata/" + file)
	if err != nil {
		h.t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		h.t.Fatal(err)
	}
	rv := doc["review"].(map[string]any)
	rv["rating"] = rating
	rv["reviewer"].(map[string]any)["email"] = email
	if doc["event"] == "review/created" {
		rv["created_at"] = h.now().Format(time.RFC3339)
	}
	rv["updated_at"] = h.now().Format(time.RFC3339)
	body, _ := json.Marshal(doc)
	req, _ := http.NewRequestWithContext(h.t.Context(), "POST", h.api.URL+"/webhooks/"+h.shop.ID+"/judgeme", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(source.HeaderJudgemeHMAC, source.JudgemeSign(jmSecret, body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		h.t.Fatalf("judgeme %s: %d", file, res.StatusCode)
	}
	h.advance("0s")
}

func (h *harness) runOf(orderID string, wf care.Workflow) care.Run {
	h.t.Helper()
	return h.run(orderID, wf)
}

func (h *harness) tasksOf(key, status string, wf care.Workflow) []taskView {
	var out []taskView
	for _, t := range h.tasks(key, status) {
		if t.Workflow == wf {
			out = append(out, t)
		}
	}
	return out
}

// metricsOf is wf's figures in /v1/metrics over November to January.
func (h *harness) metricsOf(wf care.Workflow) map[string]any {
	h.t.Helper()
	var rep struct {
		Workflows []map[string]any `json:"workflows"`
	}
	h.must("GET", "/v1/metrics?from=2026-11-01T00:00:00Z&to=2027-01-31T00:00:00Z&workflow="+string(wf), h.ops(), nil, 200, &rep)
	return rep.Workflows[0]
}

// outcomes is wf's run outcomes in /v1/metrics over November and December.
func (h *harness) outcomesOf(wf care.Workflow) map[string]any {
	h.t.Helper()
	var rep struct {
		Workflows []map[string]any `json:"workflows"`
	}
	h.must("GET", "/v1/metrics?from=2026-11-01T00:00:00Z&to=2027-01-31T00:00:00Z&workflow="+string(wf), h.ops(), nil, 200, &rep)
	out, _ := rep.Workflows[0]["outcomes"].(map[string]any)
	return out
}

// inQuiet reports whether t is inside 21:00-09:00 Shanghai.
func inQuiet(t time.Time) bool {
	hh := t.In(time.FixedZone("CST", 8*3600)).Hour()
	return hh >= 21 || hh < 9
}

// TestCareThenOneReviewAsk: a delivered order gets its care message a day
// later in the buyer's daytime; a reply reporting a problem opens a
// quality task quoting it; the review ask still comes a week after
// delivery, then at most the one reminder, whatever the buyer replied; an
// opted-out buyer gets nothing more; a review stops the asks.
func TestCareThenOneReviewAsk(t *testing.T) {
	h := newHarness(t)
	h.advance("12h") // 21:00 Shanghai: deliveries land in the evening
	h.deliveredOrders("", "R1", "r1@example.com", "R2", "r2@example.com", "R3", "r3@example.com", "R4", "r4@example.com")
	if r := h.runOf("R1", deliveryCare); r.Status != care.RunScheduled || r.NextAt == nil {
		t.Fatalf("care run %+v, want scheduled", r)
	}
	h.advance("24h") // 21:00 the next day: quiet hours hold the care message until 09:00
	h.wantEntriesOf("R1", deliveryCare)
	h.advance("12h")
	ms := h.wantEntriesOf("R1", deliveryCare, "care:sent")
	if inQuiet(*ms[0].SentAt) || !strings.Contains(ms[0].Text, "回复") {
		t.Errorf("care message at %v (quiet hours?): %q", ms[0].SentAt, ms[0].Text)
	}
	for _, bad := range []string{"好评", "差评", "先联系"} {
		if strings.Contains(ms[0].Text, bad) {
			t.Errorf("care message says %q: %s", bad, ms[0].Text)
		}
	}
	h.review("R4", "rv-4", "shopify", 3, "还行") // before any ask: unsolicited
	h.reply("R1", "罐子压坏了，茶叶漏出来了")
	h.reply("R2", "退订")
	tasks := h.tasksOf(h.agent(), "open", deliveryCare)
	if len(tasks) != 1 || tasks[0].Tag != care.TagQuality || !strings.Contains(tasks[0].Reason, "罐子压坏了") {
		t.Fatalf("care tasks %+v, want one quality task quoting the reply", tasks)
	}
	h.advance("150h") // past the ask (7 days after delivery, 10:00)
	// Nobody took R1's task within task_window (48 h): at its end the run
	// cancelled it and ended expired, in a third execution of one Task.
	if c := h.runOf("R1", deliveryCare); c.Outcome != "reply_expired" || c.Gen != 2 || h.transitions(c) != 3 {
		t.Errorf("R1 care run %+v (%d transitions), want reply_expired after 3 executions of one Task", c, h.transitions(c))
	}
	if open := h.tasksOf(h.agent(), "open", deliveryCare); len(open) != 0 {
		t.Errorf("R1's reply task still open after task_window: %+v", open)
	}
	h.wantEntriesOf("R1", reviewRequest, "ask:sent")
	h.wantEntriesOf("R2", reviewRequest, "ask:skipped:opted_out")
	ms = h.wantEntriesOf("R3", reviewRequest, "ask:sent")
	if inQuiet(*ms[0].SentAt) {
		t.Errorf("ask sent in quiet hours at %v", ms[0].SentAt)
	}
	r1 := h.messages("R1")
	if a, b := strings.ReplaceAll(entry(r1, "ask").Text, "R1", "R3"), entry(h.messages("R3"), "ask").Text; a != b {
		t.Errorf("the ask differs between a buyer who complained and one who did not:\n%s\n%s", a, b)
	}
	h.review("R3", "rv-3", "shopify", 5, "很好")
	h.advance("200h")
	h.wantEntriesOf("R1", reviewRequest, "ask:sent", "reminder:sent")
	h.wantEntriesOf("R3", reviewRequest, "ask:sent")
	if r := h.runOf("R3", reviewRequest); r.Outcome != "reviewed" {
		t.Errorf("R3 review_request run %+v, want reviewed", r)
	}
	h.advance("600h") // past the window
	h.wantEntriesOf("R1", reviewRequest, "ask:sent", "reminder:sent")
	r := h.runOf("R1", reviewRequest)
	if r.Status != care.RunSucceeded || r.Outcome != "asked" {
		t.Errorf("R1 review_request run %+v, want asked", r)
	}
	t.Logf("review_request, ask + reminder: %d state transitions", h.transitions(r))
	t.Logf("delivery_care, care unanswered: %d state transitions", h.transitions(h.runOf("R3", deliveryCare)))
	h.review("R1", "rv-1", "shopify", 3, "还可以") // after both asks: solicited, counted from the order
	m := h.metricsOf(reviewRequest)
	if got := m["outcomes"].(map[string]any); got["reviewed"] != 2.0 || got["asked"] != 1.0 {
		t.Errorf("review_request outcomes %v", got)
	}
	if m["solicited_reviews"] != 2.0 || m["solicited_avg_rating"] != 4.0 || m["reviews_after_asks"] != 1.0 ||
		m["unsolicited_reviews"] != 1.0 || m["unsolicited_avg_rating"] != 3.0 {
		t.Errorf("review_request ratings %v", m)
	}
	if v := m["versions"].([]any); len(v) != 1 || v[0].(map[string]any)["template_version"] != 1.0 {
		t.Errorf("versions %v", v)
	}
	if c := h.metricsOf(deliveryCare); c["sent"] != 4.0 || c["tasks_opened"] != 1.0 {
		t.Errorf("delivery_care sent %v (one per order), tasks %v", c["sent"], c["tasks_opened"])
	}
	// An unanswered care message: the run rested through the reply window
	// and ended there with no second execution; the ask + reminder rested
	// between them: one execution per message.
	if c := h.runOf("R3", deliveryCare); c.Outcome != "care_no_reply" || c.Gen != 1 || c.Execution != "" || h.transitions(c) != 1 {
		t.Errorf("R3 care run %+v (%d transitions), want care_no_reply after one execution of 1 transition (its one Task)", c, h.transitions(c))
	}
	if h.transitions(r) != 2 || r.Gen != 1 {
		t.Errorf("R1 review_request run %+v (%d transitions), want two executions of one transition", r, h.transitions(r))
	}
}

// TestAmazonOrder: Amazon forbids care messages (skipped with the reason)
// and allows one review ask, from 5 days after delivery: no reminder.
func TestAmazonOrder(t *testing.T) {
	h := newHarness(t)
	h.deliveredOrder("Z1", "z1@example.com", "amazon.de")
	delivered := h.now()
	h.wantEntriesOf("Z1", deliveryCare, "care:skipped:platform_forbids")
	if r := h.runOf("Z1", deliveryCare); r.Execution != "" || r.Outcome != "care_skipped" {
		t.Errorf("care run %+v, want ended with no execution", r)
	}
	h.advance("1000h")
	ms := h.wantEntriesOf("Z1", reviewRequest, "ask:sent")
	if ms[0].SentAt.Sub(delivered) < 120*time.Hour || ms[0].SentAt.Sub(delivered) > 30*24*time.Hour {
		t.Errorf("ask at %v, delivered %v: outside Amazon's 5-30 days", ms[0].SentAt, delivered)
	}
}

// TestBadJudgemeReviewRevised: a 1-star Judge.me review opens a priority
// task at once with the order's story; the agent reissues; the revise ask
// goes once; the buyer raises the review to 4 stars: revised.
func TestBadJudgemeReviewRevised(t *testing.T) {
	h := newHarness(t)
	h.must("PUT", "/v1/shops/tea/sources/judgeme", h.ops(), map[string]string{"secret": jmSecret}, 200, nil)
	h.deliveredOrder("J1", "mei.lin@example.com", "")
	h.advance("30h")
	h.reply("J1", "收到了，但是罐子凹了")
	h.judgeme("judgeme_review_created.json", "mei.lin@example.com", 1)
	tasks := h.tasksOf(h.agent(), "open", badReview)
	if len(tasks) != 1 {
		t.Fatalf("bad_review tasks %+v, want 1", tasks)
	}
	tk := tasks[0]
	if tk.Priority != 1 || tk.Tag != care.TagQuality || tk.DueAt.Sub(tk.CreatedAt) > 12*time.Hour {
		t.Errorf("task priority %d tag %s SLA %v", tk.Priority, tk.Tag, tk.DueAt.Sub(tk.CreatedAt))
	}
	s := tk.Order.Story
	if s == nil || len(s.Parcels) < 2 || len(s.Replies) != 1 || len(s.Reviews) != 1 || len(s.Tasks) == 0 || len(tk.Order.Said) == 0 {
		t.Fatalf("story %+v, said %v", s, tk.Order.Said)
	}
	if !strings.Contains(tk.Reason, "dented") {
		t.Errorf("task reason does not quote the review: %s", tk.Reason)
	}
	h.must("POST", "/v1/tasks/"+tk.ID+"/claim", h.agent(), map[string]string{"agent": "xiaoli"}, 200, nil)
	h.must("POST", "/v1/tasks/"+tk.ID+"/notes", h.agent(), map[string]string{"agent": "xiaoli", "text": "补发一罐"}, 200, nil)
	h.must("POST", "/v1/tasks/"+tk.ID+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": "reissued"}, 200, nil)
	h.advance("72h")
	h.wantEntriesOf("J1", badReview, "revise:sent")
	if m := entry(h.messages("J1"), "revise"); inQuiet(*m.SentAt) {
		t.Errorf("revise ask in quiet hours %v", m.SentAt)
	}
	h.judgeme("judgeme_review_updated.json", "mei.lin@example.com", 4)
	r := h.runOf("J1", badReview)
	if r.Outcome != "revised" || r.Subject != "418552901" {
		t.Errorf("bad_review run %+v, want revised", r)
	}
	h.advance("800h")
	h.wantEntriesOf("J1", badReview, "revise:sent")
	m := h.metricsOf(badReview)
	if got := m["outcomes"].(map[string]any); got["revised"] != 1.0 {
		t.Errorf("bad_review outcomes %v", got)
	}
	if got := m["task_outcomes"].(map[string]any); got["reissued"] != 1.0 || m["tasks_within_sla"] != 1.0 || m["median_first_action_seconds"] == nil {
		t.Errorf("bad_review task figures %v", m)
	}
	t.Logf("bad_review, task + revise ask + revised: %d state transitions", h.transitions(r))
}

// TestNoReviseAskOnTrustpilot: the same resolution on a Trustpilot review
// sends no revise ask; the run ends resolved after its watch.
func TestNoReviseAskOnTrustpilot(t *testing.T) {
	h := newHarness(t)
	h.deliveredOrder("T1", "t1@example.com", "")
	h.review("T1", "tp-1", "trustpilot", 1, "Package arrived late and damaged")
	tasks := h.tasksOf(h.agent(), "open", badReview)
	if len(tasks) != 1 || tasks[0].Tag != care.TagLogistics {
		t.Fatalf("tasks %+v, want one logistics task", tasks)
	}
	h.must("POST", "/v1/tasks/"+tasks[0].ID+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": "refunded"}, 200, nil)
	h.advance("800h")
	h.wantEntriesOf("T1", badReview)
	if r := h.runOf("T1", badReview); r.Outcome != "resolved" || r.Status != care.RunSucceeded {
		t.Errorf("run %+v, want resolved", r)
	}
	// A good review opens nothing.
	h.deliveredOrder("T2", "t2@example.com", "")
	h.review("T2", "tp-2", "trustpilot", 5, "Lovely")
	if r := h.runOf("T2", badReview); r.Outcome != "not_bad" || r.Execution != "" {
		t.Errorf("good review run %+v", r)
	}
}

// TestMaliciousEvidencePack: an extortion message then a 1-star review;
// the agent marks it malicious: the pack quotes the message, holds no
// phone number or address, and the appeal deadline is the task's SLA.
func TestMaliciousEvidencePack(t *testing.T) {
	h := newHarness(t)
	h.deliveredOrder("M1", "m1@example.com", "")
	h.reply("M1", "不退我50元我就给差评，打我电话13912345678")
	h.review("M1", "dy-9", "douyin", 1, "垃圾商家")
	tasks := h.tasksOf(h.agent(), "open", badReview)
	if len(tasks) != 1 {
		t.Fatalf("tasks %+v", tasks)
	}
	id := tasks[0].ID
	var evs struct{ Events []struct{ Event care.Event } }
	h.must("GET", "/v1/orders/M1/events", h.ops(), nil, 200, &evs)
	quote := ""
	for _, e := range evs.Events {
		if e.Event.Type == care.BuyerReplied {
			quote = e.Event.ID
		}
	}
	bad := map[string]any{"agent": "xiaoli", "kind": "extortion", "reason": "not_based_on_genuine_experience", "quote_events": []string{quote}}
	if st, b := h.call("POST", "/v1/tasks/"+id+"/malicious", h.agent(), bad); st != 400 || !strings.Contains(string(b), `"reason"`) {
		t.Fatalf("trustpilot reason on douyin: %d %s", st, b)
	}
	big := map[string]any{"agent": "xiaoli", "kind": "extortion", "reason": "extortion_for_gain",
		"files": []map[string]any{{"name": "chat.png", "content_type": "image/png", "data": make([]byte, care.MaxAttachmentBytes+1)}}}
	if st, b := h.call("POST", "/v1/tasks/"+id+"/malicious", h.agent(), big); st != 400 || !strings.Contains(string(b), "files[0].data") {
		t.Fatalf("oversized file: %d %s", st, b)
	}
	if st, b := h.call("GET", "/v1/tasks/"+id+"/evidence", h.agent(), nil); st != 404 {
		t.Fatalf("evidence before any mark: %d %s", st, b)
	}
	for field, body := range map[string]map[string]any{
		"kind":            {"agent": "xiaoli", "kind": "annoying", "reason": "extortion_for_gain"},
		"deadline":        {"agent": "xiaoli", "kind": "extortion", "reason": "extortion_for_gain", "deadline": h.now().Add(-time.Hour)},
		"quote_events[0]": {"agent": "xiaoli", "kind": "extortion", "reason": "extortion_for_gain", "quote_events": []string{"evt-nope"}},
		"review_id":       {"agent": "xiaoli", "kind": "extortion", "reason": "extortion_for_gain", "review_id": "other"},
		"files[0].content_type": {"agent": "xiaoli", "kind": "extortion", "reason": "extortion_for_gain",
			"files": []map[string]any{{"name": "x.exe", "content_type": "application/x-msdownload", "data": []byte("MZ")}}},
	} {
		if st, b := h.call("POST", "/v1/tasks/"+id+"/malicious", h.agent(), body); st != 400 || !strings.Contains(string(b), `"field":"`+field+`"`) {
			t.Errorf("bad %s: %d %s", field, st, b)
		}
	}
	if open := h.tasksOf(h.agent(), "open", badReview); len(open) != 1 || open[0].Appeal != nil {
		t.Fatalf("a refused mark changed the task: %+v", open)
	}
	deadline := h.now().Add(7 * 24 * time.Hour).Truncate(time.Second)
	ok := map[string]any{"agent": "xiaoli", "kind": "extortion", "reason": "extortion_for_gain", "deadline": deadline,
		"quote_events": []string{quote}, "statement": "买家以差评要挟退款 50 元。",
		"files": []map[string]any{{"name": "chat.png", "content_type": "image/png", "data": []byte("\x89PNG fake")}}}
	var pack care.EvidencePack
	h.must("POST", "/v1/tasks/"+id+"/malicious", h.agent(), ok, 200, &pack)
	if len(pack.BuyerMessage) != 1 || !pack.BuyerMessage[0].Quoted || !strings.Contains(pack.BuyerMessage[0].Text, "不退我50元") {
		t.Errorf("pack buyer messages %+v", pack.BuyerMessage)
	}
	if len(pack.CarrierTrail) < 2 || len(pack.Timeline) < 3 || pack.Review.ID != "dy-9" || len(pack.Files) != 1 {
		t.Errorf("pack %+v", pack)
	}
	_, raw := h.call("GET", "/v1/tasks/"+id+"/evidence", h.agent(), nil)
	st, page := h.call("GET", "/v1/tasks/"+id+"/evidence.html", h.agent(), nil)
	if st != 200 || !strings.Contains(string(page), "不退我50元") {
		t.Fatalf("html: %d", st)
	}
	for _, leak := range []string{"13912345678", "+8613900000000", "13900000000", "文三路", "杭州市", "林美", "陈晓燕", "m1@example.com"} {
		if strings.Contains(string(raw), leak) || strings.Contains(string(page), leak) {
			t.Errorf("evidence pack leaks %q", leak)
		}
	}
	open := h.tasksOf(h.agent(), "open", badReview)
	if len(open) != 1 || !open[0].DueAt.Equal(deadline) || open[0].Appeal == nil {
		t.Errorf("task after the mark %+v, want due at the deadline %v", open, deadline)
	}
	h.must("POST", "/v1/tasks/"+id+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": "appeal_won"}, 200, nil)
	h.advance("0s")
	if r := h.runOf("M1", badReview); r.Outcome != "appeal_won" {
		t.Errorf("run %+v", r)
	}
	if m := h.metricsOf(badReview); m["tasks_appealed"] != 1.0 || m["outcomes"].(map[string]any)["appeal_won"] != 1.0 {
		t.Errorf("bad_review appeal figures %v", m)
	}
	if st, _ := h.call("POST", "/v1/tasks/"+id+"/malicious", h.agent(), ok); st != 409 {
		t.Errorf("mark a done task: %d, want 409", st)
	}
}

// TestReviewLoweredOpensTask: a good review ends its bad_review run with
// no execution (not_bad); the buyer then lowers the same review to one
// star: the run is asked again and opens the task at once.
func TestReviewLoweredOpensTask(t *testing.T) {
	h := newHarness(t)
	h.deliveredOrder("L1", "lin@example.com", "")
	h.advance("30h")
	h.review("L1", "rv-l1", "shopify", 5, "很好")
	if r := h.runOf("L1", badReview); r.Outcome != "not_bad" || r.Execution != "" {
		t.Fatalf("bad_review run after a good review %+v, want not_bad with no execution", r)
	}
	h.review("L1", "rv-l1", "shopify", 1, "用了两天就坏了")
	tasks := h.tasksOf(h.agent(), "open", badReview)
	if len(tasks) != 1 || !strings.Contains(tasks[0].Reason, "坏了") {
		t.Fatalf("bad_review tasks %+v, want one quoting the lowered review", tasks)
	}
	if r := h.runOf("L1", badReview); r.Status != care.RunRunning || r.Execution == "" || r.Outcome != "" {
		t.Errorf("bad_review run %+v, want running with an execution", r)
	}
}

// TestCareReplyTaskHandled: a reply to the care message opens one task
// (the run does not wait in an execution for it); a second reply while it
// is open opens no other; the agent finishes it; at the end of task_window
// the run ends reply_handled: three executions of one Task state.
func TestCareReplyTaskHandled(t *testing.T) {
	h := newHarness(t)
	h.deliveredOrder("Q1", "q1@example.com", "")
	h.advance("48h")
	h.wantEntriesOf("Q1", deliveryCare, "care:sent")
	h.reply("Q1", "怎么冲泡比较好？")
	tasks := h.tasksOf(h.agent(), "open", deliveryCare)
	if len(tasks) != 1 || tasks[0].Tag != care.TagService || tasks[0].Token != "" {
		t.Fatalf("care tasks %+v, want one service task with no task token", tasks)
	}
	if r := h.runOf("Q1", deliveryCare); r.Status != care.RunScheduled || r.Step != "reply" || r.Execution != "" {
		t.Fatalf("care run %+v, want resting at step reply with no execution", r)
	}
	h.advance("1h")
	h.reply("Q1", "还有，保质期多久？")
	if again := h.tasksOf(h.agent(), "open", deliveryCare); len(again) != 1 || again[0].ID != tasks[0].ID {
		t.Fatalf("after a second reply: %+v, want the one task", again)
	}
	h.must("POST", "/v1/tasks/"+tasks[0].ID+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": "answered"}, 200, nil)
	h.advance("72h")
	r := h.runOf("Q1", deliveryCare)
	if r.Outcome != "reply_handled" || r.Status != care.RunSucceeded || h.transitions(r) != r.Gen+1 {
		t.Errorf("care run %+v (%d transitions), want reply_handled, one transition per execution", r, h.transitions(r))
	}
}
