package care

import (
	"errors"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var t0 = time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func created(id string, min int) Event {
	placed := at(min)
	return Event{ID: id, Type: OrderCreated, OccurredAt: at(min), Order: Order{
		ID: "1001", PlacedAt: &placed, Total: "129.90", Currency: "CNY", PaymentMethod: PayOnline,
		Buyer: &Buyer{Name: "王芳", Phone: "+8613800138000", Locale: "zh-CN", Timezone: "Asia/Shanghai"},
		Items: []Item{{SKU: "TEA-1", Title: "龙井", Quantity: 1, Price: "129.90"}},
	}}
}

func ev(id string, typ EventType, min int) Event {
	e := Event{ID: id, Type: typ, OccurredAt: at(min), Order: Order{ID: "1001"}}
	switch typ {
	case OrderShipped:
		e.Shipment = &Shipment{Carrier: "SF", TrackingNumbers: []string{"SF1"}}
	case ShipmentUpdated:
		e.Shipment = &Shipment{TrackingNumbers: []string{"SF1"}, Status: ShipDelivered}
	case ReviewPosted:
		e.Review = &Review{Rating: 2, Text: "late"}
	case BuyerReplied:
		e.Reply = &Reply{Text: "好的"}
	case OrderAddressChanged:
		e.Order.ShippingAddress = &Address{City: "杭州"}
	}
	return e
}

func applyAll(t *testing.T, evs []Event) OrderState {
	t.Helper()
	var cur *OrderState
	for _, e := range evs {
		if err := e.Validate(); err != nil {
			t.Fatalf("event %s invalid: %v", e.ID, err)
		}
		s, err := Apply(cur, e, t0)
		if err != nil {
			t.Fatalf("apply %s: %v", e.ID, err)
		}
		cur = &s
	}
	return *cur
}

func TestApplyStatus(t *testing.T) {
	tests := []struct {
		name string
		evs  []Event
		want Status
	}{
		{"created", []Event{created("e1", 0)}, StatusCreated},
		{"paid", []Event{created("e1", 0), ev("e2", OrderPaid, 5)}, StatusPaid},
		{"shipped before paid converges", []Event{created("e1", 0), ev("e3", OrderShipped, 60), ev("e2", OrderPaid, 5)}, StatusShipped},
		{"created after cancelled stays cancelled", []Event{ev("e2", OrderCancelled, 30), created("e1", 0)}, StatusCancelled},
		{"stale paid after cancel is kept", []Event{created("e1", 0), ev("e3", OrderCancelled, 30), ev("e2", OrderPaid, 10)}, StatusCancelled},
		{"all parcels delivered", []Event{created("e1", 0), ev("e2", OrderPaid, 1), ev("e3", OrderShipped, 2), ev("e4", ShipmentUpdated, 3)}, StatusDelivered},
		{"reply does not move status", []Event{created("e1", 0), ev("e2", BuyerReplied, 3)}, StatusCreated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := applyAll(t, tc.evs).Status; got != tc.want {
				t.Errorf("status = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestApplyRejects(t *testing.T) {
	tests := []struct {
		name string
		prev []Event
		next Event
	}{
		{"paid after cancel", []Event{created("e1", 0), ev("e2", OrderCancelled, 10)}, ev("e3", OrderPaid, 20)},
		{"shipped after cancel", []Event{created("e1", 0), ev("e2", OrderCancelled, 10)}, ev("e3", OrderShipped, 20)},
		{"address after shipping", []Event{created("e1", 0), ev("e2", OrderShipped, 10)}, ev("e3", OrderAddressChanged, 20)},
		{"currency change", []Event{created("e1", 0)}, func() Event { e := ev("e3", OrderPaid, 20); e.Order.Currency = "USD"; return e }()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cur := applyAll(t, tc.prev)
			_, err := Apply(&cur, tc.next, t0)
			var re *RejectError
			if !errors.As(err, &re) || !errors.Is(err, ErrRejected) || re.Reason == "" {
				t.Fatalf("err = %v, want a RejectError with a reason", err)
			}
		})
	}
}

// TestApplyConverges applies the same events in many orders: the state must
// not depend on arrival order (apart from the version counter's history).
func TestApplyConverges(t *testing.T) {
	evs := []Event{created("e1", 0), ev("e2", OrderPaid, 5), ev("e3", OrderShipped, 60),
		ev("e4", ShipmentUpdated, 120), ev("e5", ReviewPosted, 200), ev("e6", BuyerReplied, 210),
		ev("e7", OrderCompleted, 300)}
	want := applyAll(t, evs)
	if want.Status != StatusCompleted || len(want.History) != 5 || want.Version != 7 || want.Order.NeedsEnrichment {
		t.Fatalf("baseline state wrong: %+v", want)
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		p := append([]Event(nil), evs...)
		r.Shuffle(len(p), func(a, b int) { p[a], p[b] = p[b], p[a] })
		got := applyAll(t, p)
		if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("order %v diverges (-want +got):\n%s", ids(p), d)
		}
	}
}

func ids(evs []Event) []string {
	var s []string
	for _, e := range evs {
		s = append(s, e.ID)
	}
	return s
}

func TestApplyPartialOrderNeedsEnrichment(t *testing.T) {
	s := applyAll(t, []Event{ev("e2", OrderPaid, 5)})
	if !s.Order.NeedsEnrichment || s.Status != StatusPaid {
		t.Fatalf("partial order: %+v", s)
	}
	s2, err := Apply(&s, created("e1", 0), t0)
	if err != nil || s2.Order.NeedsEnrichment || s2.Order.Total != "129.90" {
		t.Fatalf("enriched: %+v %v", s2, err)
	}
}

func TestValidateFields(t *testing.T) {
	bad := func(f func(*Event)) Event { e := created("e1", 0); f(&e); return e }
	tests := []struct {
		name, field string
		ev          Event
	}{
		{"float-like total", "order.total", bad(func(e *Event) { e.Order.Total = "12,5" })},
		{"phone not E.164", "order.buyer.phone", bad(func(e *Event) { e.Order.Buyer.Phone = "13800138000" })},
		{"unknown type", "type", bad(func(e *Event) { e.Type = "order.lost" })},
		{"cod fee on online", "order.cod_fee", bad(func(e *Event) { e.Order.CODFee = "5.00" })},
		{"no items", "order.items", bad(func(e *Event) { e.Order.Items = nil })},
		{"bad quantity", "order.items[0].quantity", bad(func(e *Event) { e.Order.Items[0].Quantity = 0 })},
		{"bad zone", "order.buyer.timezone", bad(func(e *Event) { e.Order.Buyer.Timezone = "Mars/Base" })},
		{"pay deadline before placed_at", "order.pay_deadline", bad(func(e *Event) { d := at(-1); e.Order.PayDeadline = &d })},
		{"pay deadline at placed_at", "order.pay_deadline", bad(func(e *Event) { d := at(0); e.Order.PayDeadline = &d })},
		{"NUL in buyer name", "order.buyer.name", bad(func(e *Event) { e.Order.Buyer.Name = "王\x00芳" })},
		{"NUL in item title", "order.items[0].title", bad(func(e *Event) { e.Order.Items[0].Title = "龙\x00井" })},
		{"empty tag", "order.items[0].tags[1]", bad(func(e *Event) { e.Order.Items[0].Tags = []string{"fresh", ""} })},
		{"tag with spaces around", "order.items[0].tags[0]", bad(func(e *Event) { e.Order.Items[0].Tags = []string{" fresh"} })},
		{"tag with a newline", "order.items[0].tags[0]", bad(func(e *Event) { e.Order.Items[0].Tags = []string{"fre\nsh"} })},
		{"tag too long", "order.items[0].tags[0]", bad(func(e *Event) { e.Order.Items[0].Tags = []string{strings.Repeat("x", 65)} })},
		{"too many tags", "order.items[0].tags", bad(func(e *Event) { e.Order.Items[0].Tags = make([]string, MaxItemTags+1) })},
		{"presentment total without currency", "order.presentment_total", bad(func(e *Event) { e.Order.PresentmentTotal = "18.00" })},
		{"no review", "review", ev("x", ReviewPosted, 1)},
	}
	tests[len(tests)-1].ev.Review = nil
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.ev.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want FieldError on %s", err, tc.field)
			}
		})
	}
}

