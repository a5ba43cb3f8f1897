package source

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ordercare/ordercare/internal/care"
)

// Shopify webhook headers.
const (
	HeaderShopifyHMAC      = "X-Shopify-Hmac-Sha256"
	HeaderShopifyTopic     = "X-Shopify-Topic"
	HeaderShopifyWebhookID = "X-Shopify-Webhook-Id"
	HeaderShopifyEventID   = "X-Shopify-Event-Id"
)

// ShopifyCODGateway is the payment gateway name of Shopify's manual
// cash-on-delivery method.
const ShopifyCODGateway = "Cash on Delivery (COD)"

// Shopify accepts Shopify webhooks: X-Shopify-Hmac-Sha256 is the base64
// HMAC-SHA256 of the raw body keyed with the app's client secret (cred.Secret).
//
// Shopify signs the body, not X-Shopify-Topic, so the topic only says which
// event the body is offered as; what is recorded is what the signed body
// supports. Topics: orders/create → order.created (carrying paid_at when
// financial_status is paid, partially_paid, authorized, partially_refunded or
// refunded, so the order is recorded paid and never chased; plus
// order.cancelled when cancelled_at is set); orders/paid → order.paid, only
// when financial_status is one of those (else a *care.RejectError on
// financial_status: 422); orders/cancelled → order.cancelled at cancelled_at,
// only when it is set (else a *care.RejectError on cancelled_at);
// orders/fulfilled → one order.shipped per fulfillment with a tracking number;
// fulfillments/create → order.shipped; fulfillments/update → shipment.updated
// (shipment_status mapped). Every other topic (orders/updated carries no diff,
// so an address change cannot be told apart), a fulfillment without a
// tracking number and a shipment_status with no canonical equivalent give no
// event and answer 200 {"ignored":true,"reason":...}.
//
// The order carries name ("#1043"), test ("test": true: recorded, never
// messaged), total_price in the shop's currency and, when the buyer saw
// another currency, total_price_set.presentment_money as presentment_total.
// Shopify has no cash-on-delivery fee field, so cod_fee stays absent. Buyer
// names join first and last name, family name first for CJK names. Order ids
// are kept as the exact decimal string of the 64-bit id. A phone that is not
// already E.164 is dropped and the order marked needs_enrichment. DeliveryID
// is X-Shopify-Webhook-Id; the event id is "shopify:" + (X-Shopify-Event-Id,
// else the webhook id) + ":" + type. Success answers 200 with no body.
type Shopify struct{}

// ShopifySign returns the X-Shopify-Hmac-Sha256 value of body.
func ShopifySign(secret string, body []byte) string {
	return base64.StdEncoding.EncodeToString(hmacSHA256([]byte(secret), body))
}

// VerifyShopify checks X-Shopify-Hmac-Sha256; nil or a wrapped care.ErrUnauthorized.
func VerifyShopify(secret string, h http.Header, body []byte) error {
	if secret == "" {
		return unauthorized("no secret is configured for this source")
	}
	sig := h.Get(HeaderShopifyHMAC)
	if sig == "" {
		return unauthorized("missing X-Shopify-Hmac-Sha256 header")
	}
	if !equalBase64MAC(sig, hmacSHA256([]byte(secret), body)) {
		return unauthorized("X-Shopify-Hmac-Sha256 does not match the body")
	}
	return nil
}

type shopifyAddress struct {
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	Name        string `json:"name"`
	Phone       string `json:"phone"`
	Address1    string `json:"address1"`
	Address2    string `json:"address2"`
	City        string `json:"city"`
	Province    string `json:"province"`
	Zip         string `json:"zip"`
	CountryCode string `json:"country_code"`
}

type shopifyFulfillment struct {
	ID              json.Number `json:"id"`
	OrderID         json.Number `json:"order_id"`
	Status          string      `json:"status"`
	CreatedAt       string      `json:"created_at"`
	UpdatedAt       string      `json:"updated_at"`
	TrackingCompany string      `json:"tracking_company"`
	TrackingNumber  string      `json:"tracking_number"`
	TrackingNumbers []string    `json:"tracking_numbers"`
	ShipmentStatus  string      `json:"shipment_status"`
}

// shopifyMoneySet is Shopify's MoneyBag: an amount in the shop's currency and
// in the currency the buyer was shown.
type shopifyMoneySet struct {
	ShopMoney        shopifyMoney `json:"shop_money"`
	PresentmentMoney shopifyMoney `json:"presentment_money"`
}

type shopifyMoney struct {
	Amount       string `json:"amount"`
	CurrencyCode string `json:"currency_code"`
}

