package localruntime_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/httpapi"
)

// The market's sending hours (internal/quiet: US and CA texts only
// 08:00-21:00 recipient time, whatever their class; China no marketing
// 21:00-08:00) hold whatever the template says: the tests below drop the
// templates' own quiet hours and send by SMS, so only the market's hours
// stand between the message and the night.

var newYork, _ = time.LoadLocation("America/New_York")

// usShop creates a New York shop and makes it the harness's shop.
func (h *harness) usShop(id string) {
	h.t.Helper()
	var shop httpapi.NewShopResponse
	h.must("POST", "/v1/shops", h.rt.AdminToken, map[string]string{"id": id, "name": "Shop " + id,
		"timezone": "America/New_York", "locale": "en-US", "currency": "USD"}, 201, &shop)
	h.shop = shop
}

// smsAtAnyHour stores a version of wf's template without quiet hours whose
// message steps go by SMS.
func (h *harness) smsAtAnyHour(wf care.Workflow) {
	h.t.Helper()
	_, body := h.call("GET", "/v1/templates/"+string(wf), h.ops(), nil)
	var tpl map[string]any
	if err := json.Unmarshal(body, &tpl); err != nil {
		h.t.Fatalf("template %s: %v: %s", wf, err, body)
	}
	delete(tpl, "quiet_hours")
	for _, s := range tpl["steps"].([]any) {
		if st := s.(map[string]any); st["action"] == "message" {
			st["channels"] = []any{"sms"}
		}
	}
	h.must("PUT", "/v1/templates/"+string(wf), h.ops(), tpl, 201, nil)
}

// usBuyer makes ev's buyer a New York buyer with a New Jersey mobile.
func usBuyer(ev map[string]any) map[string]any {
	o := ev["order"].(map[string]any)
	o["currency"] = "USD"
	o["buyer"] = map[string]any{"name": "Ann Lee", "phone": "+12015550123", "locale": "en", "timezone": "America/New_York"}
	return ev
}

// advanceTo moves the virtual clock to t.
func (h *harness) advanceTo(t time.Time) {
	h.t.Helper()
	if d := t.Sub(h.now()); d > 0 {
		h.advance(d.String())
	}
}

// sentAt returns the entry of step in orderID's ledger (zero when none).
func (h *harness) entryOf(orderID string, wf care.Workflow, step string) care.Message {
	h.t.Helper()
	for _, m := range h.messages(orderID) {
		if m.Workflow == wf && m.Step == step {
			return m
		}
	}
	return care.Message{}
}

// TestMarketHoursCOD: a US buyer's cash-on-delivery order placed at 23:00
// their time is asked by SMS at 08:00, not at once (cod_confirm plans its
// ask through the kernel's MessageAt).
func TestMarketHoursCOD(t *testing.T) {
	h, _ := channelHarness(t)
	h.usShop("us")
	h.smsAtAnyHour(care.CODConfirm)
	night := time.Date(2026, 11, 11, 23, 0, 0, 0, newYork)
	h.advanceTo(night)
	h.webhook(h.shop, "", usBuyer(order("U1", "49.00", true, 0, night)))
	h.advance("1h")
	if m := h.entryOf("U1", care.CODConfirm, "ask"); m.Status == care.MessageSent {
		t.Fatalf("the ask went out at %v, inside the US buyer's night", m.SentAt.In(newYork))
	}
	morning := time.Date(2026, 11, 12, 8, 0, 0, 0, newYork)
	h.advanceTo(morning.Add(time.Minute))
	m := h.entryOf("U1", care.CODConfirm, "ask")
	if m.Status != care.MessageSent || m.Channel != "sms" || m.SentAt == nil || !m.SentAt.Equal(morning) {
		t.Fatalf("ask: %s on %q at %v, want sent by sms at %v", m.Status, m.Channel, m.SentAt, morning)
	}
}

