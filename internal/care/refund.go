package care

import (
	"sort"
	"strings"
	"time"
)

// Refund is money the shop gave back on an order (order.refunded): the
// whole order (Full), or some of its items (Items), or an amount alone (a
// goodwill or shipping refund, which refunds no item). Sources map the
// platforms' own signals: Shopify's refunds/create, WooCommerce's order
// status refunded (a full refund).
type Refund struct {
	// ID is the source's refund id; "" for a source that has none (the
	// order then has one refund, updated by each order.refunded).
	ID     string  `json:"id,omitempty"`
	Full   bool    `json:"full,omitempty"`   // the whole order is refunded
	Amount Decimal `json:"amount,omitempty"` // in the order's currency, when the source says
	// Items are the refunded lines, by SKU (a restock or a return).
	Items []ParcelItem `json:"items,omitempty"`
	// Reason is the source's reason text ("damaged"): the buyer's or the
	// shop's words, never logged.
	Reason string `json:"reason,omitempty"`
}

// RefundState is one refund of the order as its order.refunded events
// left it: the latest (by occurred_at, then event id) wins.
type RefundState struct {
	Refund
	At      time.Time `json:"at"`
	EventID string    `json:"event_id"`
}

// MaxRefundItems is the most items one refund lists.
const MaxRefundItems = 500

func (r *Refund) validate() error {
	switch {
	case r.ID != "" && !idRE.MatchString(r.ID):
		return Invalid("refund.id", "must be 1-128 printable ASCII characters")
	case len(r.Items) > MaxRefundItems:
		return Invalid("refund.items", "at most %d items", MaxRefundItems)
	case len(r.Reason) > 2000:
		return Invalid("refund.reason", "at most 2000 bytes")
	case strings.ContainsRune(r.Reason, 0):
		return Invalid("refund.reason", "must not contain NUL characters")
	}
	if r.Amount != "" {
		if err := validDecimal("refund.amount", r.Amount, false); err != nil {
			return err
		}
	}
	for i, it := range r.Items {
		f := "refund.items[" + itoa(i) + "]"
		switch {
		case it.SKU == "" || len(it.SKU) > 128:
			return Invalid(f+".sku", "1-128 characters")
		case it.Quantity < 1:
			return Invalid(f+".quantity", "must be at least 1")
		}
	}
	if !r.Full && len(r.Items) == 0 && r.Amount == "" {
		return Invalid("refund", "says what was refunded: full, items or amount")
	}
	return nil
}

// mergeRefund records r, one state per refund id; the latest post wins.
func (s *OrderState) mergeRefund(r Refund, ev Event) {
	st := Stamp{At: ev.OccurredAt, EventID: ev.ID}
	for i := range s.Refunds {
		cur := &s.Refunds[i]
		if cur.ID != r.ID {
			continue
		}
		if (Stamp{At: cur.At, EventID: cur.EventID}).before(st) {
			cur.Refund, cur.At, cur.EventID = r, ev.OccurredAt, ev.ID
		}
		return
	}
	s.Refunds = append(s.Refunds, RefundState{Refund: r, At: ev.OccurredAt, EventID: ev.ID})
	sort.SliceStable(s.Refunds, func(i, j int) bool {
		a, b := s.Refunds[i], s.Refunds[j]
		if !a.At.Equal(b.At) {
			return a.At.Before(b.At)
		}
		return a.ID < b.ID
	})
}

// FullyRefunded reports whether a refund of the whole order was recorded,
// or refunds that together cover every item of the order.
func (s *OrderState) FullyRefunded() bool {
	for _, r := range s.Refunds {
		if r.Full {
			return true
		}
	}
	if len(s.Order.Items) == 0 || len(s.Refunds) == 0 {
		return false
	}
	for _, it := range s.Order.Items {
		if it.SKU == "" || !s.RefundedSKU(it.SKU) {
			return false
		}
	}
	return true
}

// RefundedSKU reports whether an item with that SKU was refunded (a full
// refund refunds every item); SKUs compare case-insensitively.
func (s *OrderState) RefundedSKU(sku string) bool {
	for _, r := range s.Refunds {
		if r.Full {
			return true
		}
		for _, it := range r.Items {
			if strings.EqualFold(it.SKU, sku) {
				return true
			}
		}
	}
	return false
}
