package source

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
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
// orders/fulfilled and orders/partially_fulfilled → one order.shipped with
// the parcels of every live fulfillment that has a tracking number, only
// when the body's fulfillment_status is fulfilled (resp. partial; else a
// *care.RejectError on fulfillment_status); fulfillments/create and
// fulfillments/update → order.shipped with one parcel per tracking number
// (carrier = tracking_company, the tracking URL at the same index, the
// fulfillment id as ref, the line items' sku and quantity when the
// fulfillment has one tracking number), and for fulfillments/update with a
// known shipment_status one shipment.updated per parcel;
// refunds/create → order.refunded with the refund's id, its line items
// that have a SKU and the sum of its successful refund transactions;
// fulfillment_events/create → shipment.updated naming the fulfillment (ref,
// no tracking number: it reaches every parcel of that fulfillment, whenever
// they arrive) with status, message and happened_at as the last scan. Carrier
// statuses map through shopifyShipmentStatus. Every other topic
// (orders/updated carries no diff, so an address change cannot be told
// apart), a fulfillment without a tracking number or cancelled, and a
// carrier status with no canonical equivalent give no event and answer 200
// {"ignored":true,"reason":...}.
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
	return verifyBase64HMAC(secret, h.Get(HeaderShopifyHMAC), "X-Shopify-Hmac-Sha256", body)
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
	TrackingURL     string      `json:"tracking_url"`
	TrackingURLs    []string    `json:"tracking_urls"`
	ShipmentStatus  string      `json:"shipment_status"`
	LineItems       []struct {
		SKU      string      `json:"sku"`
		Quantity json.Number `json:"quantity"`
	} `json:"line_items"`
}

