package pickupnudge

import (
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

// Clock is a parcel's timing toward its deadline.
type Clock struct {
	// Available is when the parcel became available for pickup (when its
	// run started); reminders count their after from it.
	Available time.Time
	// Hold is the pickup point's hold deadline: the carrier's, else
	// Available + params.hold_window.
	Hold time.Time
	// Perishable says the parcel holds perishable goods: an order item
	// marked perishable, or with a shelf life, or matching a products rule.
	Perishable bool
	// Spoils is when the first perishable item spoils: when the parcel was
	// shipped (its first report) + the shortest shelf life; zero when
	// no shelf life is known.
	Spoils time.Time
	// Deadline is the earlier of Hold and Spoils.
	Deadline time.Time
}

// ClockOf computes the parcel's Clock. Items are the parcel's (by SKU in
// the order's items), else the whole order's when the parcel lists none.
// The shelf life is the order item's shelf_life_hours when the source
// sent one, else the first params.products rule matching its SKU.
func ClockOf(o care.OrderState, p *care.Parcel, available time.Time, pp Params) Clock {
	c := Clock{Available: available, Hold: available.Add(pp.HoldWindow.Std())}
	if p.PickupDeadline != nil {
		c.Hold = p.PickupDeadline.UTC()
	}
	shipped := available
	if p.FirstSeen != nil && !p.FirstSeen.At.IsZero() && p.FirstSeen.At.Before(available) {
		shipped = p.FirstSeen.At
	}
	var life time.Duration
	for _, it := range parcelItems(o, p) {
		l := time.Duration(it.ShelfLifeHours) * time.Hour
		if l <= 0 {
			l = pp.shelfLife(it.SKU)
		}
		if it.Perishable || l > 0 {
			c.Perishable = true
		}
		if l > 0 && (life == 0 || l < life) {
			life = l
		}
	}
	c.Deadline = c.Hold
	if life > 0 {
		c.Spoils = shipped.Add(life)
		if c.Spoils.Before(c.Deadline) {
			c.Deadline = c.Spoils
		}
	}
	return c
}

// parcelItems are the order's items in the parcel (all of them when the
// parcel lists none).
func parcelItems(o care.OrderState, p *care.Parcel) []care.Item {
	if len(p.Items) == 0 {
		return o.Order.Items
	}
	in := map[string]bool{}
	for _, it := range p.Items {
		in[strings.TrimSpace(it.SKU)] = true
	}
	var out []care.Item
	for _, it := range o.Order.Items {
		if in[strings.TrimSpace(it.SKU)] {
			out = append(out, it)
		}
	}
	return out
}

// shelfLife is the shelf life of the first products rule matching sku; 0
// for none.
func (p Params) shelfLife(sku string) time.Duration {
	for _, r := range p.Products {
		for _, pattern := range r.SKUs {
			if playbook.MatchGlob(pattern, sku) {
				return r.ShelfLife.Std()
			}
		}
	}
	return 0
}