type shopifyOrder struct {
	ID                  json.Number      `json:"id"`
	Name                string           `json:"name"`
	Test                bool             `json:"test"`
	FinancialStatus     string           `json:"financial_status"`
	CreatedAt           string           `json:"created_at"`
	ProcessedAt         string           `json:"processed_at"`
	UpdatedAt           string           `json:"updated_at"`
	CancelledAt         string           `json:"cancelled_at"`
	Currency            string           `json:"currency"`
	PresentmentCurrency string           `json:"presentment_currency"`
	TotalPrice          string           `json:"total_price"`
	TotalPriceSet       *shopifyMoneySet `json:"total_price_set"`
	Gateway             string           `json:"gateway"`
	PaymentGatewayNames []string         `json:"payment_gateway_names"`
	Email               string           `json:"email"`
	ContactEmail        string           `json:"contact_email"`
	Phone               string           `json:"phone"`
	CustomerLocale      string           `json:"customer_locale"`
	Customer            *struct {
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
		Email     string `json:"email"`
		Phone     string `json:"phone"`
	} `json:"customer"`
	BillingAddress  *shopifyAddress `json:"billing_address"`
	ShippingAddress *shopifyAddress `json:"shipping_address"`
	LineItems       []struct {
		SKU      string      `json:"sku"`
		Title    string      `json:"title"`
		Name     string      `json:"name"`
		Quantity json.Number `json:"quantity"`
		Price    string      `json:"price"`
	} `json:"line_items"`
	Fulfillments []shopifyFulfillment `json:"fulfillments"`
}

// Handle implements Adapter.
func (Shopify) Handle(cred care.Source, req Request, now time.Time) (Result, error) {
	if err := VerifyShopify(cred.Secret, req.Header, req.Body); err != nil {
		return Result{}, err
	}
	res := Result{Status: http.StatusOK}
	delivery := req.Header.Get(HeaderShopifyWebhookID)
	if delivery == "" {
		return Result{}, care.Invalid(HeaderShopifyWebhookID, "header required")
	}
	evID := req.Header.Get(HeaderShopifyEventID)
	if evID == "" {
		evID = delivery
	}
	add := func(ev care.Event, suffix string) error {
		id, err := eventID(HeaderShopifyEventID, "shopify:"+evID+":"+string(ev.Type)+suffix)
		if err != nil {
			return err
		}
		ev.ID = id
		res.Events = append(res.Events, Incoming{DeliveryID: delivery, Event: ev})
		return nil
	}
	topic := req.Header.Get(HeaderShopifyTopic)
	switch topic {
	case "orders/create", "orders/paid", "orders/cancelled", "orders/fulfilled":
		var in shopifyOrder
		if err := decodeJSON(req.Body, &in, false); err != nil {
			return Result{}, err
		}
		o, err := in.order()
		if err != nil {
			return Result{}, err
		}
		ev := care.Event{Order: o}
		var at string
		var atField string
		switch topic {
		case "orders/create":
			ev.Type, at, atField = care.OrderCreated, in.CreatedAt, "created_at"
			if shopifyPaid[in.FinancialStatus] {
				// Paid at checkout: the order is recorded paid, never chased.
				paidAt, field := in.ProcessedAt, "processed_at"
				if paidAt == "" {
					paidAt, field = in.CreatedAt, "created_at"
				}
				t, err := shopifyTime(field, paidAt)
				if err != nil {
					return Result{}, err
				}
				ev.Order.PaidAt = &t
			}
		case "orders/paid":
			// The topic header is not signed: the signed body must say paid.
			if !shopifyPaid[in.FinancialStatus] {
				return Result{}, care.RejectField("financial_status", "an orders/paid delivery needs a paid financial_status (paid, authorized, partially_paid, partially_refunded or refunded) in its signed body; it says %q", in.FinancialStatus)
			}
			ev.Type, at, atField = care.OrderPaid, in.UpdatedAt, "updated_at"
		case "orders/cancelled":
			// The topic header is not signed: the signed body must say cancelled.
			if in.CancelledAt == "" {
				return Result{}, care.RejectField("cancelled_at", "an orders/cancelled delivery needs cancelled_at in its signed body; it is null")
			}
			ev.Type, at, atField = care.OrderCancelled, in.CancelledAt, "cancelled_at"
		case "orders/fulfilled":
			for i, f := range in.Fulfillments {
				sh, at, ok, err := f.shipment("fulfillments[" + itoa(i) + "]")
				if err != nil {
					return Result{}, err
				}
				if !ok {
					continue
				}
				e := care.Event{Type: care.OrderShipped, OccurredAt: at, Order: o, Shipment: sh}
				if err := add(e, ":"+string(f.ID)); err != nil {
					return Result{}, err
				}
			}
			if len(res.Events) == 0 {
				return ignored("the order has no fulfillment with a tracking number"), nil
			}
			return validated(res)
		}
		t, err := shopifyTime(atField, at)
		if err != nil {
			return Result{}, err
		}
		ev.OccurredAt = t
		if err := add(ev, ""); err != nil {
			return Result{}, err
		}
		if topic == "orders/create" && in.CancelledAt != "" {
			// Created already cancelled (the signed body says so): record that too.
			t, err := shopifyTime("cancelled_at", in.CancelledAt)
			if err != nil {
				return Result{}, err
			}
			if err := add(care.Event{Type: care.OrderCancelled, OccurredAt: t, Order: care.Order{ID: o.ID, Test: o.Test}}, ""); err != nil {
				return Result{}, err
			}
		}
	case "fulfillments/create", "fulfillments/update":
		var f shopifyFulfillment
		if err := decodeJSON(req.Body, &f, false); err != nil {
			return Result{}, err
		}
		if !digitsRE.MatchString(string(f.OrderID)) {
			return Result{}, care.Invalid("order_id", "must be the order's integer id")
		}
		sh, at, ok, err := f.shipment("")
		if err != nil {
			return Result{}, err
		}
		if !ok {
			return ignored("the fulfillment has no tracking number yet"), nil
		}
		ev := care.Event{Type: care.OrderShipped, OccurredAt: at, Order: care.Order{ID: string(f.OrderID)}, Shipment: sh}
		if topic == "fulfillments/update" {
			st, known := shopifyShipmentStatus[f.ShipmentStatus]
			if !known {
				if f.ShipmentStatus == "" {
					return ignored("the fulfillment has no shipment_status"), nil
				}
				return ignored("shipment_status " + f.ShipmentStatus + " is not used"), nil
			}
			ev.Type, sh.Status = care.ShipmentUpdated, st
			if t, err := shopifyTime("updated_at", f.UpdatedAt); err == nil {
				ev.OccurredAt = t
			}
		}
		if err := add(ev, ""); err != nil {
			return Result{}, err
		}
	default:
		if topic == "" {
			return ignored("no X-Shopify-Topic header"), nil
		}
		return ignored("topic " + topic + " is not used"), nil
	}
	return validated(res)
}

