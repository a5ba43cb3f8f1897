package httpapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/source"
)

// TestTrackingSources drives the parcel sources through the HTTP API: a
// Shopify order shipped in two UPS parcels, AfterShip reporting one at a
// pickup point, 17TRACK reporting the other delivered before Shopify said it
// was shipped (kept and matched by tracking number), then the first picked
// up: the order is delivered with both tracking numbers intact.
func TestTrackingSources(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	ops := shop.Keys[care.RoleOps]
	for _, src := range []string{"aftership", "17track"} {
		if r := e.do("PUT", "/v1/shops/tea/sources/"+src, ops, []byte(`{"secret":"`+src+`-secret-0123"}`), nil); r.Status != 200 {
			t.Fatalf("put %s: %d %s", src, r.Status, r.Body)
		}
		if r := e.do("PUT", "/v1/shops/tea/sources/"+src, ops, []byte(`{"app_key":"k","app_secret":"s-0123456789"}`), nil); r.Status != 400 {
			t.Fatalf("put %s with app_key: %d %s, want 400", src, r.Status, r.Body)
		}
	}
	e.do("PUT", "/v1/shops/tea/sources/shopify", ops, []byte(`{"secret":"shopify-client-secret"}`), nil)

	const order = "820982911946154508"
	aftership := func(id, tag, subtag, ts string) response {
		body := []byte(`{"event":"tracking_update","event_id":"` + id + `","msg":{"tracking_number":"1Z2345","slug":"ups","tag":"` + tag + `","subtag":"` + subtag + `","order_id":"` + order + `","pickup_location":"The UPS Store #1234","checkpoints":[{"checkpoint_time":"` + ts + `","message":"scan"}]},"ts":1719673331}`)
		return e.do("POST", "/webhooks/tea/aftership", "", body, map[string]string{source.HeaderAfterShipHMAC: source.AfterShipSign("aftership-secret-0123", body)})
	}
	t17 := []byte(`{"event":"TRACKING_UPDATED","data":{"number":"1Z2346","carrier":100002,"tag":"` + order + `","track_info":{"latest_status":{"status":"Delivered","sub_status":"Delivered_Other"},"latest_event":{"time_utc":"2024-06-29T18:12:00Z","description":"DELIVERED"}}}}`)
	sum := sha256.Sum256(append(append(append([]byte{}, t17...), '/'), []byte("17track-secret-0123")...))
	if r := e.do("POST", "/webhooks/tea/17track", "", t17, map[string]string{"sign": hex.EncodeToString(sum[:])}); r.Status != 200 {
		t.Fatalf("17track: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", "/webhooks/tea/17track", "", t17, map[string]string{"sign": strings.Repeat("0", 64)}); r.Status != 401 {
		t.Fatalf("17track wrong sign: %d %s", r.Status, r.Body)
	}
	if r := aftership("as-1", "AvailableForPickup", "AvailableForPickup_001", "2024-06-29T10:58:00-04:00"); r.Status != 200 {
		t.Fatalf("aftership: %d %s", r.Status, r.Body)
	}
	if r := aftership("as-x", "Teleported", "", "2024-06-29T10:58:00-04:00"); r.Status != 422 || !strings.Contains(string(r.Body), "msg.tag") {
		t.Fatalf("aftership unknown tag: %d %s, want 422 on msg.tag", r.Status, r.Body)
	}

	ful := []byte(`{"id":255858046,"order_id":820982911946154508,"status":"success","created_at":"2024-06-27T09:00:00-04:00","tracking_company":"UPS","tracking_numbers":["1Z2345","1Z2346"],"tracking_urls":["https://www.ups.com/track?tracknum=1Z2345","https://www.ups.com/track?tracknum=1Z2346"],"line_items":[]}`)
	h := map[string]string{source.HeaderShopifyHMAC: source.ShopifySign("shopify-client-secret", ful), source.HeaderShopifyTopic: "fulfillments/create",
		source.HeaderShopifyWebhookID: "w-1", "X-Shopify-Shop-Domain": "tea.myshopify.com"}
	if r := e.do("POST", "/webhooks/tea/shopify", "", ful, h); r.Status != 200 {
		t.Fatalf("shopify: %d %s", r.Status, r.Body)
	}
	var o care.OrderState
	e.do("GET", "/v1/orders/"+order, ops, nil, nil).json(t, &o)
	if o.Status != care.StatusShipped || len(o.Parcels) != 2 {
		t.Fatalf("after shipping: status %s, parcels %+v", o.Status, o.Parcels)
	}
	if r := aftership("as-2", "Delivered", "Delivered_002", "2024-06-30T11:00:00-04:00"); r.Status != 200 {
		t.Fatalf("aftership delivered: %d %s", r.Status, r.Body)
	}
	e.do("GET", "/v1/orders/"+order, ops, nil, nil).json(t, &o)
	if o.Status != care.StatusDelivered {
		t.Fatalf("status %s, want delivered: %+v", o.Status, o.Parcels)
	}
	for _, n := range []string{"1Z2345", "1Z2346"} {
		p := o.Parcel(n)
		if p == nil || p.Status != care.ShipDelivered || p.Carrier == "" || p.TrackingURL != "https://www.ups.com/track?tracknum="+n {
			t.Errorf("parcel %s = %+v", n, p)
		}
	}
	e.checkLogs()
}
