package playbook

import (
	"fmt"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// Vars is what a script may show of an order, shop and buyer. It holds no
// phone, email or address: scripts cannot leak them.
//
// In Liquid the fields are order.id, order.name, order.total, order.currency,
// order.cod_fee, order.cod_total, order.pay_deadline, order.placed_at,
// order.items (each with title and quantity), order.item_count, buyer.name
// and shop.name; Render adds step.coupon (steps with a coupon) and cutoff
// (templates with a cut-off). The shipment namespace is a shipping notice's
// (ShipmentVars), the pickup namespace a pickup reminder's (PickupVars).
type Vars struct {
	OrderID     string
	OrderName   string // the platform's display name ("#1043"), else OrderID
	Total       string // decimal string, as the order has it
	Currency    string
	CODFee      string // "" unless the order is cash on delivery
	CODTotal    string // Total + CODFee, exact; Total when there is no fee
	PayDeadline string // local "2006-01-02 15:04", or ""
	PlacedAt    string // local "2006-01-02 15:04", or ""
	Items       []ItemVars
	ItemCount   int // the sum of the items' quantities
	BuyerName   string
	ShopName    string
	// Shipment is what a shipping notice is about (the shipment namespace);
	// zero for other workflows' steps, whose scripts then see it empty.
	Shipment ShipmentVars
	// Pickup is the pickup point a parcel waits at (the pickup namespace);
	// zero for other workflows' steps, whose scripts then see it empty.
	Pickup PickupVars
}

// PickupVars is the pickup namespace of a script: pickup.point and
// pickup.deadline. Point is the carrier's text (a public pickup point, not
// the buyer's address): never log it.
type PickupVars struct {
	Point string // the pickup point's name or address as the carrier gives it; "" when unknown
	// Deadline is the point's hold deadline, in the zone it is shown in
	// (the buyer's); zero when unknown. Render shows it in the script's
	// locale (LocalTime).
	Deadline time.Time
}

// ShipmentVars is the shipment namespace of a script: the parcels one
// notice is about and where they stand in the order.
type ShipmentVars struct {
	Parcels     []ParcelVars // the parcels of this notice, in shipping order
	Total       int          // the parcels of the order known when sending (n of "k of n")
	SplitReason string       // size, weight, warehouse, preorder or ""
	Complete    bool         // every item of the order has shipped with this notice or before
	Remaining   []ItemVars   // the order's items not shipped yet
}

// ParcelVars is one parcel as scripts see it.
type ParcelVars struct {
	Number         int // k of "k of n": its place among the order's parcels, from 1
	Carrier        string
	TrackingNumber string
	TrackingURL    string
	Items          []ItemVars
}

// ItemVars is one order line as scripts see it.
type ItemVars struct {
	Title    string
	Quantity int
}

// TimeLayout is how order times appear in scripts.
const TimeLayout = "2006-01-02 15:04"

// VarsFor builds the script variables of an order. Times are shown in loc
// (the caller passes the buyer's zone, else the shop's; nil means UTC).
// cod_fee is "" unless the order states a fee above zero (Shopify sends none:
// a script must not claim a fee of 0.00), so scripts wrap the fee phrase in
// {% if order.cod_fee != "" %}. An unparsable amount leaves cod_total equal
// to the total.
func VarsFor(o care.OrderState, shopName string, loc *time.Location) Vars {
	if loc == nil {
		loc = time.UTC
	}
	ord := o.Order
	v := Vars{
		OrderID:  ord.ID,
		Total:    string(ord.Total),
		Currency: ord.Currency,
		CODFee:   string(ord.CODFee),
		CODTotal: string(ord.Total),
		ShopName: shopName,
	}
	if r, ok := care.Decimal(v.CODFee).Rat(); ok && r.Sign() == 0 {
		v.CODFee = ""
	}
	if _, ok := care.Decimal(v.Total).Rat(); ok {
		if _, ok := care.Decimal(v.CODFee).Rat(); ok {
			v.CODTotal = string(care.AddDecimals(care.Decimal(v.Total), care.Decimal(v.CODFee)))
		}
	}
	v.OrderName = ord.Name
	if v.OrderName == "" {
		v.OrderName = ord.ID
	}
	if ord.PayDeadline != nil {
		v.PayDeadline = ord.PayDeadline.In(loc).Format(TimeLayout)
	}
	if ord.PlacedAt != nil {
		v.PlacedAt = ord.PlacedAt.In(loc).Format(TimeLayout)
	}
	for _, it := range ord.Items {
		v.Items = append(v.Items, ItemVars{Title: it.Title, Quantity: it.Quantity})
		v.ItemCount += it.Quantity
	}
	if ord.Buyer != nil {
		v.BuyerName = ord.Buyer.Name
	}
	return v
}

// sanitized returns v with StripControls applied to every string.
func (v Vars) sanitized() Vars {
	for _, p := range []*string{&v.OrderID, &v.Total, &v.Currency, &v.CODFee, &v.CODTotal,
		&v.PayDeadline, &v.PlacedAt, &v.BuyerName, &v.ShopName} {
		*p = StripControls(*p)
	}
	items := make([]ItemVars, len(v.Items))
	for i, it := range v.Items {
		items[i] = ItemVars{Title: StripControls(it.Title), Quantity: it.Quantity}
	}
	v.Items = items
	sh := v.Shipment
	sh.SplitReason = StripControls(sh.SplitReason)
	sh.Remaining = sanitizedItems(sh.Remaining)
	ps := make([]ParcelVars, len(sh.Parcels))
	for i, p := range sh.Parcels {
		ps[i] = ParcelVars{Number: p.Number, Carrier: StripControls(p.Carrier), TrackingNumber: StripControls(p.TrackingNumber),
			TrackingURL: StripControls(p.TrackingURL), Items: sanitizedItems(p.Items)}
	}
	sh.Parcels = ps
	v.Shipment = sh
	v.Pickup.Point = StripControls(v.Pickup.Point)
	return v
}

func sanitizedItems(in []ItemVars) []ItemVars {
	out := make([]ItemVars, len(in))
	for i, it := range in {
		out[i] = ItemVars{Title: StripControls(it.Title), Quantity: it.Quantity}
	}
	return out
}

func itemMaps(in []ItemVars) []map[string]any {
	out := make([]map[string]any, len(in))
	for i, it := range in {
		out[i] = map[string]any{"title": it.Title, "quantity": it.Quantity}
	}
	return out
}

// bindings is the Liquid environment of one step rendered in locale,
// every string sanitized.
func (v Vars) bindings(t *Template, s Step, locale string) map[string]any {
	v = v.sanitized()
	items := make([]map[string]any, len(v.Items))
	for i, it := range v.Items {
		items[i] = map[string]any{"title": it.Title, "quantity": it.Quantity}
	}
	b := map[string]any{
		"order": map[string]any{
			"id": v.OrderID, "name": v.OrderName, "total": v.Total, "currency": v.Currency,
			"cod_fee": v.CODFee, "cod_total": v.CODTotal,
			"pay_deadline": v.PayDeadline, "placed_at": v.PlacedAt,
			"items": items, "item_count": v.ItemCount,
		},
		"buyer": map[string]any{"name": v.BuyerName},
		"shop":  map[string]any{"name": v.ShopName},
	}
	parcels := make([]map[string]any, len(v.Shipment.Parcels))
	for i, p := range v.Shipment.Parcels {
		parcels[i] = map[string]any{"number": p.Number, "carrier": p.Carrier, "tracking_number": p.TrackingNumber,
			"tracking_url": p.TrackingURL, "items": itemMaps(p.Items)}
	}
	b["shipment"] = map[string]any{"parcels": parcels, "count": len(parcels), "total": v.Shipment.Total,
		"split_reason": v.Shipment.SplitReason, "complete": v.Shipment.Complete, "remaining": itemMaps(v.Shipment.Remaining)}
	deadline := ""
	if !v.Pickup.Deadline.IsZero() {
		deadline = LocalTime(v.Pickup.Deadline, locale)
	}
	b["pickup"] = map[string]any{"point": v.Pickup.Point, "deadline": deadline}
	stepVars := map[string]any{}
	if s.Coupon != "" {
		stepVars["coupon"] = StripControls(s.Coupon)
	}
	b["step"] = stepVars
	if t.Cutoff != "" {
		b["cutoff"] = StripControls(t.Cutoff)
	}
	return b
}

// Render renders a step's "script" or "reason" for a buyer locale and
// returns the text and the locale it used: the exact tag (case-insensitive),
// else one of the same language (zh-Hans-CN and zh → zh-CN, en-GB → en;
// preferring a shared region or script), else the default locale. step must
// be a step of t (as returned by Step). Variables and the text are stripped
// of control and bidirectional-override characters (StripControls).
// Rendering is bounded (MaxLoopIterations, MaxValueLength, RenderTimeout,
// and the step's channel's MaxLength). Errors, all *care.FieldError naming
// the script ("steps[2].script.zh-CN"): an unknown step or field, or a
// render failure such as "rendering exceeded 2000 characters (…)".
func (t *Template) Render(step Step, field string, locale string, v Vars) (text, usedLocale string, err error) {
	var m map[string]string
	switch field {
	case "script":
		m = step.Script
	case "reason":
		m = step.Reason
	default:
		return "", "", care.Invalid("field", "must be script or reason, not %q", field)
	}
	if len(m) == 0 {
		return "", "", care.Invalid("steps."+step.ID+"."+field, "the step has no %s", field)
	}
	used := resolveLocale(locale, sortedKeys(m), t.DefaultLocale)
	tpl, ok := t.compiled[scriptKey{step.ID, field, used}]
	if !ok {
		return "", "", care.Invalid("steps."+step.ID, "step %q is not a step of this template", step.ID)
	}
	maxLen, limit := t.maxLen(step, field)
	show := used
	if lang(locale) == lang(used) {
		show = locale // the buyer's own tag: its region decides the clock (en-GB: 24 h)
	}
	out, rerr := renderScript(tpl, v.bindings(t, step, show), maxLen, limit)
	if rerr == nil {
		out = StripControls(out)
	}
	if rerr != nil {
		_, i, _ := t.Step(step.ID)
		return "", "", care.Invalid(fmt.Sprintf("steps[%d].%s.%s", i, field, used), "%s", liquidMessage(rerr))
	}
	return out, used, nil
}

// LocalTime shows t (in its own zone) as people of locale write a date and
// time: zh "11月13日 18:00"; en and en-US "Fri, Nov 13, 6:00 PM"; other
// en-* "Fri 13 Nov, 18:00"; any other locale TimeLayout.
func LocalTime(t time.Time, locale string) string {
	tag := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(locale), "_", "-"))
	switch {
	case lang(tag) == "zh":
		return t.Format("1月2日 15:04")
	case tag == "en" || tag == "en-us":
		return t.Format("Mon, Jan 2, 3:04 PM")
	case lang(tag) == "en":
		return t.Format("Mon 2 Jan, 15:04")
	}
	return t.Format(TimeLayout)
}

