package care

import (
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ordercare/ordercare/internal/storedjson"
)

// The parcel statuses: one fixed set every source maps its carrier statuses
// to. delivered and returned are terminal.
const (
	ShipInfoReceived       ShipmentStatus = "info_received"        // label made, carrier has the data, no scan yet
	ShipOutForDelivery     ShipmentStatus = "out_for_delivery"     // with the courier for delivery today
	ShipAttemptFailed      ShipmentStatus = "attempt_failed"       // a delivery attempt failed; the carrier will retry or hold it
	ShipAvailableForPickup ShipmentStatus = "available_for_pickup" // waiting at a pickup point or locker
	ShipException          ShipmentStatus = "exception"            // held, damaged, lost, refused, customs, address problem
	ShipExpired            ShipmentStatus = "expired"              // the tracking service gave up: no carrier data for too long
	ShipReturning          ShipmentStatus = "returning"            // on its way back to the sender
)

// Legacy statuses of shipment.updated (before parcels), still accepted on
// input and in stored state and read as their replacement: awaiting_pickup
// is available_for_pickup, failed is attempt_failed, and stalled (a sender's
// own judgement, not a carrier status; ordercare now detects stalls from
// scan times itself) is exception.
const (
	ShipStalled        = ShipException
	ShipAwaitingPickup = ShipAvailableForPickup
	ShipFailed         = ShipAttemptFailed
)

var legacyStatus = map[string]ShipmentStatus{"stalled": ShipException, "awaiting_pickup": ShipAvailableForPickup, "failed": ShipAttemptFailed}

// ShipmentStatuses lists the canonical parcel statuses.
var ShipmentStatuses = []ShipmentStatus{ShipInfoReceived, ShipInTransit, ShipOutForDelivery, ShipAttemptFailed,
	ShipAvailableForPickup, ShipDelivered, ShipException, ShipExpired, ShipReturning, ShipReturned}

// UnmarshalJSON reads a status, mapping the legacy values (stalled,
// awaiting_pickup, failed) to their replacement; any other string is kept
// as sent, for Validate to judge.
func (s *ShipmentStatus) UnmarshalJSON(b []byte) error {
	var v string
	if err := storedjson.Unmarshal(b, &v); err != nil {
		return err
	}
	if n, ok := legacyStatus[v]; ok {
		*s = n
		return nil
	}
	*s = ShipmentStatus(v)
	return nil
}

// Terminal reports whether a parcel in status s moves no further
// (delivered, returned).
func (s ShipmentStatus) Terminal() bool { return s == ShipDelivered || s == ShipReturned }

// statusGroup ranks statuses for the monotonic merge: no status < info_received
// < any active status < a terminal one. Within a group the later report wins.
func statusGroup(s ShipmentStatus) int {
	switch {
	case s == "":
		return 0
	case s == ShipInfoReceived:
		return 1
	case s.Terminal():
		return 3
	}
	return 2
}

// SplitReason says why an order was shipped in more than one parcel.
type SplitReason string

// Split reasons.
const (
	SplitSize      SplitReason = "size"
	SplitWeight    SplitReason = "weight"
	SplitWarehouse SplitReason = "warehouse"
	SplitPreorder  SplitReason = "preorder"
)

var splitReasons = map[SplitReason]bool{SplitSize: true, SplitWeight: true, SplitWarehouse: true, SplitPreorder: true}

// ParcelItem is what of an order line a parcel holds.
type ParcelItem struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// ParcelReport is one parcel as an event reports it, keyed by its tracking
// number. order.shipped carries the parcels handed to carriers (carrier,
// tracking URL, items, split reason, and a status when the source knows one);
// shipment.updated carries one parcel's carrier status. Every other field is
// optional: a report carries what its source knows and the merge keeps the
// rest. Message and PickupPoint are the carrier's text: never log them.
type ParcelReport struct {
	TrackingNumber string         `json:"tracking_number"`
	Carrier        string         `json:"carrier,omitempty"`
	TrackingURL    string         `json:"tracking_url,omitempty"`
	Items          []ParcelItem   `json:"items,omitempty"`
	SplitReason    SplitReason    `json:"split_reason,omitempty"`
	Status         ShipmentStatus `json:"status,omitempty"`
	SubStatus      string         `json:"sub_status,omitempty"` // the carrier's or tracking service's own sub-status code
	Message        string         `json:"message,omitempty"`    // the carrier's latest message
	LastScanAt     *time.Time     `json:"last_scan_at,omitempty"`
	PickupPoint    string         `json:"pickup_point,omitempty"`
	PickupDeadline *time.Time     `json:"pickup_deadline,omitempty"` // the point's hold deadline
	// Ref is the source's own id of the shipment the parcel belongs to
	// (Shopify's fulfillment id, Douyin's pack_id). A shipment.updated
	// parcel may carry a ref and no tracking number: it then applies to
	// every parcel of that ref, including ones reported later.
	Ref string `json:"ref,omitempty"`
	// Replacement says the tracking number replaces the earlier ones of the
	// same ref (the seller changed the tracking number: Douyin 发货物流变更).
	Replacement bool `json:"replacement,omitempty"`
}

