package preshipcheck_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/source"
	preshipcheck "github.com/ordercare/ordercare/workflows/preship_check"
)

// applyAll applies a source's events in the order given.
func applyAll(t *testing.T, evs []source.Incoming) care.OrderState {
	t.Helper()
	var s *care.OrderState
	for _, in := range evs {
		n, err := care.Apply(s, in.Event, in.Event.OccurredAt)
		if err != nil {
			t.Fatalf("apply %s: %v", in.Event.Type, err)
		}
		s = &n
	}
	return *s
}

// douyinPush is a signed 抖店 push of the given messages (tag, data).
func douyinPush(t *testing.T, msgs ...[2]any) source.Request {
	t.Helper()
	type msg struct {
		Tag   string `json:"tag"`
		MsgID string `json:"msg_id"`
		Data  string `json:"data"`
	}
	var list []msg
	for i, m := range msgs {
		d, err := json.Marshal(m[1])
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, msg{Tag: m[0].(string), MsgID: fmt.Sprintf("m-%d", i), Data: string(d)})
	}
	body, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	const key, secret = "6839490542104589828", "2e5f3b52-4f0b-47a4-9c1d-0d6c2f7a9e31"
	h := http.Header{}
	h.Set(source.HeaderDouyinSign, source.DouyinSign(key, secret, body))
	h.Set(source.HeaderDouyinAppID, key)
	return source.Request{Header: h, Body: body}
}

// TestDouyinAddressChange: a Douyin 买家收货信息变更 message (tag 105)
// dated after the payment flags the order address_changed, in whichever
// order the messages arrive; one dated before the payment does not.
func TestDouyinAddressChange(t *testing.T) {
	_, p := defaultParams(t)
	const pid = 4781320682406083640
	paid := int64(1618990650) // 2021-04-21 07:37:30 UTC
	created := map[string]any{"p_id": pid, "create_time": paid - 60}
	pay := map[string]any{"p_id": pid, "order_status": 2, "pay_type": 1, "pay_time": paid, "pay_amount": 2990}
	change := func(at int64) map[string]any {
		return map[string]any{"p_id": pid, "order_status": 2, "update_time": at, "receiver_msg": map[string]any{
			"name": "张**", "tel": "138****0000",
			"addr": `{"province": {"name": "浙江省"}, "city": {"name": "杭州市"}, "town": {"name": "西湖区"}, "street": {"name": "文新街道"}, "detail": "***"}`}}
	}
	now := time.Unix(paid+7200, 0).UTC()
	tests := []struct {
		name string
		msgs [][2]any
		want []string
	}{
		{"changed after payment", [][2]any{{"100", created}, {"101", pay}, {"105", change(paid + 3600)}}, []string{preshipcheck.FlagAddressChanged}},
		{"change delivered before the payment", [][2]any{{"100", created}, {"105", change(paid + 3600)}, {"101", pay}}, []string{preshipcheck.FlagAddressChanged}},
		{"changed before payment", [][2]any{{"100", created}, {"105", change(paid - 30)}, {"101", pay}}, nil},
		{"no change", [][2]any{{"100", created}, {"101", pay}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := source.Douyin{}.Handle(care.Source{AppKey: "6839490542104589828", AppSecret: "2e5f3b52-4f0b-47a4-9c1d-0d6c2f7a9e31"},
				douyinPush(t, tt.msgs...), now)
			if err != nil {
				t.Fatal(err)
			}
			o := applyAll(t, res.Events)
			if !o.Has(care.StatusPaid) || o.Order.ShippingAddress == nil && len(tt.msgs) == 3 {
				t.Fatalf("order = %+v, want paid with the new address", o)
			}
			if diff := cmp.Diff(tt.want, preshipcheck.Flags(o, p)); diff != "" {
				t.Errorf("Flags (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStandardTwoAddresses: ship_to_count in a standard source's order
// payload above 1 flags the order two_addresses; 1, or none, does not; a
// later event without it keeps the count.
func TestStandardTwoAddresses(t *testing.T) {
	_, p := defaultParams(t)
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("a-32-byte-secret-for-the-tests!!"))
	key, err := source.StandardKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := paidAt.Add(time.Minute)
	deliver := func(id string, ev map[string]any) source.Incoming {
		t.Helper()
		body, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set(source.HeaderWebhookID, id)
		h.Set(source.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
		h.Set(source.HeaderWebhookSignature, source.StandardSign(key, id, now, body))
		res, err := source.Standard{}.Handle(care.Source{Secret: secret}, source.Request{Header: h, Body: body}, now)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		return res.Events[0]
	}
	order := func(count int) map[string]any {
		o := map[string]any{"id": "1", "placed_at": placed, "total": "20.00", "currency": "CNY", "payment_method": "online",
			"buyer": map[string]any{"name": "Li Lei"}, "shipping_address": map[string]any{"province": "浙江省", "city": "杭州市", "line1": "文三路 1 号"},
			"items": []any{map[string]any{"sku": "T-1", "title": "t", "quantity": 2, "price": "10.00"}}}
		if count > 0 {
			o["ship_to_count"] = count
		}
		return o
	}
	for _, tt := range []struct {
		name  string
		count int
		want  []string
	}{{"two addresses", 2, []string{preshipcheck.FlagTwoAddresses}}, {"one address", 1, nil}, {"not said", 0, nil}} {
		t.Run(tt.name, func(t *testing.T) {
			o := applyAll(t, []source.Incoming{
				deliver("c", map[string]any{"id": "c", "type": "order.created", "occurred_at": placed, "order": order(tt.count)}),
				deliver("p", map[string]any{"id": "p", "type": "order.paid", "occurred_at": paidAt, "order": map[string]any{"id": "1", "paid_at": paidAt}}),
			})
			if o.Order.ShipToCount != tt.count {
				t.Errorf("ship_to_count = %d, want %d", o.Order.ShipToCount, tt.count)
			}
			if diff := cmp.Diff(tt.want, preshipcheck.Flags(o, p)); diff != "" {
				t.Errorf("Flags (-want +got):\n%s", diff)
			}
			p.TwoAddresses = false
			defer func() { p.TwoAddresses = true }()
			if got := preshipcheck.Flags(o, p); got != nil {
				t.Errorf("two_addresses off: Flags = %v", got)
			}
		})
	}
	// A negative count is refused with its field.
	_, err = source.Standard{}.Handle(care.Source{Secret: secret}, func() source.Request {
		body, _ := json.Marshal(map[string]any{"id": "x", "type": "order.paid", "occurred_at": paidAt, "order": map[string]any{"id": "1", "ship_to_count": -1}})
		h := http.Header{}
		h.Set(source.HeaderWebhookID, "x")
		h.Set(source.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
		h.Set(source.HeaderWebhookSignature, source.StandardSign(key, "x", now, body))
		return source.Request{Header: h, Body: body}
	}(), now)
	var fe *care.FieldError
	if !errors.As(err, &fe) || fe.Field != "order.ship_to_count" {
		t.Errorf("ship_to_count -1: %v, want a field error on order.ship_to_count", err)
	}
}
