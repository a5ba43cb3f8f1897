package source_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/source"
)

const (
	asSecret  = "as-webhook-secret-0123456789"
	t17Secret = "17track-security-key-0123456789"
)

func asReq(body []byte) source.Request {
	return source.Request{Header: header(source.HeaderAfterShipHMAC, source.AfterShipSign(asSecret, body)), Body: body}
}

func t17Req(body []byte) source.Request {
	return source.Request{Header: header(source.Header17TrackSign, source.Track17Sign(t17Secret, body)), Body: body}
}

func ignoredRes(reason string) *source.Result {
	return &source.Result{Status: http.StatusOK, ContentType: "application/json", Body: []byte(`{"ignored":true,"reason":"` + reason + `"}`)}
}

func TestTrack17Sign(t *testing.T) {
	// sha256("{}" + "/" + "k"), computed with Python hashlib.
	if got := source.Track17Sign("k", []byte("{}")); got != "b46c2b8292d50affff807248811c13b448cb2b46949460bc740284221257a064" {
		t.Fatalf("Track17Sign = %s", got)
	}
}

func sha256hex(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }

func TestAfterShipHandle(t *testing.T) {
	now := time.Date(2024, 6, 29, 16, 0, 0, 0, time.UTC)
	body := readTestdata(t, "aftership_tracking_update.json")
	with := func(old, new string) []byte { return []byte(strings.Replace(string(body), old, new, 1)) }
	const id = "e7a3bd3c-5d5b-4c9e-9a3f-0d6f6f1b2a11"
	event := func(p care.ParcelReport) []source.Incoming {
		return []source.Incoming{{DeliveryID: id, Event: care.Event{ID: "aftership:" + id, Type: care.ShipmentUpdated,
			OccurredAt: tm("2024-06-29T15:02:11Z"), Order: care.Order{ID: "820982911946154508"}, Parcel: &p}}}
	}
	pickup := care.ParcelReport{TrackingNumber: "1Z2345", Carrier: "ups", TrackingURL: "https://www.ups.com/track?tracknum=1Z2345",
		Status: care.ShipAvailableForPickup, SubStatus: "AvailableForPickup_001",
		Message: "Delivered to UPS Access Point™. Held for pickup", LastScanAt: tp("2024-06-29T15:02:10Z"),
		PickupPoint: "The UPS Store #1234, 500 Main St, Louisville KY"}
	returning := pickup
	returning.Status, returning.SubStatus, returning.PickupPoint = care.ShipReturning, "Exception_010", ""
	tests := []struct {
		name string
		req  source.Request
		want []source.Incoming
		out  outcome
		res  *source.Result
	}{
		{"available for pickup (checkpoint time without offset: AfterShip's created_at)", asReq(body), event(pickup), outcome{}, nil},
		{"returning to sender", asReq(with(`"tag":"AvailableForPickup","subtag":"AvailableForPickup_001"`, `"tag":"Exception","subtag":"Exception_010"`)), event(returning), outcome{}, nil},
		{"pending", asReq(with(`"tag":"AvailableForPickup","subtag":"AvailableForPickup_001"`, `"tag":"Pending","subtag":"Pending_001"`)), nil, outcome{}, ignoredRes("tag Pending: the carrier has no data yet")},
		{"no order id", asReq(with(`"order_id":"820982911946154508"`, `"order_id":null`)), nil, outcome{}, ignoredRes("the tracking has no order_id: ordercare cannot tell which order it belongs to")},
		{"another event", asReq(with(`"event":"tracking_update"`, `"event":"edd_revise"`)), nil, outcome{}, ignoredRes("event edd_revise is not used")},
		{"unknown tag", asReq(with(`"tag":"AvailableForPickup","subtag"`, `"tag":"Teleported","subtag"`)), nil, outcome{rejected: true, field: "msg.tag"}, nil},
		{"no tracking number", asReq(with(`"tracking_number":"1Z2345"`, `"tracking_number":""`)), nil, outcome{invalid: true, field: "msg.tracking_number"}, nil},
		{"no event id", asReq(with(`"event_id":"`+id+`"`, `"event_id":""`)), nil, outcome{invalid: true, field: "event_id"}, nil},
		{"ts as text", asReq(with(`"ts":1719673331`, `"ts":"soon"`)), nil, outcome{invalid: true, field: "ts"}, nil},
		{"bad checkpoint time", asReq(with(`"created_at":"2024-06-29T15:02:10+00:00"`, `"created_at":"yesterday"`)), nil, outcome{invalid: true, field: "msg.checkpoints[1].created_at"}, nil},
		{"order id with a space", asReq(with(`"order_id":"820982911946154508"`, `"order_id":"8209 82"`)), nil, outcome{invalid: true, field: "msg.order_id"}, nil},
		{"not JSON", asReq([]byte(`tracking`)), nil, outcome{invalid: true}, nil},
		{"wrong secret", source.Request{Header: header(source.HeaderAfterShipHMAC, source.AfterShipSign("other", body)), Body: body}, nil, outcome{unauthorized: true}, nil},
		{"hex signature", source.Request{Header: header(source.HeaderAfterShipHMAC, sha256hex(string(body))), Body: body}, nil, outcome{unauthorized: true}, nil},
		{"no signature", source.Request{Header: http.Header{}, Body: body}, nil, outcome{unauthorized: true}, nil},
		{"tampered", func() source.Request { r := asReq(body); r.Body = mutate(body, 40); return r }(), nil, outcome{unauthorized: true}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := source.AfterShip{}.Handle(care.Source{Secret: asSecret}, tc.req, now)
			checkErr(t, err, tc.out)
			if err != nil {
				return
			}
			want := source.Result{Events: tc.want, Status: http.StatusOK}
			if tc.res != nil {
				want = *tc.res
			}
			if d := cmp.Diff(want, res); d != "" {
				t.Fatalf("result (-want +got):\n%s", d)
			}
		})
	}
	t.Run("no secret configured", func(t *testing.T) {
		_, err := source.AfterShip{}.Handle(care.Source{}, asReq(body), now)
		checkErr(t, err, outcome{unauthorized: true})
	})
	t.Run("keeps no personal data the tracking carries", func(t *testing.T) {
		res, err := source.AfterShip{}.Handle(care.Source{Secret: asSecret}, asReq(body), now)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(res.Events)
		for _, pii := range []string{"jon@example.com", "Steve Shipper"} {
			if strings.Contains(string(b), pii) {
				t.Errorf("event carries %q: %s", pii, b)
			}
		}
	})
}

