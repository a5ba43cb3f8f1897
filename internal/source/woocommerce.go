package source

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// WooCommerce webhook headers (class-wc-webhook.php, WC_Webhook::deliver).
const (
	HeaderWCSignature  = "X-WC-Webhook-Signature"
	HeaderWCTopic      = "X-WC-Webhook-Topic"
	HeaderWCResource   = "X-WC-Webhook-Resource"
	HeaderWCEvent      = "X-WC-Webhook-Event"
	HeaderWCDeliveryID = "X-WC-Webhook-Delivery-ID"
	HeaderWCWebhookID  = "X-WC-Webhook-ID"
)

// wcPingRE is the body of WC_Webhook::deliver_ping: "webhook_id=<id>", posted
// form-encoded and unsigned when a webhook is saved; WooCommerce activates the
// webhook only if the answer is exactly 200.
var wcPingRE = regexp.MustCompile(`^webhook_id=[0-9]{1,20}$`)

// WooCommerce accepts WooCommerce webhooks: X-WC-Webhook-Signature is the
// base64 HMAC-SHA256 of the raw body keyed with the webhook secret
// (cred.Secret, as WooCommerce shows it; WooCommerce HTML-entity-decodes it
// before signing, so store it decoded).
//
// The creation ping (unsigned body "webhook_id=N", no signature header) is
// answered 200 with no events; any other unsigned request is unauthorized.
// Only the body is signed, so X-WC-Webhook-Topic only says whether the body
// is offered as a new order; every state recorded comes from the body.
// Topics: order.created → order.created (carrying paid_at = date_paid_gmt
// when the body says paid: processing but not cash on delivery, completed or
// refunded; plus order.cancelled when its status is cancelled); order.updated by status:
// processing → order.paid (not for cash on delivery, where processing means
// accepted, not paid), completed → order.completed, cancelled →
// order.cancelled, refunded → order.refunded (full, the order's total as
// the amount: WooCommerce sets refunded once the whole order is refunded);
// pending, on-hold, failed and other topics give no
// event and answer 200 {"ignored":true,"reason":...}. Each event carries the whole order. payment_method "cod" → cod. The
// event id is "woocommerce:<order id>:<type>:<date_modified_gmt unix>", so a
// resent delivery of the same state deduplicates; DeliveryID is
// X-WC-Webhook-Delivery-ID. Success answers 200 with no body.
type WooCommerce struct{}

// WooCommerceSign returns the X-WC-Webhook-Signature value of body.
func WooCommerceSign(secret string, body []byte) string {
	return base64.StdEncoding.EncodeToString(hmacSHA256([]byte(secret), body))
}

// VerifyWooCommerce checks X-WC-Webhook-Signature; nil or a wrapped care.ErrUnauthorized.
func VerifyWooCommerce(secret string, h http.Header, body []byte) error {
	return verifyBase64HMAC(secret, h.Get(HeaderWCSignature), "X-WC-Webhook-Signature", body)
}

// IsWooCommercePing reports whether req is WooCommerce's unsigned creation ping.
func IsWooCommercePing(req Request) bool {
	return req.Header.Get(HeaderWCSignature) == "" && wcPingRE.Match(req.Body)
}