// shopifyPaid is the set of Shopify financial_status values that mean the
// buyer has paid: the payment was captured (paid; partially_paid, a
// capture of less than the whole; partially_refunded and refunded, paid
// before the refund) or authorized for a later capture (authorized). pending,
// expired and voided (an authorization cancelled unpaid) are unpaid.
var shopifyPaid = map[string]bool{"paid": true, "partially_paid": true, "authorized": true,
	"partially_refunded": true, "refunded": true}

// shopifyShipmentStatus maps a fulfillment's shipment_status. Shopify sends no
// pickup point or deadline with ready_for_pickup; the pickup workflow then
// uses its template's default deadline.
var shopifyShipmentStatus = map[string]care.ShipmentStatus{
	"label_printed":      care.ShipInTransit,
	"label_purchased":    care.ShipInTransit,
	"confirmed":          care.ShipInTransit,
	"in_transit":         care.ShipInTransit,
	"out_for_delivery":   care.ShipInTransit,
	"attempted_delivery": care.ShipFailed,
	"failure":            care.ShipFailed,
	"delivered":          care.ShipDelivered,
	"ready_for_pickup":   care.ShipAwaitingPickup,
}

// shipment returns the fulfillment's parcel, or false when it has no tracking
// number (an order.shipped needs one).
func (f *shopifyFulfillment) shipment(path string) (*care.Shipment, time.Time, bool, error) {
	field := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	var nums []string
	seen := map[string]bool{}
	for _, n := range append([]string{f.TrackingNumber}, f.TrackingNumbers...) {
		if n = strings.TrimSpace(n); n != "" && !seen[n] {
			seen[n] = true
			nums = append(nums, n)
		}
	}
	if len(nums) == 0 {
		return nil, time.Time{}, false, nil
	}
	at, err := shopifyTime(field("created_at"), f.CreatedAt)
	if err != nil {
		return nil, time.Time{}, false, err
	}
	return &care.Shipment{Carrier: f.TrackingCompany, TrackingNumbers: nums}, at, true, nil
}

func shopifyTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, care.Invalid(field, "required (RFC 3339 time)")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, care.Invalid(field, "must be an RFC 3339 time")
	}
	return t.UTC(), nil
}

