package localruntime

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/ordercare/ordercare/infra/sfnhttp"
	"github.com/ordercare/ordercare/internal/source"
)

// demoEvent is one event of the demo day: an offset from the day's start,
// the event type, the order, and what the event carries (the order for
// order.created; else top-level fields: parcels, parcel, reply). The
// replay plays the events in the order of their offsets.
type demoEvent struct {
	at    time.Duration
	typ   string
	order string
	body  map[string]any
}

// demoDay is a short Double 11 morning-to-evening at a tea shop: orders
// chased and paid, a large order escalated to a call, COD orders confirmed
// by reply, by nobody (an agent must call) and declined, a live-stream
// order the platform closes, and one paid before any reminder; then the
// fulfilment side: an order shipped in two parcels hours apart, a parcel
// from last week with no scan for days (stalled), fresh tea snacks waiting
// at a pickup point before they spoil, and an order of fresh goods to
// Lhasa held by the pre-ship check until the buyer confirms the address;
// then the after-delivery side: an order delivered last week gets the
// review ask (the same neutral ask as everyone), one delivered yesterday
// its care message in the evening, and a 1-star review about a crushed box
// opens a priority bad-review task (tag logistics) with the order's story.
// day is the day's 09:00 in the shop's zone (for times before the day).
func demoDay(day time.Time) []demoEvent {
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
	// paid is a prepaid order of items (sku, title, price, shelf life in
	// hours or 0) placed at placed (zero: when the event arrives).
	type item struct {
		sku, title, price string
		shelfLife         int
	}
	paid := func(total string, b map[string]any, placed time.Time, address map[string]any, items ...item) map[string]any {
		o := map[string]any{"total": total, "currency": "CNY", "payment_method": "online", "buyer": b}
		var its []map[string]any
		for _, it := range items {
			m := map[string]any{"sku": it.sku, "title": it.title, "quantity": 1, "price": it.price}
			if it.shelfLife > 0 {
				m["perishable"], m["shelf_life_hours"] = true, it.shelfLife
			}
			its = append(its, m)
		}
		o["items"] = its
		if !placed.IsZero() {
			o["placed_at"] = placed
		}
		if address != nil {
			o["shipping_address"] = address
		}
		return o
	}
	parcel := func(tn, carrier, url, sku, split string) map[string]any {
		p := map[string]any{"tracking_number": tn, "carrier": carrier, "items": []map[string]any{{"sku": sku, "quantity": 1}}}
		if url != "" {
			p["tracking_url"] = url
		}
		if split != "" {
			p["split_reason"] = split
		}
		return p
	}
	inTransit := func(p map[string]any, msg string, scanned time.Time) map[string]any {
		p["status"], p["message"], p["last_scan_at"] = "in_transit", msg, scanned
		return p
	}
	shipped := func(ps ...map[string]any) map[string]any { return map[string]any{"parcels": ps} }
	scan := func(tn, status, msg string, at time.Time, extra map[string]any) map[string]any {
		p := map[string]any{"tracking_number": tn, "status": status, "message": msg, "last_scan_at": at}
		for k, v := range extra {
			p[k] = v
		}
		return map[string]any{"parcel": p}
	}
	lastWeek := day.AddDate(0, 0, -7)
	const sfURL = "https://www.sf-express.com/chn/sc/waybill/waybill-detail/"
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

		// D1008: tea and a cup from two warehouses, shipped hours apart:
		// two shipping notices, the second says the order is complete.
		{30 * time.Minute, "order.created", "D1008", paid("148.00", buyer("周婷", "zh-CN"), time.Time{}, nil,
			item{"LJ-TEA-250", "明前龙井 250g", "128.00", 0}, item{"CUP-CELADON", "青瓷品茗杯", "20.00", 0})},
		{32 * time.Minute, "order.paid", "D1008", nil},
		{2 * time.Hour, "order.shipped", "D1008", shipped(parcel("SF1458822760312", "SF Express", sfURL+"SF1458822760312", "LJ-TEA-250", "warehouse"))},
		{7 * time.Hour, "order.shipped", "D1008", shipped(parcel("YT7512345678901", "圆通速递", "", "CUP-CELADON", "warehouse"))},

		// D1009: last week's order, synced this morning: a few scans, the
		// last one a week ago: stalled (a chase task, one buyer message).
		{35 * time.Minute, "order.created", "D1009", paid("96.00", buyer("吴强", "zh-CN"), lastWeek.Add(-time.Hour), nil,
			item{"PUER-357", "普洱熟茶 357g", "96.00", 0})},
		{36 * time.Minute, "order.paid", "D1009", nil},
		{37 * time.Minute, "order.shipped", "D1009", shipped(inTransit(parcel("78312345678901", "中通快递", "", "PUER-357", ""),
			"快件已到达杭州转运中心", lastWeek.Add(14*time.Hour)))},

		// D1010: fresh tea snacks (24 h shelf life) by same-city courier to
		// a pickup point: tighter reminders, then a call before they spoil.
		{10 * time.Minute, "order.created", "D1010", paid("68.00", buyer("黄丽", "zh-CN"), time.Time{}, nil,
			item{"SNACK-FRESH", "现做桂花糕 礼盒", "68.00", 24})},
		{11 * time.Minute, "order.paid", "D1010", nil},
		{20 * time.Minute, "order.shipped", "D1010", shipped(parcel("SF1458822769999", "SF Express", sfURL+"SF1458822769999", "SNACK-FRESH", ""))},
		{50 * time.Minute, "shipment.updated", "D1010", scan("SF1458822769999", "available_for_pickup", "快件已到达菜鸟驿站，请凭取件码取件", day.Add(50*time.Minute),
			map[string]any{"pickup_point": "菜鸟驿站(杭州文三路店)", "pickup_deadline": day.Add(3*24*time.Hour + 12*time.Hour)})},

		// D1011: fresh goods to Lhasa: the pre-ship check holds the order
		// and asks the buyer, whose reply releases it.
		{6 * time.Hour, "order.created", "D1011", paid("68.00", buyer("次仁", "zh-CN"), time.Time{},
			map[string]any{"name": "次仁", "line1": "北京中路 2 号", "city": "拉萨市", "province": "西藏自治区", "postal_code": "850000", "country": "CN"},
			item{"SNACK-FRESH", "现做桂花糕 礼盒", "68.00", 24})},
		{6*time.Hour + 2*time.Minute, "order.paid", "D1011", nil},
		{6*time.Hour + 40*time.Minute, "buyer.replied", "D1011", reply("是的")},

		// D1012: delivered last week: the review ask goes out this morning.
		{38 * time.Minute, "order.created", "D1012", paid("128.00", buyer("吴敏", "zh-CN"), lastWeek.Add(-48*time.Hour), nil,
			item{"LJ-TEA-250", "明前龙井 250g", "128.00", 0})},
		{39 * time.Minute, "order.paid", "D1012", nil},
		{40 * time.Minute, "order.shipped", "D1012", shipped(inTransit(parcel("SF1458822761111", "SF Express", sfURL+"SF1458822761111", "LJ-TEA-250", ""),
			"快件已发出", lastWeek.Add(-24*time.Hour)))},
		{41 * time.Minute, "shipment.updated", "D1012", scan("SF1458822761111", "delivered", "已签收，签收人：本人", lastWeek.Add(-time.Hour), nil)},

		// D1013: delivered yesterday evening: the care message at 18:00.
		{42 * time.Minute, "order.created", "D1013", paid("96.00", buyer("郑洁", "zh-CN"), day.AddDate(0, 0, -3), nil,
			item{"PUER-357", "普洱熟茶 357g", "96.00", 0})},
		{43 * time.Minute, "order.paid", "D1013", nil},
		{44 * time.Minute, "order.shipped", "D1013", shipped(inTransit(parcel("YT7512345670000", "圆通速递", "", "PUER-357", ""),
			"快件已揽收", day.AddDate(0, 0, -2)))},
		{45 * time.Minute, "shipment.updated", "D1013", scan("YT7512345670000", "delivered", "已签收，放门卫", day.Add(-15*time.Hour), nil)},

		// D1014: delivered three days ago; a 1-star review about the box.
		{46 * time.Minute, "order.created", "D1014", paid("168.00", buyer("何静", "zh-CN"), day.AddDate(0, 0, -6), nil,
			item{"ZSXZ-250", "正山小种 250g", "168.00", 0})},
		{47 * time.Minute, "order.paid", "D1014", nil},
		{48 * time.Minute, "order.shipped", "D1014", shipped(inTransit(parcel("78312345670000", "中通快递", "", "ZSXZ-250", ""),
			"快件已揽收", day.AddDate(0, 0, -5)))},
		{49 * time.Minute, "shipment.updated", "D1014", scan("78312345670000", "delivered", "已签收", day.AddDate(0, 0, -3), nil)},
		{8 * time.Hour, "review.posted", "D1014", map[string]any{"review": map[string]any{"id": "rv-20261111-1", "platform": "shopify",
			"rating": 1, "title": "盒子压坏了", "text": "快递太慢，盒子压坏了，茶叶撒了一半"}}},
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
	evs := demoDay(day)
	slices.SortStableFunc(evs, func(a, b demoEvent) int { return cmp.Compare(a.at, b.at) })
	for i, ev := range evs {
		at := day.Add(ev.at)
		if err := rt.AdvanceTo(ctx, at); err != nil {
			return err
		}
		order := map[string]any{"id": ev.order}
		if ev.typ == "order.created" {
			order = ev.body
			order["id"] = ev.order
			if _, ok := order["placed_at"]; !ok {
				order["placed_at"] = at
			}
			if dl, ok := order["pay_deadline"].(time.Duration); ok {
				order["pay_deadline"] = at.Add(dl)
			}
		}
		body := map[string]any{"id": fmt.Sprintf("demo-%d", i), "type": ev.typ, "occurred_at": at, "order": order}
		if ev.typ != "order.created" {
			for k, v := range ev.body {
				body[k] = v
			}
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
