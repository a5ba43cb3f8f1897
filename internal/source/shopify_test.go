package source_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/source"
)

const shopifySecret = "shpss_0123456789abcdef0123456789abcdef"

func shopifyReq(topic string, body []byte) source.Request {
	return source.Request{Header: header(
		source.HeaderShopifyHMAC, source.ShopifySign(shopifySecret, body),
		source.HeaderShopifyTopic, topic,
		source.HeaderShopifyWebhookID, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
		source.HeaderShopifyEventID, "98880550-7158-44d4-b7cd-2c97c8a091b5",
		"X-Shopify-Shop-Domain", "jsmith.myshopify.com",
	), Body: body}
}

func TestShopifyHandle(t *testing.T) {
	now := time.Date(2024, 6, 26, 17, 0, 0, 0, time.UTC)
	order := readTestdata(t, "shopify_orders_create.json")
	fulfillment := readTestdata(t, "shopify_fulfillments_create.json")
	const delivery = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
	const evPrefix = "shopify:98880550-7158-44d4-b7cd-2c97c8a091b5:"

	sampleOrder := care.Order{
		ID:            "820982911946154508",
		PlacedAt:      tp("2024-06-26T16:33:21Z"),
		Total:         "1575.90",
		Currency:      "USD",
		PaymentMethod: care.PayOnline,
		Buyer:         &care.Buyer{Name: "John Smith", Email: "jon@example.com", Locale: "en"},
		ShippingAddress: &care.Address{Name: "Steve Shipper", Line1: "123 Shipping Street", City: "Shippington",
			Province: "Kentucky", PostalCode: "40003", Country: "US"},
		Items: []care.Item{
			{Title: "The Videographer Snowboard", Quantity: 1, Price: "885.95"},
			{Title: "The Complete Snowboard", Quantity: 1, Price: "699.95"},
		},
		NeedsEnrichment: true, // "555-555-SHIP" is no phone number: dropped, never guessed
		Name:            "#9999",
		Test:            true, // "Send test notification": recorded, never messaged
	}
	withOrder := func(typ care.EventType, at string, o care.Order) []source.Incoming {
		return []source.Incoming{{DeliveryID: delivery, Event: care.Event{ID: evPrefix + string(typ), Type: typ, OccurredAt: tm(at), Order: o}}}
	}
	// The sample order is also cancelled (cancelled_at is set): orders/create records both.
	createdCancelled := func(o care.Order) []source.Incoming {
		return append(withOrder(care.OrderCreated, "2024-06-26T16:33:21Z", o),
			withOrder(care.OrderCancelled, "2024-06-26T16:33:21Z", care.Order{ID: o.ID, Test: true})...)
	}
	ignored := func(reason string) source.Result {
		return source.Result{Status: http.StatusOK, ContentType: "application/json",
			Body: []byte(`{"ignored":true,"reason":"` + reason + `"}`)}
	}
	e164Body := []byte(strings.ReplaceAll(strings.Replace(string(order), `"phone":null,"email_marketing_consent"`, `"phone":"+1 613-555-0135","email_marketing_consent"`, 1), "555-555-SHIP", "+15025550123"))
	e164Order := sampleOrder
	e164Order.Buyer = &care.Buyer{Name: "John Smith", Email: "jon@example.com", Phone: "+16135550135", Locale: "en"}
	addr := *sampleOrder.ShippingAddress
	addr.Phone = "+15025550123"
	e164Order.ShippingAddress = &addr
	e164Order.NeedsEnrichment = false

	codOrder := sampleOrder
	codOrder.PaymentMethod = care.PayCOD

	fulfilled := []byte(strings.Replace(string(order), `"fulfillments":[]`, `"fulfillments":[`+
		`{"id":255858046,"order_id":820982911946154508,"status":"success","created_at":"2024-06-27T09:00:00-04:00","tracking_company":"UPS","tracking_number":"1Z2345","tracking_numbers":["1Z2345","1Z2346"],"shipment_status":null},`+
		`{"id":255858047,"order_id":820982911946154508,"status":"success","created_at":"2024-06-27T09:05:00-04:00","tracking_company":null,"tracking_number":null,"tracking_numbers":[]}]`, 1))
	partial := []byte(strings.Replace(string(fulfilled), `"fulfillment_status":"pending"`, `"fulfillment_status":"partial"`, 1))
	fulfilled = []byte(strings.Replace(string(fulfilled), `"fulfillment_status":"pending"`, `"fulfillment_status":"fulfilled"`, 1))
	fevent := readTestdata(t, "shopify_fulfillment_events_create.json")
	sampleParcel := care.ParcelReport{TrackingNumber: "1z827wk74630", Carrier: "UPS", Ref: "123456",
		TrackingURL: "https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=1z827wk74630",
		Items:       []care.ParcelItem{{SKU: "IPOD2008PINK", Quantity: 1}}}
	shipped := func(suffix string) source.Incoming {
		return source.Incoming{DeliveryID: delivery, Event: care.Event{ID: evPrefix + suffix, Type: care.OrderShipped,
			OccurredAt: tm("2024-06-26T16:33:21Z"), Order: care.Order{ID: "820982911946154508"}, Parcels: []care.ParcelReport{sampleParcel}}}
	}
	updated := func(st care.ShipmentStatus, sub string) source.Incoming {
		return source.Incoming{DeliveryID: delivery, Event: care.Event{ID: evPrefix + "shipment.updated:0", Type: care.ShipmentUpdated,
			OccurredAt: tm("2024-06-26T16:33:21Z"), Order: care.Order{ID: "820982911946154508"},
			Parcel: &care.ParcelReport{TrackingNumber: "1z827wk74630", Ref: "123456", Status: st, SubStatus: sub}}}
	}
	shipment := func(status string) []byte {
		return []byte(strings.Replace(string(fulfillment), `"shipment_status":null`, `"shipment_status":`+status, 1))
	}

	tests := []struct {
		name string
		req  source.Request
		want []source.Incoming
		out  outcome
		res  *source.Result // the whole answer, when it is not 200 with the events
	}{
		{"orders/create sample", shopifyReq("orders/create", order), createdCancelled(sampleOrder), outcome{}, nil},
		{"orders/create with E.164 phones", shopifyReq("orders/create", e164Body), createdCancelled(e164Order), outcome{}, nil},
		{"orders/create cash on delivery", shopifyReq("orders/create", []byte(strings.Replace(string(order), `["visa","bogus"]`, `["Cash on Delivery (COD)"]`, 1))), createdCancelled(codOrder), outcome{}, nil},
		{"orders/paid of a voided order is refused", shopifyReq("orders/paid", order), nil, outcome{rejected: true, field: "financial_status"}, nil},
		{"orders/cancelled", shopifyReq("orders/cancelled", order), withOrder(care.OrderCancelled, "2024-06-26T16:33:21Z", sampleOrder), outcome{}, nil},
		{"orders/fulfilled: split shipment, one parcel without tracking", shopifyReq("orders/fulfilled", fulfilled), []source.Incoming{{DeliveryID: delivery, Event: care.Event{
			ID: evPrefix + "order.shipped", Type: care.OrderShipped, OccurredAt: tm("2024-06-27T13:00:00Z"), Order: sampleOrder,
			Parcels: []care.ParcelReport{{TrackingNumber: "1Z2345", Carrier: "UPS", Ref: "255858046"}, {TrackingNumber: "1Z2346", Carrier: "UPS", Ref: "255858046"}}}}}, outcome{}, nil},
		{"orders/partially_fulfilled", shopifyReq("orders/partially_fulfilled", partial), []source.Incoming{{DeliveryID: delivery, Event: care.Event{
			ID: evPrefix + "order.shipped", Type: care.OrderShipped, OccurredAt: tm("2024-06-27T13:00:00Z"), Order: sampleOrder,
			Parcels: []care.ParcelReport{{TrackingNumber: "1Z2345", Carrier: "UPS", Ref: "255858046"}, {TrackingNumber: "1Z2346", Carrier: "UPS", Ref: "255858046"}}}}}, outcome{}, nil},
		{"orders/fulfilled whose body says partial is refused", shopifyReq("orders/fulfilled", partial), nil, outcome{rejected: true, field: "fulfillment_status"}, nil},
		{"orders/partially_fulfilled whose body says fulfilled is refused", shopifyReq("orders/partially_fulfilled", fulfilled), nil, outcome{rejected: true, field: "fulfillment_status"}, nil},
		{"orders/fulfilled with only a cancelled fulfillment", shopifyReq("orders/fulfilled", []byte(strings.Replace(string(fulfilled), `"status":"success","created_at":"2024-06-27T09:00:00-04:00"`, `"status":"cancelled","created_at":"2024-06-27T09:00:00-04:00"`, 1))), nil, outcome{}, ptr(ignored("the order has no fulfillment with a tracking number"))},
		{"orders/updated: no diff, ignored", shopifyReq("orders/updated", order), nil, outcome{}, ptr(ignored("topic orders/updated is not used"))},
		{"unknown topic", shopifyReq("products/create", []byte(`{"id":1}`)), nil, outcome{}, ptr(ignored("topic products/create is not used"))},
		{"no topic", shopifyReq("", order), nil, outcome{}, ptr(ignored("no X-Shopify-Topic header"))},
		{"fulfillments/create", shopifyReq("fulfillments/create", fulfillment), []source.Incoming{shipped("order.shipped")}, outcome{}, nil},
		{"fulfillments/update delivered", shopifyReq("fulfillments/update", shipment(`"delivered"`)), []source.Incoming{shipped("order.shipped"), updated(care.ShipDelivered, "delivered")}, outcome{}, nil},
		{"fulfillments/update out_for_delivery", shopifyReq("fulfillments/update", shipment(`"out_for_delivery"`)), []source.Incoming{shipped("order.shipped"), updated(care.ShipOutForDelivery, "out_for_delivery")}, outcome{}, nil},
		{"fulfillments/update ready_for_pickup", shopifyReq("fulfillments/update", shipment(`"ready_for_pickup"`)), []source.Incoming{shipped("order.shipped"), updated(care.ShipAvailableForPickup, "ready_for_pickup")}, outcome{}, nil},
		{"fulfillments/update failure", shopifyReq("fulfillments/update", shipment(`"failure"`)), []source.Incoming{shipped("order.shipped"), updated(care.ShipException, "failure")}, outcome{}, nil},
		{"fulfillments/update with an unknown shipment_status records the parcel only", shopifyReq("fulfillments/update", shipment(`"teleported"`)), []source.Incoming{shipped("order.shipped")}, outcome{}, nil},
		{"fulfillments/update without shipment_status (tracking added)", shopifyReq("fulfillments/update", fulfillment), []source.Incoming{shipped("order.shipped")}, outcome{}, nil},
		{"fulfillments/update cancelled", shopifyReq("fulfillments/update", []byte(strings.Replace(string(fulfillment), `"status":"pending"`, `"status":"cancelled"`, 1))), nil, outcome{}, ptr(ignored("fulfillment status cancelled is not a shipment"))},
		{"fulfillments/create without a tracking number", shopifyReq("fulfillments/create", []byte(`{"id":1,"order_id":820982911946154508,"created_at":"2024-06-26T12:33:21-04:00","tracking_number":null,"tracking_numbers":[]}`)), nil, outcome{}, ptr(ignored("the fulfillment has no tracking number yet"))},
		{"fulfillments/create line item quantity 0", shopifyReq("fulfillments/create", []byte(strings.Replace(string(fulfillment), `"quantity":1,`, `"quantity":0,`, 1))), nil, outcome{invalid: true, field: "line_items[0].quantity"}, nil},
		{"fulfillment_events/create", shopifyReq("fulfillment_events/create", fevent), []source.Incoming{{DeliveryID: delivery, Event: care.Event{
			ID: evPrefix + "shipment.updated", Type: care.ShipmentUpdated, OccurredAt: tm("2024-06-27T12:10:00Z"), Order: care.Order{ID: "820982911946154508"},
			Parcel: &care.ParcelReport{Ref: "123456", Status: care.ShipInTransit, SubStatus: "in_transit", Message: "Departed from facility, LOUISVILLE, KY", LastScanAt: tp("2024-06-27T12:10:00Z")}}}}, outcome{}, nil},
		{"fulfillment_events/create picked_up", shopifyReq("fulfillment_events/create", []byte(strings.Replace(string(fevent), `"status":"in_transit"`, `"status":"picked_up"`, 1))), []source.Incoming{{DeliveryID: delivery, Event: care.Event{
			ID: evPrefix + "shipment.updated", Type: care.ShipmentUpdated, OccurredAt: tm("2024-06-27T12:10:00Z"), Order: care.Order{ID: "820982911946154508"},
			Parcel: &care.ParcelReport{Ref: "123456", Status: care.ShipDelivered, SubStatus: "picked_up", Message: "Departed from facility, LOUISVILLE, KY", LastScanAt: tp("2024-06-27T12:10:00Z")}}}}, outcome{}, nil},
		{"fulfillment_events/create unknown status", shopifyReq("fulfillment_events/create", []byte(strings.Replace(string(fevent), `"status":"in_transit"`, `"status":"teleported"`, 1))), nil, outcome{}, ptr(ignored("fulfillment event status teleported is not used"))},
		{"fulfillment_events/create without happened_at", shopifyReq("fulfillment_events/create", []byte(strings.Replace(string(fevent), `"happened_at":"2024-06-27T08:10:00-04:00"`, `"happened_at":null`, 1))), nil, outcome{invalid: true, field: "happened_at"}, nil},
		{"fulfillment_events/create without fulfillment_id", shopifyReq("fulfillment_events/create", []byte(strings.Replace(string(fevent), `"fulfillment_id":123456`, `"fulfillment_id":null`, 1))), nil, outcome{invalid: true, field: "fulfillment_id"}, nil},
		{"total_price as a number", shopifyReq("orders/create", []byte(strings.Replace(string(order), `"total_price":"1575.90"`, `"total_price":1575.90`, 1))), nil, outcome{invalid: true, field: "total_price"}, nil},
		{"line item price as a number", shopifyReq("orders/create", []byte(strings.Replace(string(order), `"price":"885.95"`, `"price":885.95`, 1))), nil, outcome{invalid: true, field: "line_items.price"}, nil},
		{"id as a float", shopifyReq("orders/create", []byte(strings.Replace(string(order), `"id":820982911946154508,`, `"id":8.209829119461545e17,`, 1))), nil, outcome{invalid: true, field: "id"}, nil},
		{"bad created_at", shopifyReq("orders/create", []byte(strings.Replace(string(order), `"created_at":"2024-06-26T12:33:21-04:00"`, `"created_at":"yesterday"`, 1))), nil, outcome{invalid: true, field: "created_at"}, nil},
		{"signed non-JSON body", shopifyReq("orders/create", []byte("<xml/>")), nil, outcome{invalid: true}, nil},
		{"body tampered by one byte", func() source.Request { r := shopifyReq("orders/create", order); r.Body = mutate(order, 7); return r }(), nil, outcome{unauthorized: true}, nil},
		{"missing HMAC", func() source.Request {
			r := shopifyReq("orders/create", order)
			r.Header.Del(source.HeaderShopifyHMAC)
			return r
		}(), nil, outcome{unauthorized: true}, nil},
		{"HMAC in hex", func() source.Request {
			r := shopifyReq("orders/create", order)
			r.Header.Set(source.HeaderShopifyHMAC, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
			return r
		}(), nil, outcome{unauthorized: true}, nil},
		{"missing webhook id", func() source.Request {
			r := shopifyReq("orders/create", order)
			r.Header.Del(source.HeaderShopifyWebhookID)
			return r
		}(), nil, outcome{invalid: true, field: source.HeaderShopifyWebhookID}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := source.Shopify{}.Handle(care.Source{Secret: shopifySecret}, tc.req, now)
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
	t.Run("wrong secret", func(t *testing.T) {
		_, err := source.Shopify{}.Handle(care.Source{Secret: "shpss_other"}, shopifyReq("orders/create", order), now)
		checkErr(t, err, outcome{unauthorized: true})
	})
	t.Run("event id falls back to the webhook id", func(t *testing.T) {
		r := shopifyReq("orders/cancelled", order)
		r.Header.Del(source.HeaderShopifyEventID)
		res, err := source.Shopify{}.Handle(care.Source{Secret: shopifySecret}, r, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Events[0].Event.ID; got != "shopify:"+delivery+":order.cancelled" {
			t.Fatalf("event id = %s", got)
		}
	})
}

// TestShopifyOrderIDExact: the 64-bit id survives exactly (float64 would give 820982911946154500).
func TestShopifyOrderIDExact(t *testing.T) {
	body := []byte(`{"id":820982911946154508,"financial_status":"paid","created_at":"2024-06-26T12:33:21-04:00","updated_at":"2024-06-26T12:33:21-04:00"}`)
	res, err := source.Shopify{}.Handle(care.Source{Secret: shopifySecret}, shopifyReq("orders/paid", body), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Events[0].Event.Order.ID; got != "820982911946154508" {
		t.Fatalf("order id = %s, want 820982911946154508", got)
	}
}

func ptr[T any](v T) *T { return &v }

// TestShopifyRefund: refunds/create gives order.refunded with the lines
// that have a SKU and the successful refund transactions' sum; a refund
// naming no SKU and moving no money is ignored; bad ids are refused with
// their field.
func TestShopifyRefund(t *testing.T) {
	now := time.Date(2024, 6, 28, 15, 0, 0, 0, time.UTC)
	body := readTestdata(t, "shopify_refunds_create.json")
	res, err := source.Shopify{}.Handle(care.Source{Secret: shopifySecret}, shopifyReq("refunds/create", body), now)
	if err != nil {
		t.Fatal(err)
	}
	want := []source.Incoming{{DeliveryID: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", Event: care.Event{
		ID: "shopify:98880550-7158-44d4-b7cd-2c97c8a091b5:order.refunded", Type: care.OrderRefunded,
		OccurredAt: tm("2024-06-28T14:12:05Z"), Order: care.Order{ID: "820982911946154508"},
		Refund: &care.Refund{ID: "509562969", Amount: "885.95", Items: []care.ParcelItem{{SKU: "SNOW-VIDEO-1", Quantity: 1}},
			Reason: "it broke during shipping"}}}}
	if diff := cmp.Diff(want, res.Events); diff != "" {
		t.Errorf("refunds/create (-want +got):\n%s", diff)
	}
	for _, ev := range res.Events {
		if err := ev.Event.Validate(); err != nil {
			t.Errorf("invalid event: %v", err)
		}
	}
	nothing := strings.Replace(strings.ReplaceAll(string(body), `"sku":"SNOW-VIDEO-1"`, `"sku":null`), `"status":"success"`, `"status":"pending"`, 1)
	res, err = source.Shopify{}.Handle(care.Source{Secret: shopifySecret}, shopifyReq("refunds/create", []byte(nothing)), now)
	if err != nil || len(res.Events) != 0 || !strings.Contains(string(res.Body), "ignored") {
		t.Errorf("a refund of nothing: %v %+v", err, res)
	}
	for field, bad := range map[string]string{
		"order_id":                      strings.Replace(string(body), `"order_id":820982911946154508,"created_at"`, `"order_id":-5,"created_at"`, 1),
		"refund_line_items[0].quantity": strings.Replace(string(body), `"quantity":1,"line_item_id":866550311766439020`, `"quantity":0,"line_item_id":866550311766439020`, 1),
		"transactions[0].amount":        strings.Replace(string(body), `"amount":"885.95","currency":"USD","payment_id":"#9999.2"`, `"amount":"-1","currency":"USD","payment_id":"#9999.2"`, 1),
	} {
		_, err := source.Shopify{}.Handle(care.Source{Secret: shopifySecret}, shopifyReq("refunds/create", []byte(bad)), now)
		var fe *care.FieldError
		if !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%s: err = %v", field, err)
		}
	}
}
