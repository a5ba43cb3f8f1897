package care

import (
	"errors"
	"testing"
)

func refunded(id string, min int, r Refund) Event {
	e := ev(id, OrderRefunded, min)
	e.Refund = &r
	return e
}

// TestRefundValidate: order.refunded needs a refund saying what was
// refunded, each field checked with its path.
func TestRefundValidate(t *testing.T) {
	tests := []struct {
		name, field string
		ev          Event
	}{
		{"no refund", "refund", ev("x", OrderRefunded, 1)},
		{"nothing refunded", "refund", refunded("x", 1, Refund{ID: "r1"})},
		{"item without sku", "refund.items[0].sku", refunded("x", 1, Refund{Items: []ParcelItem{{Quantity: 1}}})},
		{"item quantity 0", "refund.items[1].quantity", refunded("x", 1, Refund{Items: []ParcelItem{{SKU: "A", Quantity: 1}, {SKU: "B"}}})},
		{"float amount", "refund.amount", refunded("x", 1, Refund{Amount: "1,5"})},
		{"bad id", "refund.id", refunded("x", 1, Refund{ID: "a b\x01", Full: true})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.ev.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("err = %v, want a field error on %s", err, tc.field)
			}
		})
	}
	if e := refunded("x", 1, Refund{Full: true}); e.Validate() != nil {
		t.Fatal(e.Validate())
	}
}

// TestRefundApply: refunds merge by id in any arrival order; an item
// refund refunds that SKU; refunds covering every item, or a full one,
// refund the order.
func TestRefundApply(t *testing.T) {
	c := created("c", 0)
	c.Order.Items = append(c.Order.Items, Item{SKU: "CUP-1", Title: "杯", Quantity: 2, Price: "10.00"})
	evs := []Event{c,
		refunded("r1", 5, Refund{ID: "a", Items: []ParcelItem{{SKU: "tea-1", Quantity: 1}}}),
		refunded("r2", 6, Refund{ID: "b", Amount: "5.00"}),
	}
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}} {
		var s *OrderState
		for _, i := range order {
			n, err := Apply(s, evs[i], at(10))
			if err != nil {
				t.Fatal(err)
			}
			s = &n
		}
		if len(s.Refunds) != 2 || !s.RefundedSKU("TEA-1") || s.RefundedSKU("CUP-1") || s.FullyRefunded() {
			t.Errorf("order %v: %+v", order, s.Refunds)
		}
		n, err := Apply(s, refunded("r3", 7, Refund{ID: "c", Items: []ParcelItem{{SKU: "CUP-1", Quantity: 2}}}), at(10))
		if err != nil || !n.FullyRefunded() {
			t.Errorf("every item refunded: %v %+v", err, n.Refunds)
		}
		n, err = Apply(s, refunded("r4", 7, Refund{ID: "b", Full: true}), at(10))
		if err != nil || !n.FullyRefunded() || len(n.Refunds) != 2 {
			t.Errorf("refund b made full: %v %+v", err, n.Refunds)
		}
	}
}
