package care

import (
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// EventType is the kind of a canonical event.
type EventType string

// The canonical event types.
const (
	OrderCreated        EventType = "order.created"
	OrderPaid           EventType = "order.paid"
	OrderCancelled      EventType = "order.cancelled"
	OrderAddressChanged EventType = "order.address_changed"
	// OrderConfirmed: a cash-on-delivery order was confirmed (by the buyer
	// or an agent, through cod_confirm, or by the shop's own process).
	OrderConfirmed  EventType = "order.confirmed"
	OrderShipped    EventType = "order.shipped"
	ShipmentUpdated EventType = "shipment.updated"
	OrderDelivered  EventType = "order.delivered"
	OrderCompleted  EventType = "order.completed"
	ReviewPosted    EventType = "review.posted"
	BuyerReplied    EventType = "buyer.replied"
	// OrderRefunded: the shop refunded the order in full or in part
	// (Event.Refund).
	OrderRefunded EventType = "order.refunded"
)

// EventTypes lists every canonical event type.
var EventTypes = []EventType{OrderCreated, OrderPaid, OrderCancelled, OrderAddressChanged, OrderConfirmed,
	OrderShipped, ShipmentUpdated, OrderDelivered, OrderCompleted, ReviewPosted, BuyerReplied, OrderRefunded}

// Event is the canonical order event: the body of a standard webhook and what
// every source adapter produces. Its JSON form is published as a JSON Schema in
// events/event.schema.json.
type Event struct {
	ID         string    `json:"id"`
	Type       EventType `json:"type"`
	OccurredAt time.Time `json:"occurred_at"`
	Order      Order     `json:"order"`
	// Parcels are the parcels order.shipped reports (one or more).
	Parcels []ParcelReport `json:"parcels,omitempty"`
	// Parcel is the one parcel shipment.updated reports.
	Parcel *ParcelReport `json:"parcel,omitempty"`
	// Shipment is the legacy shape of both (one carrier, several tracking
	// numbers, one status), still accepted: each tracking number is read as
	// one parcel report (see ParcelReports).
	Shipment *Shipment `json:"shipment,omitempty"`
	Review   *Review   `json:"review,omitempty"`
	Reply    *Reply    `json:"reply,omitempty"`
	// Refund is what order.refunded refunded.
	Refund *Refund `json:"refund,omitempty"`
}

// Decimal is an exact decimal amount kept as its string form ("129.90").
// Money is never a float.
type Decimal string

// PaymentMethod is how the buyer pays.
type PaymentMethod string

// Payment methods.
const (
	PayOnline PaymentMethod = "online"
	PayCOD    PaymentMethod = "cod"
)

// Order is the order as a source reports it. Only ID is always present; an
// event from a source that sends ids and status only (Douyin) carries
// NeedsEnrichment and none of the fields it did not have.
type Order struct {
	ID              string        `json:"id"` // the platform's id, an exact string
	PlacedAt        *time.Time    `json:"placed_at,omitempty"`
	Total           Decimal       `json:"total,omitempty"`
	Currency        string        `json:"currency,omitempty"`
	PaymentMethod   PaymentMethod `json:"payment_method,omitempty"`
	CODFee          Decimal       `json:"cod_fee,omitempty"`
	PayDeadline     *time.Time    `json:"pay_deadline,omitempty"` // the platform's auto-cancel time
	Buyer           *Buyer        `json:"buyer,omitempty"`
	ShippingAddress *Address      `json:"shipping_address,omitempty"`
	Items           []Item        `json:"items,omitempty"`
	NeedsEnrichment bool          `json:"needs_enrichment,omitempty"`
	// Name is the platform's display name of the order, the one buyers
	// know (Shopify's "#1043"); "" when the platform has none (scripts then
	// show ID).
	Name string `json:"name,omitempty"`
	// PaidAt, on any event, says the order was already paid (payment captured
	// or authorized) at that time: Apply records the paid milestone then, so an
	// order created paid is never chased for payment.
	PaidAt *time.Time `json:"paid_at,omitempty"`
	// Test marks a platform's test order (Shopify "test": true). It is
	// recorded like any order, and no workflow ever starts for it. Once an
	// event marks an order test, the order stays test.
	Test bool `json:"test,omitempty"`
	// PresentmentTotal and PresentmentCurrency are the total in the currency
	// the buyer saw, when it differs from Currency (Shopify multi-currency).
	// Total and Currency stay in the shop's currency: thresholds and metrics
	// use only those.
	PresentmentTotal    Decimal `json:"presentment_total,omitempty"`
	PresentmentCurrency string  `json:"presentment_currency,omitempty"`
	// ShipBy is the platform's ship-by deadline (late-shipment fines count
	// from it), when the platform sends one; else workflows use their
	// template's ship_within after payment (OrderState.ShipDeadline).
	ShipBy *time.Time `json:"ship_by,omitempty"`
	// ShipToCount is how many distinct shipping addresses the platform's
	// order data carries (a multi-address checkout, items or parcels going
	// to different places, or a second address beside the shipping one);
	// 0 when the source does not say, 1 for one. Only the count is kept:
	// the other addresses are not stored.
	ShipToCount int `json:"ship_to_count,omitempty"`
	// Marketplace is the marketplace the order was placed on when the shop
	// sells through one and its source says so ("amazon", "amazon.de",
	// "ebay", "tiktok_shop"); "" for the shop's own store or when unknown.
	// Compared case-insensitively (FromAmazon).
	Marketplace string `json:"marketplace,omitempty"`
}

var marketplaceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// MarketplaceAmazon is Amazon's Order.Marketplace (any "amazon.<site>"
// counts too).
const MarketplaceAmazon = "amazon"

// FromAmazon reports whether the order was placed on Amazon: its
// Marketplace is "amazon" or "amazon.<site>", "amazon_<x>", "amazon-<x>"
// (any case). Amazon sends buyers its own shipping notices and forbids
// sellers' ones.
func (o Order) FromAmazon() bool {
	m := strings.ToLower(strings.TrimSpace(o.Marketplace))
	if !strings.HasPrefix(m, MarketplaceAmazon) {
		return false
	}
	rest := m[len(MarketplaceAmazon):]
	return rest == "" || strings.ContainsRune("._-", rune(rest[0]))
}

// Buyer is who placed the order. Phone and email are personal data: never log them.
type Buyer struct {
	Name     string `json:"name,omitempty"`
	Phone    string `json:"phone,omitempty"` // E.164
	Email    string `json:"email,omitempty"`
	Locale   string `json:"locale,omitempty"`   // BCP 47
	Timezone string `json:"timezone,omitempty"` // IANA
}

// Address is a shipping address. Personal data: never log it.
type Address struct {
	Name       string `json:"name,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	District   string `json:"district,omitempty"`
	City       string `json:"city,omitempty"`
	Province   string `json:"province,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country,omitempty"` // ISO 3166-1 alpha-2
}

// Item is one order line.
type Item struct {
	SKU            string  `json:"sku"`
	Title          string  `json:"title"`
	Quantity       int     `json:"quantity"`
	Price          Decimal `json:"price"`
	Perishable     bool    `json:"perishable,omitempty"`
	ShelfLifeHours int     `json:"shelf_life_hours,omitempty"`
	// Tags are the product's tags as the shop names them (fresh,
	// fragile…): at most MaxItemTags, each 1-64 characters with no control
	// characters or surrounding spaces; templates match them
	// case-insensitively. Only the standard source carries them (Shopify's
	// and WooCommerce's order line items have none).
	Tags []string `json:"tags,omitempty"`
}

// MaxItemTags is the most tags an order item carries.
const MaxItemTags = 20

// ShipmentStatus is where a parcel is: one of ShipmentStatuses.
type ShipmentStatus string

// Parcel statuses (see also parcel.go).
const (
	ShipInTransit ShipmentStatus = "in_transit"
	ShipDelivered ShipmentStatus = "delivered"
	ShipReturned  ShipmentStatus = "returned"
)

// Shipment is the legacy report of one or more parcels handed to one
// carrier; new senders use ParcelReport.
type Shipment struct {
	Carrier         string         `json:"carrier"`
	TrackingNumbers []string       `json:"tracking_numbers"`
	Status          ShipmentStatus `json:"status,omitempty"`
	PickupPoint     string         `json:"pickup_point,omitempty"`    // when awaiting_pickup, if the platform says
	PickupDeadline  *time.Time     `json:"pickup_deadline,omitempty"` // when awaiting_pickup, if the platform says
}

// Review is a buyer's review of the order (or of one of its products). A
// review.posted for an ID the order has seen is an update of that review
// (the buyer edited it): OrderState.Reviews keeps one entry per ID.
type Review struct {
	Rating int    `json:"rating"` // 1..5
	Text   string `json:"text,omitempty"`
	// ID is the platform's review id; "" for a source that has none (the
	// order then has one review, updated by each review.posted).
	ID string `json:"id,omitempty"`
	// SKU is the reviewed product, "" for a review of the order or shop.
	SKU   string `json:"sku,omitempty"`
	Title string `json:"title,omitempty"`
	// Platform is where the review was posted (ReviewPlatforms lists the
	// known ones; any other short lowercase name is accepted): the revise
	// and appeal rules depend on it.
	Platform string `json:"platform,omitempty"`
}

// Review platforms whose rules ordercare knows.
const (
	PlatformJudgeme    = "judgeme"
	PlatformShopify    = "shopify"
	PlatformTaobao     = "taobao"
	PlatformDouyin     = "douyin"
	PlatformAmazon     = "amazon"
	PlatformTrustpilot = "trustpilot"
	PlatformEbay       = "ebay"
)

// ReviewPlatforms lists the review platforms whose rules ordercare knows.
var ReviewPlatforms = []string{PlatformJudgeme, PlatformShopify, PlatformTaobao, PlatformDouyin,
	PlatformAmazon, PlatformTrustpilot, PlatformEbay}

var platformRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)

func (r *Review) validate() error {
	switch {
	case r.Rating < 1 || r.Rating > 5:
		return Invalid("review.rating", "must be an integer from 1 to 5")
	case r.ID != "" && !idRE.MatchString(r.ID):
		return Invalid("review.id", "must be 1-128 printable ASCII characters")
	case r.Platform != "" && !platformRE.MatchString(r.Platform):
		return Invalid("review.platform", "must be a lowercase platform name such as judgeme or amazon")
	case utf8.RuneCountInString(r.Title) > 500:
		return Invalid("review.title", "at most 500 characters")
	case utf8.RuneCountInString(r.Text) > 10000:
		return Invalid("review.text", "at most 10000 characters")
	case len(r.SKU) > 128:
		return Invalid("review.sku", "at most 128 characters")
	}
	return nil
}

// Reply is a buyer's message back to the shop.
type Reply struct {
	Text    string `json:"text"`
	Channel string `json:"channel,omitempty"`
}

// Complete reports whether the order carries everything order.created needs:
// placed_at, total, currency, payment_method, buyer and items.
func (o *Order) Complete() bool {
	return o.PlacedAt != nil && o.Total != "" && o.Currency != "" && o.PaymentMethod != "" &&
		o.Buyer != nil && len(o.Items) > 0
}

// TotalIn returns the order's total in currency: Total when Currency is
// currency, else PresentmentTotal when PresentmentCurrency is, else false.
// Thresholds and metrics compare and add amounts only through it, so two
// currencies never mix; an empty currency (a shop that set none) takes Total.
func (o *Order) TotalIn(currency string) (Decimal, bool) {
	switch {
	case o.Total == "":
		return "", false
	case currency == "" || o.Currency == "" || o.Currency == currency:
		return o.Total, true
	case o.PresentmentCurrency == currency && o.PresentmentTotal != "":
		return o.PresentmentTotal, true
	}
	return "", false
}

var (
	decimalRE  = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	e164RE     = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
	countryRE  = regexp.MustCompile(`^[A-Z]{2}$`)
	idRE       = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)
	localeRE   = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$`)
)