type wcAddress struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Address1  string `json:"address_1"`
	Address2  string `json:"address_2"`
	City      string `json:"city"`
	State     string `json:"state"`
	Postcode  string `json:"postcode"`
	Country   string `json:"country"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
}

type wcOrder struct {
	ID               json.Number `json:"id"`
	Status           string      `json:"status"`
	Currency         string      `json:"currency"`
	DateCreatedGMT   string      `json:"date_created_gmt"`
	DateModifiedGMT  string      `json:"date_modified_gmt"`
	DatePaidGMT      string      `json:"date_paid_gmt"`
	DateCompletedGMT string      `json:"date_completed_gmt"`
	Total            string      `json:"total"`
	PaymentMethod    string      `json:"payment_method"`
	Billing          *wcAddress  `json:"billing"`
	Shipping         *wcAddress  `json:"shipping"`
	LineItems        []struct {
		Name     string      `json:"name"`
		SKU      string      `json:"sku"`
		Quantity json.Number `json:"quantity"`
		Price    json.Number `json:"price"`
	} `json:"line_items"`
}

// Handle implements Adapter.
func (WooCommerce) Handle(cred care.Source, req Request, now time.Time) (Result, error) {
	ok := Result{Status: http.StatusOK}
	if IsWooCommercePing(req) {
		return ok, nil
	}
	if err := VerifyWooCommerce(cred.Secret, req.Header, req.Body); err != nil {
		return Result{}, err
	}
	topic := req.Header.Get(HeaderWCTopic)
	if topic == "" && req.Header.Get(HeaderWCResource) != "" {
		topic = req.Header.Get(HeaderWCResource) + "." + req.Header.Get(HeaderWCEvent)
	}
	if topic != "order.created" && topic != "order.updated" {
		if topic == "" {
			return ignored("no X-WC-Webhook-Topic header"), nil
		}
		return ignored("topic " + topic + " is not used"), nil
	}
	delivery := req.Header.Get(HeaderWCDeliveryID)
	if delivery == "" {
		return Result{}, care.Invalid(HeaderWCDeliveryID, "header required")
	}
	var in wcOrder
	if err := decodeJSON(req.Body, &in, false); err != nil {
		return Result{}, err
	}
	o, err := in.order()
	if err != nil {
		return Result{}, err
	}
	ev := care.Event{Order: o}
	at, atField := in.DateModifiedGMT, "date_modified_gmt"
	// X-WC-Webhook-Topic is not signed: it only says whether the body is
	// offered as a new order; every state recorded comes from the signed body.
	switch {
	case topic == "order.created":
		ev.Type, at, atField = care.OrderCreated, in.DateCreatedGMT, "date_created_gmt"
		if in.paid(o) {
			// Paid at checkout: recorded paid, never chased.
			t, err := wcTime("date_paid_gmt", in.DatePaidGMT)
			if err != nil {
				return Result{}, err
			}
			ev.Order.PaidAt = &t
		}
	case in.Status == "processing" && o.PaymentMethod != care.PayCOD:
		ev.Type = care.OrderPaid
		if in.DatePaidGMT != "" {
			at, atField = in.DatePaidGMT, "date_paid_gmt"
		}
	case in.Status == "completed":
		ev.Type = care.OrderCompleted
		if in.DateCompletedGMT != "" {
			at, atField = in.DateCompletedGMT, "date_completed_gmt"
		}
	case in.Status == "cancelled":
		ev.Type = care.OrderCancelled
	case in.Status == "refunded":
		// WooCommerce's status refunded: the whole order was refunded (a
		// partial refund leaves the status as it was).
		ev.Type, ev.Refund = care.OrderRefunded, &care.Refund{Full: true, Amount: o.Total}
	default:
		return ignored("order.updated with status " + in.Status + " records nothing"), nil
	}
	if ev.OccurredAt, err = wcTime(atField, at); err != nil {
		return Result{}, err
	}
	version := ev.OccurredAt
	if in.DateModifiedGMT != "" {
		if version, err = wcTime("date_modified_gmt", in.DateModifiedGMT); err != nil {
			return Result{}, err
		}
	}
	if ev.ID, err = eventID("id", "woocommerce:"+o.ID+":"+string(ev.Type)+":"+itoa(int(version.Unix()))); err != nil {
		return Result{}, err
	}
	ok.Events = []Incoming{{DeliveryID: delivery, Event: ev}}
	if topic == "order.created" && in.Status == "cancelled" {
		// Created already cancelled (the signed body says so): record that too.
		c := care.Event{ID: "woocommerce:" + o.ID + ":" + string(care.OrderCancelled) + ":" + itoa(int(version.Unix())),
			Type: care.OrderCancelled, OccurredAt: version, Order: care.Order{ID: o.ID}}
		ok.Events = append(ok.Events, Incoming{DeliveryID: delivery, Event: c})
	}
	return validated(ok)
}

// paid reports whether the signed body says the buyer has paid: a paid date
// with status processing (not for cash on delivery, where processing means
// accepted), completed or refunded.
func (in *wcOrder) paid(o care.Order) bool {
	if in.DatePaidGMT == "" {
		return false
	}
	switch in.Status {
	case "processing":
		return o.PaymentMethod != care.PayCOD
	case "completed", "refunded":
		return true
	}
	return false
}

// wcTime parses WooCommerce's *_gmt times ("2017-03-22T19:28:02", UTC, no zone).
func wcTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, care.Invalid(field, "required")
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05", s, time.UTC)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, s); err != nil {
			return time.Time{}, care.Invalid(field, "must be a time such as 2017-03-22T19:28:02")
		}
	}
	return t.UTC(), nil
}

// order normalises a WooCommerce (REST API v3) order.
func (in *wcOrder) order() (care.Order, error) {
	if !digitsRE.MatchString(string(in.ID)) {
		return care.Order{}, care.Invalid("id", "must be the order's integer id")
	}
	o := care.Order{ID: string(in.ID)}
	enrich := false
	if in.DateCreatedGMT != "" {
		t, err := wcTime("date_created_gmt", in.DateCreatedGMT)
		if err != nil {
			return care.Order{}, err
		}
		o.PlacedAt = &t
	}
	if in.Total != "" {
		d, err := decimal("total", in.Total)
		if err != nil {
			return care.Order{}, err
		}
		o.Total = d
	}
	if in.Currency != "" {
		if err := care.ValidateCurrency("currency", in.Currency); err != nil {
			return care.Order{}, err
		}
		o.Currency = in.Currency
	}
	switch in.PaymentMethod {
	case "":
	case "cod":
		o.PaymentMethod = care.PayCOD
	default:
		o.PaymentMethod = care.PayOnline
	}
	if a := in.Billing; a != nil {
		b := care.Buyer{Name: joinName(a.FirstName, a.LastName), Email: strings.TrimSpace(a.Email)}
		if a.Phone != "" {
			if e, ok := e164(a.Phone); ok {
				b.Phone = e
			} else {
				enrich = true
			}
		}
		if b.Email != "" && (!strings.Contains(b.Email, "@") || strings.ContainsAny(b.Email, " \t\r\n")) {
			b.Email, enrich = "", true
		}
		if b != (care.Buyer{}) {
			o.Buyer = &b
		}
	}
	if a := in.Shipping; a != nil && (a.Address1 != "" || a.City != "" || a.Country != "") {
		addr := care.Address{
			Name:       joinName(a.FirstName, a.LastName),
			Line1:      a.Address1,
			Line2:      a.Address2,
			City:       a.City,
			Province:   a.State,
			PostalCode: a.Postcode,
			Country:    strings.ToUpper(a.Country),
		}
		if a.Phone != "" {
			if e, ok := e164(a.Phone); ok {
				addr.Phone = e
			} else {
				enrich = true
			}
		}
		o.ShippingAddress = &addr
	}
	for i, li := range in.LineItems {
		f := func(name string) string { return "line_items[" + itoa(i) + "]." + name }
		q, err := li.Quantity.Int64()
		if err != nil || q < 1 || q > 1_000_000 {
			return care.Order{}, care.Invalid(f("quantity"), "must be a positive integer")
		}
		price, err := numberDecimal(f("price"), li.Price)
		if err != nil {
			return care.Order{}, err
		}
		it := care.Item{SKU: li.SKU, Title: html.UnescapeString(li.Name), Quantity: int(q), Price: price}
		if it.SKU == "" && it.Title == "" {
			return care.Order{}, care.Invalid(f("name"), "a line item needs a sku or a name")
		}
		o.Items = append(o.Items, it)
	}
	o.NeedsEnrichment = enrich || !o.Complete()
	return o, nil
}
