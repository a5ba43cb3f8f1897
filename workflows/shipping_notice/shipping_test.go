package shippingnotice_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	shippingnotice "github.com/ordercare/ordercare/workflows/shipping_notice"
)

var t0 = time.Date(2026, 11, 11, 2, 0, 0, 0, time.UTC)

// shipped is an order.shipped event at t0+min minutes with the parcels.
func shipped(id string, min int, ps ...care.ParcelReport) care.Event {
	return care.Event{ID: id, Type: care.OrderShipped, OccurredAt: t0.Add(time.Duration(min) * time.Minute),
		Order: care.Order{ID: "1"}, Parcels: ps}
}

func parcel(tn string, sku string, q int) care.ParcelReport {
	return care.ParcelReport{TrackingNumber: tn, Carrier: "SF Express", TrackingURL: "https://sf.example/" + tn,
		Items: []care.ParcelItem{{SKU: sku, Quantity: q}}, SplitReason: care.SplitWarehouse}
}

// apply applies evs in order to an order of two items (tea and cup).
func apply(t *testing.T, evs ...care.Event) care.OrderState {
	t.Helper()
	created := care.Event{ID: "c", Type: care.OrderCreated, OccurredAt: t0.Add(-time.Hour), Order: care.Order{ID: "1",
		Total: "100.00", Currency: "CNY", Items: []care.Item{{SKU: "TEA", Title: "Longjing", Quantity: 1, Price: "80.00"},
			{SKU: "CUP", Title: "Cup", Quantity: 1, Price: "20.00"}}}}
	var s *care.OrderState
	for _, ev := range append([]care.Event{created}, evs...) {
		n, err := care.Apply(s, ev, ev.OccurredAt)
		if err != nil {
			t.Fatal(err)
		}
		s = &n
	}
	return *s
}

func heads(gs [][]care.Parcel) []string {
	var out []string
	for _, g := range gs {
		var tns []string
		for _, p := range g {
			tns = append(tns, p.TrackingNumber)
		}
		out = append(out, strings.Join(tns, "+"))
	}
	return out
}

// TestGroupsIgnoreArrivalOrder: the digest groups depend on when parcels
// were shipped, not on the order (or number) of their events' deliveries.
func TestGroupsIgnoreArrivalOrder(t *testing.T) {
	a := shipped("a", 0, parcel("A", "TEA", 1))
	b := shipped("b", 30, parcel("B", "CUP", 1))
	c := shipped("c", 300, parcel("C", "CUP", 1))
	want := []string{"A+B", "C"}
	for name, evs := range map[string][]care.Event{
		"in order":    {a, b, c},
		"reversed":    {c, b, a},
		"redelivered": {b, a, b, c, a},
	} {
		got := heads(shippingnotice.Groups(apply(t, evs...).Parcels, 2*time.Hour))
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: groups (-want +got):\n%s", name, d)
		}
	}
	if got := heads(shippingnotice.Groups(apply(t, a, b).Parcels, 0)); !cmp.Equal(got, []string{"A", "B"}) {
		t.Errorf("window 0: %v, want one group per parcel", got)
	}
}

// TestShipmentVarsAndDefaultTemplate: a split order's first notice says
// parcel 1 of 1 known, what is in it, why and what is still to come; the
// last says 2 of 2 and complete, in both locales.
func TestShipmentVarsAndDefaultTemplate(t *testing.T) {
	w := shippingnotice.Workflow{}
	tpl, err := playbook.ParseWith(shippingnotice.Name, w.DefaultTemplate(), w)
	if err != nil {
		t.Fatal(err)
	}
	step, _, _ := tpl.Step(shippingnotice.StepNotice)
	first := apply(t, shipped("a", 0, parcel("A", "TEA", 1)))
	both := apply(t, shipped("a", 0, parcel("A", "TEA", 1)), shipped("b", 300, parcel("B", "CUP", 1)))
	render := func(o care.OrderState, locale string, members ...care.Parcel) string {
		v := playbook.VarsFor(o, "Tea Shop", time.UTC)
		v.Shipment = shippingnotice.Shipment(o, members)
		text, _, err := tpl.Render(step, "script", locale, v)
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	for _, tc := range []struct {
		name, locale string
		text         string
		want, not    []string
	}{
		{"first zh", "zh-CN", render(first, "zh-CN", first.Parcels[0]), []string{"SF Express", "运单号 A", "https://sf.example/A", "Longjing×1", "不同仓库", "尚未发出：Cup×1"}, []string{"全部发货"}},
		{"last zh", "zh-CN", render(both, "zh-CN", both.Parcels[1]), []string{"包裹 2/2", "运单号 B", "Cup×1", "订单已全部发货"}, []string{"尚未发出"}},
		{"last en", "en", render(both, "en", both.Parcels[1]), []string{"Parcel 2 of 2", "tracking number B", "complete", "different warehouses"}, []string{"Still to come"}},
		{"digest en", "en", render(both, "en", both.Parcels...), []string{"has shipped in full", "Parcel 1 of 2", "Parcel 2 of 2"}, []string{"Still to come"}},
	} {
		t.Logf("%s:\n%s", tc.name, tc.text)
		for _, s := range tc.want {
			if !strings.Contains(tc.text, s) {
				t.Errorf("%s: %q lacks %q", tc.name, tc.text, s)
			}
		}
		for _, s := range tc.not {
			if strings.Contains(tc.text, s) {
				t.Errorf("%s: %q has %q", tc.name, tc.text, s)
			}
		}
		for _, bad := range []string{"coupon", "优惠", "券"} {
			if strings.Contains(tc.text, bad) {
				t.Errorf("%s: %q mentions %q", tc.name, tc.text, bad)
			}
		}
	}
}

// TestParseParams: bad params are refused with the field named.
func TestParseParams(t *testing.T) {
	w := shippingnotice.Workflow{}
	for _, tc := range []struct{ edit, field string }{
		{`{"digest_window": "-1h"}`, "params.digest_window"},
		{`{"digest_window": "1h", "first_scan": {"wait": true, "limit": "1h", "every": "2h"}}`, "params.first_scan.every"},
		{`{"digest_window": "1h", "max_age": "0s"}`, "params.max_age"},
		{`{"digest_window": "1h", "first_scan": {"wait": true, "limit": "0s", "every": "0s"}}`, "params.first_scan.limit"},
	} {
		var doc map[string]any
		if err := json.Unmarshal(w.DefaultTemplate(), &doc); err != nil {
			t.Fatal(err)
		}
		var p any
		if err := json.Unmarshal([]byte(tc.edit), &p); err != nil {
			t.Fatal(err)
		}
		doc["params"] = p
		body, _ := json.Marshal(doc)
		_, err := playbook.ParseWith(shippingnotice.Name, body, w)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: error %v, want one on %s", tc.edit, err, tc.field)
		}
	}
}

// TestShipmentWithoutItems: parcels that list no items say nothing of what
// remains and never call the order complete (ordercare cannot know).
func TestShipmentWithoutItems(t *testing.T) {
	bare := care.ParcelReport{TrackingNumber: "A", Carrier: "ZTO"}
	o := apply(t, shipped("a", 0, bare))
	got := shippingnotice.Shipment(o, o.Parcels)
	want := playbook.ShipmentVars{Total: 1, Parcels: []playbook.ParcelVars{{Number: 1, Carrier: "ZTO", TrackingNumber: "A", Items: []playbook.ItemVars{}}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("shipment (-want +got):\n%s", d)
	}
}