// TestMarketHoursShippingNotice: a US buyer's shipping notice due at 23:00
// their time (the parcel shipped at 21:00, the digest window is 2 h) is
// sent by SMS at 08:00 the next morning, deferred, not dropped.
func TestMarketHoursShippingNotice(t *testing.T) {
	h, _ := channelHarness(t)
	h.usShop("us")
	h.smsAtAnyHour(shippingWF)
	placed := time.Date(2026, 11, 11, 10, 0, 0, 0, newYork)
	h.advanceTo(placed)
	h.webhook(h.shop, "", usBuyer(order("U2", "49.00", false, 0, placed)))
	h.webhook(h.shop, "", event("order.paid", "U2", placed, nil))
	shipped := time.Date(2026, 11, 11, 21, 0, 0, 0, newYork)
	h.advanceTo(shipped)
	h.webhook(h.shop, "", shipEvent("ship-U2", "U2", shipped, "1Z999", "LJ-250"))
	h.advanceTo(time.Date(2026, 11, 12, 7, 59, 0, 0, newYork))
	if m := h.entryOf("U2", shippingWF, "notice"); m.Status != "" {
		t.Fatalf("notice before 08:00: %s at %v", m.Status, m.SentAt)
	}
	morning := time.Date(2026, 11, 12, 8, 0, 0, 0, newYork)
	h.advanceTo(morning.Add(time.Minute))
	m := h.entryOf("U2", shippingWF, "notice")
	if m.Status != care.MessageSent || m.Channel != "sms" || m.SentAt == nil || !m.SentAt.Equal(morning) {
		t.Fatalf("notice: %s %q on %q at %v, want sent by sms at %v", m.Status, m.Reason, m.Channel, m.SentAt, morning)
	}
}

// TestMarketHoursChinaTransactional: China's night rule is for marketing:
// a COD ask (transactional) by SMS at 22:00 Shanghai goes at once.
func TestMarketHoursChinaTransactional(t *testing.T) {
	h, _ := channelHarness(t)
	h.smsAtAnyHour(care.CODConfirm)
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	night := time.Date(2026, 11, 11, 22, 0, 0, 0, shanghai)
	h.advanceTo(night)
	h.webhook(h.shop, "", order("C1", "129.00", true, 0, night))
	h.advance("1m")
	m := h.entryOf("C1", care.CODConfirm, "ask")
	if m.Status != care.MessageSent || m.Channel != "sms" || m.SentAt == nil || m.SentAt.Sub(night) > time.Minute {
		t.Fatalf("ask: %s on %q at %v, want sent by sms at %v", m.Status, m.Channel, m.SentAt, night)
	}
}

// TestMarketHoursPlanned: a workflow that plans its messages with the
// template (playbook.Template.Plan) gets the market's hours from the
// kernel's Timing: a US buyer's care message due 24 h after a delivery at
// 23:00 their time is sent by SMS at 08:00 the day after.
func TestMarketHoursPlanned(t *testing.T) {
	h, _ := channelHarness(t)
	h.usShop("us")
	h.smsAtAnyHour("delivery_care")
	placed := time.Date(2026, 11, 11, 10, 0, 0, 0, newYork)
	h.advanceTo(placed)
	h.webhook(h.shop, "", usBuyer(order("U3", "49.00", false, 0, placed)))
	h.webhook(h.shop, "", event("order.paid", "U3", placed, nil))
	h.webhook(h.shop, "", event("order.shipped", "U3", placed, map[string]any{"parcels": []map[string]any{
		{"tracking_number": "1ZU3", "carrier": "UPS", "status": "in_transit", "last_scan_at": placed}}}))
	delivered := time.Date(2026, 11, 11, 23, 0, 0, 0, newYork)
	h.advanceTo(delivered)
	h.webhook(h.shop, "", event("shipment.updated", "U3", delivered, map[string]any{"parcel": map[string]any{
		"tracking_number": "1ZU3", "status": "delivered", "last_scan_at": delivered}}))
	h.advanceTo(time.Date(2026, 11, 13, 7, 59, 0, 0, newYork))
	if m := h.entryOf("U3", "delivery_care", "care"); m.Status == care.MessageSent {
		t.Fatalf("care message sent at %v, inside the US buyer's night", m.SentAt.In(newYork))
	}
	morning := time.Date(2026, 11, 13, 8, 0, 0, 0, newYork)
	h.advanceTo(morning.Add(time.Minute))
	m := h.entryOf("U3", "delivery_care", "care")
	if m.Status != care.MessageSent || m.Channel != "sms" || m.SentAt == nil || !m.SentAt.Equal(morning) {
		t.Fatalf("care: %s %q on %q at %v, want sent by sms at %v", m.Status, m.Reason, m.Channel, m.SentAt, morning)
	}
}
