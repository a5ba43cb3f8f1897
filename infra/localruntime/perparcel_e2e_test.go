package localruntime_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/source"
)

// setParams stores a new version of wf's template with params and the
// contact budget changed.
func (h *harness) setParams(wf care.Workflow, budget int, params map[string]any) {
	h.t.Helper()
	_, body := h.call("GET", "/v1/templates/"+string(wf), h.ops(), nil)
	var tpl map[string]any
	if err := json.Unmarshal(body, &tpl); err != nil {
		h.t.Fatalf("template %s: %v: %s", wf, err, body)
	}
	for k, v := range params {
		tpl["params"].(map[string]any)[k] = v
	}
	if budget > 0 {
		tpl["contact_budget"] = budget
	}
	h.must("PUT", "/v1/templates/"+string(wf), h.ops(), tpl, 201, nil)
}

// splitOrder creates a paid order of a tea and a cup shipped in two
// parcels, TA (the tea) and TB (the cup), both delivered at the same
// instant two days later.
func (h *harness) splitOrder(id string) {
	h.t.Helper()
	o := paidOrderAt(id, hangzhou, false, h.now())
	body := o["order"].(map[string]any)
	body["buyer"].(map[string]any)["email"] = id + "@example.com"
	body["items"] = []map[string]any{
		{"sku": "TEA-1", "title": "龙井茶", "quantity": 1, "price": "98.00"},
		{"sku": "CUP-1", "title": "青瓷杯", "quantity": 2, "price": "50.00"},
	}
	h.webhook(h.shop, "", o)
	h.webhook(h.shop, "", event("order.paid", id, h.now(), nil))
	h.webhook(h.shop, "", event("order.shipped", id, h.now(), map[string]any{"parcels": []map[string]any{
		{"tracking_number": "TA" + id, "carrier": "YTO", "status": "in_transit", "last_scan_at": h.now(), "split_reason": "warehouse",
			"items": []map[string]any{{"sku": "TEA-1", "quantity": 1}}},
		{"tracking_number": "TB" + id, "carrier": "YTO", "status": "in_transit", "last_scan_at": h.now(), "split_reason": "warehouse",
			"items": []map[string]any{{"sku": "CUP-1", "quantity": 2}}},
	}}))
	h.advance("48h")
	for _, tn := range []string{"TA" + id, "TB" + id} {
		ev := event("shipment.updated", id, h.now(), map[string]any{"parcel": map[string]any{
			"tracking_number": tn, "status": "delivered", "last_scan_at": h.now(), "message": "已签收"}})
		ev["id"] = "evt-delivered-" + tn
		h.webhook(h.shop, "", ev)
	}
	h.advance("0s")
}

// sentOf returns wf's sent messages of the order, by send time.
func (h *harness) sentOf(id string, wf care.Workflow) []care.Message {
	var out []care.Message
	for _, m := range h.messages(id) {
		if m.Workflow == wf && m.Status == care.MessageSent && m.SentAt != nil {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SentAt.Before(*out[j].SentAt) })
	return out
}

