package steps_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
)

// TestDeliveredSubjects: the order once delivered; each delivered parcel
// only for an order of several (replaced ones do not count).
func TestDeliveredSubjects(t *testing.T) {
	at := time.Date(2026, 11, 13, 0, 0, 0, 0, time.UTC)
	parcel := func(tn string, st care.ShipmentStatus, replaced string) care.Parcel {
		return care.Parcel{ParcelReport: care.ParcelReport{TrackingNumber: tn, Status: st}, ReplacedBy: replaced}
	}
	delivered := []care.Milestone{{Status: care.StatusDelivered, At: at}}
	tests := []struct {
		name string
		o    care.OrderState
		want []string
	}{
		{"one parcel", care.OrderState{History: delivered, Parcels: []care.Parcel{parcel("A", care.ShipDelivered, "")}}, []string{steps.OrderSubject}},
		{"one of two delivered", care.OrderState{Parcels: []care.Parcel{parcel("A", care.ShipDelivered, ""), parcel("B", care.ShipInTransit, "")}}, []string{"A"}},
		{"both", care.OrderState{History: delivered, Parcels: []care.Parcel{parcel("A", care.ShipDelivered, ""), parcel("B", care.ShipDelivered, "")}}, []string{steps.OrderSubject, "A", "B"}},
		{"replaced", care.OrderState{History: delivered, Parcels: []care.Parcel{parcel("A", care.ShipDelivered, "B"), parcel("B", care.ShipDelivered, "")}}, []string{steps.OrderSubject}},
		{"not delivered", care.OrderState{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, steps.DeliveredSubjects(tt.o)); diff != "" {
				t.Error(diff)
			}
		})
	}
	items := []care.Item{{SKU: "TEA-1", Title: "Tea", Quantity: 3}, {SKU: "CUP-1", Title: "Cup", Quantity: 2}}
	p := care.Parcel{ParcelReport: care.ParcelReport{Items: []care.ParcelItem{{SKU: "tea-1", Quantity: 1}, {SKU: "X", Quantity: 1}}}}
	want := []care.Item{{SKU: "TEA-1", Title: "Tea", Quantity: 1}, {SKU: "X", Title: "X", Quantity: 1}}
	if diff := cmp.Diff(want, steps.ParcelItems(items, p)); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff(items, steps.ParcelItems(items, care.Parcel{})); diff != "" {
		t.Error(diff)
	}
}
