package localruntime_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

const preship care.Workflow = "preship_check"

// paidOrderAt is an order.created body of a prepaid order with address a and
// one item, perishable or not.
func paidOrderAt(id string, a map[string]any, perishable bool, placed time.Time) map[string]any {
	o := order(id, "198.00", false, 0, placed)
	body := o["order"].(map[string]any)
	body["shipping_address"] = a
	body["items"] = []map[string]any{{"sku": "FR-1", "title": "鲜果礼盒", "quantity": 1, "price": "198.00", "perishable": perishable}}
	return o
}

// wantEntries checks the order's ledger as a set: entries written at one
// instant (the hold notice and the ask) have no order among them.
func (h *harness) wantEntries(orderID string, want ...string) []care.Message {
	h.t.Helper()
	return h.wantEntriesOf(orderID, "", want...)
}

// wantEntriesOf is wantEntries over the entries of workflow wf only (every
// workflow's when wf is ""): other workflows of the order (a shipping
// notice beside a stall) do not disturb a workflow's test.
func (h *harness) wantEntriesOf(orderID string, wf care.Workflow, want ...string) []care.Message {
	h.t.Helper()
	var ms []care.Message
	for _, m := range h.messages(orderID) {
		if wf == "" || m.Workflow == wf {
			ms = append(ms, m)
		}
	}
	got := ledger(ms)
	slices.Sort(got)
	slices.Sort(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		h.t.Fatalf("ledger of %s:\n got  %v\n want %v", orderID, got, want)
	}
	return ms
}

// entry returns the ledger entry of step.
func entry(ms []care.Message, step string) care.Message {
	for _, m := range ms {
		if m.Step == step {
			return m
		}
	}
	return care.Message{}
}

var (
	hangzhou = map[string]any{"name": "林美", "line1": "文三路 1 号", "city": "杭州市", "province": "浙江省", "postal_code": "310000", "country": "CN"}
	lhasa    = map[string]any{"name": "林美", "line1": "北京中路 2 号", "city": "拉萨市", "province": "西藏自治区", "postal_code": "850000", "country": "CN"}
)

// TestPreshipUnflaggedEndsAtOnce: a paid order no rule flags ends its
// check at once, sends nothing and costs a handful of transitions.
func TestPreshipUnflaggedEndsAtOnce(t *testing.T) {
	h := newHarness(t)
	h.webhook(h.shop, "", paidOrderAt("P1", hangzhou, true, start))
	h.advance("1m")
	h.webhook(h.shop, "", event("order.paid", "P1", h.now(), nil))
	h.advance("0s")
	r := h.run("P1", preship)
	if r.Status != care.RunSucceeded || r.Outcome != "clear" || r.Sent != 0 {
		t.Fatalf("run %+v, want succeeded clear", r)
	}
	h.wantLedger("P1")
	// The router applied the rules: no execution at all.
	n := h.transitions(r)
	if n != 0 || r.Execution != "" {
		t.Errorf("%d transitions (execution %q) for an unflagged order, want none", n, r.Execution)
	}
	t.Logf("preship_check, unflagged: %d state transitions", n)
}

// TestPreshipConfirmedByReply: perishables to a remote province: the shop
// is told to hold the order, the buyer is asked; a yes releases it.
func TestPreshipConfirmedByReply(t *testing.T) {
	h := newHarness(t)
	h.webhook(h.shop, "", paidOrderAt("P2", lhasa, true, start))
	h.advance("1m")
	h.webhook(h.shop, "", event("order.paid", "P2", h.now(), nil))
	h.advance("0s")
	ms := h.wantEntries("P2", "hold:sent", "ask:sent")
	if hold, ask := entry(ms, "hold"), entry(ms, "ask"); hold.Kind != care.KindNotice || ask.Kind == care.KindNotice || !strings.Contains(ask.Text, "收货地址") {
		t.Errorf("hold %+v, ask %+v", hold, ask)
	}
	r := h.run("P2", preship)
	// Ship-by is paid + ship_within 48h (09:01 Shanghai); call_before 12h
	// puts the call at 21:01, past service hours, so 4h (its SLA) before
	// they end: 17:01 Shanghai the next day.
	if wantCall := start.Add(time.Minute + 32*time.Hour); r.Step != "ask" || r.NextAt == nil || !r.NextAt.Equal(wantCall) {
		t.Errorf("run waiting: step %q next_at %v, want ask until %v", r.Step, r.NextAt, wantCall)
	}
	h.advance("10m")
	h.webhook(h.shop, "", event("buyer.replied", "P2", h.now(), map[string]any{"reply": map[string]string{"text": "是的，没问题"}}))
	h.advance("0s")
	h.wantEntries("P2", "hold:sent", "ask:sent", "release:sent")
	r = h.run("P2", preship)
	if r.Status != care.RunSucceeded || r.Outcome != "address_confirmed" || r.Sent != 1 {
		t.Errorf("run %+v", r)
	}
	if open := h.tasks(h.agent(), "open"); len(open) != 0 {
		t.Errorf("open tasks %+v", open)
	}
	t.Logf("preship_check, flagged and confirmed by reply: %d state transitions", h.transitions(r))
}

