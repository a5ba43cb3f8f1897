package receipts

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// Tags the email channel puts on each SES message and SES events carry
// back (mail.tags): the shop, order and ledger entry id, base64url.
const (
	TagShop   = "oc_shop"
	TagOrder  = "oc_order"
	TagLedger = "oc_msg"
)

// LedgerOf reads the shop, order and ledger entry id back from an SES
// event's mail.tags (each tag a list of values); ok false when absent.
func LedgerOf(tags map[string][]string) (shop, order, ledgerID string, ok bool) {
	dec := func(k string) string {
		if v := tags[k]; len(v) == 1 {
			if b, err := base64.RawURLEncoding.DecodeString(v[0]); err == nil {
				return string(b)
			}
		}
		return ""
	}
	shop, order, ledgerID = dec(TagShop), dec(TagOrder), dec(TagLedger)
	return shop, order, ledgerID, shop != "" && order != "" && ledgerID != ""
}

// SESEvent is the part of an SES event (event publishing through SNS, or
// the detail of an EventBridge event) a receipt needs.
type SESEvent struct {
	EventType string `json:"eventType"`
	Mail      struct {
		MessageID string              `json:"messageId"`
		Timestamp time.Time           `json:"timestamp"`
		Tags      map[string][]string `json:"tags"`
	} `json:"mail"`
	Bounce *struct {
		BounceType string    `json:"bounceType"` // Permanent, Transient, Undetermined
		Timestamp  time.Time `json:"timestamp"`
	} `json:"bounce,omitempty"`
	Complaint *struct {
		Timestamp time.Time `json:"timestamp"`
	} `json:"complaint,omitempty"`
	Delivery *struct {
		Timestamp time.Time `json:"timestamp"`
	} `json:"delivery,omitempty"`
}

// FromSES reads an SES event (or an EventBridge event whose detail is
// one) as a receipt. ok is false for an event that is no receipt (Send,
// Open, Click, a transient bounce, which SES retries itself) or that names
// no ordercare ledger entry. Reject and Rendering Failure are failed; only
// a Permanent bounce is bounced. ErrInvalid for a body that is not JSON.
func FromSES(body []byte) (r Receipt, ok bool, err error) {
	var env struct {
		Detail json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return Receipt{}, false, care.Invalid("", "not an SES event: %v", err)
	}
	if len(env.Detail) > 0 {
		body = env.Detail
	}
	var ev SESEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return Receipt{}, false, care.Invalid("", "not an SES event: %v", err)
	}
	shop, order, id, tagged := LedgerOf(ev.Mail.Tags)
	if !tagged {
		return Receipt{}, false, nil
	}
	r = Receipt{ShopID: shop, OrderID: order, LedgerID: id, At: ev.Mail.Timestamp}
	switch ev.EventType {
	case "Delivery":
		r.Outcome = care.ReceiptDelivered
		if ev.Delivery != nil {
			r.At = ev.Delivery.Timestamp
		}
	case "Bounce":
		if ev.Bounce == nil || ev.Bounce.BounceType != "Permanent" {
			return Receipt{}, false, nil
		}
		r.Outcome, r.At = care.ReceiptBounced, ev.Bounce.Timestamp
	case "Complaint":
		r.Outcome = care.ReceiptComplained
		if ev.Complaint != nil {
			r.At = ev.Complaint.Timestamp
		}
	case "Reject", "Rendering Failure":
		r.Outcome = care.ReceiptFailed
	default:
		return Receipt{}, false, nil
	}
	return r, true, nil
}
