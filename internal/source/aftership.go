package source

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// HeaderAfterShipHMAC is the signature header of AfterShip tracking webhooks.
const HeaderAfterShipHMAC = "aftership-hmac-sha256"

// AfterShip accepts AfterShip Tracking webhooks (v4 envelope: event,
// event_id, msg = the tracking, ts). aftership-hmac-sha256 is the base64
// HMAC-SHA256 of the raw body keyed with the webhook secret (cred.Secret).
//
// A tracking_update gives one shipment.updated for msg.tracking_number on
// the order msg.order_id (the id the shop's platform gave the order, which
// AfterShip's store integrations set), with the tag mapped by
// AfterShipStatus, the subtag as sub_status, the latest checkpoint's
// message (else subtag_message) as message, the latest checkpoint's time as
// last scan, pickup_location as the pickup point, slug as carrier and
// courier_tracking_link as tracking URL. A tracking number the order does not
// know yet is kept on the order and merged when the order's parcel appears
// (care.OrderState.Apply keys parcels by tracking number in any order).
//
// Answered 200 {"ignored":true,...} and recorded nowhere: another event
// (edd_revise, tracking_pending_time), the Pending tag (no carrier data
// yet), and a tracking with no order_id (nothing tells which order it is;
// ordercare does not index tracking numbers across orders). A tag outside
// AfterShip's documented set is a *care.RejectError on msg.tag (422). The
// event id is "aftership:" + event_id, which is also the DeliveryID;
// occurred_at is ts. Success answers 200 with no body.
type AfterShip struct{}

// AfterShipSign returns the aftership-hmac-sha256 value of body.
func AfterShipSign(secret string, body []byte) string { return ShopifySign(secret, body) }

// VerifyAfterShip checks aftership-hmac-sha256; nil or a wrapped care.ErrUnauthorized.
func VerifyAfterShip(secret string, h http.Header, body []byte) error {
	return verifyBase64HMAC(secret, h.Get(HeaderAfterShipHMAC), "aftership-hmac-sha256", body)
}

// AfterShipStatus maps an AfterShip tag (and, for Exception, the subtags
// that mean the parcel is going or has gone back) to a parcel status; false
// for Pending (no carrier data yet) and for unknown tags.
func AfterShipStatus(tag, subtag string) (care.ShipmentStatus, bool) {
	switch tag {
	case "InfoReceived":
		return care.ShipInfoReceived, true
	case "InTransit":
		return care.ShipInTransit, true
	case "OutForDelivery":
		return care.ShipOutForDelivery, true
	case "AttemptFail":
		return care.ShipAttemptFailed, true
	case "AvailableForPickup":
		return care.ShipAvailableForPickup, true
	case "Delivered":
		return care.ShipDelivered, true
	case "Expired":
		return care.ShipExpired, true
	case "Exception":
		switch subtag {
		case "Exception_010": // returning to sender
			return care.ShipReturning, true
		case "Exception_011": // returned to sender
			return care.ShipReturned, true
		}
		return care.ShipException, true
	}
	return "", false
}

type afterShipWebhook struct {
	Event   string          `json:"event"`
	EventID string          `json:"event_id"`
	Msg     *afterShipMsg   `json:"msg"`
	TS      json.RawMessage `json:"ts"`
}

type afterShipMsg struct {
	TrackingNumber      string `json:"tracking_number"`
	Slug                string `json:"slug"`
	Tag                 string `json:"tag"`
	Subtag              string `json:"subtag"`
	SubtagMessage       string `json:"subtag_message"`
	OrderID             string `json:"order_id"`
	PickupLocation      string `json:"pickup_location"`
	CourierTrackingLink string `json:"courier_tracking_link"`
	Checkpoints         []struct {
		CreatedAt      string `json:"created_at"`
		CheckpointTime string `json:"checkpoint_time"`
		Message        string `json:"message"`
	} `json:"checkpoints"`
}