// TestPreshipNewAddressGoesToAgent: a reply with a new address opens an
// agent task at once, quoting it; the agent's outcome ends the run.
func TestPreshipNewAddressGoesToAgent(t *testing.T) {
	h := newHarness(t)
	h.webhook(h.shop, "", paidOrderAt("P3", lhasa, true, start))
	h.advance("1m")
	h.webhook(h.shop, "", event("order.paid", "P3", h.now(), nil))
	h.advance("5m")
	h.webhook(h.shop, "", event("buyer.replied", "P3", h.now(), map[string]any{"reply": map[string]string{"text": "请改成成都市武侯区人民南路 3 号"}}))
	h.advance("0s")
	open := h.tasks(h.agent(), "open")
	if len(open) != 1 || open[0].Tag != care.TagLogistics || !strings.Contains(open[0].Reason, "收货地区命中规则 remote") ||
		!strings.Contains(open[0].Reason, "人民南路") {
		t.Fatalf("open tasks %+v", open)
	}
	h.must("POST", "/v1/tasks/"+open[0].ID+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": "address_updated"}, 200, nil)
	h.advance("0s")
	if r := h.run("P3", preship); r.Status != care.RunSucceeded || r.Outcome != "address_updated" {
		t.Errorf("run %+v", r)
	}
	h.wantEntries("P3", "hold:sent", "ask:sent")
}

// TestPreshipSilenceCallsBeforeShipBy: silence opens the call timed from
// the platform's ship-by deadline: 12h before it (call_before) would be
// 21:00 in Shanghai, after service hours (09:00-21:00) with nothing left
// before the 09:00 deadline, so it opens at 17:00 (the call's 4h SLA before
// closing). Shipping the order stops the run and cancels the task.
func TestPreshipSilenceCallsBeforeShipBy(t *testing.T) {
	h := newHarness(t)
	o := paidOrderAt("P4", lhasa, true, start)
	shipBy := start.Add(24 * time.Hour)
	o["order"].(map[string]any)["ship_by"] = shipBy
	h.webhook(h.shop, "", o)
	h.advance("1m")
	h.webhook(h.shop, "", event("order.paid", "P4", h.now(), nil))
	h.advance("7h")
	if open := h.tasks(h.agent(), "open"); len(open) != 0 {
		t.Fatalf("a task before the call is due: %+v", open)
	}
	if r := h.run("P4", preship); r.NextAt == nil || !r.NextAt.Equal(start.Add(8*time.Hour)) {
		t.Errorf("run waits until %v, want %v (17:00 Shanghai)", r.NextAt, start.Add(8*time.Hour))
	}
	h.advance("1h")
	open := h.tasks(h.agent(), "open")
	if len(open) != 1 || !strings.Contains(open[0].Reason, "买家未回复地址确认") || open[0].DueAt.After(shipBy) {
		t.Fatalf("open tasks %+v", open)
	}
	h.webhook(h.shop, "", event("order.shipped", "P4", h.now(), map[string]any{"parcels": []map[string]any{
		{"tracking_number": "SF100", "carrier": "SF Express"}}}))
	h.advance("0s")
	r := h.run("P4", preship)
	if r.Status != care.RunStopped || r.Outcome != "" {
		t.Errorf("run %+v, want stopped", r)
	}
	if open := h.tasks(h.agent(), "open"); len(open) != 0 {
		t.Errorf("open tasks after shipping %+v", open)
	}
}

// TestPreshipAskWaitsForMorning: an order paid at 23:00 in the buyer's
// zone: the shop hears at once that it is held, the buyer is asked at
// 08:00 when quiet hours end.
func TestPreshipAskWaitsForMorning(t *testing.T) {
	h := newHarness(t)
	h.advance("14h") // 23:00 Shanghai
	h.webhook(h.shop, "", paidOrderAt("P5", lhasa, true, h.now()))
	h.webhook(h.shop, "", event("order.paid", "P5", h.now(), nil))
	h.advance("0s")
	h.wantEntries("P5", "hold:sent")
	if r := h.run("P5", preship); r.Step != "hold" || r.NextAt == nil || !r.NextAt.Equal(start.Add(23*time.Hour)) {
		t.Errorf("run %q next_at %v, want hold until 08:00 Shanghai", r.Step, r.NextAt)
	}
	h.advance("9h")
	ms := h.wantEntries("P5", "hold:sent", "ask:sent")
	if ask := entry(ms, "ask"); ask.SentAt == nil || !ask.SentAt.Equal(start.Add(23*time.Hour)) {
		t.Errorf("ask sent at %v, want 08:00 Shanghai", ask.SentAt)
	}
}

// TestPreshipAddressChangedAfterClearCheck: the check ended clear at
// payment with no execution; the buyer then changes the address (Douyin's
// usual order of events), and the check runs after all: the shop is told
// to hold the order and the buyer is asked.
func TestPreshipAddressChangedAfterClearCheck(t *testing.T) {
	h := newHarness(t)
	h.webhook(h.shop, "", paidOrderAt("P9", hangzhou, false, start))
	h.advance("1m")
	h.webhook(h.shop, "", event("order.paid", "P9", h.now(), nil))
	h.advance("2h")
	if r := h.run("P9", preship); r.Outcome != "clear" || r.Execution != "" {
		t.Fatalf("run %+v, want ended clear without an execution", r)
	}
	moved := map[string]any{"name": "林美", "line1": "莫干山路 9 号", "city": "杭州市", "province": "浙江省", "postal_code": "310005", "country": "CN"}
	if st := h.webhook(h.shop, "", event("order.address_changed", "P9", h.now(), map[string]any{
		"order": map[string]any{"id": "P9", "shipping_address": moved}})); st != 202 {
		t.Fatalf("order.address_changed: %d", st)
	}
	h.advance("0s")
	h.wantEntries("P9", "hold:sent", "ask:sent")
	r := h.run("P9", preship)
	if r.Status != care.RunRunning || r.Execution == "" || r.Outcome != "" {
		t.Errorf("run %+v, want running with an execution, no outcome yet", r)
	}
	// The buyer confirms: released, as any flagged order.
	h.webhook(h.shop, "", event("buyer.replied", "P9", h.now(), map[string]any{"reply": map[string]string{"text": "是的，地址没问题"}}))
	h.advance("0s")
	if r := h.run("P9", preship); r.Outcome != "address_confirmed" {
		t.Errorf("run %+v, want address_confirmed", r)
	}
}

// TestPreshipAfterCODConfirmed: a cash-on-delivery order is checked before
// it ships once it is confirmed: the buyer's yes to cod_confirm records
// order.confirmed (source ordercare) on the order, and the check starts on
// it; perishables to a remote province are flagged, so the shop is told to
// hold it and the buyer is asked about the address.
func TestPreshipAfterCODConfirmed(t *testing.T) {
	h := newHarness(t)
	o := paidOrderAt("P8", lhasa, true, start)
	body := o["order"].(map[string]any)
	body["payment_method"], body["cod_fee"] = "cod", "8.00"
	h.webhook(h.shop, "", o)
	h.advance("5m")
	if runs := h.runs("P8"); len(runs) != 1 || runs[0].Workflow != care.CODConfirm {
		t.Fatalf("runs before the confirmation %+v, want cod_confirm only", runs)
	}
	h.webhook(h.shop, "", event("buyer.replied", "P8", h.now(), map[string]any{"reply": map[string]string{"text": "是的，确认"}}))
	h.advance("0s")
	var state care.OrderState
	h.must("GET", "/v1/orders/P8", h.ops(), nil, 200, &state)
	if state.ConfirmedAt == nil || !state.ConfirmedAt.Equal(h.now()) {
		t.Fatalf("confirmed_at %v, want %v", state.ConfirmedAt, h.now())
	}
	r := h.run("P8", preship)
	if r.Status != care.RunRunning || r.Execution == "" {
		t.Fatalf("preship_check run %+v, want running on the confirmed order", r)
	}
	h.advance("1h") // the ask waits min_gap after the COD confirmation ask
	ms := h.wantEntriesOf("P8", preship, "hold:sent", "ask:sent")
	if !strings.Contains(entry(ms, "ask").Text, "收货地址") {
		t.Errorf("ask %q", entry(ms, "ask").Text)
	}
	// A redelivered reply records nothing twice.
	h.webhook(h.shop, "", event("buyer.replied", "P8", start.Add(5*time.Minute), map[string]any{"reply": map[string]string{"text": "是的，确认"}}))
	h.advance("0s")
	h.wantEntriesOf("P8", preship, "hold:sent", "ask:sent")
}