// lang is the language subtag of a locale tag, lower case.
func lang(tag string) string {
	l, _, _ := strings.Cut(strings.ToLower(strings.ReplaceAll(strings.TrimSpace(tag), "_", "-")), "-")
	return l
}

// resolveLocale picks among have (sorted) for the wanted tag.
func resolveLocale(want string, have []string, def string) string {
	w := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(want), "_", "-"))
	if w == "" {
		return def
	}
	for _, h := range have {
		if strings.ToLower(h) == w {
			return h
		}
	}
	wparts := strings.Split(w, "-")
	best, bestScore := "", -1
	for _, h := range have {
		hparts := strings.Split(strings.ToLower(h), "-")
		if hparts[0] != wparts[0] {
			continue
		}
		score := 0
		for _, hp := range hparts[1:] {
			for _, wp := range wparts[1:] {
				if hp == wp {
					score += 2
				}
			}
		}
		if zhCompatible(wparts, hparts) {
			score += 2
		}
		if h == def {
			score++ // among equals, the default locale
		}
		if score > bestScore {
			best, bestScore = h, score
		}
	}
	if best != "" {
		return best
	}
	return def
}

// zhCompatible says a Chinese tag's script (Hans/Hant) agrees with the
// region of the candidate (CN/SG are Simplified, TW/HK/MO Traditional).
func zhCompatible(want, have []string) bool {
	if want[0] != "zh" {
		return false
	}
	script := func(parts []string) string {
		for _, p := range parts[1:] {
			switch p {
			case "hans", "cn", "sg":
				return "hans"
			case "hant", "tw", "hk", "mo":
				return "hant"
			}
		}
		return ""
	}
	ws, hs := script(want), script(have)
	return ws == hs || (ws == "" && hs == "hans")
}

// ---- exact decimals (care.Decimal) ---------------------------------------------

// atLeast reports whether total ≥ min; an unknown or malformed total is not.
func atLeast(total care.Decimal, min care.Decimal) bool {
	_, ok1 := total.Rat()
	_, ok2 := min.Rat()
	return ok1 && ok2 && total.Cmp(min) >= 0
}
