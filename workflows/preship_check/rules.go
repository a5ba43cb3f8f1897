package preshipcheck

import (
	"strings"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

// Flag reasons (Flags). A region flag is FlagRegion + ":" + the rule's id.
const (
	FlagRegion         = "region"
	FlagAddressChanged = "address_changed"
	FlagTwoAddresses   = "two_addresses"
	FlagLocker         = "locker"
)

// Flags lists why the order must be held before it ships, in the order of
// the rules (regions, address changed after payment, two addresses,
// lockers); none for an order to ship as it is. An order without an address
// is flagged only by an address change or two addresses.
func Flags(o care.OrderState, p Params) []string {
	var out []string
	a := o.Order.ShippingAddress
	if a != nil {
		for _, r := range p.Regions {
			if (anyMatch(r.Provinces, a.Province) || anyMatch(r.Cities, a.City) || anyMatch(r.Postcodes, a.PostalCode)) &&
				hasGoods(o.Order.Items, r.Goods) {
				out = append(out, FlagRegion+":"+r.ID)
			}
		}
	}
	if p.AddressChanged && changedAfterPayment(o) {
		out = append(out, FlagAddressChanged)
	}
	if p.TwoAddresses && o.Order.ShipToCount > 1 {
		out = append(out, FlagTwoAddresses)
	}
	if l := p.Lockers; a != nil && l != nil && hasGoods(o.Order.Items, l.Goods) {
		lines := strings.ToLower(a.Line1 + " " + a.Line2 + " " + a.District)
		for _, k := range l.Keywords {
			if strings.Contains(lines, strings.ToLower(k)) {
				out = append(out, FlagLocker)
				break
			}
		}
	}
	return out
}

// changedAfterPayment: the address the order has now came from an event
// dated after the buyer committed (paid, or confirmed cash on delivery).
func changedAfterPayment(o care.OrderState) bool {
	st, ok := o.FieldStamps["shipping_address"]
	at, committed := o.CommittedAt()
	return ok && committed && st.At.After(at)
}

// hasGoods: g is nil (every order), or an item matches it.
func hasGoods(items []care.Item, g *Goods) bool {
	if g == nil {
		return true
	}
	for _, it := range items {
		if (g.Perishable && it.Perishable) || anyMatch(g.SKUs, it.SKU) {
			return true
		}
	}
	return false
}

// anyMatch: s matches one of the patterns (playbook.MatchGlob: trimmed,
// case-insensitive, * any run of characters; "" matches none).
func anyMatch(patterns []string, s string) bool {
	for _, p := range patterns {
		if playbook.MatchGlob(p, s) {
			return true
		}
	}
	return false
}