// shopifyFulfillmentEvent is the body of fulfillment_events/create: a
// carrier status of one fulfillment (it names the fulfillment, not a
// tracking number).
type shopifyFulfillmentEvent struct {
	ID            json.Number `json:"id"`
	FulfillmentID json.Number `json:"fulfillment_id"`
	OrderID       json.Number `json:"order_id"`
	Status        string      `json:"status"`
	Message       string      `json:"message"`
	HappenedAt    string      `json:"happened_at"`
	CreatedAt     string      `json:"created_at"`
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
	Fulfillments      []shopifyFulfillment `json:"fulfillments"`
	FulfillmentStatus string               `json:"fulfillment_status"`
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
	case "orders/create", "orders/paid", "orders/cancelled", "orders/fulfilled", "orders/partially_fulfilled":
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
		case "orders/fulfilled", "orders/partially_fulfilled":
			// The topic header is not signed: the signed body must say so.
			want := map[string]string{"orders/fulfilled": "fulfilled", "orders/partially_fulfilled": "partial"}[topic]
			if in.FulfillmentStatus != want {
				return Result{}, care.RejectField("fulfillment_status", "an %s delivery needs fulfillment_status %q in its signed body; it says %q", topic, want, in.FulfillmentStatus)
			}
			var first time.Time
			for i, f := range in.Fulfillments {
				if !shopifyFulfillmentLive[f.Status] {
					continue
				}
				ps, at, err := f.parcels("fulfillments[" + itoa(i) + "]")
				if err != nil {
					return Result{}, err
				}
				if len(ps) > 0 && (first.IsZero() || at.Before(first)) {
					first = at
				}
				ev.Parcels = append(ev.Parcels, ps...)
			}
			if len(ev.Parcels) == 0 {
				return ignored("the order has no fulfillment with a tracking number"), nil
			}
			ev.Parcels = dedupeParcels(ev.Parcels)
			ev.Type, ev.OccurredAt = care.OrderShipped, first
			if err := add(ev, ""); err != nil {
				return Result{}, err
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
		if !shopifyFulfillmentLive[f.Status] {
			return ignored("fulfillment status " + f.Status + " is not a shipment"), nil
		}
		ps, at, err := f.parcels("")
		if err != nil {
			return Result{}, err
		}
		if len(ps) == 0 {
			return ignored("the fulfillment has no tracking number yet"), nil
		}
		o := care.Order{ID: string(f.OrderID)}
		if err := add(care.Event{Type: care.OrderShipped, OccurredAt: at, Order: o, Parcels: ps}, ""); err != nil {
			return Result{}, err
		}
		if topic == "fulfillments/update" && f.ShipmentStatus != "" {
			st, known := shopifyShipmentStatus[f.ShipmentStatus]
			if !known {
				return validated(res) // the parcels are recorded; the status is not one ordercare knows
			}
			upd := at
			if t, err := shopifyTime("updated_at", f.UpdatedAt); err == nil {
				upd = t
			}
			for i, p := range ps {
				r := care.ParcelReport{TrackingNumber: p.TrackingNumber, Ref: p.Ref, Status: st, SubStatus: f.ShipmentStatus}
				if err := add(care.Event{Type: care.ShipmentUpdated, OccurredAt: upd, Order: o, Parcel: &r}, ":"+itoa(i)); err != nil {
					return Result{}, err
				}
			}
		}
	case "fulfillment_events/create":
		var fe shopifyFulfillmentEvent
		if err := decodeJSON(req.Body, &fe, false); err != nil {
			return Result{}, err
		}
		if !digitsRE.MatchString(string(fe.OrderID)) {
			return Result{}, care.Invalid("order_id", "must be the order's integer id")
		}
		if !digitsRE.MatchString(string(fe.FulfillmentID)) {
			return Result{}, care.Invalid("fulfillment_id", "must be the fulfillment's integer id")
		}
		if fe.Status == "" {
			return Result{}, care.Invalid("status", "required")
		}
		st, known := shopifyShipmentStatus[fe.Status]
		if !known {
			return ignored("fulfillment event status " + fe.Status + " is not used"), nil
		}
		at, err := shopifyTime("happened_at", fe.HappenedAt)
		if err != nil {
			return Result{}, err
		}
		r := care.ParcelReport{Ref: string(fe.FulfillmentID), Status: st, SubStatus: fe.Status, LastScanAt: &at,
			Message: cleanText(fe.Message, 512)}
		if err := add(care.Event{Type: care.ShipmentUpdated, OccurredAt: at, Order: care.Order{ID: string(fe.OrderID)}, Parcel: &r}, ""); err != nil {
			return Result{}, err
		}
	case "refunds/create":
		var rf shopifyRefund
		if err := decodeJSON(req.Body, &rf, false); err != nil {
			return Result{}, err
		}
		ev, why, err := rf.event()
		if err != nil {
			return Result{}, err
		}
		if why != "" {
			return ignored(why), nil
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

// shopifyRefund is the body of refunds/create (the REST Refund resource):
// the refunded line items and the money moved back.
type shopifyRefund struct {
	ID              json.Number `json:"id"`
	OrderID         json.Number `json:"order_id"`
	CreatedAt       string      `json:"created_at"`
	ProcessedAt     string      `json:"processed_at"`
	Note            string      `json:"note"`
	RefundLineItems []struct {
		Quantity json.Number `json:"quantity"`
		LineItem struct {
			SKU string `json:"sku"`
		} `json:"line_item"`
	} `json:"refund_line_items"`
	Transactions []struct {
		Kind   string `json:"kind"`
		Status string `json:"status"`
		Amount string `json:"amount"`
	} `json:"transactions"`
}

// event is the order.refunded of a refunds/create body: its line items
// with a SKU (quantity from the refund line), and the sum of its
// successful refund transactions as the amount. Shopify's refund does not
// say whether the order is now refunded in full, so Full stays false (the
// order is fully refunded once every item is: care.OrderState.FullyRefunded).
// A refund with neither an item SKU nor an amount is ignored, with why.
func (rf *shopifyRefund) event() (care.Event, string, error) {
	if !digitsRE.MatchString(string(rf.OrderID)) {
		return care.Event{}, "", care.Invalid("order_id", "must be the order's integer id")
	}
	if !digitsRE.MatchString(string(rf.ID)) {
		return care.Event{}, "", care.Invalid("id", "must be the refund's integer id")
	}
	atField, at := "processed_at", rf.ProcessedAt
	if at == "" {
		atField, at = "created_at", rf.CreatedAt
	}
	t, err := shopifyTime(atField, at)
	if err != nil {
		return care.Event{}, "", err
	}
	r := care.Refund{ID: string(rf.ID), Reason: cleanText(rf.Note, 2000)}
	for i, li := range rf.RefundLineItems {
		q, err := li.Quantity.Int64()
		if err != nil || q < 1 || q > 1_000_000 {
			return care.Event{}, "", care.Invalid("refund_line_items["+itoa(i)+"].quantity", "must be a positive integer")
		}
		if sku := strings.TrimSpace(li.LineItem.SKU); sku != "" && len(sku) <= 128 {
			r.Items = append(r.Items, care.ParcelItem{SKU: sku, Quantity: int(q)})
		}
	}
	var amounts []care.Decimal
	for i, tr := range rf.Transactions {
		if tr.Kind != "refund" || tr.Status != "success" {
			continue
		}
		d, err := decimal("transactions["+itoa(i)+"].amount", tr.Amount)
		if err != nil {
			return care.Event{}, "", err
		}
		amounts = append(amounts, d)
	}
	if len(amounts) > 0 {
		r.Amount = care.AddDecimals(amounts...)
	}
	if len(r.Items) == 0 && r.Amount == "" {
		return care.Event{}, "the refund names no item with a sku and moved no money", nil
	}
	return care.Event{Type: care.OrderRefunded, OccurredAt: t, Order: care.Order{ID: string(rf.OrderID)}, Refund: &r}, "", nil
}

// shopifyPaid is the set of Shopify financial_status values that mean the
// buyer has paid: the payment was captured (paid; partially_paid, a
// capture of less than the whole; partially_refunded and refunded, paid
// before the refund) or authorized for a later capture (authorized). pending,
// expired and voided (an authorization cancelled unpaid) are unpaid.
var shopifyPaid = map[string]bool{"paid": true, "partially_paid": true, "authorized": true,
	"partially_refunded": true, "refunded": true}

// shopifyShipmentStatus maps Shopify's carrier statuses (a fulfillment's
// shipment_status, a fulfillment event's status: FulfillmentEventStatus in
// lower case) to the parcel statuses; the Shopify value is kept as
// sub_status. Shopify sends no pickup point or hold deadline with
// ready_for_pickup; the pickup workflow then uses its template's default.
var shopifyShipmentStatus = map[string]care.ShipmentStatus{
	"label_printed":      care.ShipInfoReceived,
	"label_purchased":    care.ShipInfoReceived,
	"confirmed":          care.ShipInfoReceived,
	"carrier_picked_up":  care.ShipInTransit,
	"in_transit":         care.ShipInTransit,
	"out_for_delivery":   care.ShipOutForDelivery,
	"attempted_delivery": care.ShipAttemptFailed,
	"ready_for_pickup":   care.ShipAvailableForPickup,
	"picked_up":          care.ShipDelivered,
	"delivered":          care.ShipDelivered,
	"delayed":            care.ShipException,
	"failure":            care.ShipException,
}

// shopifyFulfillmentLive is the set of fulfillment statuses that mean goods
// left (or are leaving) the shop; cancelled, error and failure do not.
var shopifyFulfillmentLive = map[string]bool{"": true, "pending": true, "open": true, "success": true}

// parcels returns the fulfillment's parcels, one per tracking number (with
// its tracking URL at the same index, the carrier, the fulfillment id as
// ref, and the line items when there is a single parcel), and the time it
// was created; none when it has no tracking number yet.
func (f *shopifyFulfillment) parcels(path string) ([]care.ParcelReport, time.Time, error) {
	field := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	nums := f.TrackingNumbers
	urls := f.TrackingURLs
	if len(nums) == 0 && strings.TrimSpace(f.TrackingNumber) != "" {
		nums, urls = []string{f.TrackingNumber}, []string{f.TrackingURL}
	}
	var out []care.ParcelReport
	seen := map[string]bool{}
	for i, n := range nums {
		n = strings.TrimSpace(n)
		if n == "" || seen[n] {
			continue
		}
		if len(n) > 64 || strings.IndexFunc(n, unicode.IsControl) >= 0 || !utf8.ValidString(n) {
			return nil, time.Time{}, care.Invalid(field("tracking_numbers["+itoa(i)+"]"), "must be at most 64 characters without control characters")
		}
		seen[n] = true
		p := care.ParcelReport{TrackingNumber: n, Carrier: cleanText(f.TrackingCompany, 64), Ref: string(f.ID)}
		if i < len(urls) {
			p.TrackingURL = httpURL(urls[i])
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, time.Time{}, nil
	}
	if !digitsRE.MatchString(string(f.ID)) {
		return nil, time.Time{}, care.Invalid(field("id"), "must be the fulfillment's integer id")
	}
	if len(out) == 1 {
		for i, li := range f.LineItems {
			q, err := li.Quantity.Int64()
			if err != nil || q < 1 || q > 1_000_000 {
				return nil, time.Time{}, care.Invalid(field("line_items["+itoa(i)+"].quantity"), "must be a positive integer")
			}
			if sku := cleanText(li.SKU, 128); sku != "" {
				out[0].Items = append(out[0].Items, care.ParcelItem{SKU: sku, Quantity: int(q)})
			}
		}
	}
	at, err := shopifyTime(field("created_at"), f.CreatedAt)
	if err != nil {
		return nil, time.Time{}, err
	}
	return out, at, nil
}

// dedupeParcels keeps the first report of each tracking number.
func dedupeParcels(ps []care.ParcelReport) []care.ParcelReport {
	seen := map[string]bool{}
	out := ps[:0]
	for _, p := range ps {
		if !seen[p.TrackingNumber] {
			seen[p.TrackingNumber] = true
			out = append(out, p)
		}
	}
	return out
}

// httpURL returns s when it is an absolute http(s) URL of at most 2048
// bytes, else "" (a tracking link ordercare would not send to a buyer).
func httpURL(s string) string {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(s) > 2048 {
		return ""
	}
	return s
}

// cleanText returns s trimmed, with control characters removed and cut to
// max characters: carrier names and messages as a source sends them.
func cleanText(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return strings.TrimSpace(s)
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
