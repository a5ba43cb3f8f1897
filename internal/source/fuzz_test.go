package source_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/source"
)

// checkHandled asserts the properties every adapter keeps on a correctly
// signed delivery: no panic (implicit), an error is a *care.FieldError or a
// *care.RejectError (a body that does not support its topic) only, every
// event is valid and has a delivery id, success has a status.
func checkHandled(t *testing.T, res source.Result, err error) {
	t.Helper()
	if err != nil {
		var fe *care.FieldError
		var re *care.RejectError
		if !(errors.As(err, &fe) || errors.As(err, &re) && re.Field != "") || errors.Is(err, care.ErrUnauthorized) {
			t.Fatalf("signed delivery: error %v (%T) is not a FieldError or a RejectError with a field", err, err)
		}
		if len(res.Events) != 0 {
			t.Fatalf("events returned with an error")
		}
		return
	}
	if res.Status < 200 || res.Status > 299 {
		t.Fatalf("success status %d", res.Status)
	}
	for _, in := range res.Events {
		if in.DeliveryID == "" {
			t.Fatalf("event %s without a delivery id", in.Event.ID)
		}
		if err := in.Event.Validate(); err != nil {
			t.Fatalf("invalid event %+v: %v", in.Event, err)
		}
	}
}

// checkTampered asserts that a body changed by one byte after signing is refused.
func checkTampered(t *testing.T, a source.Adapter, cred care.Source, req source.Request, now time.Time) {
	t.Helper()
	if len(req.Body) == 0 {
		return
	}
	for _, i := range []int{0, len(req.Body) / 2, len(req.Body) - 1} {
		r := req
		r.Body = mutate(req.Body, i)
		if _, err := a.Handle(cred, r, now); !errors.Is(err, care.ErrUnauthorized) {
			// A WooCommerce ping is the one unsigned body accepted (it yields nothing).
			if a == (source.WooCommerce{}) && source.IsWooCommercePing(source.Request{Header: http.Header{}, Body: r.Body}) && r.Header.Get(source.HeaderWCSignature) == "" {
				continue
			}
			t.Fatalf("body tampered at %d: error %v, want unauthorized", i, err)
		}
	}
}

var fuzzNow = time.Unix(1_800_000_000, 0).UTC()

func FuzzStandard(f *testing.F) {
	f.Add(readTestdata(f, "standard_event.json"))
	f.Add([]byte(specBody))
	f.Add([]byte(`{"id":"e1","type":"shipment.updated","occurred_at":"2026-11-11T00:00:00Z","order":{"id":"o1"},"shipment":{"carrier":"SF","tracking_numbers":["SF1"],"status":"awaiting_pickup","pickup_point":"菜鸟驿站"}}`))
	f.Add([]byte(`{"id":"e3","type":"order.shipped","occurred_at":"2026-11-11T00:00:00Z","order":{"id":"o1","ship_by":"2026-11-12T00:00:00Z"},"parcels":[{"tracking_number":"SF1","carrier":"SF","tracking_url":"https://sf-express.com/SF1","items":[{"sku":"A","quantity":1}],"split_reason":"warehouse"}]}`))
	f.Add([]byte(`{"id":"e4","type":"shipment.updated","occurred_at":"2026-11-11T00:00:00Z","order":{"id":"o1"},"parcel":{"ref":"F1","status":"exception","sub_status":"Exception_008","message":"未取件","last_scan_at":"2026-11-11T00:00:00Z"}}`))
	f.Add([]byte(`{"id":"e2","type":"review.posted","occurred_at":"2026-11-11T00:00:00Z","order":{"id":"o1"},"review":{"rating":6}}`))
	f.Add([]byte(`{"id":"e5","type":"order.refunded","occurred_at":"2026-11-11T00:00:00Z","order":{"id":"o1"},"refund":{"id":"r1","amount":"5.00","items":[{"sku":"A","quantity":1}],"reason":"坏了"}}`))
	f.Add([]byte(`{"id":"e6","type":"order.created","occurred_at":"2026-11-11T00:00:00Z","order":{"id":"o1","items":[{"sku":"A","quantity":1,"price":"1.00","tags":["fresh",""]}]}}`))
	key, _ := source.StandardKey(specSecret)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := source.Request{Header: header("webhook-id", "msg_fuzz", "webhook-timestamp", strconv.FormatInt(fuzzNow.Unix(), 10),
			"webhook-signature", source.StandardSign(key, "msg_fuzz", fuzzNow, body)), Body: body}
		cred := care.Source{Secret: specSecret}
		res, err := source.Standard{}.Handle(cred, req, fuzzNow)
		checkHandled(t, res, err)
		checkTampered(t, source.Standard{}, cred, req, fuzzNow)
	})
}