// TestPerParcelCareAndAsks: with per: parcel, an order shipped in two
// parcels delivered at the same instant gets one care message per parcel
// naming that parcel's items, the min gap apart and out of quiet hours; a
// reply to the second opens one task; one ask per parcel, the gap apart; a
// review of the tea stops the tea's reminder, not the cup's; the contact
// budget counts across the parcels.
func TestPerParcelCareAndAsks(t *testing.T) {
	h := newHarness(t)
	h.setParams(deliveryCare, 2, map[string]any{"per": "parcel"})
	h.setParams(reviewRequest, 3, map[string]any{"per": "parcel"})
	h.advance("12h") // deliveries land at 21:00 Shanghai
	h.splitOrder("S1")

	h.advance("48h")
	care := h.sentOf("S1", deliveryCare)
	if len(care) != 2 {
		t.Fatalf("care messages %v, want one per parcel", ledger(h.messages("S1")))
	}
	if gap := care[1].SentAt.Sub(*care[0].SentAt); gap < 30*time.Minute {
		t.Errorf("the two care messages came %v apart, within the 30m min gap", gap)
	}
	for _, m := range care {
		if inQuiet(*m.SentAt) {
			t.Errorf("care message sent in quiet hours at %v", m.SentAt)
		}
	}
	texts := care[0].Text + "\n" + care[1].Text
	if strings.Count(texts, "龙井茶") != 1 || strings.Count(texts, "青瓷杯") != 1 ||
		strings.Contains(care[0].Text, "龙井茶") == strings.Contains(care[0].Text, "青瓷杯") {
		t.Errorf("each care message should name its own parcel's items:\n%s", texts)
	}
	h.reply("S1", "杯子碎了一个")
	tasks := h.tasksOf(h.agent(), "open", deliveryCare)
	if len(tasks) != 1 || tasks[0].Tag != "quality" || !strings.Contains(tasks[0].Reason, "杯子碎了一个") {
		t.Fatalf("care tasks %+v, want one quality task quoting the reply", tasks)
	}

	h.advance("140h") // past the asks: 7 days after delivery, 10:00 and 10:30
	asks := h.sentOf("S1", reviewRequest)
	if len(asks) != 2 {
		t.Fatalf("asks %v, want one per parcel", ledger(h.messages("S1")))
	}
	if gap := asks[1].SentAt.Sub(*asks[0].SentAt); gap < 30*time.Minute {
		t.Errorf("the two asks came %v apart, within the min gap", gap)
	}
	h.review("S1", "rv-tea", "shopify", 5, "茶很好")
	h.advance("200h")
	// rv-tea has no SKU: it reviews the whole order and stops both.
	if got := len(h.sentOf("S1", reviewRequest)); got != 2 {
		t.Errorf("%d asks after a review of the whole order, want 2", got)
	}
	for _, r := range h.runs("S1") {
		if r.Workflow == reviewRequest && r.Subject != "#order" && r.Outcome != "reviewed" {
			t.Errorf("parcel run %s: %s %s", r.Subject, r.Status, r.Outcome)
		}
	}
	// One review, counted once whatever the runs it ended.
	if m := h.metricsOf(reviewRequest); m["solicited_reviews"] != 1.0 {
		t.Errorf("solicited_reviews = %v, want 1", m["solicited_reviews"])
	}
}

// TestPerParcelReviewOfOneItem: per parcel, a review of the tea stops the
// tea parcel's reminder, and the cup parcel still gets its reminder; the
// contact budget holds across parcels.
func TestPerParcelReviewOfOneItem(t *testing.T) {
	h := newHarness(t)
	h.setParams(reviewRequest, 3, map[string]any{"per": "parcel"})
	h.advance("12h")
	h.splitOrder("S2")
	h.advance("190h")
	if got := len(h.sentOf("S2", reviewRequest)); got != 2 {
		t.Fatalf("asks %v, want one per parcel", ledger(h.messages("S2")))
	}
	h.nextID++
	ev := event("review.posted", "S2", h.now(), map[string]any{"review": map[string]any{
		"id": "rv-tea", "platform": "shopify", "rating": 5, "sku": "TEA-1", "text": "好茶"}})
	ev["id"] = fmt.Sprintf("evt-review-S2-%d", h.nextID)
	h.webhook(h.shop, "", ev)
	h.advance("200h")
	sent := h.sentOf("S2", reviewRequest)
	if len(sent) != 3 || sent[2].Step != "reminder" || !strings.Contains(sent[2].Text, "青瓷杯") {
		t.Fatalf("asks %v, want the ask for each parcel and the cup's reminder", ledger(h.messages("S2")))
	}
	outcomes := map[string]string{}
	for _, r := range h.runs("S2") {
		if r.Workflow == reviewRequest {
			outcomes[r.Subject] = r.Outcome
		}
	}
	want := map[string]string{"#order": "per_parcel", "TAS2": "reviewed", "TBS2": "asked"}
	if fmt.Sprint(outcomes) != fmt.Sprint(want) {
		t.Errorf("review_request outcomes %v, want %v", outcomes, want)
	}
	// A budget of 2 across parcels: the two asks spend it, no reminder.
	h2 := newHarness(t)
	h2.setParams(reviewRequest, 2, map[string]any{"per": "parcel"})
	h2.advance("12h")
	h2.splitOrder("S3")
	h2.advance("600h")
	h2.wantEntriesOf("S3", reviewRequest, "ask:sent", "ask:sent", "reminder:skipped:budget_spent", "reminder:skipped:budget_spent")
}

