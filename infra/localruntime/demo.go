package localruntime

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ordercare/ordercare/infra/sfnhttp"
	"github.com/ordercare/ordercare/internal/source"
)

// demoEvent is one event of the demo day: an offset from the day's start,
// the event type, the order, and what the event carries.
type demoEvent struct {
	at    time.Duration
	typ   string
	order string
	body  map[string]any
}

// demoDay is a short Double 11 morning-to-evening at a tea shop: orders
// chased and paid, a large order escalated to a call, COD orders confirmed
// by reply, by nobody (an agent must call) and declined, a live-stream
// order the platform closes, and one paid before any reminder.
func demoDay() []demoEvent {
	buyer := func(name, locale string) map[string]any {
		return map[string]any{"name": name, "phone": "+8613800138000", "locale": locale, "timezone": "Asia/Shanghai"}
	}
	created := func(total string, cod bool, deadline time.Duration, b map[string]any, title string) map[string]any {
		o := map[string]any{"total": total, "currency": "CNY", "payment_method": "online", "buyer": b,
			"items": []map[string]any{{"sku": "TEA-" + total, "title": title, "quantity": 1, "price": total}}}
		if cod {
			o["payment_method"], o["cod_fee"] = "cod", "8.00"
		}
		if deadline > 0 {
			o["pay_deadline"] = deadline // resolved against placed_at in replay
		}
		return o
	}
	reply := func(text string) map[string]any { return map[string]any{"reply": map[string]any{"text": text}} }
	return []demoEvent{
		{0, "order.created", "D1001", created("129.90", false, 72*time.Hour, buyer("陈晓燕", "zh-CN"), "明前龙井 250g")},
		{5 * time.Minute, "order.created", "D1002", created("899.00", false, 24*time.Hour, buyer("王建国", "zh-CN"), "大红袍 礼盒 500g")},
		{22 * time.Minute, "order.paid", "D1001", nil},
		{30 * time.Minute, "order.created", "D1003", created("129.90", true, 0, buyer("Emily Chen", "en"), "Longjing 250 g")},
		{40 * time.Minute, "buyer.replied", "D1003", reply("Yes, please send it")},
		{1 * time.Hour, "order.created", "D1004", created("239.00", true, 0, buyer("李娜", "zh-CN"), "白毫银针 200g")},
		{2 * time.Hour, "order.created", "D1005", created("59.00", false, 30*time.Minute, buyer("赵磊", "zh-CN"), "直播间 试饮装")},
		{2*time.Hour + 30*time.Minute, "order.cancelled", "D1005", nil},
		{4 * time.Hour, "order.created", "D1006", created("168.00", true, 0, buyer("刘芳", "zh-CN"), "正山小种 250g")},
		{4*time.Hour + 15*time.Minute, "buyer.replied", "D1006", reply("不要了，不知道要多付钱")},
		{5 * time.Hour, "order.created", "D1007", created("88.00", false, 72*time.Hour, buyer("孙悦", "zh-CN"), "茉莉花茶 100g")},
		{5*time.Hour + 5*time.Minute, "order.paid", "D1007", nil},
	}
}

// demoLength is how far the demo day moves the clock: to the evening, past
// the large order's call and the COD calls.
const demoLength = 13 * time.Hour

// ReplayDemoDay plays demoDay into the shop d through the public webhook
// endpoint (signed as the shop's system would sign), moving the virtual
// clock through the day, so messages, agent tasks and metrics are there to
// look at. It needs a virtual clock.
func (rt *Runtime) ReplayDemoDay(ctx context.Context, d DemoShop) error {
	if rt.Virtual == nil {
		return errors.New("the demo day needs a virtual clock (--clock virtual)")
	}
	// The day starts at the next 09:00 in the shop's zone, so reminders
	// fall in the shop's day and not in its quiet hours.
	loc, err := time.LoadLocation(d.Timezone)
	if err != nil {
		return err
	}
	now := rt.Virtual.Now().In(loc)
	day := time.Date(now.Year(), now.Month(), now.Day(), 9, 0, 0, 0, loc)
	if day.Before(now) {
		day = day.AddDate(0, 0, 1)
	}
	for i, ev := range demoDay() {
		at := day.Add(ev.at)
		if err := rt.AdvanceTo(ctx, at); err != nil {
			return err
		}
		order := map[string]any{"id": ev.order}
		if ev.typ == "order.created" {
			order = ev.body
			order["id"], order["placed_at"] = ev.order, at
			if dl, ok := order["pay_deadline"].(time.Duration); ok {
				order["pay_deadline"] = at.Add(dl)
			}
		}
		body := map[string]any{"id": fmt.Sprintf("demo-%d", i), "type": ev.typ, "occurred_at": at, "order": order}
		if ev.typ == "buyer.replied" {
			body["reply"] = ev.body["reply"]
		}
		if err := rt.postDemo(d, fmt.Sprintf("demo-%d", i), body); err != nil {
			return fmt.Errorf("demo event %d (%s %s): %w", i, ev.typ, ev.order, err)
		}
	}
	return rt.AdvanceTo(ctx, day.Add(demoLength))
}

// postDemo delivers one event to the standard webhook endpoint, signed.
func (rt *Runtime) postDemo(d DemoShop, id string, ev map[string]any) error {
	body, _ := json.Marshal(ev)
	key, err := source.StandardKey(d.WebhookSecret)
	if err != nil {
		return err
	}
	now := rt.Clock.Now()
	req, err := http.NewRequest(http.MethodPost, d.Webhooks["standard"], bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", fmt.Sprint(now.Unix()))
	req.Header.Set("webhook-signature", source.StandardSign(key, id, now, body))
	w := sfnhttp.NewResponseBuffer()
	rt.API.ServeHTTP(w, req)
	if w.Code != http.StatusAccepted {
		return fmt.Errorf("webhook answered %d: %s", w.Code, w.Body.String())
	}
	return nil
}

// demoUnpaidChase is the demo tea shop's own unpaid_chase template: its
// coupon TEA10 and its tea. New shops run the neutral built-in default.
//
//go:embed demo_unpaid_chase.template.json
var demoUnpaidChase []byte

// seedDemoTemplates stores the demo shop's own templates through the API,
// as its ops would.
func (rt *Runtime) seedDemoTemplates(d DemoShop) error {
	req, err := http.NewRequest(http.MethodPut, "/v1/templates/unpaid_chase", bytes.NewReader(demoUnpaidChase))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+d.Keys["ops"])
	w := sfnhttp.NewResponseBuffer()
	rt.API.ServeHTTP(w, req)
	if w.Code != http.StatusCreated {
		return fmt.Errorf("demo template: %d %s", w.Code, w.Body.String())
	}
	return nil
}
