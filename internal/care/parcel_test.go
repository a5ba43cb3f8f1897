package care

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func tp(t time.Time) *time.Time { return &t }

func shipped(id string, min int, parcels ...ParcelReport) Event {
	return Event{ID: id, Type: OrderShipped, OccurredAt: at(min), Order: Order{ID: "1001"}, Parcels: parcels}
}

func scan(id string, min int, number string, st ShipmentStatus, scanMin int) Event {
	return Event{ID: id, Type: ShipmentUpdated, OccurredAt: at(min), Order: Order{ID: "1001"},
		Parcel: &ParcelReport{TrackingNumber: number, Status: st, SubStatus: string(st) + "_sub", LastScanAt: tp(at(scanMin))}}
}

// splitOrder is an order shipped in two parcels, scanned out of order,
// with a late in_transit for a parcel already delivered.
func splitOrder() []Event {
	return []Event{
		created("e01", 0),
		ev("e02", OrderPaid, 1),
		shipped("e03", 60, ParcelReport{TrackingNumber: "SF1", Carrier: "SF Express", TrackingURL: "https://www.sf-express.com/t/SF1",
			Items: []ParcelItem{{SKU: "TEA-1", Quantity: 1}}, SplitReason: SplitWarehouse}),
		shipped("e04", 90, ParcelReport{TrackingNumber: "YT2", Carrier: "YTO", Items: []ParcelItem{{SKU: "CUP-2", Quantity: 2}}, SplitReason: SplitWarehouse}),
		scan("e05", 100, "SF1", ShipInfoReceived, 95),
		scan("e06", 200, "SF1", ShipInTransit, 180),
		scan("e07", 400, "SF1", ShipDelivered, 390),
		scan("e08", 450, "SF1", ShipInTransit, 200), // a stale scan redelivered late
		scan("e09", 300, "YT2", ShipAvailableForPickup, 290),
		scan("e10", 600, "YT2", ShipDelivered, 590),
	}
}

func TestParcelsMerge(t *testing.T) {
	got := applyAll(t, splitOrder())
	if got.Status != StatusDelivered {
		t.Fatalf("status = %s, want delivered", got.Status)
	}
	if m := got.milestone(StatusDelivered); m == nil || !m.At.Equal(at(590)) || m.EventID != "e10" {
		t.Errorf("delivered milestone = %+v, want at the last parcel's delivery (e10, +590m)", m)
	}
	sf := got.Parcel("SF1")
	if sf == nil || got.Parcel("YT2") == nil || len(got.Parcels) != 2 {
		t.Fatalf("parcels = %+v, want SF1 and YT2", got.Parcels)
	}
	if sf.Status != ShipDelivered || sf.SubStatus != "delivered_sub" || !sf.DeliveredAt.Equal(at(390)) {
		t.Errorf("SF1 = %s/%s delivered %v, want delivered at +390m (never back to in_transit)", sf.Status, sf.SubStatus, sf.DeliveredAt)
	}
	if !sf.LastScanAt.Equal(at(390)) || sf.Carrier != "SF Express" || sf.SplitReason != SplitWarehouse || len(sf.Items) != 1 {
		t.Errorf("SF1 lost data: %+v", sf.ParcelReport)
	}
}

// TestParcelsConverge applies the split order's events in many orders: the
// state, parcels and milestones included, must not depend on arrival order.
func TestParcelsConverge(t *testing.T) {
	evs := splitOrder()
	want := applyAll(t, evs)
	r := rand.New(rand.NewSource(7))
	for i := 0; i < 300; i++ {
		p := append([]Event(nil), evs...)
		r.Shuffle(len(p), func(a, b int) { p[a], p[b] = p[b], p[a] })
		got := applyAll(t, p)
		if d := cmp.Diff(want, got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(OrderState{}, "Version", "UpdatedAt"),
			cmpopts.SortSlices(func(a, b Parcel) bool { return a.TrackingNumber < b.TrackingNumber })); d != "" {
			t.Fatalf("permutation %d differs (-want +got):\n%s", i, d)
		}
	}
}

