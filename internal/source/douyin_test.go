package source_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/source"
)

const (
	dyKey    = "6839490542104589828"
	dySecret = "2e5f3b52-4f0b-47a4-9c1d-0d6c2f7a9e31"
)

func dyReq(body []byte) source.Request {
	return source.Request{Header: header(
		"Content-Type", "application/json",
		source.HeaderDouyinSign, source.DouyinSign(dyKey, dySecret, body),
		source.HeaderDouyinAppID, dyKey,
	), Body: body}
}

func TestDouyinSign(t *testing.T) {
	// md5("k" + "[]" + "s"), computed with Python hashlib.
	if got := source.DouyinSign("k", "s", []byte("[]")); got != "0539ecd43d2e7c8acc87f20dfd98c916" {
		t.Fatalf("DouyinSign = %s", got)
	}
}

func TestDouyinHandle(t *testing.T) {
	now := time.Date(2021, 4, 21, 8, 0, 0, 0, time.UTC)
	push := readTestdata(t, "douyin_push.json")
	more := readTestdata(t, "douyin_push_more.json")
	const pid = "4781320682406083640"
	msg := func(tag, ts string) string { return "6961297432106238222:0:" + tag + ":" + ts + ":4463798159" }
	in := func(tag, ts string, ev care.Event) source.Incoming {
		ev.ID = "douyin:" + msg(tag, ts)
		return source.Incoming{DeliveryID: msg(tag, ts), Event: ev}
	}
	pushEvents := []source.Incoming{
		in("100", "1618990587", care.Event{Type: care.OrderCreated, OccurredAt: tm("2021-04-21T07:36:27Z"),
			Order: care.Order{ID: pid, PlacedAt: tp("2021-04-21T07:36:27Z"), NeedsEnrichment: true}}),
		in("101", "1618990650", care.Event{Type: care.OrderPaid, OccurredAt: tm("2021-04-21T07:37:30Z"),
			Order: care.Order{ID: pid, Total: "29.90", Currency: "CNY", PaymentMethod: care.PayOnline, NeedsEnrichment: true}}),
	}
	cancelMsg := "6961297432106238223:0:106:1619200000:4463798159"
	partlyShip := []byte(`[{"tag":"108","msg_id":"m-108","data":"{\"p_id\":4781320682406083640,\"s_ids\":[4781320682406083640],\"shop_id\":4463798,\"order_status\":2,\"order_type\":0,\"biz\":2,\"update_time\":1619077000,\"receiver_msg\":{\"name\":\"张**\",\"tel\":\"1**********\"},\"logistics_msg\":{\"express_company_id\":\"7\",\"logistics_code\":\"75312345678901\",\"pack_id\":\"PK1001\",\"shipped_order_info\":[{\"shipped_order_id\":\"4781320682406083640\",\"product_id\":3512345678,\"sku_id\":1736501234567890,\"sku_num\":3,\"shipped_num\":2}]}}"}]`)
	logisticsChanged := []byte(strings.NewReplacer("108", "104", "m-108", "m-104", "1619077000", "1619082000", `\"express_company_id\":\"7\",\"logistics_code\":\"75312345678901\"`, `\"express_company_id\":12,\"logistics_code\":\"SF1458822760312\"`).Replace(string(partlyShip)))
	codPaid := []byte(`[{"tag":"101","msg_id":"m-cod","data":"{\"p_id\":4781320682406083640,\"pay_type\":0,\"pay_time\":1618990650,\"pay_amount\":0}"}]`)

	tests := []struct {
		name string
		req  source.Request
		want []source.Incoming
		out  outcome
	}{
		{"created and paid in one push", dyReq(push), pushEvents, outcome{}},
		{"shipped, address changed, an after-sale tag skipped, cancelled", dyReq(more), []source.Incoming{
			in("102", "1619077000", care.Event{Type: care.OrderShipped, OccurredAt: tm("2021-04-22T07:36:40Z"),
				Order:   care.Order{ID: pid, NeedsEnrichment: true},
				Parcels: []care.ParcelReport{{TrackingNumber: "75312345678901", Carrier: "zhongtong"}}}),
			in("105", "1619000000", care.Event{Type: care.OrderAddressChanged, OccurredAt: tm("2021-04-21T10:13:20Z"),
				Order: care.Order{ID: pid, NeedsEnrichment: true, ShippingAddress: &care.Address{
					Name: "张**", Province: "浙江省", City: "杭州市", District: "西湖区", Line1: "文新街道***"}}}),
			{DeliveryID: cancelMsg, Event: care.Event{ID: "douyin:" + cancelMsg, Type: care.OrderCancelled, OccurredAt: tm("2021-04-23T17:46:40Z"),
				Order: care.Order{ID: "4781320682406083641", NeedsEnrichment: true}}},
		}, outcome{}},
		{"cash on delivery confirmation is no payment: it says the order is COD", dyReq(codPaid), []source.Incoming{
			{DeliveryID: "m-cod", Event: care.Event{ID: "douyin:m-cod", Type: care.OrderCreated, OccurredAt: tm("2021-04-21T07:37:30Z"),
				Order: care.Order{ID: pid, PaymentMethod: care.PayCOD, NeedsEnrichment: true}}},
		}, outcome{}},
		{"data as an object, tag as a number, no time", dyReq([]byte(`[{"tag":103,"msg_id":"m1","data":{"p_id":"123"}}]`)), []source.Incoming{
			{DeliveryID: "m1", Event: care.Event{ID: "douyin:m1", Type: care.OrderCompleted, OccurredAt: now, Order: care.Order{ID: "123", NeedsEnrichment: true}}},
		}, outcome{}},
		{"shipped without a tracking number", dyReq([]byte(`[{"tag":"102","msg_id":"m2","data":"{\"p_id\":1,\"logistics_msg\":{\"express_company_id\":\"7\"}}"}]`)), nil, outcome{}},
		{"split shipment as a list", dyReq([]byte(`[{"tag":"102","msg_id":"m3","data":"{\"p_id\":1,\"update_time\":1619077000,\"logistics_msg\":[{\"express_company_id\":7,\"logistics_code\":\"SF1\"},{\"express_company_id\":7,\"logistics_code\":\"SF2\"}]}"}]`)), []source.Incoming{
			{DeliveryID: "m3", Event: care.Event{ID: "douyin:m3", Type: care.OrderShipped, OccurredAt: tm("2021-04-22T07:36:40Z"), Order: care.Order{ID: "1", NeedsEnrichment: true},
				Parcels: []care.ParcelReport{{TrackingNumber: "SF1", Carrier: "7"}, {TrackingNumber: "SF2", Carrier: "7"}}}},
		}, outcome{}},
		{"partial ship with pack and items", dyReq(partlyShip), []source.Incoming{
			{DeliveryID: "m-108", Event: care.Event{ID: "douyin:m-108", Type: care.OrderShipped, OccurredAt: tm("2021-04-22T07:36:40Z"), Order: care.Order{ID: pid, NeedsEnrichment: true},
				Parcels: []care.ParcelReport{{TrackingNumber: "75312345678901", Carrier: "7", Ref: "PK1001",
					Items: []care.ParcelItem{{SKU: "1736501234567890", Quantity: 2}}}}}},
		}, outcome{}},
		{"tracking number changed replaces the pack's parcel", dyReq(logisticsChanged), []source.Incoming{
			{DeliveryID: "m-104", Event: care.Event{ID: "douyin:m-104", Type: care.OrderShipped, OccurredAt: tm("2021-04-22T09:00:00Z"), Order: care.Order{ID: pid, NeedsEnrichment: true},
				Parcels: []care.ParcelReport{{TrackingNumber: "SF1458822760312", Carrier: "12", Ref: "PK1001", Replacement: true,
					Items: []care.ParcelItem{{SKU: "1736501234567890", Quantity: 2}}}}}},
		}, outcome{}},
		{"shipped_num negative", dyReq([]byte(strings.Replace(string(partlyShip), `\"shipped_num\":2`, `\"shipped_num\":-2`, 1))), nil, outcome{invalid: true, field: "[0].data.logistics_msg.shipped_order_info[0].shipped_num"}},
		{"empty push", dyReq([]byte(`[]`)), nil, outcome{}},
		{"test message with tag 0", dyReq([]byte(`[{"tag":"0","msg_id":"0","data":"{}"}]`)), nil, outcome{}},
		{"uppercase hex signature", func() source.Request {
			r := dyReq(push)
			r.Header.Set(source.HeaderDouyinSign, strings.ToUpper(r.Header.Get(source.HeaderDouyinSign)))
			return r
		}(), pushEvents, outcome{}},
		{"wrong signature", func() source.Request {
			r := dyReq(push)
			r.Header.Set(source.HeaderDouyinSign, source.DouyinSign(dyKey, "x", push))
			return r
		}(), nil, outcome{unauthorized: true}},
		{"missing signature", func() source.Request { r := dyReq(push); r.Header.Del(source.HeaderDouyinSign); return r }(), nil, outcome{unauthorized: true}},
		{"app-id of another app", func() source.Request { r := dyReq(push); r.Header.Set(source.HeaderDouyinAppID, "1"); return r }(), nil, outcome{unauthorized: true}},
		{"unsupported sign-method", func() source.Request {
			r := dyReq(push)
			r.Header.Set(source.HeaderDouyinSignMethod, "hmac-sha256")
			return r
		}(), nil, outcome{unauthorized: true}},
		{"body tampered by one byte", func() source.Request { r := dyReq(push); r.Body = mutate(push, 30); return r }(), nil, outcome{unauthorized: true}},
		{"signed non-JSON body", dyReq([]byte(`tag=100`)), nil, outcome{invalid: true, field: ""}},
		{"an object, not an array", dyReq([]byte(`{"tag":"100"}`)), nil, outcome{invalid: true, field: ""}},
		{"data not JSON", dyReq([]byte(`[{"tag":"100","msg_id":"m","data":"p_id=1"}]`)), nil, outcome{invalid: true, field: "[0].data"}},
		{"p_id as a float", dyReq([]byte(`[{"tag":"100","msg_id":"m","data":"{\"p_id\":4.78e18}"}]`)), nil, outcome{invalid: true, field: "[0].data.p_id"}},
		{"pay_amount as a fraction", dyReq([]byte(`[{"tag":"101","msg_id":"m","data":"{\"p_id\":1,\"pay_type\":1,\"pay_amount\":29.9}"}]`)), nil, outcome{invalid: true, field: "[0].data.pay_amount"}},
		{"missing msg_id", dyReq([]byte(`[{"tag":"100","data":"{\"p_id\":1}"}]`)), nil, outcome{invalid: true, field: "[0].msg_id"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := source.Douyin{}.Handle(care.Source{AppKey: dyKey, AppSecret: dySecret}, tc.req, now)
			checkErr(t, err, tc.out)
			if err != nil {
				return
			}
			want := source.Result{Events: tc.want, Status: http.StatusOK, ContentType: "application/json", Body: []byte(`{"code":0,"msg":"success"}`)}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Fatalf("result (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("no credentials configured", func(t *testing.T) {
		_, err := source.Douyin{}.Handle(care.Source{}, dyReq(push), now)
		checkErr(t, err, outcome{unauthorized: true})
	})
}

func TestFenToYuan(t *testing.T) {
	body := func(fen string) []byte {
		return []byte(`[{"tag":"101","msg_id":"m","data":"{\"p_id\":1,\"pay_type\":2,\"pay_amount\":` + fen + `}"}]`)
	}
	for fen, want := range map[string]care.Decimal{"0": "0.00", "5": "0.05", "99": "0.99", "100": "1.00", "2990": "29.90", `\"123456789\"`: "1234567.89"} {
		res, err := source.Douyin{}.Handle(care.Source{AppKey: dyKey, AppSecret: dySecret}, dyReq(body(fen)), time.Now())
		if err != nil {
			t.Fatalf("%s: %v", fen, err)
		}
		if got := res.Events[0].Event.Order.Total; got != want {
			t.Errorf("%s fen = %s, want %s", fen, got, want)
		}
	}
}
