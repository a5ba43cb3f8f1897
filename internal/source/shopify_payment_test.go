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

// shopifyDelivery is a delivery as Shopify sends it: topic, a fresh webhook
// id, and X-Shopify-Hmac-Sha256 over the raw body.
func shopifyDelivery(topic, webhookID string, body []byte) source.Request {
	return source.Request{Header: header(
		source.HeaderShopifyHMAC, source.ShopifySign(shopifySecret, body),
		source.HeaderShopifyTopic, topic,
		source.HeaderShopifyWebhookID, webhookID,
		"X-Shopify-Shop-Domain", "jsmith.myshopify.com",
		"X-Shopify-API-Version", "2024-07",
	), Body: body}
}

// TestShopifyCreatedPaid: an orders/create that Shopify already reports paid
// (paid at checkout) is one order.created carrying paid_at, with the order's
// display name, the buyer's CJK name family name first, and the amount the
// buyer saw in another currency kept beside the shop-currency total.
func TestShopifyCreatedPaid(t *testing.T) {
	body := readTestdata(t, "shopify_orders_create_paid.json")
	res, err := source.Shopify{}.Handle(care.Source{Secret: shopifySecret}, shopifyDelivery("orders/create", "d-1", body), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := care.Order{
		ID:            "5998017560684",
		Name:          "#1043",
		PlacedAt:      tp("2024-06-26T16:33:21Z"),
		PaidAt:        tp("2024-06-26T16:33:25Z"), // processed_at
		Total:         "1575.90",
		Currency:      "USD", // the shop's money: thresholds and metrics
		PaymentMethod: care.PayOnline,
		Buyer:         &care.Buyer{Name: "林美", Email: "jon@example.com", Locale: "zh-CN"},
		ShippingAddress: &care.Address{Name: "林美", Phone: "+15025550123", Line1: "123 Shipping Street", City: "Shippington",
			Province: "Kentucky", PostalCode: "40003", Country: "US"},
		Items: []care.Item{
			{Title: "The Videographer Snowboard", Quantity: 1, Price: "885.95"},
			{Title: "The Complete Snowboard", Quantity: 1, Price: "699.95"},
		},
		NeedsEnrichment:     true, // the billing phone "555-555-SHIP" is not E.164
		PresentmentTotal:    "2151.10",
		PresentmentCurrency: "CAD",
	}
	if len(res.Events) != 1 || res.Events[0].Event.Type != care.OrderCreated {
		t.Fatalf("events %+v, want one order.created", res.Events)
	}
	if diff := cmp.Diff(want, res.Events[0].Event.Order); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	s, err := care.Apply(nil, res.Events[0].Event, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != care.StatusPaid {
		t.Errorf("applied: status %s, want paid", s.Status)
	}
}

// TestShopifyFinancialStatus: each documented financial_status on
// orders/create, and whether orders/paid with that body is applied.
func TestShopifyFinancialStatus(t *testing.T) {
	pending := string(readTestdata(t, "shopify_orders_create_pending.json"))
	for _, tc := range []struct {
		status string
		paid   bool
	}{
		{"pending", false}, {"authorized", true}, {"partially_paid", true}, {"paid", true},
		{"partially_refunded", true}, {"refunded", true}, {"voided", false}, {"expired", false},
	} {
		t.Run(tc.status, func(t *testing.T) {
			body := []byte(strings.Replace(pending, `"financial_status":"pending"`, `"financial_status":"`+tc.status+`"`, 1))
			res, err := source.Shopify{}.Handle(care.Source{Secret: shopifySecret}, shopifyDelivery("orders/create", "d-1", body), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Events[0].Event.Order.PaidAt != nil; got != tc.paid {
				t.Errorf("orders/create: paid_at set = %v, want %v", got, tc.paid)
			}
			res, err = source.Shopify{}.Handle(care.Source{Secret: shopifySecret}, shopifyDelivery("orders/paid", "d-2", body), time.Now())
			if tc.paid {
				if err != nil || len(res.Events) != 1 || res.Events[0].Event.Type != care.OrderPaid {
					t.Errorf("orders/paid: %+v, %v; want one order.paid", res.Events, err)
				}
			} else {
				checkErr(t, err, outcome{rejected: true, field: "financial_status"})
			}
		})
	}
}

// TestShopifyTopicSwap: Shopify signs the body, not X-Shopify-Topic. A
// captured orders/create of an unpaid order, resent with another topic and a
// new webhook id, is refused with the body field that contradicts the topic.
func TestShopifyTopicSwap(t *testing.T) {
	body := readTestdata(t, "shopify_orders_create_pending.json")
	cred := care.Source{Secret: shopifySecret}
	res, err := source.Shopify{}.Handle(cred, shopifyDelivery("orders/create", "d-1", body), time.Now())
	if err != nil || len(res.Events) != 1 || res.Events[0].Event.Order.PaidAt != nil {
		t.Fatalf("genuine orders/create: %+v, %v", res.Events, err)
	}
	for _, tc := range []struct{ topic, field string }{
		{"orders/paid", "financial_status"},
		{"orders/cancelled", "cancelled_at"},
		{"orders/fulfilled", "fulfillment_status"},
		{"orders/partially_fulfilled", "fulfillment_status"},
	} {
		t.Run(tc.topic, func(t *testing.T) {
			res, err := source.Shopify{}.Handle(cred, shopifyDelivery(tc.topic, "d-replayed", body), time.Now())
			checkErr(t, err, outcome{rejected: true, field: tc.field})
			if len(res.Events) != 0 {
				t.Errorf("events with the refusal: %+v", res.Events)
			}
		})
	}
	// The genuine deliveries of those topics carry the state in their body.
	paid := []byte(strings.Replace(string(body), `"financial_status":"pending"`, `"financial_status":"paid"`, 1))
	if _, err := (source.Shopify{}).Handle(cred, shopifyDelivery("orders/paid", "d-2", paid), time.Now()); err != nil {
		t.Errorf("genuine orders/paid: %v", err)
	}
	cancelled := []byte(strings.Replace(string(body), `"cancelled_at":null`, `"cancelled_at":"2024-06-26T13:00:00-04:00"`, 1))
	res, err = source.Shopify{}.Handle(cred, shopifyDelivery("orders/cancelled", "d-3", cancelled), time.Now())
	if err != nil || len(res.Events) != 1 || !res.Events[0].Event.OccurredAt.Equal(tm("2024-06-26T17:00:00Z")) {
		t.Errorf("genuine orders/cancelled: %+v, %v", res.Events, err)
	}
}

// TestShopifyTestOrder: "test": true is recorded and marked test.
func TestShopifyTestOrder(t *testing.T) {
	body := []byte(strings.Replace(string(readTestdata(t, "shopify_orders_create_pending.json")), `"test":false`, `"test":true`, 1))
	res, err := source.Shopify{}.Handle(care.Source{Secret: shopifySecret}, shopifyDelivery("orders/create", "d-1", body), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 1 || !res.Events[0].Event.Order.Test || res.Status != http.StatusOK {
		t.Fatalf("result %+v, want one order.created marked test", res)
	}
}

// TestShopifyNames: CJK names family name first without a space, Latin
// names first then last; the order's display name; no COD fee Shopify does
// not send.
func TestShopifyNames(t *testing.T) {
	pending := string(readTestdata(t, "shopify_orders_create_pending.json"))
	for _, tc := range []struct{ first, last, want string }{
		{"美", "林", "林美"},
		{"太郎", "山田", "山田太郎"},
		{"민수", "김", "김민수"},
		{"John", "Smith", "John Smith"},
		{"", "林", "林"},
		{"Mei", "", "Mei"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			body := []byte(strings.Replace(pending, `"first_name":"John","last_name":"Smith"`, `"first_name":"`+tc.first+`","last_name":"`+tc.last+`"`, 1))
			res, err := source.Shopify{}.Handle(care.Source{Secret: shopifySecret}, shopifyDelivery("orders/create", "d-1", body), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Events[0].Event.Order.Buyer.Name; got != tc.want {
				t.Errorf("buyer name %q, want %q", got, tc.want)
			}
		})
	}
	cod := []byte(strings.Replace(pending, `["manual"]`, `["Cash on Delivery (COD)"]`, 1))
	res, err := source.Shopify{}.Handle(care.Source{Secret: shopifySecret}, shopifyDelivery("orders/create", "d-1", cod), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	o := res.Events[0].Event.Order
	if o.Name != "#1044" || o.PaymentMethod != care.PayCOD || o.CODFee != "" {
		t.Errorf("COD order: name %q, payment %s, cod_fee %q; want #1044, cod, no fee (Shopify has none)", o.Name, o.PaymentMethod, o.CODFee)
	}
	nul := []byte(strings.Replace(pending, `"first_name":"John"`, `"first_name":"Jo\u0000hn"`, 1))
	_, err = source.Shopify{}.Handle(care.Source{Secret: shopifySecret}, shopifyDelivery("orders/create", "d-1", nul), time.Now())
	checkErr(t, err, outcome{invalid: true, field: "order.buyer.name"})
}
