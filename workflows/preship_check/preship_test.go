package preshipcheck_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
	preshipcheck "github.com/ordercare/ordercare/workflows/preship_check"
)

var (
	placed = time.Date(2026, 11, 11, 1, 0, 0, 0, time.UTC)
	paidAt = placed.Add(5 * time.Minute)
)

func defaultParams(t *testing.T) (*playbook.Template, preshipcheck.Params) {
	t.Helper()
	w := preshipcheck.Workflow{}
	tpl, err := playbook.ParseWith(preshipcheck.Name, w.DefaultTemplate(), w)
	if err != nil {
		t.Fatal(err)
	}
	return tpl, tpl.ParsedParams().(preshipcheck.Params)
}

// paidOrder is an order paid at paidAt, its address from order.created.
func paidOrder(a *care.Address, items ...care.Item) care.OrderState {
	o := care.OrderState{Order: care.Order{ID: "1", PlacedAt: &placed, PaymentMethod: care.PayOnline, ShippingAddress: a, Items: items},
		History:     []care.Milestone{{Status: care.StatusCreated, At: placed}, {Status: care.StatusPaid, At: paidAt}},
		FieldStamps: map[string]care.Stamp{}}
	if a != nil {
		o.FieldStamps["shipping_address"] = care.Stamp{At: placed, EventID: "created"}
	}
	return o
}

var (
	tea   = care.Item{SKU: "T-1", Title: "t", Quantity: 1, Price: "10"}
	fresh = care.Item{SKU: "F-1", Title: "f", Quantity: 1, Price: "10", Perishable: true}
)

// TestFlags: the default rules flag perishables to remote provinces and to
// lockers, any address changed after payment, and an order going to more
// than one address; nothing else.
func TestFlags(t *testing.T) {
	_, p := defaultParams(t)
	hangzhou := &care.Address{Province: "浙江省", City: "杭州市", Line1: "西湖区文三路 1 号"}
	lhasa := &care.Address{Province: "西藏自治区", City: "拉萨市", Line1: "北京中路 2 号"}
	locker := &care.Address{Province: "浙江省", City: "杭州市", Line1: "文三路 1 号丰巢快递柜"}
	poBox := &care.Address{Province: "CA", City: "Oakland", Line1: "P.O. Box 42"}
	changed := paidOrder(hangzhou, tea)
	changed.FieldStamps["shipping_address"] = care.Stamp{At: paidAt.Add(time.Hour), EventID: "addr"}
	two := func(o care.OrderState) care.OrderState { o.Order.ShipToCount = 2; return o }
	tests := []struct {
		name string
		o    care.OrderState
		want []string
	}{
		{"plain order", paidOrder(hangzhou, tea, fresh), nil},
		{"remote province, not perishable", paidOrder(lhasa, tea), nil},
		{"remote province, perishable", paidOrder(lhasa, tea, fresh), []string{"region:remote"}},
		{"locker, perishable", paidOrder(locker, fresh), []string{"locker"}},
		{"locker, not perishable", paidOrder(locker, tea), nil},
		{"PO box, perishable", paidOrder(poBox, fresh), []string{"locker"}},
		{"address changed after payment", changed, []string{"address_changed"}},
		{"no address", paidOrder(nil, fresh), nil},
		{"two addresses", two(paidOrder(hangzhou, tea)), []string{"two_addresses"}},
		{"two addresses, no address known", two(paidOrder(nil, tea)), []string{"two_addresses"}},
		{"two addresses, changed, locker", two(func() care.OrderState {
			o := paidOrder(locker, fresh)
			o.FieldStamps["shipping_address"] = care.Stamp{At: paidAt.Add(time.Hour), EventID: "addr"}
			return o
		}()), []string{"address_changed", "two_addresses", "locker"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, preshipcheck.Flags(tt.o, p)); diff != "" {
				t.Errorf("Flags (-want +got):\n%s", diff)
			}
		})
	}
	// A rule by city and sku pattern, for every order of those goods.
	p.Regions = []preshipcheck.Region{{ID: "no_ice", Cities: []string{"三亚*"}, Postcodes: []string{"572*"},
		Goods: &preshipcheck.Goods{SKUs: []string{"ICE-*"}}}}
	ice := care.Item{SKU: "ice-9", Title: "i", Quantity: 1, Price: "1"}
	if got := preshipcheck.Flags(paidOrder(&care.Address{Province: "海南省", PostalCode: "572000"}, ice), p); !cmp.Equal(got, []string{"region:no_ice"}) {
		t.Errorf("by postcode and sku pattern: %v", got)
	}
	if got := preshipcheck.Flags(paidOrder(&care.Address{Province: "海南省", City: "三亚市"}, tea), p); got != nil {
		t.Errorf("other goods: %v", got)
	}
}