func FuzzShopify(f *testing.F) {
	order := readTestdata(f, "shopify_orders_create.json")
	ful := readTestdata(f, "shopify_fulfillments_create.json")
	for _, topic := range []string{"orders/create", "orders/paid", "orders/cancelled", "orders/fulfilled", "orders/partially_fulfilled", "orders/updated"} {
		f.Add(topic, order)
	}
	f.Add("fulfillments/create", ful)
	f.Add("fulfillment_events/create", readTestdata(f, "shopify_fulfillment_events_create.json"))
	f.Add("refunds/create", readTestdata(f, "shopify_refunds_create.json"))
	f.Add("fulfillments/update", []byte(strings.Replace(string(ful), `"shipment_status":null`, `"shipment_status":"delivered"`, 1)))
	f.Add("orders/create", []byte(`{"id":820982911946154508}`))
	for _, name := range []string{"shopify_orders_create_paid.json", "shopify_orders_create_pending.json"} {
		b := readTestdata(f, name)
		for _, topic := range []string{"orders/create", "orders/paid", "orders/cancelled"} {
			f.Add(topic, b)
		}
	}
	f.Fuzz(func(t *testing.T, topic string, body []byte) {
		req := shopifyReq(topic, body)
		cred := care.Source{Secret: shopifySecret}
		res, err := source.Shopify{}.Handle(cred, req, fuzzNow)
		checkHandled(t, res, err)
		checkTampered(t, source.Shopify{}, cred, req, fuzzNow)
	})
}

func FuzzWooCommerce(f *testing.F) {
	order := readTestdata(f, "woocommerce_order.json")
	for _, topic := range []string{"order.created", "order.updated"} {
		f.Add(topic, order, true)
	}
	f.Add("order.updated", []byte(strings.Replace(string(order), `"processing"`, `"cancelled"`, 1)), true)
	f.Add("order.updated", []byte(strings.Replace(string(order), `"processing"`, `"refunded"`, 1)), true)
	f.Add("", []byte("webhook_id=12"), false)
	f.Add("order.updated", order, false)
	f.Fuzz(func(t *testing.T, topic string, body []byte, signed bool) {
		req := wcReq(topic, body)
		if !signed {
			req.Header.Del(source.HeaderWCSignature)
		}
		cred := care.Source{Secret: wcSecret}
		res, err := source.WooCommerce{}.Handle(cred, req, fuzzNow)
		if !signed {
			if source.IsWooCommercePing(req) {
				if err != nil || len(res.Events) != 0 || res.Status != http.StatusOK {
					t.Fatalf("ping: %v, %d events, status %d", err, len(res.Events), res.Status)
				}
				return
			}
			if !errors.Is(err, care.ErrUnauthorized) {
				t.Fatalf("unsigned body accepted: %v", err)
			}
			return
		}
		checkHandled(t, res, err)
		checkTampered(t, source.WooCommerce{}, cred, req, fuzzNow)
	})
}

