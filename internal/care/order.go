package care

import (
	"bytes"
	"encoding/json"
	"sort"
	"time"

	"github.com/ordercare/ordercare/internal/storedjson"
)

// Status is an order's lifecycle position, derived from the milestones its
// events established. Ranked: created < paid < shipped < delivered <
// completed; cancelled overrides them all.
type Status string

// Order statuses.
const (
	StatusCreated   Status = "created"
	StatusPaid      Status = "paid"
	StatusShipped   Status = "shipped"
	StatusDelivered Status = "delivered"
	StatusCompleted Status = "completed"
	StatusCancelled Status = "cancelled"
)

var milestoneOf = map[EventType]Status{
	OrderCreated:   StatusCreated,
	OrderPaid:      StatusPaid,
	OrderShipped:   StatusShipped,
	OrderDelivered: StatusDelivered,
	OrderCompleted: StatusCompleted,
	OrderCancelled: StatusCancelled,
}

var rank = map[Status]int{StatusCreated: 1, StatusPaid: 2, StatusShipped: 3, StatusDelivered: 4, StatusCompleted: 5}

// Milestone is one status an order reached, when (the event's occurred_at) and by which event.
type Milestone struct {
	Status  Status    `json:"status"`
	At      time.Time `json:"at"`
	EventID string    `json:"event_id"`
}

// OrderState is an order as ordercare knows it: the merged canonical data,
// the milestones reached (the status history, in occurred order), parcels,
// and a version that grows by one with every applied event.
//
// Apply is convergent: the same set of events gives the same state in any
// arrival order (apart from Version and UpdatedAt), so an out-of-order
// delivery never moves an order backwards.
type OrderState struct {
	ShopID  string      `json:"shop_id"`
	Order   Order       `json:"order"`
	Status  Status      `json:"status"`
	History []Milestone `json:"history"`
	Parcels []Parcel    `json:"shipments,omitempty"`
	// PendingParcels are reports that name a shipment (ref) but no tracking
	// number, kept so that parcels of that ref reported later get them too.
	PendingParcels []Parcel   `json:"pending_parcels,omitempty"`
	Review         *Review    `json:"review,omitempty"`
	ReviewAt       *time.Time `json:"review_at,omitempty"`
	// Reviews are the order's reviews, one per review id, in the order of
	// their first post (see ReviewState). Review and ReviewAt stay the
	// latest review posted, whatever its id.
	Reviews   []ReviewState `json:"reviews,omitempty"`
	LastReply *time.Time    `json:"last_reply_at,omitempty"`
	// Refunds are the order's refunds, one per refund id, oldest first
	// (order.refunded; FullyRefunded, RefundedSKU).
	Refunds []RefundState `json:"refunds,omitempty"`
	// ConfirmedAt is when a cash-on-delivery order was first confirmed
	// (order.confirmed): the buyer's commitment, as payment is a prepaid one's.
	ConfirmedAt *time.Time `json:"confirmed_at,omitempty"`
	Version     int64      `json:"version"`
	// FieldStamps says which event each order field's value came from.
	FieldStamps map[string]Stamp `json:"field_stamps,omitempty"`
	UpdatedAt   time.Time        `json:"updated_at"` // ingest time of the last applied event
}

// UnmarshalJSON reads an order's state in one pass (storedjson), including
// one stored before parcels had a single tracking number: such a parcel
// has tracking_numbers, and the first one is its key.
func (o *OrderState) UnmarshalJSON(b []byte) error {
	type plain OrderState // without this method
	if err := storedjson.Unmarshal(b, (*plain)(o)); err != nil {
		return err
	}
	if !bytes.Contains(b, []byte(`"tracking_numbers"`)) {
		return nil
	}
	type legacy []struct {
		TrackingNumbers []string `json:"tracking_numbers"`
	}
	var old struct {
		Parcels legacy `json:"shipments"`
		Pending legacy `json:"pending_parcels"`
	}
	if err := json.Unmarshal(b, &old); err != nil {
		return err
	}
	for _, ps := range []struct {
		now []Parcel
		old legacy
	}{{o.Parcels, old.Parcels}, {o.PendingParcels, old.Pending}} {
		for i := range min(len(ps.now), len(ps.old)) {
			if p := &ps.now[i]; p.TrackingNumber == "" && len(ps.old[i].TrackingNumbers) > 0 {
				p.TrackingNumber = ps.old[i].TrackingNumbers[0]
			}
		}
	}
	return nil
}

// Has reports whether the order reached status s (a milestone exists).
func (o *OrderState) Has(s Status) bool { return o.milestone(s) != nil }

func (o *OrderState) milestone(s Status) *Milestone {
	for i := range o.History {
		if o.History[i].Status == s {
			return &o.History[i]
		}
	}
	return nil
}

// ApplyFunc is the domain transition a store runs inside its atomic write.
// cur is nil when the order does not exist yet. It must not modify *cur.
type ApplyFunc func(cur *OrderState, ev Event, now time.Time) (OrderState, error)