// TestStartsStops: a paid, unshipped, prepaid order is checked (on
// order.created when created paid, else on order.paid), and so is a cash
// on delivery order once confirmed (order.confirmed); a shipped one stops.
func TestStartsStops(t *testing.T) {
	w := preshipcheck.Workflow{}
	if diff := cmp.Diff([]care.EventType{care.OrderCreated, care.OrderPaid, care.OrderConfirmed, care.OrderAddressChanged}, steps.StartsOn(w)); diff != "" {
		t.Errorf("StartsOn (-want +got):\n%s", diff)
	}
	paid := paidOrder(nil)
	unpaid := care.OrderState{Order: care.Order{ID: "2"}, History: []care.Milestone{{Status: care.StatusCreated, At: placed}}}
	cod := care.OrderState{Order: care.Order{ID: "3", PaymentMethod: care.PayCOD}, History: []care.Milestone{{Status: care.StatusCreated, At: placed}}}
	confirmedAt := placed.Add(time.Hour)
	confirmed := cod
	confirmed.ConfirmedAt = &confirmedAt
	shipped := paidOrder(nil)
	shipped.History = append(shipped.History, care.Milestone{Status: care.StatusShipped, At: paidAt.Add(time.Hour)})
	for _, c := range []struct {
		name string
		o    care.OrderState
		want bool
	}{{"paid", paid, true}, {"unpaid", unpaid, false}, {"cod, not confirmed", cod, false}, {"cod, confirmed", confirmed, true}, {"shipped", shipped, false}} {
		if got := w.Wants(c.o); got != c.want {
			t.Errorf("Wants(%s) = %v, want %v", c.name, got, c.want)
		}
	}
	if w.Pointless(paid) != "" || w.Pointless(shipped) != preshipcheck.ReasonShipped {
		t.Errorf("Pointless paid %q shipped %q", w.Pointless(paid), w.Pointless(shipped))
	}
	tpl, _ := defaultParams(t)
	e := &steps.Env{Tpl: tpl, Order: paid}
	if got := w.Deadline(e); !got.Equal(paidAt.Add(48 * time.Hour)) {
		t.Errorf("Deadline = %v, want paid + ship_within 48h", got)
	}
	shipBy := paidAt.Add(24 * time.Hour)
	e.Order.Order.ShipBy = &shipBy
	if got := w.Deadline(e); !got.Equal(shipBy) {
		t.Errorf("Deadline = %v, want the platform's ship_by", got)
	}
	for text, want := range map[string]playbook.Answer{"是的": playbook.AnswerYes, "地址改成杭州市西湖区文二路 5 号": playbook.AnswerUnclear,
		"不要了": playbook.AnswerNo, "退订": playbook.AnswerStop} {
		if got := w.Interpret(tpl, text, "zh-CN"); got != want {
			t.Errorf("Interpret(%q) = %s, want %s", text, got, want)
		}
	}
}

// TestParamsErrors: the params and the steps are preship_check's to validate.
func TestParamsErrors(t *testing.T) {
	type doc = map[string]any
	tests := []struct {
		name          string
		mutate        func(d doc)
		field, reason string
	}{
		{"params missing", func(d doc) { delete(d, "params") }, "params", "required"},
		{"ship_within missing", func(d doc) { delete(d["params"].(doc), "ship_within") }, "params.ship_within", "required"},
		{"ship_within zero", func(d doc) { d["params"].(doc)["ship_within"] = "0" }, "params.ship_within", "positive"},
		{"call_before past ship_within", func(d doc) { d["params"].(doc)["call_before"] = "48h" }, "params.call_before", "no time"},
		{"region without a place", func(d doc) { d["params"].(doc)["regions"] = []any{doc{"id": "x"}} }, "params.regions[0].cities", "required"}, // one of provinces, cities, postcodes
		{"duplicate region", func(d doc) {
			r := d["params"].(doc)["regions"].([]any)
			d["params"].(doc)["regions"] = append(r, r[0])
		}, "params.regions[1].id", "duplicate"},
		{"goods without a selector", func(d doc) { d["params"].(doc)["lockers"].(doc)["goods"] = doc{} }, "params.lockers.goods", ""},
		{"unknown step", func(d doc) { d["steps"].([]any)[0].(doc)["id"] = "wait" }, "steps[0].id", "hold (notify_shop)"},
		{"missing release", func(d doc) { d["steps"] = d["steps"].([]any)[:3] }, "steps", "needs a step \"release\""},
		{"step with after", func(d doc) { d["steps"].([]any)[1].(doc)["after"] = "1h" }, "steps[1]", "not used"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			if err := json.Unmarshal(preshipcheck.Workflow{}.DefaultTemplate(), &d); err != nil {
				t.Fatal(err)
			}
			tt.mutate(d)
			b, _ := json.Marshal(d)
			_, err := playbook.ParseWith(preshipcheck.Name, b, preshipcheck.Workflow{})
			var fe *care.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error = %v, want a *care.FieldError", err)
			}
			if fe.Field != tt.field || !strings.Contains(fe.Reason, tt.reason) {
				t.Errorf("error = {%q, %q}, want {%q, …%q…}", fe.Field, fe.Reason, tt.field, tt.reason)
			}
		})
	}
}