func TestParcelsMonotonic(t *testing.T) {
	tests := []struct {
		name       string
		evs        []Event
		wantStatus ShipmentStatus
		wantOrder  Status
	}{
		{"second parcel appends, never replaces", []Event{created("e1", 0),
			shipped("e2", 10, ParcelReport{TrackingNumber: "A"}), shipped("e3", 20, ParcelReport{TrackingNumber: "B"}),
			scan("e4", 30, "A", ShipDelivered, 30)}, ShipDelivered, StatusShipped},
		{"delivered never back to in transit", []Event{created("e1", 0), shipped("e2", 10, ParcelReport{TrackingNumber: "A"}),
			scan("e3", 30, "A", ShipDelivered, 30), scan("e4", 40, "A", ShipInTransit, 35)}, ShipDelivered, StatusDelivered},
		{"info_received never replaces a carrier scan", []Event{created("e1", 0), shipped("e2", 10, ParcelReport{TrackingNumber: "A"}),
			scan("e3", 30, "A", ShipInTransit, 30), scan("e4", 40, "A", ShipInfoReceived, 40)}, ShipInTransit, StatusShipped},
		{"a resolved exception moves on", []Event{created("e1", 0), shipped("e2", 10, ParcelReport{TrackingNumber: "A"}),
			scan("e3", 30, "A", ShipException, 30), scan("e4", 40, "A", ShipInTransit, 40)}, ShipInTransit, StatusShipped},
		{"an older scan arriving late changes nothing", []Event{created("e1", 0), shipped("e2", 10, ParcelReport{TrackingNumber: "A"}),
			scan("e3", 30, "A", ShipOutForDelivery, 30), scan("e4", 40, "A", ShipInTransit, 20)}, ShipOutForDelivery, StatusShipped},
		{"a scan before the parcel is shipped is kept and matched", []Event{created("e1", 0),
			scan("e2", 30, "A", ShipDelivered, 30), shipped("e3", 40, ParcelReport{TrackingNumber: "A", Carrier: "SF"})}, ShipDelivered, StatusDelivered},
		{"returned after delivered (both terminal): later wins", []Event{created("e1", 0), shipped("e2", 10, ParcelReport{TrackingNumber: "A"}),
			scan("e3", 30, "A", ShipDelivered, 30), scan("e4", 40, "A", ShipReturned, 40)}, ShipReturned, StatusShipped},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := applyAll(t, tc.evs)
			if p := s.Parcel("A"); p == nil || p.Status != tc.wantStatus {
				t.Fatalf("parcel A = %+v, want status %s", p, tc.wantStatus)
			}
			if s.Status != tc.wantOrder {
				t.Errorf("order status = %s, want %s", s.Status, tc.wantOrder)
			}
			if s.Parcel("A").TrackingNumber != "A" {
				t.Errorf("parcel A lost its number")
			}
		})
	}
}

// TestParcelsDeliveredUndone: a delivered milestone derived from parcels is
// withdrawn when a parcel not yet delivered appears (as if the events had
// arrived in order), but an explicit order.delivered stays.
func TestParcelsDeliveredUndone(t *testing.T) {
	s := applyAll(t, []Event{created("e1", 0), shipped("e2", 10, ParcelReport{TrackingNumber: "A"}), scan("e3", 30, "A", ShipDelivered, 30),
		shipped("e4", 20, ParcelReport{TrackingNumber: "B"})})
	if s.Has(StatusDelivered) || s.Status != StatusShipped {
		t.Errorf("status = %s with history %+v, want shipped (B is not delivered)", s.Status, s.History)
	}
	s = applyAll(t, []Event{created("e1", 0), shipped("e2", 10, ParcelReport{TrackingNumber: "A"}), ev("e3", OrderDelivered, 30),
		shipped("e4", 20, ParcelReport{TrackingNumber: "B"})})
	if !s.Has(StatusDelivered) {
		t.Errorf("an explicit order.delivered was withdrawn: %+v", s.History)
	}
}