// Apply applies a validated event to an order and returns the new state.
// It returns a *RejectError when the order cannot take the event: a payment
// or shipment dated after the order was cancelled, an address change dated
// after it shipped, or a currency that differs from the order's.
func Apply(cur *OrderState, ev Event, now time.Time) (OrderState, error) {
	var s OrderState
	if cur != nil {
		s = cur.clone()
	} else {
		s = OrderState{Order: Order{ID: ev.Order.ID}}
	}
	if s.Order.Currency != "" && ev.Order.Currency != "" && s.Order.Currency != ev.Order.Currency {
		return OrderState{}, reject("currency %s differs from the order's %s", ev.Order.Currency, s.Order.Currency)
	}
	if c := s.milestone(StatusCancelled); c != nil && ev.OccurredAt.After(c.At) {
		switch ev.Type {
		case OrderPaid, OrderShipped:
			return OrderState{}, reject("order was cancelled at %s; a %s dated after that cannot apply", c.At.Format(time.RFC3339), ev.Type)
		}
	}
	if sh := s.milestone(StatusShipped); sh != nil && ev.Type == OrderAddressChanged && ev.OccurredAt.After(sh.At) {
		return OrderState{}, reject("order shipped at %s; its address can no longer change", sh.At.Format(time.RFC3339))
	}

	s.mergeOrder(ev.Order, ev)
	if st, ok := milestoneOf[ev.Type]; ok {
		s.reach(st, ev)
	}
	if p := ev.Order.PaidAt; p != nil && ev.Type != OrderPaid {
		// The event reports the order already paid (an order created paid):
		// the paid milestone at that time, unless a cancellation came first.
		if c := s.milestone(StatusCancelled); c == nil || !p.After(c.At) {
			s.reach(StatusPaid, Event{ID: ev.ID, OccurredAt: p.UTC()})
		}
	}
	switch ev.Type {
	case OrderShipped, ShipmentUpdated:
		for _, p := range ev.ParcelReports() {
			s.mergeParcel(p, ev)
		}
		s.deriveReplaced()
		s.deriveDelivered()
	case ReviewPosted:
		if s.ReviewAt == nil || !ev.OccurredAt.Before(*s.ReviewAt) {
			r, t := *ev.Review, ev.OccurredAt
			s.Review, s.ReviewAt = &r, &t
		}
		s.mergeReview(*ev.Review, ev)
	case OrderConfirmed:
		if s.ConfirmedAt == nil || ev.OccurredAt.Before(*s.ConfirmedAt) {
			t := ev.OccurredAt.UTC()
			s.ConfirmedAt = &t
		}
	case OrderRefunded:
		s.mergeRefund(*ev.Refund, ev)
	case BuyerReplied:
		if s.LastReply == nil || ev.OccurredAt.After(*s.LastReply) {
			t := ev.OccurredAt
			s.LastReply = &t
		}
	}
	s.Status = s.derive()
	s.Version++
	s.UpdatedAt = now
	return s, nil
}

// reach records milestone st at the event's time; the earliest occurrence wins.
func (s *OrderState) reach(st Status, ev Event) {
	if m := s.milestone(st); m != nil {
		if ev.OccurredAt.Before(m.At) || (ev.OccurredAt.Equal(m.At) && ev.ID < m.EventID) {
			m.At, m.EventID = ev.OccurredAt, ev.ID
		}
	} else {
		s.History = append(s.History, Milestone{Status: st, At: ev.OccurredAt, EventID: ev.ID})
	}
	sort.SliceStable(s.History, func(i, j int) bool {
		a, b := s.History[i], s.History[j]
		if !a.At.Equal(b.At) {
			return a.At.Before(b.At)
		}
		return rank[a.Status] < rank[b.Status]
	})
}

func (s *OrderState) derive() Status {
	if s.Has(StatusCancelled) {
		return StatusCancelled
	}
	best := StatusCreated
	for _, m := range s.History {
		if rank[m.Status] > rank[best] {
			best = m.Status
		}
	}
	return best
}

// Stamp orders the writes of one field: the later occurred_at wins, and the
// greater event id breaks a tie, so every arrival order gives the same result.
type Stamp struct {
	At      time.Time `json:"at"`
	EventID string    `json:"event_id"`
}

func (a Stamp) before(b Stamp) bool {
	if !a.At.Equal(b.At) {
		return a.At.Before(b.At)
	}
	return a.EventID < b.EventID
}