// TestApplyConvergesPartialData: events that each carry part of the order
// (an address change, a payment that restates the terms) merge the same in
// every arrival order.
func TestApplyConvergesPartialData(t *testing.T) {
	addr := ev("e2", OrderAddressChanged, 8)
	paid := ev("e3", OrderPaid, 10)
	paid.Order.Total, paid.Order.Currency, paid.Order.PaymentMethod = "119.90", "CNY", PayOnline
	evs := []Event{created("e1", 0), addr, paid}
	want := applyAll(t, evs)
	if want.Order.ShippingAddress == nil || want.Order.ShippingAddress.City != "杭州" || want.Order.Total != "119.90" {
		t.Fatalf("baseline: %+v", want.Order)
	}
	for _, p := range [][]Event{{paid, addr, evs[0]}, {addr, evs[0], paid}, {paid, evs[0], addr}} {
		if d := cmp.Diff(want, applyAll(t, p), cmpopts.EquateEmpty(), cmpopts.IgnoreFields(OrderState{}, "Version")); d != "" {
			t.Fatalf("order %v diverges:\n%s", ids(p), d)
		}
	}
}

// TestApplyCreatedPaid: an order.created that says the order was already
// paid records the paid milestone at paid_at, in one event.
func TestApplyCreatedPaid(t *testing.T) {
	paid := created("e1", 0)
	p := at(0)
	paid.Order.PaidAt = &p
	s := applyAll(t, []Event{paid})
	if s.Status != StatusPaid || !s.Has(StatusCreated) {
		t.Fatalf("status %s, history %+v; want created and paid", s.Status, s.History)
	}
	if m := s.milestone(StatusPaid); !m.At.Equal(p) || m.EventID != "e1" {
		t.Errorf("paid milestone %+v", m)
	}
	// A cancellation before paid_at wins: a later created-paid restatement does not revive it.
	cancelled := ev("e0", OrderCancelled, -5)
	s = applyAll(t, []Event{cancelled, paid})
	if s.Status != StatusCancelled || s.Has(StatusPaid) {
		t.Errorf("cancelled then created-paid: %s %+v", s.Status, s.History)
	}
}

