package pickupnudge_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	pickupnudge "github.com/ordercare/ordercare/workflows/pickup_nudge"
)

type doc = map[string]any

func defaultDoc(t *testing.T) doc {
	t.Helper()
	var d doc
	if err := json.Unmarshal(pickupnudge.Workflow{}.DefaultTemplate(), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func parse(t *testing.T, d doc) (*playbook.Template, error) {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return playbook.ParseWith(pickupnudge.Name, b, pickupnudge.Workflow{})
}

func defaultParams(t *testing.T, mutate func(doc)) pickupnudge.Params {
	t.Helper()
	d := defaultDoc(t)
	if mutate != nil {
		mutate(d["params"].(doc))
	}
	tpl, err := parse(t, d)
	if err != nil {
		t.Fatal(err)
	}
	return tpl.ParsedParams().(pickupnudge.Params)
}

// TestParamsErrors: bad params are a precise field error.
func TestParamsErrors(t *testing.T) {
	cases := []struct {
		name          string
		mutate        func(d doc)
		field, reason string
	}{
		{"hold window zero", func(d doc) { d["params"].(doc)["hold_window"] = "0" }, "params.hold_window", "positive"},
		{"unknown step", func(d doc) { d["params"].(doc)["ordinary_steps"] = []any{"nope"} }, "params.ordinary_steps[0]", "no step"},
		{"call for ordinary", func(d doc) { d["params"].(doc)["ordinary_steps"] = []any{"call"} }, "params.ordinary_steps[0]", "message step"},
		{"out of order", func(d doc) { d["params"].(doc)["perishable_steps"] = []any{"fresh_last", "fresh_first"} }, "params.perishable_steps[1]", "order"},
		{"reissue paced", func(d doc) { d["params"].(doc)["perishable_steps"] = []any{"reissue"} }, "params.perishable_steps[0]", "deadline"},
		{"bad shelf life", func(d doc) {
			d["params"].(doc)["products"] = []any{doc{"skus": []any{"F-*"}, "shelf_life": "0"}}
		}, "params.products[0].shelf_life", "positive"},
		{"no reissue step", func(d doc) {
			s := d["steps"].([]any)
			d["steps"] = s[:len(s)-1]
		}, "steps", "reissue"},
		{"unknown param", func(d doc) { d["params"].(doc)["x"] = 1 }, "params.x", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := defaultDoc(t)
			tc.mutate(d)
			_, err := parse(t, d)
			var fe *care.FieldError
			if !errors.As(err, &fe) || !errors.Is(err, care.ErrInvalid) {
				t.Fatalf("error = %v, want a *care.FieldError", err)
			}
			if !strings.HasPrefix(fe.Field, tc.field) || !strings.Contains(fe.Reason, tc.reason) {
				t.Errorf("error = {%q, %q}, want {%q, …%q…}", fe.Field, fe.Reason, tc.field, tc.reason)
			}
		})
	}
}

var t0 = time.Date(2026, 11, 11, 2, 0, 0, 0, time.UTC)

func at(h float64) time.Time { return t0.Add(time.Duration(h * float64(time.Hour))) }

func ptr(t time.Time) *time.Time { return &t }

func order(items ...care.Item) care.OrderState {
	return care.OrderState{ShopID: "s", Order: care.Order{ID: "1", Items: items}}
}

// TestClock: the deadline is the earlier of the hold deadline (the
// carrier's, else available + hold_window) and, for perishables, shipped +
// the shelf life (the item's, else the first products rule's).
func TestClock(t *testing.T) {
	pp := defaultParams(t, func(p doc) {
		p["products"] = []any{doc{"skus": []any{"FRESH-*"}, "shelf_life": "30h"}}
	})
	shipped := &care.Stamp{At: t0}
	avail := at(20)
	tests := []struct {
		name   string
		o      care.OrderState
		parcel care.Parcel
		want   pickupnudge.Clock
	}{
		{"ordinary, hold window", order(care.Item{SKU: "BOOK"}), care.Parcel{FirstSeen: shipped},
			pickupnudge.Clock{Available: avail, Hold: at(92), Deadline: at(92)}},
		{"ordinary, carrier's hold", order(care.Item{SKU: "BOOK"}),
			care.Parcel{ParcelReport: care.ParcelReport{PickupDeadline: ptr(at(60))}, FirstSeen: shipped},
			pickupnudge.Clock{Available: avail, Hold: at(60), Deadline: at(60)}},
		{"item shelf life", order(care.Item{SKU: "X", Perishable: true, ShelfLifeHours: 24}), care.Parcel{FirstSeen: shipped},
			pickupnudge.Clock{Available: avail, Hold: at(92), Perishable: true, Spoils: at(24), Deadline: at(24)}},
		{"products rule", order(care.Item{SKU: "fresh-milk"}), care.Parcel{FirstSeen: shipped},
			pickupnudge.Clock{Available: avail, Hold: at(92), Perishable: true, Spoils: at(30), Deadline: at(30)}},
		{"hold earlier than spoilage", order(care.Item{SKU: "X", ShelfLifeHours: 200}),
			care.Parcel{ParcelReport: care.ParcelReport{PickupDeadline: ptr(at(60))}, FirstSeen: shipped},
			pickupnudge.Clock{Available: avail, Hold: at(60), Perishable: true, Spoils: at(200), Deadline: at(60)}},
		{"perishable, no shelf life", order(care.Item{SKU: "X", Perishable: true}), care.Parcel{FirstSeen: shipped},
			pickupnudge.Clock{Available: avail, Hold: at(92), Perishable: true, Deadline: at(92)}},
		{"only the parcel's items", order(care.Item{SKU: "X", ShelfLifeHours: 24}, care.Item{SKU: "BOOK"}),
			care.Parcel{ParcelReport: care.ParcelReport{Items: []care.ParcelItem{{SKU: "BOOK", Quantity: 1}}}, FirstSeen: shipped},
			pickupnudge.Clock{Available: avail, Hold: at(92), Deadline: at(92)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pickupnudge.ClockOf(tt.o, &tt.parcel, avail, pp)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ClockOf (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSubjects: a parcel available for pickup gets a run; delivered,
// returned and replaced ones stop theirs.
func TestSubjects(t *testing.T) {
	w := pickupnudge.Workflow{}
	p := func(n string, s care.ShipmentStatus, replaced string) care.Parcel {
		return care.Parcel{ParcelReport: care.ParcelReport{TrackingNumber: n, Status: s}, ReplacedBy: replaced}
	}
	o := order()
	o.Parcels = []care.Parcel{p("A", care.ShipAvailableForPickup, ""), p("B", care.ShipInTransit, ""),
		p("C", care.ShipDelivered, ""), p("D", care.ShipReturned, ""), p("E", care.ShipAvailableForPickup, "F")}
	if diff := cmp.Diff([]string{"A"}, w.Subjects(o, care.Event{})); diff != "" {
		t.Errorf("Subjects (-want +got):\n%s", diff)
	}
	for subject, want := range map[string]string{"A": "", "B": "", "C": pickupnudge.ReasonDelivered,
		"D": pickupnudge.ReasonReturned, "E": pickupnudge.ReasonReplaced, "Z": pickupnudge.ReasonNoParcel} {
		if got := w.SubjectPointless(o, subject); got != want {
			t.Errorf("SubjectPointless(%s) = %q, want %q", subject, got, want)
		}
	}
	if w.StopOutcome(pickupnudge.ReasonDelivered) != pickupnudge.OutcomePickedUp || w.StopOutcome(pickupnudge.ReasonReturned) != "" {
		t.Error("only a delivered parcel's stop is a pickup")
	}
	if w.Wants(o) || w.Pointless(o) != "" {
		t.Error("no order-level run, nothing order-level ends the runs")
	}
}