func TestLegacyShipment(t *testing.T) {
	var e Event
	body := `{"id":"e9","type":"shipment.updated","occurred_at":"2026-11-11T02:00:00Z","order":{"id":"1001"},
		"shipment":{"carrier":"SF","tracking_numbers":["SF1","SF2"],"status":"awaiting_pickup","pickup_point":"丰巢 A12"}}`
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatal(err)
	}
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	got := e.ParcelReports()
	want := []ParcelReport{{TrackingNumber: "SF1", Carrier: "SF", Status: ShipAvailableForPickup, PickupPoint: "丰巢 A12"},
		{TrackingNumber: "SF2", Carrier: "SF", Status: ShipAvailableForPickup, PickupPoint: "丰巢 A12"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("legacy shipment read as (-want +got):\n%s", d)
	}
	for legacy, now := range map[string]ShipmentStatus{"stalled": ShipException, "failed": ShipAttemptFailed, "in_transit": ShipInTransit} {
		var s ShipmentStatus
		if err := json.Unmarshal([]byte(`"`+legacy+`"`), &s); err != nil || s != now {
			t.Errorf("%s read as %s (%v), want %s", legacy, s, err, now)
		}
	}
	// An order stored before parcels had one tracking number.
	var stored OrderState
	if err := json.Unmarshal([]byte(`{"order":{"id":"1001"},"status":"shipped","shipments":[{"carrier":"SF","tracking_numbers":["SF1","SF2"],"status":"stalled","reported_at":"2026-11-11T02:00:00Z"},{"tracking_number":"SF3"}],
		"pending_parcels":[{"tracking_numbers":["SF4"],"ref":"F1"}]}`), &stored); err != nil {
		t.Fatal(err)
	}
	p := stored.Parcels[0]
	if len(stored.Parcels) != 2 || p.TrackingNumber != "SF1" || p.Status != ShipException || p.Carrier != "SF" || stored.Parcels[1].TrackingNumber != "SF3" {
		t.Errorf("stored legacy parcels read as %+v", stored.Parcels)
	}
	if len(stored.PendingParcels) != 1 || stored.PendingParcels[0].TrackingNumber != "SF4" || stored.PendingParcels[0].Ref != "F1" {
		t.Errorf("stored legacy pending parcel read as %+v", stored.PendingParcels)
	}
	// and a later scan still merges into it
	s := OrderState{Order: Order{ID: "1001"}, Parcels: []Parcel{p}}
	n, err := Apply(&s, scan("e10", 200, "SF1", ShipDelivered, 200), t0)
	if err != nil || n.Parcel("SF1").Status != ShipDelivered || n.Status != StatusDelivered {
		t.Errorf("scan on a legacy parcel: %v %+v", err, n.Parcels)
	}
}