func FuzzDouyin(f *testing.F) {
	f.Add(readTestdata(f, "douyin_push.json"))
	f.Add(readTestdata(f, "douyin_push_more.json"))
	f.Add([]byte(`[{"tag":103,"msg_id":"m1","data":{"p_id":"123"}}]`))
	f.Add([]byte(`[{"tag":"102","msg_id":"m3","data":"{\"p_id\":1,\"logistics_msg\":[{\"express_company_id\":7,\"logistics_code\":\"SF1\"}]}"}]`))
	f.Add([]byte(`[{"tag":"104","msg_id":"m4","data":"{\"p_id\":1,\"logistics_msg\":{\"express_company_id\":7,\"logistics_code\":\"SF1\",\"pack_id\":\"P1\",\"shipped_order_info\":[{\"sku_id\":17,\"shipped_num\":2}]}}"}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := dyReq(body)
		cred := care.Source{AppKey: dyKey, AppSecret: dySecret}
		res, err := source.Douyin{}.Handle(cred, req, fuzzNow)
		checkHandled(t, res, err)
		checkTampered(t, source.Douyin{}, cred, req, fuzzNow)
	})
}

// FuzzVerifyStandard: whatever the headers, verification passes only when one
// v1 entry is the signature of (id, timestamp, body) and the timestamp is
// within the tolerance.
func FuzzVerifyStandard(f *testing.F) {
	key, _ := source.StandardKey(specSecret)
	f.Add(specID, int64(specTS), []byte(specBody), specSig)
	f.Add("msg_1", fuzzNow.Unix(), []byte("{}"), source.StandardSign(key, "msg_1", fuzzNow, []byte("{}"))+" v1,AAAA")
	f.Add("msg_1", fuzzNow.Unix()+301, []byte("{}"), source.StandardSign(key, "msg_1", fuzzNow.Add(301*time.Second), []byte("{}")))
	f.Fuzz(func(t *testing.T, id string, ts int64, body []byte, sig string) {
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
		h.Set("webhook-signature", sig)
		now := time.Unix(specTS, 0)
		if ts > 1_000_000 {
			now = fuzzNow
		}
		if source.VerifyStandard(specSecret, h, body, now) != nil {
			return
		}
		want := source.StandardSign(key, h.Get("webhook-id"), time.Unix(ts, 0), body)
		found := false
		for _, s := range strings.Split(h.Get("webhook-signature"), " ") {
			found = found || s == want
		}
		if !found {
			t.Fatalf("accepted a signature that is not ours: %q", sig)
		}
		if d := now.Unix() - ts; d > 300 || d < -300 {
			t.Fatalf("accepted timestamp %d at %d", ts, now.Unix())
		}
	})
}

// fuzzVerifyBody checks one body-only scheme: verification passes only for
// the exact signature of the body.
func fuzzVerifyBody(f *testing.F, verify func(sig string, body []byte) error, sign func(body []byte) string, same func(a, b string) bool) {
	order := readTestdata(f, "shopify_orders_create.json")
	f.Add(order, sign(order))
	f.Add([]byte("{}"), sign([]byte("{}")))
	f.Add([]byte("{}"), "")
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		if verify(sig, body) != nil {
			return
		}
		if want := sign(body); !same(sig, want) {
			t.Fatalf("accepted signature %q for a body signed %q", sig, want)
		}
	})
}

func FuzzVerifyShopify(f *testing.F) {
	fuzzVerifyBody(f, func(sig string, body []byte) error {
		return source.VerifyShopify(shopifySecret, header(source.HeaderShopifyHMAC, sig), body)
	}, func(body []byte) string { return source.ShopifySign(shopifySecret, body) }, equal)
}

func FuzzVerifyWooCommerce(f *testing.F) {
	fuzzVerifyBody(f, func(sig string, body []byte) error {
		return source.VerifyWooCommerce(wcSecret, header(source.HeaderWCSignature, sig), body)
	}, func(body []byte) string { return source.WooCommerceSign(wcSecret, body) }, equal)
}

func FuzzVerifyDouyin(f *testing.F) {
	fuzzVerifyBody(f, func(sig string, body []byte) error {
		return source.VerifyDouyin(dyKey, dySecret, header(source.HeaderDouyinSign, sig), body)
	}, func(body []byte) string { return source.DouyinSign(dyKey, dySecret, body) }, strings.EqualFold) // hex: either case
}

func equal(a, b string) bool { return a == b }