// TestApplyTestSticks: an order marked test stays test; name and presentment merge.
func TestApplyTestSticks(t *testing.T) {
	c := created("e1", 0)
	c.Order.Test, c.Order.Name = true, "#1043"
	c.Order.PresentmentTotal, c.Order.PresentmentCurrency = "18.00", "USD"
	s := applyAll(t, []Event{c, ev("e2", OrderPaid, 1)})
	if !s.Order.Test || s.Order.Name != "#1043" || s.Order.PresentmentTotal != "18.00" || s.Order.PresentmentCurrency != "USD" {
		t.Errorf("order %+v", s.Order)
	}
}

func TestTotalIn(t *testing.T) {
	o := Order{Total: "1575.90", Currency: "USD", PresentmentTotal: "11290.00", PresentmentCurrency: "CNY"}
	for _, tc := range []struct {
		cur  string
		want Decimal
		ok   bool
	}{{"USD", "1575.90", true}, {"CNY", "11290.00", true}, {"EUR", "", false}, {"", "1575.90", true}} {
		if got, ok := o.TotalIn(tc.cur); got != tc.want || ok != tc.ok {
			t.Errorf("TotalIn(%q) = %q, %v; want %q, %v", tc.cur, got, ok, tc.want, tc.ok)
		}
	}
}