// ValidateLocale checks a BCP 47 language tag's shape.
func ValidateLocale(field, s string) error {
	if !localeRE.MatchString(s) {
		return Invalid(field, "must be a BCP 47 language tag such as zh-CN")
	}
	return nil
}

// knownZones caches the zone names time.LoadLocation accepted: loading
// parses the zone file, and every order event names its buyer's zone.
var knownZones sync.Map

// ValidateTimezone checks that s names an IANA time zone.
func ValidateTimezone(field, s string) error {
	if s == "" || s == "Local" {
		return Invalid(field, "must be an IANA time zone such as Asia/Shanghai")
	}
	if _, ok := knownZones.Load(s); ok {
		return nil
	}
	if _, err := time.LoadLocation(s); err != nil {
		return Invalid(field, "unknown IANA time zone %q", s)
	}
	knownZones.Store(s, true)
	return nil
}

// ValidateCurrency checks an ISO 4217 code's shape.
func ValidateCurrency(field, s string) error {
	if !currencyRE.MatchString(s) {
		return Invalid(field, "must be an ISO 4217 code such as CNY")
	}
	return nil
}

func validDecimal(field string, d Decimal, allowNegative bool) error {
	if !decimalRE.MatchString(string(d)) {
		return Invalid(field, "must be a decimal string such as \"129.90\"")
	}
	if !allowNegative && strings.HasPrefix(string(d), "-") {
		return Invalid(field, "must not be negative")
	}
	return nil
}

