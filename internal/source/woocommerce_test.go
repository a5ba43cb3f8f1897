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

const wcSecret = "y>*Q2k&t1Zp^9bW!x7s]Lc0v@M;e4rN_"

func wcReq(topic string, body []byte) source.Request {
	res, ev, _ := strings.Cut(topic, ".")
	return source.Request{Header: header(
		"Content-Type", "application/json",
		source.HeaderWCSignature, source.WooCommerceSign(wcSecret, body),
		source.HeaderWCTopic, topic,
		source.HeaderWCResource, res,
		source.HeaderWCEvent, ev,
		source.HeaderWCWebhookID, "12",
		source.HeaderWCDeliveryID, "8c0e7fb4a5a6ee93a73c2b54c3e2c5f3",
		"X-WC-Webhook-Source", "https://example.com/",
	), Body: body}
}

func TestWooCommerceHandle(t *testing.T) {
	now := time.Date(2017, 3, 22, 19, 30, 0, 0, time.UTC)
	body := readTestdata(t, "woocommerce_order.json")
	const delivery = "8c0e7fb4a5a6ee93a73c2b54c3e2c5f3"
	sample := care.Order{
		ID:            "727",
		PlacedAt:      tp("2017-03-22T19:28:02Z"),
		Total:         "29.35",
		Currency:      "USD",
		PaymentMethod: care.PayOnline,
		Buyer:         &care.Buyer{Name: "John Doe", Email: "john.doe@example.com"},
		ShippingAddress: &care.Address{Name: "John Doe", Line1: "969 Market", City: "San Francisco", Province: "CA",
			PostalCode: "94103", Country: "US"},
		Items: []care.Item{
			{Title: "Woo Single #1", Quantity: 2, Price: "3"},
			{SKU: "Bar3", Title: "Ship Your Idea – Color: Black, Size: M Test", Quantity: 1, Price: "12"},
		},
		NeedsEnrichment: true, // "(555) 555-5555" has no country code: dropped, never guessed
	}
	status := func(s string) []byte {
		return []byte(strings.Replace(string(body), `"status": "processing"`, `"status": "`+s+`"`, 1))
	}
	one := func(id string, typ care.EventType, at string, o care.Order) []source.Incoming {
		return []source.Incoming{{DeliveryID: delivery, Event: care.Event{ID: id, Type: typ, OccurredAt: tm(at), Order: o}}}
	}
	cod := sample
	cod.PaymentMethod = care.PayCOD
	codBody := []byte(strings.Replace(string(body), `"payment_method": "bacs"`, `"payment_method": "cod"`, 1))
	e164 := sample
	e164.Buyer = &care.Buyer{Name: "John Doe", Email: "john.doe@example.com", Phone: "+14155550132"}
	e164.NeedsEnrichment = false
	e164Body := []byte(strings.Replace(string(body), `"(555) 555-5555"`, `"+1 (415) 555-0132"`, 1))

	paidSample := sample // the sample is processing by bank transfer with date_paid: paid at checkout
	paidSample.PaidAt = tp("2017-03-22T19:28:08Z")
	paidE164 := e164
	paidE164.PaidAt = paidSample.PaidAt
	ignored := func(reason string) *source.Result {
		return &source.Result{Status: http.StatusOK, ContentType: "application/json",
			Body: []byte(`{"ignored":true,"reason":"` + reason + `"}`)}
	}
	tests := []struct {
		name string
		req  source.Request
		want []source.Incoming
		out  outcome
		res  *source.Result // the whole answer, when it is not 200 with the events
	}{
		{"order.created", wcReq("order.created", body), one("woocommerce:727:order.created:1490210888", care.OrderCreated, "2017-03-22T19:28:02Z", paidSample), outcome{}, nil},
		{"order.created with an E.164 phone", wcReq("order.created", e164Body), one("woocommerce:727:order.created:1490210888", care.OrderCreated, "2017-03-22T19:28:02Z", paidE164), outcome{}, nil},
		{"order.created on-hold (bank transfer awaited): unpaid", wcReq("order.created", []byte(strings.Replace(string(status("on-hold")), `"date_paid_gmt": "2017-03-22T19:28:08"`, `"date_paid_gmt": null`, 1))),
			one("woocommerce:727:order.created:1490210888", care.OrderCreated, "2017-03-22T19:28:02Z", sample), outcome{}, nil},
		{"order.created already cancelled", wcReq("order.created", status("cancelled")), append(one("woocommerce:727:order.created:1490210888", care.OrderCreated, "2017-03-22T19:28:02Z", sample),
			one("woocommerce:727:order.cancelled:1490210888", care.OrderCancelled, "2017-03-22T19:28:08Z", care.Order{ID: "727"})...), outcome{}, nil},
		{"order.updated processing → paid", wcReq("order.updated", body), one("woocommerce:727:order.paid:1490210888", care.OrderPaid, "2017-03-22T19:28:08Z", sample), outcome{}, nil},
		{"order.updated processing, cash on delivery: not paid", wcReq("order.updated", codBody), nil, outcome{}, ignored("order.updated with status processing records nothing")},
		{"order.created cash on delivery", wcReq("order.created", codBody), one("woocommerce:727:order.created:1490210888", care.OrderCreated, "2017-03-22T19:28:02Z", cod), outcome{}, nil},
		{"order.updated completed", wcReq("order.updated", status("completed")), one("woocommerce:727:order.completed:1490210888", care.OrderCompleted, "2017-03-22T19:28:08Z", sample), outcome{}, nil},
		{"order.updated cancelled", wcReq("order.updated", status("cancelled")), one("woocommerce:727:order.cancelled:1490210888", care.OrderCancelled, "2017-03-22T19:28:08Z", sample), outcome{}, nil},
		{"topic from the resource and event headers", func() source.Request { r := wcReq("order.created", body); r.Header.Del(source.HeaderWCTopic); return r }(),
			one("woocommerce:727:order.created:1490210888", care.OrderCreated, "2017-03-22T19:28:02Z", paidSample), outcome{}, nil},
		{"order.updated pending", wcReq("order.updated", status("pending")), nil, outcome{}, ignored("order.updated with status pending records nothing")},
		{"order.updated on-hold", wcReq("order.updated", status("on-hold")), nil, outcome{}, ignored("order.updated with status on-hold records nothing")},
		{"order.updated refunded", wcReq("order.updated", status("refunded")), func() []source.Incoming {
			in := one("woocommerce:727:order.refunded:1490210888", care.OrderRefunded, "2017-03-22T19:28:08Z", sample)
			in[0].Event.Refund = &care.Refund{Full: true, Amount: "29.35"}
			return in
		}(), outcome{}, nil},
		{"order.deleted", wcReq("order.deleted", []byte(`{"id":727}`)), nil, outcome{}, ignored("topic order.deleted is not used")},
		{"creation ping", source.Request{Header: header("Content-Type", "application/x-www-form-urlencoded"), Body: []byte("webhook_id=12")}, nil, outcome{}, nil},
		{"unsigned body that is no ping", source.Request{Header: header("Content-Type", "application/x-www-form-urlencoded"), Body: []byte("webhook_id=12&status=completed")}, nil, outcome{unauthorized: true}, nil},
		{"unsigned order", func() source.Request {
			r := wcReq("order.updated", body)
			r.Header.Del(source.HeaderWCSignature)
			return r
		}(), nil, outcome{unauthorized: true}, nil},
		{"ping body with a wrong signature", func() source.Request {
			r := wcReq("order.updated", body)
			r.Body = []byte("webhook_id=12")
			return r
		}(), nil, outcome{unauthorized: true}, nil},
		{"body tampered by one byte", func() source.Request { r := wcReq("order.updated", body); r.Body = mutate(body, 100); return r }(), nil, outcome{unauthorized: true}, nil},
		{"total as a number", wcReq("order.created", []byte(strings.Replace(string(body), `"total": "29.35"`, `"total": 29.35`, 1))), nil, outcome{invalid: true, field: "total"}, nil},
		{"id as a string", wcReq("order.created", []byte(strings.Replace(string(body), `"id": 727,`, `"id": "seven",`, 1))), nil, outcome{invalid: true, field: ""}, nil},
		{"quantity as a fraction", wcReq("order.created", []byte(strings.Replace(string(body), `"quantity": 2,`, `"quantity": 2.5,`, 1))), nil, outcome{invalid: true, field: "line_items[0].quantity"}, nil},
		{"signed non-JSON body", wcReq("order.created", []byte("webhook_id=12")), nil, outcome{invalid: true, field: ""}, nil},
		{"missing delivery id", func() source.Request {
			r := wcReq("order.created", body)
			r.Header.Del(source.HeaderWCDeliveryID)
			return r
		}(), nil, outcome{invalid: true, field: source.HeaderWCDeliveryID}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := source.WooCommerce{}.Handle(care.Source{Secret: wcSecret}, tc.req, now)
			checkErr(t, err, tc.out)
			if err != nil {
				return
			}
			want := source.Result{Events: tc.want, Status: http.StatusOK}
			if tc.res != nil {
				want = *tc.res
			}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Fatalf("result (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("no secret configured: a signed-looking body is refused", func(t *testing.T) {
		r := wcReq("order.created", body)
		r.Header.Set(source.HeaderWCSignature, source.WooCommerceSign("", body))
		_, err := source.WooCommerce{}.Handle(care.Source{}, r, now)
		checkErr(t, err, outcome{unauthorized: true})
	})
}

// TestWooCommerceTopicSwap: WooCommerce signs the body, not
// X-WC-Webhook-Topic (nor X-WC-Webhook-Resource/Event). Whatever topic a
// captured body is resent with, only what its signed status supports is
// recorded: an unpaid order never becomes paid or cancelled by a header.
func TestWooCommerceTopicSwap(t *testing.T) {
	body := readTestdata(t, "woocommerce_order.json")
	pending := []byte(strings.Replace(strings.Replace(string(body), `"status": "processing"`, `"status": "pending"`, 1),
		`"date_paid_gmt": "2017-03-22T19:28:08"`, `"date_paid_gmt": null`, 1))
	now := time.Date(2017, 3, 22, 20, 0, 0, 0, time.UTC)
	for _, topic := range []string{"order.created", "order.updated", "order.deleted", "action.woocommerce_payment_complete"} {
		t.Run(topic, func(t *testing.T) {
			res, err := source.WooCommerce{}.Handle(care.Source{Secret: wcSecret}, wcReq(topic, pending), now)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range res.Events {
				ev := in.Event
				if ev.Type != care.OrderCreated || ev.Order.PaidAt != nil {
					t.Errorf("an unpaid body resent as %s gave %s (paid_at %v)", topic, ev.Type, ev.Order.PaidAt)
				}
			}
		})
	}
}