// mergeOrder merges the order data an event carries, field by field: each
// field (buyer, shipping address and items count as one field each) holds
// the value of the newest event that carried it (a last-writer-wins register
// per field), so partial events from any source merge the same in any order.
func (s *OrderState) mergeOrder(in Order, ev Event) {
	st := Stamp{At: ev.OccurredAt, EventID: ev.ID}
	if s.FieldStamps == nil {
		s.FieldStamps = map[string]Stamp{}
	}
	take := func(field string, present bool) bool {
		if !present {
			return false
		}
		if cur, ok := s.FieldStamps[field]; ok && !cur.before(st) {
			return false
		}
		s.FieldStamps[field] = st
		return true
	}
	o := &s.Order
	if take("placed_at", in.PlacedAt != nil) {
		t := *in.PlacedAt
		o.PlacedAt = &t
	}
	if take("total", in.Total != "") {
		o.Total = in.Total
	}
	if take("currency", in.Currency != "") {
		o.Currency = in.Currency
	}
	if take("payment_method", in.PaymentMethod != "") {
		o.PaymentMethod = in.PaymentMethod
	}
	if take("cod_fee", in.CODFee != "") {
		o.CODFee = in.CODFee
	}
	if take("pay_deadline", in.PayDeadline != nil) {
		t := *in.PayDeadline
		o.PayDeadline = &t
	}
	if take("buyer", in.Buyer != nil) {
		b := *in.Buyer
		o.Buyer = &b
	}
	if take("shipping_address", in.ShippingAddress != nil) {
		a := *in.ShippingAddress
		o.ShippingAddress = &a
	}
	if take("items", len(in.Items) > 0) {
		o.Items = append([]Item(nil), in.Items...)
	}
	if take("name", in.Name != "") {
		o.Name = in.Name
	}
	if take("paid_at", in.PaidAt != nil) {
		t := *in.PaidAt
		o.PaidAt = &t
	}
	if take("ship_by", in.ShipBy != nil) {
		t := in.ShipBy.UTC()
		o.ShipBy = &t
	}
	if take("ship_to_count", in.ShipToCount > 0) {
		o.ShipToCount = in.ShipToCount
	}
	if take("marketplace", in.Marketplace != "") {
		o.Marketplace = in.Marketplace
	}
	if take("presentment", in.PresentmentTotal != "") {
		o.PresentmentTotal, o.PresentmentCurrency = in.PresentmentTotal, in.PresentmentCurrency
	}
	o.Test = o.Test || in.Test
	o.NeedsEnrichment = !o.Complete()
}

func (s OrderState) clone() OrderState {
	c := s
	c.History = append([]Milestone(nil), s.History...)
	c.Parcels = make([]Parcel, len(s.Parcels))
	for i, p := range s.Parcels {
		c.Parcels[i] = p.clone()
	}
	c.PendingParcels = nil
	for _, p := range s.PendingParcels {
		c.PendingParcels = append(c.PendingParcels, p.clone())
	}
	c.Order.Items = append([]Item(nil), s.Order.Items...)
	c.FieldStamps = make(map[string]Stamp, len(s.FieldStamps))
	for k, v := range s.FieldStamps {
		c.FieldStamps[k] = v
	}
	if s.Order.Buyer != nil {
		b := *s.Order.Buyer
		c.Order.Buyer = &b
	}
	if s.Order.ShippingAddress != nil {
		a := *s.Order.ShippingAddress
		c.Order.ShippingAddress = &a
	}
	if s.Order.PaidAt != nil {
		t := *s.Order.PaidAt
		c.Order.PaidAt = &t
	}
	c.Reviews = append([]ReviewState(nil), s.Reviews...)
	c.Refunds = append([]RefundState(nil), s.Refunds...)
	return c
}

// ReviewState is one review of the order as its review.posted events left
// it: the latest post (by occurred_at, then event id) gives Review, the
// earliest gives FirstRating, so the same events give the same state in
// any arrival order.
type ReviewState struct {
	Review
	At          time.Time `json:"at"`       // occurred_at of the post Review is from
	EventID     string    `json:"event_id"` // its event
	FirstAt     time.Time `json:"first_at"` // occurred_at of the earliest post
	FirstRating int       `json:"first_rating"`
}

// Revised reports whether the buyer raised the review's rating since they
// first posted it.
func (r ReviewState) Revised() bool { return r.Rating > r.FirstRating }

// ReviewByID returns the order's review with the platform's id ("" for a
// review without one), nil if none.
func (s *OrderState) ReviewByID(id string) *ReviewState {
	for i := range s.Reviews {
		if s.Reviews[i].ID == id {
			return &s.Reviews[i]
		}
	}
	return nil
}

func (s *OrderState) mergeReview(r Review, ev Event) {
	st := Stamp{At: ev.OccurredAt, EventID: ev.ID}
	cur := s.ReviewByID(r.ID)
	if cur == nil {
		s.Reviews = append(s.Reviews, ReviewState{Review: r, At: ev.OccurredAt, EventID: ev.ID,
			FirstAt: ev.OccurredAt, FirstRating: r.Rating})
		s.sortReviews()
		return
	}
	if (Stamp{At: cur.At, EventID: cur.EventID}).before(st) {
		cur.Review, cur.At, cur.EventID = r, ev.OccurredAt, ev.ID
	}
	if ev.OccurredAt.Before(cur.FirstAt) || (ev.OccurredAt.Equal(cur.FirstAt) && r.Rating < cur.FirstRating) {
		cur.FirstAt, cur.FirstRating = ev.OccurredAt, r.Rating
		s.sortReviews()
	}
}

func (s *OrderState) sortReviews() {
	sort.SliceStable(s.Reviews, func(i, j int) bool {
		a, b := s.Reviews[i], s.Reviews[j]
		if !a.FirstAt.Equal(b.FirstAt) {
			return a.FirstAt.Before(b.FirstAt)
		}
		return a.ID < b.ID
	})
}