// Validate checks the event against the canonical contract and returns the
// first problem as a *FieldError. order.created must carry the whole order
// (id, placed_at, total, currency, payment_method, buyer, items) unless the
// order is marked needs_enrichment; other types need only order.id, and the
// fields they do carry are checked.
func (e *Event) Validate() error {
	if !idRE.MatchString(e.ID) {
		return Invalid("id", "must be 1-128 printable ASCII characters")
	}
	known := false
	for _, t := range EventTypes {
		known = known || t == e.Type
	}
	if !known {
		return Invalid("type", "unknown event type %q", e.Type)
	}
	if e.OccurredAt.IsZero() {
		return Invalid("occurred_at", "required (RFC 3339 time)")
	}
	if err := e.Order.validate(e.Type == OrderCreated); err != nil {
		return err
	}
	if err := e.validateParcels(); err != nil {
		return err
	}
	if e.Review != nil {
		if err := e.Review.validate(); err != nil {
			return err
		}
	}
	if e.Refund != nil {
		if err := e.Refund.validate(); err != nil {
			return err
		}
	}
	switch e.Type {
	case OrderRefunded:
		if e.Refund == nil {
			return Invalid("refund", "required for order.refunded")
		}
	case ReviewPosted:
		if e.Review == nil {
			return Invalid("review", "required for review.posted")
		}
	case BuyerReplied:
		if e.Reply == nil || strings.TrimSpace(e.Reply.Text) == "" {
			return Invalid("reply.text", "required for buyer.replied")
		}
	case OrderAddressChanged:
		if e.Order.ShippingAddress == nil {
			return Invalid("order.shipping_address", "required for order.address_changed")
		}
	}
	return nil
}