func TestAfterShipStatusTable(t *testing.T) {
	for _, tc := range []struct {
		tag, sub string
		want     care.ShipmentStatus
	}{
		{"InfoReceived", "InfoReceived_001", care.ShipInfoReceived}, {"InTransit", "InTransit_007", care.ShipInTransit},
		{"OutForDelivery", "OutForDelivery_001", care.ShipOutForDelivery}, {"AttemptFail", "AttemptFail_002", care.ShipAttemptFailed},
		{"AvailableForPickup", "AvailableForPickup_001", care.ShipAvailableForPickup}, {"Delivered", "Delivered_002", care.ShipDelivered},
		{"Exception", "Exception_008", care.ShipException}, {"Exception", "Exception_010", care.ShipReturning},
		{"Exception", "Exception_011", care.ShipReturned}, {"Expired", "Expired_001", care.ShipExpired},
	} {
		if got, ok := source.AfterShipStatus(tc.tag, tc.sub); !ok || got != tc.want {
			t.Errorf("%s/%s = %s, want %s", tc.tag, tc.sub, got, tc.want)
		}
	}
	if _, ok := source.AfterShipStatus("Pending", "Pending_001"); ok {
		t.Error("Pending mapped")
	}
}

func TestTrack17Handle(t *testing.T) {
	now := time.Date(2024, 6, 29, 19, 0, 0, 0, time.UTC)
	body := readTestdata(t, "17track_tracking_updated.json")
	with := func(old, new string) []byte { return []byte(strings.Replace(string(body), old, new, 1)) }
	h := sha256hex(string(body))
	delivered := []source.Incoming{{DeliveryID: h, Event: care.Event{ID: "17track:" + h[:40], Type: care.ShipmentUpdated,
		OccurredAt: tm("2024-06-29T18:12:00Z"), Order: care.Order{ID: "820982911946154508"},
		Parcel: &care.ParcelReport{TrackingNumber: "1Z2346", Carrier: "UPS", Status: care.ShipDelivered, SubStatus: "Delivered_Other",
			Message: "DELIVERED, FRONT DOOR/PORCH", LastScanAt: tp("2024-06-29T18:12:00Z")}}}}
	tests := []struct {
		name string
		req  source.Request
		want []source.Incoming
		out  outcome
		res  *source.Result
	}{
		{"delivered", t17Req(body), delivered, outcome{}, nil},
		{"uppercase hex signature", func() source.Request {
			r := t17Req(body)
			r.Header.Set(source.Header17TrackSign, strings.ToUpper(r.Header.Get(source.Header17TrackSign)))
			return r
		}(), delivered, outcome{}, nil},
		{"stopped", t17Req([]byte(`{"event":"TRACKING_STOPPED","data":{"number":"1Z2346","carrier":100002,"param":null,"tag":"820982911946154508"}}`)), nil, outcome{}, ignoredRes("event TRACKING_STOPPED is not used")},
		{"not found", t17Req(with(`"status":"Delivered","sub_status":"Delivered_Other"`, `"status":"NotFound","sub_status":"NotFound_Other"`)), nil, outcome{}, ignoredRes("status NotFound: the carrier has no data yet")},
		{"no tag", t17Req(with(`"tag":"820982911946154508"`, `"tag":null`)), nil, outcome{}, ignoredRes("the number was registered without a tag: ordercare cannot tell which order it belongs to")},
		{"unknown status", t17Req(with(`"status":"Delivered","sub_status"`, `"status":"Teleported","sub_status"`)), nil, outcome{rejected: true, field: "data.track_info.latest_status.status"}, nil},
		{"no status", t17Req(with(`"latest_status":{"status":"Delivered",`, `"latest_status":{"status":"",`)), nil, outcome{invalid: true, field: "data.track_info.latest_status.status"}, nil},
		{"no number", t17Req(with(`"number":"1Z2346"`, `"number":" "`)), nil, outcome{invalid: true, field: "data.number"}, nil},
		{"bad event time", t17Req(with(`"time_utc":"2024-06-29T18:12:00Z","description"`, `"time_utc":"29/06/2024","description"`)), nil, outcome{invalid: true, field: "data.track_info.latest_event.time_utc"}, nil},
		{"no event", t17Req([]byte(`{"data":{}}`)), nil, outcome{invalid: true, field: "event"}, nil},
		{"signed as HMAC", source.Request{Header: header(source.Header17TrackSign, source.ShopifySign(t17Secret, body)), Body: body}, nil, outcome{unauthorized: true}, nil},
		{"signed without the slash", source.Request{Header: header(source.Header17TrackSign, sha256hex(string(body)+t17Secret)), Body: body}, nil, outcome{unauthorized: true}, nil},
		{"no signature", source.Request{Header: http.Header{}, Body: body}, nil, outcome{unauthorized: true}, nil},
		{"tampered", func() source.Request { r := t17Req(body); r.Body = mutate(body, 60); return r }(), nil, outcome{unauthorized: true}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := source.Track17{}.Handle(care.Source{Secret: t17Secret}, tc.req, now)
			checkErr(t, err, tc.out)
			if err != nil {
				return
			}
			want := source.Result{Events: tc.want, Status: http.StatusOK}
			if tc.res != nil {
				want = *tc.res
			}
			if d := cmp.Diff(want, res); d != "" {
				t.Fatalf("result (-want +got):\n%s", d)
			}
		})
	}
}