// Parcel is one parcel of an order as ordercare knows it: every report of
// its tracking number merged (see OrderState.Apply). Status only moves
// forward: it is the status of the latest report (by carrier scan time,
// else occurred_at, then event id) among those of the highest group (no
// status < info_received < active < terminal), so a delivered parcel never
// goes back to in_transit and the arrival order does not matter.
type Parcel struct {
	ParcelReport
	DeliveredAt *time.Time `json:"delivered_at,omitempty"` // the earliest delivered report's scan (or event) time
	DeliveredBy string     `json:"delivered_by,omitempty"` // the event that reported DeliveredAt
	ReportedAt  time.Time  `json:"reported_at"`            // the latest occurred_at of a report merged
	// StatusStamp orders the status register: the scan (else event) time
	// and event id of the report Status came from.
	StatusStamp *Stamp `json:"status_stamp,omitempty"`
	// FieldStamps orders the other fields (last writer wins per field).
	FieldStamps map[string]Stamp `json:"field_stamps,omitempty"`
	// FirstSeen is the earliest report of this tracking number.
	FirstSeen *Stamp `json:"first_seen,omitempty"`
	// ReplacedBy is the tracking number that replaced this one (see
	// ParcelReport.Replacement); a replaced parcel does not count for
	// delivery and is no longer tracked.
	ReplacedBy string `json:"replaced_by,omitempty"`
}

// Delivered reports whether the parcel is delivered.
func (p *Parcel) Delivered() bool { return p.Status == ShipDelivered }

// ParcelReports returns the parcel reports an event carries: order.shipped's
// parcels, shipment.updated's parcel, or (legacy shape) one report per
// tracking number of its shipment.
func (e *Event) ParcelReports() []ParcelReport {
	switch {
	case len(e.Parcels) > 0:
		return e.Parcels
	case e.Parcel != nil:
		return []ParcelReport{*e.Parcel}
	case e.Shipment != nil:
		out := make([]ParcelReport, 0, len(e.Shipment.TrackingNumbers))
		for _, n := range e.Shipment.TrackingNumbers {
			out = append(out, ParcelReport{TrackingNumber: strings.TrimSpace(n), Carrier: e.Shipment.Carrier,
				Status: e.Shipment.Status, PickupPoint: e.Shipment.PickupPoint, PickupDeadline: e.Shipment.PickupDeadline})
		}
		return out
	}
	return nil
}

// validateParcels checks the parcel fields of an order.shipped or a
// shipment.updated event.
func (e *Event) validateParcels() error {
	forms := 0 // a legacy shipment on another type is checked and ignored, as before parcels
	for _, b := range []bool{len(e.Parcels) > 0, e.Parcel != nil, e.Shipment != nil} {
		if b {
			forms++
		}
	}
	switch {
	case forms > 1:
		return Invalid("parcels", "give one of parcels, parcel or the legacy shipment, not several")
	case e.Type == OrderShipped && forms == 0:
		return Invalid("parcels", "required for order.shipped (at least one parcel)")
	case e.Type == ShipmentUpdated && forms == 0:
		return Invalid("parcel", "required for shipment.updated")
	case e.Type == OrderShipped && e.Parcel != nil:
		return Invalid("parcel", "order.shipped carries parcels (a list), not parcel")
	case e.Type == ShipmentUpdated && len(e.Parcels) > 0:
		return Invalid("parcels", "shipment.updated carries one parcel (parcel), not parcels")
	case e.Type != OrderShipped && e.Type != ShipmentUpdated && (len(e.Parcels) > 0 || e.Parcel != nil):
		return Invalid("parcels", "only order.shipped and shipment.updated carry parcels")
	}
	if e.Shipment != nil {
		if err := e.Shipment.validate(e.Type == ShipmentUpdated); err != nil {
			return err
		}
	}
	if e.Parcel != nil {
		if err := e.Parcel.validate("parcel"); err != nil {
			return err
		}
		if e.Parcel.Status == "" {
			return Invalid("parcel.status", "required for shipment.updated")
		}
	}
	seen := map[string]bool{}
	for i, p := range e.Parcels {
		f := "parcels[" + itoa(i) + "]"
		if err := p.validate(f); err != nil {
			return err
		}
		if seen[p.TrackingNumber] {
			return Invalid(f+".tracking_number", "%q appears twice", p.TrackingNumber)
		}
		seen[p.TrackingNumber] = true
	}
	return nil
}