func (o *Order) validate(full bool) error {
	if !idRE.MatchString(o.ID) {
		return Invalid("order.id", "must be 1-128 printable ASCII characters")
	}
	if full && !o.NeedsEnrichment {
		switch {
		case o.PlacedAt == nil:
			return Invalid("order.placed_at", "required for order.created")
		case o.Total == "":
			return Invalid("order.total", "required for order.created")
		case o.Currency == "":
			return Invalid("order.currency", "required for order.created")
		case o.PaymentMethod == "":
			return Invalid("order.payment_method", "required for order.created")
		case o.Buyer == nil:
			return Invalid("order.buyer", "required for order.created")
		case len(o.Items) == 0:
			return Invalid("order.items", "required for order.created (at least one item)")
		}
	}
	if o.Total != "" {
		if err := validDecimal("order.total", o.Total, false); err != nil {
			return err
		}
	}
	if o.PlacedAt != nil && o.PayDeadline != nil && !o.PayDeadline.After(*o.PlacedAt) {
		return Invalid("order.pay_deadline", "must be after order.placed_at (%s), not %s",
			o.PlacedAt.UTC().Format(time.RFC3339), o.PayDeadline.UTC().Format(time.RFC3339))
	}
	if o.ShipToCount < 0 {
		return Invalid("order.ship_to_count", "must not be negative")
	}
	if o.Marketplace != "" && !marketplaceRE.MatchString(o.Marketplace) {
		return Invalid("order.marketplace", "must be a marketplace name of letters, digits, '.', '_' or '-' (at most 64), such as amazon or amazon.de")
	}
	if o.PlacedAt != nil && o.ShipBy != nil && !o.ShipBy.After(*o.PlacedAt) {
		return Invalid("order.ship_by", "must be after order.placed_at")
	}
	if (o.PresentmentTotal == "") != (o.PresentmentCurrency == "") {
		return Invalid("order.presentment_total", "presentment_total and presentment_currency come together")
	}
	if o.PresentmentTotal != "" {
		if err := validDecimal("order.presentment_total", o.PresentmentTotal, false); err != nil {
			return err
		}
		if err := ValidateCurrency("order.presentment_currency", o.PresentmentCurrency); err != nil {
			return err
		}
	}
	if strings.ContainsRune(o.Name, 0) || utf8.RuneCountInString(o.Name) > 64 {
		return Invalid("order.name", "must be at most 64 characters, without NUL")
	}
	if o.Currency != "" {
		if err := ValidateCurrency("order.currency", o.Currency); err != nil {
			return err
		}
	}
	switch o.PaymentMethod {
	case "", PayOnline:
		if o.CODFee != "" {
			return Invalid("order.cod_fee", "only for payment_method cod")
		}
	case PayCOD:
		if o.CODFee != "" {
			if err := validDecimal("order.cod_fee", o.CODFee, false); err != nil {
				return err
			}
		}
	default:
		return Invalid("order.payment_method", "must be online or cod")
	}
	if o.Buyer != nil {
		b := o.Buyer
		if strings.ContainsRune(b.Name, 0) {
			return Invalid("order.buyer.name", "must not contain NUL characters")
		}
		if b.Phone != "" && !e164RE.MatchString(b.Phone) {
			return Invalid("order.buyer.phone", "must be E.164, e.g. +8613800138000")
		}
		if b.Email != "" && (!strings.Contains(b.Email, "@") || strings.ContainsAny(b.Email, " \t\r\n")) {
			return Invalid("order.buyer.email", "must be an email address")
		}
		if b.Locale != "" {
			if err := ValidateLocale("order.buyer.locale", b.Locale); err != nil {
				return err
			}
		}
		if b.Timezone != "" {
			if err := ValidateTimezone("order.buyer.timezone", b.Timezone); err != nil {
				return err
			}
		}
	}
	if a := o.ShippingAddress; a != nil {
		if strings.ContainsRune(a.Name, 0) {
			return Invalid("order.shipping_address.name", "must not contain NUL characters")
		}
		if a.Phone != "" && !e164RE.MatchString(a.Phone) {
			return Invalid("order.shipping_address.phone", "must be E.164")
		}
		if a.Country != "" && !countryRE.MatchString(a.Country) {
			return Invalid("order.shipping_address.country", "must be an ISO 3166-1 alpha-2 code such as CN")
		}
	}
	for i, it := range o.Items {
		f := func(name string) string { return "order.items[" + itoa(i) + "]." + name }
		if it.SKU == "" && it.Title == "" {
			return Invalid(f("sku"), "an item needs a sku or a title")
		}
		if strings.ContainsRune(it.Title, 0) {
			return Invalid(f("title"), "must not contain NUL characters")
		}
		if it.Quantity < 1 {
			return Invalid(f("quantity"), "must be at least 1")
		}
		if err := validDecimal(f("price"), it.Price, false); err != nil {
			return err
		}
		if it.ShelfLifeHours < 0 {
			return Invalid(f("shelf_life_hours"), "must not be negative")
		}
		if len(it.Tags) > MaxItemTags {
			return Invalid(f("tags"), "at most %d tags", MaxItemTags)
		}
		for j, tag := range it.Tags {
			if tag == "" || len(tag) > 64 || strings.TrimSpace(tag) != tag || strings.IndexFunc(tag, unicode.IsControl) >= 0 {
				return Invalid(f("tags["+itoa(j)+"]"), "1-64 characters, no surrounding spaces or control characters")
			}
		}
	}
	return nil
}

func (s *Shipment) validate(needStatus bool) error {
	if len(s.TrackingNumbers) == 0 {
		return Invalid("shipment.tracking_numbers", "at least one tracking number")
	}
	for i, n := range s.TrackingNumbers {
		if strings.TrimSpace(n) == "" {
			return Invalid("shipment.tracking_numbers["+itoa(i)+"]", "must not be empty")
		}
	}
	if needStatus && s.Status == "" {
		return Invalid("shipment.status", "required for shipment.updated")
	}
	if s.Status != "" && !shipmentStatusSet[s.Status] {
		return Invalid("shipment.status", "must be one of %s", statusList)
	}
	return nil
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
