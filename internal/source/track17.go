package source

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// Header17TrackSign is the signature header of 17TRACK webhooks.
const Header17TrackSign = "sign"

// Track17 accepts 17TRACK tracking API (v2.2) webhooks: {"event","data"}.
// sign is the lowercase hex SHA-256 of the raw body, "/" and the account's
// API key (cred.Secret): not an HMAC.
//
// TRACKING_UPDATED gives one shipment.updated for data.number on the order
// data.tag (the custom tag 17TRACK stores per tracking number: the shop
// registers each number with tag = the platform's order id), with
// track_info.latest_status mapped by Track17Status, sub_status as
// sub_status, latest_event's description as message, its time_utc (else
// time_iso) as last scan and, for AvailableForPickup, its location as the
// pickup point; the carrier is the first provider's name, else the 17TRACK
// carrier code. A tracking number the order does not know yet is kept on the
// order and merged when the order's parcel appears.
//
// Answered 200 {"ignored":true,...} and recorded nowhere: TRACKING_STOPPED,
// status NotFound (no carrier data) and a number registered without a tag
// (nothing tells which order it is). A status outside 17TRACK's documented
// set is a *care.RejectError on data.track_info.latest_status.status (422).
// 17TRACK sends no delivery id: the DeliveryID is the hex SHA-256 of the
// body (a redelivery is the same bytes) and the event id "17track:" + its
// first 40 characters; occurred_at is the latest event's time, else now.
// Success answers 200 with no body.
type Track17 struct{}

// Track17Sign returns the sign value of body.
func Track17Sign(key string, body []byte) string {
	h := sha256.New()
	h.Write(body)
	h.Write([]byte("/"))
	h.Write([]byte(key))
	return hex.EncodeToString(h.Sum(nil))
}

// VerifyTrack17 checks sign; nil or a wrapped care.ErrUnauthorized.
func VerifyTrack17(key string, h http.Header, body []byte) error {
	if key == "" {
		return unauthorized("no secret is configured for this source")
	}
	sig := strings.ToLower(h.Get(Header17TrackSign))
	if sig == "" {
		return unauthorized("missing sign header")
	}
	if subtle.ConstantTimeCompare([]byte(sig), []byte(Track17Sign(key, body))) != 1 {
		return unauthorized("sign does not match the body")
	}
	return nil
}

// Track17Status maps a 17TRACK main status (and the sub-statuses that say
// more than it) to a parcel status; false for NotFound and unknown statuses.
func Track17Status(status, sub string) (care.ShipmentStatus, bool) {
	switch status {
	case "InfoReceived":
		return care.ShipInfoReceived, true
	case "InTransit":
		if sub == "InTransit_CustomsRequiringInformation" { // held until the buyer sends documents
			return care.ShipException, true
		}
		return care.ShipInTransit, true
	case "Expired":
		return care.ShipExpired, true
	case "AvailableForPickup":
		return care.ShipAvailableForPickup, true
	case "OutForDelivery":
		return care.ShipOutForDelivery, true
	case "DeliveryFailure":
		return care.ShipAttemptFailed, true
	case "Delivered":
		return care.ShipDelivered, true
	case "Exception":
		switch sub {
		case "Exception_Returning":
			return care.ShipReturning, true
		case "Exception_Returned":
			return care.ShipReturned, true
		}
		return care.ShipException, true
	}
	return "", false
}

type track17Webhook struct {
	Event string `json:"event"`
	Data  *struct {
		Number    string          `json:"number"`
		Carrier   json.RawMessage `json:"carrier"`
		Tag       string          `json:"tag"`
		TrackInfo *struct {
			LatestStatus *struct {
				Status    string `json:"status"`
				SubStatus string `json:"sub_status"`
			} `json:"latest_status"`
			LatestEvent *struct {
				TimeISO     string `json:"time_iso"`
				TimeUTC     string `json:"time_utc"`
				Description string `json:"description"`
				Location    string `json:"location"`
			} `json:"latest_event"`
			Tracking *struct {
				Providers []struct {
					Provider struct {
						Name string `json:"name"`
					} `json:"provider"`
				} `json:"providers"`
			} `json:"tracking"`
		} `json:"track_info"`
	} `json:"data"`
}

// Handle implements Adapter.
func (Track17) Handle(cred care.Source, req Request, now time.Time) (Result, error) {
	if err := VerifyTrack17(cred.Secret, req.Header, req.Body); err != nil {
		return Result{}, err
	}
	var in track17Webhook
	if err := decodeJSON(req.Body, &in, false); err != nil {
		return Result{}, err
	}
	switch in.Event {
	case "TRACKING_UPDATED":
	case "":
		return Result{}, care.Invalid("event", "required")
	default:
		return ignored("event " + in.Event + " is not used"), nil
	}
	d := in.Data
	if d == nil {
		return Result{}, care.Invalid("data", "required for TRACKING_UPDATED")
	}
	n := strings.TrimSpace(d.Number)
	if n == "" {
		return Result{}, care.Invalid("data.number", "required")
	}
	if d.TrackInfo == nil || d.TrackInfo.LatestStatus == nil || d.TrackInfo.LatestStatus.Status == "" {
		return Result{}, care.Invalid("data.track_info.latest_status.status", "required")
	}
	ls := d.TrackInfo.LatestStatus
	st, ok := Track17Status(ls.Status, ls.SubStatus)
	if !ok {
		if ls.Status == "NotFound" {
			return ignored("status NotFound: the carrier has no data yet"), nil
		}
		return Result{}, care.RejectField("data.track_info.latest_status.status", "17TRACK status %q is not one ordercare knows", cleanText(ls.Status, 32))
	}
	orderID := strings.TrimSpace(d.Tag)
	if orderID == "" {
		return ignored("the number was registered without a tag: ordercare cannot tell which order it belongs to"), nil
	}
	if !idRE.MatchString(orderID) {
		return Result{}, care.Invalid("data.tag", "must be the order id: 1-128 printable ASCII characters")
	}
	p := care.ParcelReport{TrackingNumber: n, Carrier: flexText(d.Carrier), Status: st, SubStatus: cleanText(ls.SubStatus, 64)}
	if t := d.TrackInfo.Tracking; t != nil && len(t.Providers) > 0 {
		if name := cleanText(t.Providers[0].Provider.Name, 64); name != "" {
			p.Carrier = name
		}
	}
	occurred := now.UTC()
	if e := d.TrackInfo.LatestEvent; e != nil {
		p.Message = cleanText(e.Description, 512)
		when, field := e.TimeUTC, "time_utc"
		if when == "" {
			when, field = e.TimeISO, "time_iso"
		}
		if when != "" {
			t, err := scanTime(when)
			if err != nil {
				return Result{}, care.Invalid("data.track_info.latest_event."+field, "must be an RFC 3339 time")
			}
			p.LastScanAt, occurred = &t, t
		}
		if st == care.ShipAvailableForPickup {
			p.PickupPoint = cleanText(e.Location, 256)
		}
	}
	sum := sha256.Sum256(req.Body)
	h := hex.EncodeToString(sum[:])
	ev := care.Event{ID: "17track:" + h[:40], Type: care.ShipmentUpdated, OccurredAt: occurred, Order: care.Order{ID: orderID}, Parcel: &p}
	return validated(Result{Status: http.StatusOK, Events: []Incoming{{DeliveryID: h, Event: ev}}})
}