var shipmentStatusSet = func() map[ShipmentStatus]bool {
	m := map[ShipmentStatus]bool{}
	for _, s := range ShipmentStatuses {
		m[s] = true
	}
	return m
}()

// statusList names the statuses in errors, in ShipmentStatuses' order.
var statusList = func() string {
	names := make([]string, len(ShipmentStatuses))
	for i, s := range ShipmentStatuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}()

// shortText checks a free-text field: at most max characters, no control characters.
func shortText(field, s string, max int) error {
	if utf8.RuneCountInString(s) > max || strings.IndexFunc(s, unicode.IsControl) >= 0 || !utf8.ValidString(s) {
		return Invalid(field, "must be at most %d characters, without control characters", max)
	}
	return nil
}

func (p *ParcelReport) validate(f string) error {
	n := p.TrackingNumber
	if err := shortText(f+".ref", p.Ref, 128); err != nil {
		return err
	}
	refOnly := n == "" && p.Ref != "" && f == "parcel" // shipment.updated may name the shipment instead
	if !refOnly && (n == "" || n != strings.TrimSpace(n) || len(n) > 64 || strings.IndexFunc(n, unicode.IsControl) >= 0 || !utf8.ValidString(n)) {
		return Invalid(f+".tracking_number", "required (or, in shipment.updated, a ref): 1-64 characters, no surrounding spaces or control characters")
	}
	if err := shortText(f+".carrier", p.Carrier, 64); err != nil {
		return err
	}
	if p.TrackingURL != "" {
		u, err := url.Parse(p.TrackingURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(p.TrackingURL) > 2048 {
			return Invalid(f+".tracking_url", "must be an absolute http(s) URL of at most 2048 bytes")
		}
	}
	for i, it := range p.Items {
		g := f + ".items[" + itoa(i) + "]"
		if strings.TrimSpace(it.SKU) == "" {
			return Invalid(g+".sku", "required")
		}
		if err := shortText(g+".sku", it.SKU, 128); err != nil {
			return err
		}
		if it.Quantity < 1 {
			return Invalid(g+".quantity", "must be at least 1")
		}
	}
	if p.SplitReason != "" && !splitReasons[p.SplitReason] {
		return Invalid(f+".split_reason", "must be one of size, weight, warehouse, preorder")
	}
	if p.Status != "" && !shipmentStatusSet[p.Status] {
		return Invalid(f+".status", "must be one of %s", statusList)
	}
	if err := shortText(f+".sub_status", p.SubStatus, 64); err != nil {
		return err
	}
	if err := shortText(f+".message", p.Message, 512); err != nil {
		return err
	}
	if err := shortText(f+".pickup_point", p.PickupPoint, 256); err != nil {
		return err
	}
	return nil
}

// mergeParcel merges one parcel report into the order's parcels, keyed by
// tracking number: a new number appends a parcel (a second parcel never
// replaces the first's), a known one joins the report's state into its own.
// A report with a ref and no tracking number (Shopify's fulfillment events
// name the fulfillment, not the parcel) joins every parcel with that ref and
// is also kept as pending, so a parcel of that ref that appears later gets it
// too: the result does not depend on arrival order.
func (s *OrderState) mergeParcel(in ParcelReport, ev Event) {
	r := reportState(in, ev)
	if in.TrackingNumber == "" {
		found := false
		for i := range s.PendingParcels {
			if s.PendingParcels[i].Ref == in.Ref {
				s.PendingParcels[i].join(r)
				found = true
			}
		}
		if !found {
			s.PendingParcels = append(s.PendingParcels, r)
		}
		for i := range s.Parcels {
			if s.Parcels[i].Ref == in.Ref {
				s.Parcels[i].join(r)
			}
		}
		return
	}
	p := s.Parcel(in.TrackingNumber)
	if p == nil {
		s.Parcels = append(s.Parcels, r)
		p = &s.Parcels[len(s.Parcels)-1]
	} else {
		p.join(r)
	}
	if p.Ref != "" {
		for _, q := range s.PendingParcels {
			if q.Ref == p.Ref {
				p.join(q)
			}
		}
	}
}

// reportState is the state of a parcel known from one report only.
func reportState(in ParcelReport, ev Event) Parcel {
	st := Stamp{At: ev.OccurredAt, EventID: ev.ID}
	p := Parcel{ParcelReport: ParcelReport{TrackingNumber: in.TrackingNumber, Carrier: in.Carrier, TrackingURL: in.TrackingURL,
		SplitReason: in.SplitReason, PickupPoint: in.PickupPoint, Ref: in.Ref, Replacement: in.Replacement},
		ReportedAt: ev.OccurredAt, FieldStamps: map[string]Stamp{}}
	if in.TrackingNumber != "" {
		p.FirstSeen = &st
	}
	for field, present := range map[string]bool{"carrier": in.Carrier != "", "tracking_url": in.TrackingURL != "",
		"items": len(in.Items) > 0, "split_reason": in.SplitReason != "", "ref": in.Ref != "",
		"pickup": in.PickupPoint != "" || in.PickupDeadline != nil} {
		if present {
			p.FieldStamps[field] = st
		}
	}
	p.Items = append([]ParcelItem(nil), in.Items...)
	if in.PickupDeadline != nil {
		t := in.PickupDeadline.UTC()
		p.PickupDeadline = &t
	}
	if in.LastScanAt != nil {
		t := in.LastScanAt.UTC()
		p.LastScanAt = &t
	}
	if in.Status != "" {
		sst := st
		if in.LastScanAt != nil {
			sst.At = in.LastScanAt.UTC()
		}
		p.Status, p.SubStatus, p.Message, p.StatusStamp = in.Status, in.SubStatus, in.Message, &sst
		if in.Status == ShipDelivered {
			t := sst.At
			p.DeliveredAt, p.DeliveredBy = &t, ev.ID
		}
	}
	return p
}

// statusStamp is the stamp of the parcel's status; a parcel stored before
// status stamps counts as reported at ReportedAt.
func (p *Parcel) statusStamp() Stamp {
	if p.StatusStamp != nil {
		return *p.StatusStamp
	}
	return Stamp{At: p.ReportedAt}
}

// join merges the state q into p. It is commutative, associative and
// idempotent: each field is a last-writer-wins register (by occurred_at,
// then event id), the status register is ordered by group then scan time,
// last scan and reported time take the later, delivered time and first
// sighting the earlier, and replacement is sticky.
func (p *Parcel) join(q Parcel) {
	if p.FieldStamps == nil {
		p.FieldStamps = map[string]Stamp{}
	}
	for field, qs := range q.FieldStamps {
		if ps, ok := p.FieldStamps[field]; ok && !ps.before(qs) {
			continue
		}
		p.FieldStamps[field] = qs
		switch field {
		case "carrier":
			p.Carrier = q.Carrier
		case "tracking_url":
			p.TrackingURL = q.TrackingURL
		case "items":
			p.Items = append([]ParcelItem(nil), q.Items...)
		case "split_reason":
			p.SplitReason = q.SplitReason
		case "ref":
			p.Ref = q.Ref
		case "pickup":
			p.PickupPoint, p.PickupDeadline = q.PickupPoint, q.PickupDeadline
		}
	}
	if q.LastScanAt != nil && (p.LastScanAt == nil || q.LastScanAt.After(*p.LastScanAt)) {
		p.LastScanAt = q.LastScanAt
	}
	if q.ReportedAt.After(p.ReportedAt) {
		p.ReportedAt = q.ReportedAt
	}
	if q.TrackingNumber != "" && q.FirstSeen != nil && (p.FirstSeen == nil || q.FirstSeen.before(*p.FirstSeen)) {
		f := *q.FirstSeen
		p.FirstSeen = &f
	}
	p.Replacement = p.Replacement || q.Replacement
	if q.Status != "" {
		g, pg := statusGroup(q.Status), statusGroup(p.Status)
		if g > pg || (g == pg && (p.Status == "" || p.statusStamp().before(q.statusStamp()))) {
			qs := q.statusStamp()
			p.Status, p.SubStatus, p.Message, p.StatusStamp = q.Status, q.SubStatus, q.Message, &qs
		}
	}
	if q.DeliveredAt != nil && (p.DeliveredAt == nil || q.DeliveredAt.Before(*p.DeliveredAt) ||
		(q.DeliveredAt.Equal(*p.DeliveredAt) && q.DeliveredBy < p.DeliveredBy)) {
		p.DeliveredAt, p.DeliveredBy = q.DeliveredAt, q.DeliveredBy
	}
}

// deriveReplaced marks the parcels a tracking-number change replaced: of
// the parcels sharing a ref, every one first seen before a replacement
// (Replacement) is replaced by the newest such replacement. Recomputed from
// the parcels on every event, so it does not depend on arrival order.
func (s *OrderState) deriveReplaced() {
	for i := range s.Parcels {
		s.Parcels[i].ReplacedBy = ""
	}
	by := map[string]*Parcel{}
	for i := range s.Parcels {
		w := &s.Parcels[i]
		if !w.Replacement || w.Ref == "" || w.FirstSeen == nil {
			continue
		}
		for j := range s.Parcels {
			o := &s.Parcels[j]
			if j == i || o.Ref != w.Ref || o.FirstSeen == nil || !o.FirstSeen.before(*w.FirstSeen) {
				continue
			}
			if cur := by[o.TrackingNumber]; cur == nil || cur.FirstSeen.before(*w.FirstSeen) {
				by[o.TrackingNumber] = w
				o.ReplacedBy = w.TrackingNumber
			}
		}
	}
}

// deriveDelivered keeps the delivered milestone in step with the parcels:
// once every parcel is delivered, the order is delivered when its last
// parcel was; a milestone that came from parcels (not from an
// order.delivered event) goes away again when a parcel not yet delivered
// appears, so the result does not depend on arrival order.
func (s *OrderState) deriveDelivered() {
	derived := map[string]bool{}
	var last *Parcel
	all := s.AllDelivered()
	for i := range s.Parcels {
		p := &s.Parcels[i]
		if p.DeliveredBy != "" {
			derived[p.DeliveredBy] = true
		}
		if p.ReplacedBy != "" {
			continue
		}
		if !p.Delivered() || p.DeliveredAt == nil {
			all = false
			continue
		}
		if last == nil || p.DeliveredAt.After(*last.DeliveredAt) ||
			(p.DeliveredAt.Equal(*last.DeliveredAt) && p.DeliveredBy > last.DeliveredBy) {
			last = p
		}
	}
	for i, m := range s.History {
		if m.Status == StatusDelivered && derived[m.EventID] {
			s.History = append(s.History[:i], s.History[i+1:]...)
			break
		}
	}
	if all && last != nil {
		s.reach(StatusDelivered, Event{ID: last.DeliveredBy, OccurredAt: *last.DeliveredAt})
	}
}

// AllDelivered reports whether the order has parcels and every one not
// replaced is delivered.
func (s *OrderState) AllDelivered() bool {
	n := 0
	for i := range s.Parcels {
		if s.Parcels[i].ReplacedBy != "" {
			continue
		}
		if !s.Parcels[i].Delivered() {
			return false
		}
		n++
	}
	return n > 0
}

// Parcel returns the order's parcel with that tracking number, or nil.
func (s *OrderState) Parcel(trackingNumber string) *Parcel {
	for i := range s.Parcels {
		if s.Parcels[i].TrackingNumber == trackingNumber {
			return &s.Parcels[i]
		}
	}
	return nil
}

// ShipDeadline returns when the order must ship: the platform's ship_by
// when the order carries one, else within after the buyer committed (paid,
// or confirmed cash on delivery: CommittedAt; a template's ship_within);
// false when neither is known (no ship_by, not committed, or within not
// positive).
func (s *OrderState) ShipDeadline(within time.Duration) (time.Time, bool) {
	if s.Order.ShipBy != nil {
		return s.Order.ShipBy.UTC(), true
	}
	if at, ok := s.CommittedAt(); ok && within > 0 {
		return at.Add(within).UTC(), true
	}
	return time.Time{}, false
}

// CommittedAt is when the buyer committed to the order: when it was paid,
// else, for cash on delivery, when it was confirmed (ConfirmedAt).
func (s *OrderState) CommittedAt() (time.Time, bool) {
	if m := s.milestone(StatusPaid); m != nil {
		return m.At, true
	}
	if s.Order.PaymentMethod == PayCOD && s.ConfirmedAt != nil {
		return *s.ConfirmedAt, true
	}
	return time.Time{}, false
}

func (p Parcel) clone() Parcel {
	p.Items = append([]ParcelItem(nil), p.Items...)
	if p.FieldStamps != nil {
		m := make(map[string]Stamp, len(p.FieldStamps))
		for k, v := range p.FieldStamps {
			m[k] = v
		}
		p.FieldStamps = m
	}
	if p.StatusStamp != nil {
		s := *p.StatusStamp
		p.StatusStamp = &s
	}
	if p.FirstSeen != nil {
		s := *p.FirstSeen
		p.FirstSeen = &s
	}
	return p
}
