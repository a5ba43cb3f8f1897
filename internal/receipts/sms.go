package receipts

import (
	"encoding/json"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// SMSEvent is the part of an AWS End User Messaging SMS event (an event
// destination's SNS notification, or the detail of an EventBridge "Text
// Message Delivery Status Updated" event) a receipt needs. Context holds
// what the sender put in SendTextMessage's Context: the ledger entry under
// TagShop, TagOrder and TagLedger (plain, not base64).
type SMSEvent struct {
	EventType      string            `json:"eventType"`      // TEXT_DELIVERED, TEXT_BLOCKED, ...
	EventTimestamp int64             `json:"eventTimestamp"` // Unix milliseconds
	IsFinal        bool              `json:"isFinal"`
	MessageID      string            `json:"messageId"`
	MessageStatus  string            `json:"messageStatus"`
	Context        map[string]string `json:"context"`
}

// smsOutcomes maps SMS event types to receipts. TEXT_DELIVERED and
// TEXT_SUCCESSFUL (the carrier accepted it; some countries report no more)
// are delivered. TEXT_INVALID (the number is not valid) and TEXT_BLOCKED
// (the handset or its carrier blocks texts to it) are permanent failures
// of the number itself: bounced, which suppresses it. The others are
// failures of this message (a carrier's or handset's state, or the
// content): failed, once final. TEXT_QUEUED and TEXT_PENDING are no
// receipt.
var smsOutcomes = map[string]string{
	"TEXT_DELIVERED":           care.ReceiptDelivered,
	"TEXT_SUCCESSFUL":          care.ReceiptDelivered,
	"TEXT_INVALID":             care.ReceiptBounced,
	"TEXT_BLOCKED":             care.ReceiptBounced,
	"TEXT_CARRIER_UNREACHABLE": care.ReceiptFailed,
	"TEXT_UNREACHABLE":         care.ReceiptFailed,
	"TEXT_TTL_EXPIRED":         care.ReceiptFailed,
	"TEXT_CARRIER_BLOCKED":     care.ReceiptFailed,
	"TEXT_SPAM":                care.ReceiptFailed,
	"TEXT_INVALID_MESSAGE":     care.ReceiptFailed,
	"TEXT_UNKNOWN":             care.ReceiptFailed,
	"TEXT_PROTECT_BLOCKED":     care.ReceiptFailed,
}

// FromSMS reads an End User Messaging SMS event (or an EventBridge event
// whose detail is one) as a receipt. ok is false for an event that is no
// receipt (queued, pending, a failure not final yet, a voice or media
// event) or that names no ordercare ledger entry in its context.
// ErrInvalid for a body that is not JSON.
func FromSMS(body []byte) (r Receipt, ok bool, err error) {
	var env struct {
		Detail json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return Receipt{}, false, care.Invalid("", "not an SMS event: %v", err)
	}
	if len(env.Detail) > 0 {
		body = env.Detail
	}
	var ev SMSEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return Receipt{}, false, care.Invalid("", "not an SMS event: %v", err)
	}
	outcome, known := smsOutcomes[ev.EventType]
	shop, order, id := ev.Context[TagShop], ev.Context[TagOrder], ev.Context[TagLedger]
	if !known || shop == "" || order == "" || id == "" || (outcome == care.ReceiptFailed && !ev.IsFinal) {
		return Receipt{}, false, nil
	}
	return Receipt{ShopID: shop, OrderID: order, LedgerID: id, Outcome: outcome, At: time.UnixMilli(ev.EventTimestamp).UTC()}, true, nil
}

// InboundSMS is a two-way SMS reply as End User Messaging SMS publishes it
// to the number's two-way SNS topic.
type InboundSMS struct {
	OriginationNumber          string `json:"originationNumber"` // the buyer's number, E.164
	DestinationNumber          string `json:"destinationNumber"` // the shop's (or the stack's) number
	MessageKeyword             string `json:"messageKeyword"`
	MessageBody                string `json:"messageBody"`
	InboundMessageID           string `json:"inboundMessageId"`
	PreviousPublishedMessageID string `json:"previousPublishedMessageId"` // the last message sent to the buyer's number
}

// IsInbound reports whether body is a two-way SMS reply (it has an
// inboundMessageId and an originationNumber).
func IsInbound(body []byte) (InboundSMS, bool) {
	var in InboundSMS
	if err := json.Unmarshal(body, &in); err != nil {
		return InboundSMS{}, false
	}
	return in, in.InboundMessageID != "" && in.OriginationNumber != ""
}