func TestTrack17StatusTable(t *testing.T) {
	for _, tc := range []struct {
		st, sub string
		want    care.ShipmentStatus
	}{
		{"InfoReceived", "InfoReceived", care.ShipInfoReceived}, {"InTransit", "InTransit_PickedUp", care.ShipInTransit},
		{"InTransit", "InTransit_CustomsRequiringInformation", care.ShipException}, {"Expired", "Expired_Other", care.ShipExpired},
		{"AvailableForPickup", "AvailableForPickup_Other", care.ShipAvailableForPickup}, {"OutForDelivery", "OutForDelivery_Other", care.ShipOutForDelivery},
		{"DeliveryFailure", "DeliveryFailure_NoBody", care.ShipAttemptFailed}, {"Delivered", "Delivered_Other", care.ShipDelivered},
		{"Exception", "Exception_Delayed", care.ShipException}, {"Exception", "Exception_Returning", care.ShipReturning},
		{"Exception", "Exception_Returned", care.ShipReturned},
	} {
		if got, ok := source.Track17Status(tc.st, tc.sub); !ok || got != tc.want {
			t.Errorf("%s/%s = %s, want %s", tc.st, tc.sub, got, tc.want)
		}
	}
	if _, ok := source.Track17Status("NotFound", "NotFound_Other"); ok {
		t.Error("NotFound mapped")
	}
}