func TestParcelValidate(t *testing.T) {
	ok := ParcelReport{TrackingNumber: "SF1"}
	tests := []struct {
		name  string
		ev    Event
		field string
	}{
		{"shipped without parcels", Event{Type: OrderShipped}, "parcels"},
		{"updated without parcel", Event{Type: ShipmentUpdated}, "parcel"},
		{"updated without status", Event{Type: ShipmentUpdated, Parcel: &ok}, "parcel.status"},
		{"shipped with parcel", Event{Type: OrderShipped, Parcel: &ok}, "parcel"},
		{"updated with parcels", Event{Type: ShipmentUpdated, Parcels: []ParcelReport{ok}}, "parcels"},
		{"both shapes", Event{Type: OrderShipped, Parcels: []ParcelReport{ok}, Shipment: &Shipment{TrackingNumbers: []string{"X"}}}, "parcels"},
		{"paid with parcels", Event{Type: OrderPaid, Parcels: []ParcelReport{ok}}, "parcels"},
		{"empty number", Event{Type: OrderShipped, Parcels: []ParcelReport{{}}}, "parcels[0].tracking_number"},
		{"spaced number", Event{Type: OrderShipped, Parcels: []ParcelReport{{TrackingNumber: " SF1"}}}, "parcels[0].tracking_number"},
		{"duplicate number", Event{Type: OrderShipped, Parcels: []ParcelReport{ok, ok}}, "parcels[1].tracking_number"},
		{"bad url", Event{Type: OrderShipped, Parcels: []ParcelReport{{TrackingNumber: "A", TrackingURL: "javascript:alert(1)"}}}, "parcels[0].tracking_url"},
		{"item without sku", Event{Type: OrderShipped, Parcels: []ParcelReport{{TrackingNumber: "A", Items: []ParcelItem{{Quantity: 1}}}}}, "parcels[0].items[0].sku"},
		{"item quantity", Event{Type: OrderShipped, Parcels: []ParcelReport{{TrackingNumber: "A", Items: []ParcelItem{{SKU: "X"}}}}}, "parcels[0].items[0].quantity"},
		{"split reason", Event{Type: OrderShipped, Parcels: []ParcelReport{{TrackingNumber: "A", SplitReason: "mood"}}}, "parcels[0].split_reason"},
		{"status", Event{Type: ShipmentUpdated, Parcel: &ParcelReport{TrackingNumber: "A", Status: "lost"}}, "parcel.status"},
		{"message control", Event{Type: ShipmentUpdated, Parcel: &ParcelReport{TrackingNumber: "A", Status: ShipInTransit, Message: "a\x00b"}}, "parcel.message"},
		{"ship_by before placed", Event{Type: OrderCreated, Order: Order{ID: "1", NeedsEnrichment: true, PlacedAt: tp(at(10)), ShipBy: tp(at(5))}}, "order.ship_by"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.ev.ID, tc.ev.OccurredAt = "e1", at(0)
			if tc.ev.Order.ID == "" {
				tc.ev.Order.ID = "1001"
			}
			err := tc.ev.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("err = %v, want a FieldError on %s", err, tc.field)
			}
		})
	}
}

func TestShipDeadline(t *testing.T) {
	s := applyAll(t, []Event{created("e1", 0), ev("e2", OrderPaid, 10)})
	if _, ok := s.ShipDeadline(0); ok {
		t.Error("no ship_by and no ship_within: want no deadline")
	}
	if d, ok := s.ShipDeadline(48 * time.Hour); !ok || !d.Equal(at(10).Add(48*time.Hour)) {
		t.Errorf("ship_within 48h = %v, want paid + 48h", d)
	}
	e := ev("e3", OrderPaid, 11)
	e.Order.ShipBy = tp(at(24 * 60))
	s = applyAll(t, []Event{created("e1", 0), e})
	if d, ok := s.ShipDeadline(48 * time.Hour); !ok || !d.Equal(at(24*60)) {
		t.Errorf("platform ship_by = %v, want it over ship_within", d)
	}
}

func refScan(id string, min int, ref string, st ShipmentStatus) Event {
	return Event{ID: id, Type: ShipmentUpdated, OccurredAt: at(min), Order: Order{ID: "1001"},
		Parcel: &ParcelReport{Ref: ref, Status: st, Message: "msg " + id}}
}

func permute(t *testing.T, evs []Event, check func(OrderState)) {
	t.Helper()
	want := applyAll(t, evs)
	check(want)
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 200; i++ {
		p := append([]Event(nil), evs...)
		r.Shuffle(len(p), func(a, b int) { p[a], p[b] = p[b], p[a] })
		got := applyAll(t, p)
		if d := cmp.Diff(want, got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(OrderState{}, "Version", "UpdatedAt"),
			cmpopts.SortSlices(func(a, b Parcel) bool { return a.TrackingNumber < b.TrackingNumber })); d != "" {
			t.Fatalf("permutation %d differs (-want +got):\n%s", i, d)
		}
	}
}