// order normalises a Shopify order.
func (in *shopifyOrder) order() (care.Order, error) {
	if !digitsRE.MatchString(string(in.ID)) {
		return care.Order{}, care.Invalid("id", "must be the order's integer id")
	}
	o := care.Order{ID: string(in.ID), Test: in.Test}
	if n := strings.TrimSpace(in.Name); n != "" {
		if utf8.RuneCountInString(n) > 64 || strings.IndexFunc(n, unicode.IsControl) >= 0 {
			return care.Order{}, care.Invalid("name", "must be at most 64 characters without control characters")
		}
		o.Name = n
	}
	enrich := false
	if in.CreatedAt != "" {
		t, err := shopifyTime("created_at", in.CreatedAt)
		if err != nil {
			return care.Order{}, err
		}
		o.PlacedAt = &t
	}
	if in.TotalPrice != "" {
		d, err := decimal("total_price", in.TotalPrice)
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
	// Multi-currency: total_price and currency are the shop's money (what
	// thresholds and metrics use); the amount the buyer saw is kept beside it.
	if pc := in.PresentmentCurrency; pc != "" && pc != in.Currency && in.TotalPriceSet != nil {
		pm := in.TotalPriceSet.PresentmentMoney
		if pm.CurrencyCode != pc {
			return care.Order{}, care.Invalid("total_price_set.presentment_money.currency_code", "must equal presentment_currency %q", pc)
		}
		d, err := decimal("total_price_set.presentment_money.amount", pm.Amount)
		if err != nil {
			return care.Order{}, err
		}
		if err := care.ValidateCurrency("presentment_currency", pc); err != nil {
			return care.Order{}, err
		}
		o.PresentmentTotal, o.PresentmentCurrency = d, pc
	}
	gateways := in.PaymentGatewayNames
	if in.Gateway != "" {
		gateways = append([]string{in.Gateway}, gateways...)
	}
	for _, g := range gateways {
		if strings.EqualFold(strings.TrimSpace(g), ShopifyCODGateway) {
			o.PaymentMethod = care.PayCOD
		}
	}
	if o.PaymentMethod == "" && len(gateways) > 0 {
		o.PaymentMethod = care.PayOnline
	}

	b := care.Buyer{Email: firstNonEmpty(in.Email, in.ContactEmail)}
	phones := []string{in.Phone}
	if c := in.Customer; c != nil {
		b.Name = joinName(c.FirstName, c.LastName)
		if b.Email == "" {
			b.Email = c.Email
		}
		phones = append(phones, c.Phone)
	}
	if a := in.BillingAddress; a != nil {
		if b.Name == "" {
			b.Name = firstNonEmpty(joinName(a.FirstName, a.LastName), a.Name)
		}
		phones = append(phones, a.Phone)
	}
	for _, p := range phones {
		if p == "" {
			continue
		}
		if e, ok := e164(p); ok {
			b.Phone = e
			break
		}
		enrich = true // a phone we cannot use as sent: never guess its country
	}
	if b.Phone != "" {
		enrich = false
	}
	if b.Email != "" && (!strings.Contains(b.Email, "@") || strings.ContainsAny(b.Email, " \t\r\n")) {
		b.Email, enrich = "", true
	}
	if in.CustomerLocale != "" && care.ValidateLocale("customer_locale", in.CustomerLocale) == nil {
		b.Locale = in.CustomerLocale
	}
	if b != (care.Buyer{}) {
		o.Buyer = &b
	}
	if a := in.ShippingAddress; a != nil {
		addr := care.Address{
			Name:       firstNonEmpty(joinName(a.FirstName, a.LastName), a.Name),
			Line1:      a.Address1,
			Line2:      a.Address2,
			City:       a.City,
			Province:   a.Province,
			PostalCode: a.Zip,
			Country:    strings.ToUpper(a.CountryCode),
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
		price, err := decimal(f("price"), li.Price)
		if err != nil {
			return care.Order{}, err
		}
		it := care.Item{SKU: li.SKU, Title: firstNonEmpty(li.Title, li.Name), Quantity: int(q), Price: price}
		if it.SKU == "" && it.Title == "" {
			return care.Order{}, care.Invalid(f("title"), "a line item needs a sku or a title")
		}
		o.Items = append(o.Items, it)
	}
	o.NeedsEnrichment = enrich || !o.Complete()
	return o, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// joinName writes a person's name from its parts as the name's own script
// writes it: family name first and no space for Chinese, Japanese and Korean
// names ("美", "林" → "林美"), "first last" otherwise.
func joinName(first, last string) string {
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if isCJK(first) || isCJK(last) {
		return last + first
	}
	return strings.TrimSpace(first + " " + last)
}

// isCJK reports whether s holds a Han, Hiragana, Katakana or Hangul letter.
func isCJK(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
	}) >= 0
}