// Handle implements Adapter.
func (AfterShip) Handle(cred care.Source, req Request, now time.Time) (Result, error) {
	if err := VerifyAfterShip(cred.Secret, req.Header, req.Body); err != nil {
		return Result{}, err
	}
	var in afterShipWebhook
	if err := decodeJSON(req.Body, &in, false); err != nil {
		return Result{}, err
	}
	if in.Event != "tracking_update" {
		if in.Event == "" {
			return Result{}, care.Invalid("event", "required")
		}
		return ignored("event " + in.Event + " is not used"), nil
	}
	if in.EventID == "" {
		return Result{}, care.Invalid("event_id", "required")
	}
	id, err := eventID("event_id", "aftership:"+in.EventID)
	if err != nil {
		return Result{}, err
	}
	m := in.Msg
	if m == nil {
		return Result{}, care.Invalid("msg", "required for tracking_update")
	}
	n := strings.TrimSpace(m.TrackingNumber)
	if n == "" {
		return Result{}, care.Invalid("msg.tracking_number", "required")
	}
	if m.Tag == "" {
		return Result{}, care.Invalid("msg.tag", "required")
	}
	st, ok := AfterShipStatus(m.Tag, m.Subtag)
	if !ok {
		if m.Tag == "Pending" {
			return ignored("tag Pending: the carrier has no data yet"), nil
		}
		return Result{}, care.RejectField("msg.tag", "AfterShip tag %q is not one ordercare knows", cleanText(m.Tag, 32))
	}
	if strings.TrimSpace(m.OrderID) == "" {
		return ignored("the tracking has no order_id: ordercare cannot tell which order it belongs to"), nil
	}
	if !idRE.MatchString(m.OrderID) {
		return Result{}, care.Invalid("msg.order_id", "must be 1-128 printable ASCII characters")
	}
	occurred := now.UTC()
	if sec, ok, err := flexInt(in.TS); err != nil || (ok && (sec <= 0 || sec >= maxUnix)) {
		return Result{}, care.Invalid("ts", "must be Unix seconds")
	} else if ok {
		occurred = time.Unix(sec, 0).UTC()
	}
	p := care.ParcelReport{TrackingNumber: n, Carrier: cleanText(m.Slug, 64), TrackingURL: httpURL(m.CourierTrackingLink),
		Status: st, SubStatus: cleanText(m.Subtag, 64), Message: cleanText(m.SubtagMessage, 512)}
	var last *time.Time
	for i, c := range m.Checkpoints {
		t, ok, err := afterShipCheckpointTime(c.CheckpointTime, c.CreatedAt)
		if err != nil {
			return Result{}, care.Invalid("msg.checkpoints["+itoa(i)+"].created_at", "must be an RFC 3339 time")
		}
		if ok && (last == nil || !t.Before(*last)) {
			last = &t
			if msg := cleanText(c.Message, 512); msg != "" {
				p.Message = msg
			}
		}
	}
	p.LastScanAt = last
	if st == care.ShipAvailableForPickup {
		p.PickupPoint = cleanText(m.PickupLocation, 256)
	}
	ev := care.Event{ID: id, Type: care.ShipmentUpdated, OccurredAt: occurred, Order: care.Order{ID: m.OrderID}, Parcel: &p}
	return validated(Result{Status: http.StatusOK, Events: []Incoming{{DeliveryID: in.EventID, Event: ev}}})
}

// afterShipCheckpointTime is when a checkpoint was scanned: checkpoint_time
// when it carries a zone offset (carriers often send local time without
// one), else created_at (when AfterShip recorded it, always with an offset).
func afterShipCheckpointTime(checkpoint, created string) (time.Time, bool, error) {
	if t, err := scanTime(checkpoint); err == nil {
		return t, true, nil
	}
	if created == "" {
		return time.Time{}, false, nil
	}
	t, err := scanTime(created)
	return t, err == nil, err
}

// scanTime parses a carrier scan time (RFC 3339, years 2000-9999) to UTC.
func scanTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, err
	}
	if t = t.UTC(); t.Year() < 2000 || t.Year() > 9999 {
		return time.Time{}, care.Invalid("", "out of range")
	}
	return t, nil
}