// TestPerOrderSplitOrder: the default (per: order) gives an order shipped
// in two parcels one care message and one ask, naming no parcel.
func TestPerOrderSplitOrder(t *testing.T) {
	h := newHarness(t)
	h.advance("12h")
	h.splitOrder("S4")
	h.advance("200h")
	care := h.wantEntriesOf("S4", deliveryCare, "care:sent")
	if !strings.Contains(care[0].Text, "订单 S4 已签收") {
		t.Errorf("per-order care text: %s", care[0].Text)
	}
	ms := h.wantEntriesOf("S4", reviewRequest, "ask:sent")
	if !strings.Contains(ms[0].Text, "订单 S4 已经签收一周了") {
		t.Errorf("per-order ask text: %s", ms[0].Text)
	}
	if strings.Contains(ms[0].Text, "TAS4") || strings.Contains(ms[0].Text, "TBS4") {
		t.Errorf("a per-order ask names a parcel: %s", ms[0].Text)
	}
	for _, r := range h.runs("S4") {
		if (r.Workflow == deliveryCare || r.Workflow == reviewRequest) && r.Subject != "#order" && r.Outcome != "per_order" {
			t.Errorf("%s parcel run %s: %s %s", r.Workflow, r.Subject, r.Status, r.Outcome)
		}
	}
}

// TestCareByProductTag: an item whose SKU matches no pattern but whose
// product tag does gets that product's usage notes; a bad tag is refused
// with its exact field and changes nothing.
func TestCareByProductTag(t *testing.T) {
	h := newHarness(t)
	h.advance("12h")
	o := paidOrderAt("T1", hangzhou, false, h.now())
	items := o["order"].(map[string]any)["items"].([]map[string]any)
	items[0]["tags"] = []string{"gift", "Fresh"}
	bad := paidOrderAt("T2", hangzhou, false, h.now())
	bad["id"] = "evt-bad-tags"
	bad["order"].(map[string]any)["items"].([]map[string]any)[0]["tags"] = []string{"fresh", " chilled"}
	st, body := h.signedStandard(bad)
	if st != 400 || !strings.Contains(body, "order.items[0].tags[1]") {
		t.Errorf("a tag with a leading space: %d %s, want 400 naming order.items[0].tags[1]", st, body)
	}
	if st, _ := h.call("GET", "/v1/orders/T2", h.ops(), nil); st != 404 {
		t.Errorf("the refused order was stored: GET /v1/orders/T2 = %d", st)
	}
	h.webhook(h.shop, "", o)
	h.webhook(h.shop, "", event("order.paid", "T1", h.now(), nil))
	h.webhook(h.shop, "", event("order.shipped", "T1", h.now(), map[string]any{"parcels": []map[string]any{
		{"tracking_number": "YTT1", "carrier": "YTO", "status": "in_transit", "last_scan_at": h.now()}}}))
	h.advance("48h")
	h.webhook(h.shop, "", event("shipment.updated", "T1", h.now(), map[string]any{"parcel": map[string]any{
		"tracking_number": "YTT1", "status": "delivered", "last_scan_at": h.now()}}))
	h.advance("40h")
	ms := h.wantEntriesOf("T1", deliveryCare, "care_fresh:sent")
	if !strings.Contains(ms[0].Text, "冰箱") {
		t.Errorf("care_fresh text: %s", ms[0].Text)
	}
}

// signedStandard posts ev to the standard webhook, signed, and returns
// the status and body.
func (h *harness) signedStandard(ev map[string]any) (int, string) {
	h.t.Helper()
	h.nextID++
	id := fmt.Sprintf("msg_%d", h.nextID)
	body, _ := json.Marshal(ev)
	key, _ := source.StandardKey(h.shop.WebhookSecret)
	req, _ := http.NewRequestWithContext(h.t.Context(), "POST", h.api.URL+"/webhooks/"+h.shop.ID+"/standard", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", fmt.Sprint(h.now().Unix()))
	req.Header.Set("webhook-signature", source.StandardSign(key, id, h.now(), body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