// TestParcelsByRef: a status that names the shipment (Shopify fulfillment
// events) reaches every parcel of it, whether it arrives before or after.
func TestParcelsByRef(t *testing.T) {
	evs := []Event{created("e1", 0),
		shipped("e2", 10, ParcelReport{TrackingNumber: "1Z1", Ref: "F9"}, ParcelReport{TrackingNumber: "1Z2", Ref: "F9"}),
		shipped("e3", 12, ParcelReport{TrackingNumber: "DHL3", Ref: "F10"}),
		refScan("e4", 20, "F9", ShipInTransit), refScan("e5", 40, "F9", ShipDelivered), refScan("e6", 30, "F9", ShipOutForDelivery)}
	permute(t, evs, func(s OrderState) {
		for _, n := range []string{"1Z1", "1Z2"} {
			if p := s.Parcel(n); p == nil || p.Status != ShipDelivered || p.Message != "msg e5" {
				t.Fatalf("parcel %s = %+v, want delivered by e5", n, p)
			}
		}
		if p := s.Parcel("DHL3"); p.Status != "" {
			t.Fatalf("DHL3 got another shipment's status: %s", p.Status)
		}
		if s.Status != StatusShipped {
			t.Fatalf("order %s, want shipped (DHL3 not delivered)", s.Status)
		}
	})
}

// TestParcelsReplaced: a changed tracking number (Douyin 发货物流变更, same
// pack) replaces the earlier one, which no longer counts for delivery.
func TestParcelsReplaced(t *testing.T) {
	evs := []Event{created("e1", 0),
		shipped("e2", 10, ParcelReport{TrackingNumber: "ZTO1", Ref: "P1"}),
		shipped("e3", 20, ParcelReport{TrackingNumber: "SF2", Ref: "P1", Replacement: true}),
		shipped("e4", 15, ParcelReport{TrackingNumber: "YT3", Ref: "P2"}),
		scan("e5", 50, "SF2", ShipDelivered, 50), scan("e6", 60, "YT3", ShipDelivered, 60)}
	permute(t, evs, func(s OrderState) {
		if p := s.Parcel("ZTO1"); p == nil || p.ReplacedBy != "SF2" {
			t.Fatalf("ZTO1 = %+v, want replaced by SF2", p)
		}
		if p := s.Parcel("SF2"); p.ReplacedBy != "" || p.TrackingNumber != "SF2" {
			t.Fatalf("SF2 = %+v", p)
		}
		if s.Status != StatusDelivered {
			t.Fatalf("order %s, want delivered (the replaced ZTO1 does not count)", s.Status)
		}
	})
}

// BenchmarkApplyScans measures Apply for one scan of a parcel that already
// has n scans merged (the state a store reads and writes per scan).
func BenchmarkApplyScans(b *testing.B) {
	var cur *OrderState
	evs := []Event{created("e0", 0), shipped("e1", 1, ParcelReport{TrackingNumber: "SF1", Carrier: "SF", Items: []ParcelItem{{SKU: "A", Quantity: 1}}}),
		shipped("e2", 2, ParcelReport{TrackingNumber: "YT2"})}
	for i := 0; i < 20; i++ {
		evs = append(evs, scan("s"+itoa(i), 10+i, "SF1", ShipInTransit, 10+i))
	}
	for _, e := range evs {
		s, err := Apply(cur, e, t0)
		if err != nil {
			b.Fatal(err)
		}
		cur = &s
	}
	next := scan("s-next", 100, "SF1", ShipOutForDelivery, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Apply(cur, next, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// TestParcelStateBounded: a parcel keeps no scan history, so its stored
// state does not grow with the number of scans.
func TestParcelStateBounded(t *testing.T) {
	size := func(scans int) int {
		evs := []Event{created("e0", 0), shipped("e1", 1, ParcelReport{TrackingNumber: "SF1"})}
		for i := 0; i < scans; i++ {
			evs = append(evs, scan(fmt.Sprintf("s%03d", i), 10+i, "SF1", ShipInTransit, 10+i))
		}
		b, err := json.Marshal(applyAll(t, evs))
		if err != nil {
			t.Fatal(err)
		}
		return len(b)
	}
	if a, b := size(2), size(200); b-a > 4 { // the version counter's digits only
		t.Errorf("state after 2 scans: %d bytes, after 200: %d bytes; want the same size", a, b)
	}
}
