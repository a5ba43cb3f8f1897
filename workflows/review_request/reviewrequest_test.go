package reviewrequest_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
	reviewrequest "github.com/ordercare/ordercare/workflows/review_request"
)

type doc = map[string]any

func parse(t *testing.T, mutate func(d doc)) (*playbook.Template, error) {
	t.Helper()
	var d doc
	if err := json.Unmarshal(reviewrequest.Workflow{}.DefaultTemplate(), &d); err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(d)
	}
	b, _ := json.Marshal(d)
	return playbook.ParseWith(reviewrequest.Name, b, reviewrequest.Workflow{})
}

func TestParamsErrors(t *testing.T) {
	cases := []struct {
		name, field string
		mutate      func(d doc)
	}{
		{"window zero", "params.window", func(d doc) { d["params"].(doc)["window"] = "0" }},
		{"too many reminders", "params.max_reminders", func(d doc) { d["params"].(doc)["max_reminders"] = 2 }},
		{"unknown reminder", "params.reminders[0]", func(d doc) { d["params"].(doc)["reminders"] = []any{"nope"} }},
		{"reminder is the ask", "params.reminders[0]", func(d doc) { d["params"].(doc)["reminders"] = []any{"ask"} }},
		{"a call step", "steps[2].action", func(d doc) {
			d["steps"] = append(d["steps"].([]any), doc{"id": "call", "action": "call", "tag": "service", "priority": 2, "sla": "1h",
				"outcomes": []any{"ok"}, "reason": doc{"zh-CN": "x", "en": "x"}, "script": doc{"zh-CN": "x", "en": "x"}})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.mutate)
			var fe *care.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("error = %v, want a field error on %s", err, tc.field)
			}
		})
	}
}

// TestWindowAndSteps: the platform's window and one-ask rule, whatever the
// template says; the ask is neutral and never names a rating.
func TestWindowAndSteps(t *testing.T) {
	tpl, err := parse(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	pp := tpl.ParsedParams().(reviewrequest.Params)
	d := time.Date(2026, 11, 13, 0, 0, 0, 0, time.UTC)
	order := func(marketplace string) care.OrderState {
		return care.OrderState{Order: care.Order{ID: "1", Marketplace: marketplace},
			History: []care.Milestone{{Status: care.StatusDelivered, At: d}}}
	}
	tests := []struct {
		marketplace string
		closes      time.Duration
		steps       string
		firstAfter  time.Duration
	}{
		{"", 720 * time.Hour, "ask reminder", 168 * time.Hour},
		{"amazon.de", 30 * 24 * time.Hour, "ask", 168 * time.Hour},
		{"taobao", 15 * 24 * time.Hour, "ask reminder", 168 * time.Hour},
	}
	for _, tt := range tests {
		w, ok := reviewrequest.WindowOf(order(tt.marketplace), pp)
		if !ok || !w.Closes.Equal(d.Add(tt.closes)) {
			t.Errorf("%q: window %+v", tt.marketplace, w)
		}
		var ids []string
		for _, s := range reviewrequest.Steps(tpl, pp, w) {
			ids = append(ids, s.ID)
		}
		if got := strings.Join(ids, " "); got != tt.steps {
			t.Errorf("%q: steps %q, want %q", tt.marketplace, got, tt.steps)
		}
	}
	// An ask set earlier than Amazon's window opens is moved to day 5.
	early, _ := parse(t, func(d doc) { d["steps"].([]any)[0].(doc)["after"] = "24h" })
	w, _ := reviewrequest.WindowOf(order("amazon"), pp)
	if s := reviewrequest.Steps(early, pp, w); time.Duration(s[0].After) != 5*24*time.Hour {
		t.Errorf("amazon ask after %v, want 120h", s[0].After)
	}
	for _, s := range tpl.Steps {
		for loc, text := range s.Script {
			for _, bad := range []string{"好评", "五星", "5 star", "five star", "positive", "返现", "红包"} {
				if strings.Contains(strings.ToLower(text), bad) {
					t.Errorf("%s %s says %q", s.ID, loc, bad)
				}
			}
		}
	}
}

// TestPointless: any review (whatever its rating) or a parcel going back
// stops the order's asks; a parcel's asks stop on a review of the order or
// of one of its items, or on that parcel going back, not on another
// parcel's.
func TestPointless(t *testing.T) {
	w := reviewrequest.Workflow{}
	for name, o := range map[string]care.OrderState{
		"bad review":  {Reviews: []care.ReviewState{{Review: care.Review{Rating: 1}}}},
		"good review": {Reviews: []care.ReviewState{{Review: care.Review{Rating: 5}}}},
	} {
		if got := w.SubjectPointless(o, steps.OrderSubject); got != reviewrequest.ReasonReviewed {
			t.Errorf("%s: %q", name, got)
		}
	}
	ret := care.OrderState{Parcels: []care.Parcel{{ParcelReport: care.ParcelReport{Status: care.ShipReturning}}}}
	if got := w.SubjectPointless(ret, steps.OrderSubject); got != reviewrequest.ReasonReturned {
		t.Errorf("returning: %q", got)
	}
	split := care.OrderState{
		Order: care.Order{Items: []care.Item{{SKU: "TEA-1", Title: "Tea"}, {SKU: "CUP-1", Title: "Cup"}}},
		Parcels: []care.Parcel{
			{ParcelReport: care.ParcelReport{TrackingNumber: "A", Status: care.ShipDelivered, Items: []care.ParcelItem{{SKU: "TEA-1", Quantity: 1}}}},
			{ParcelReport: care.ParcelReport{TrackingNumber: "B", Status: care.ShipReturning, Items: []care.ParcelItem{{SKU: "CUP-1", Quantity: 1}}}},
		},
		Reviews: []care.ReviewState{{Review: care.Review{ID: "r", SKU: "cup-1", Rating: 4}}},
	}
	for subject, want := range map[string]string{"A": "", "B": reviewrequest.ReasonReturned, "C": reviewrequest.ReasonNoParcel, steps.OrderSubject: reviewrequest.ReasonReviewed} {
		if got := w.SubjectPointless(split, subject); got != want {
			t.Errorf("split order, %s: %q, want %q", subject, got, want)
		}
	}
	split.Reviews = append(split.Reviews, care.ReviewState{Review: care.Review{ID: "s", SKU: "TEA-1", Rating: 2}})
	if got := w.SubjectPointless(split, "A"); got != reviewrequest.ReasonReviewed {
		t.Errorf("A after a review of its item: %q", got)
	}
	refund := func(r care.Refund) care.OrderState {
		o := split
		o.Reviews = nil
		o.Parcels = append([]care.Parcel(nil), split.Parcels...)
		o.Parcels[1].Status = care.ShipDelivered
		o.Refunds = []care.RefundState{{Refund: r}}
		return o
	}
	for name, tc := range map[string]struct {
		o        care.OrderState
		a, b, o2 string
	}{
		"the cup refunded":   {refund(care.Refund{Items: []care.ParcelItem{{SKU: "CUP-1", Quantity: 1}}}), "", reviewrequest.ReasonRefunded, reviewrequest.ReasonRefunded},
		"shipping refunded":  {refund(care.Refund{Amount: "5.00"}), reviewrequest.ReasonRefunded, reviewrequest.ReasonRefunded, reviewrequest.ReasonRefunded},
		"the order refunded": {refund(care.Refund{Full: true}), reviewrequest.ReasonRefunded, reviewrequest.ReasonRefunded, reviewrequest.ReasonRefunded},
	} {
		got := [3]string{w.SubjectPointless(tc.o, "A"), w.SubjectPointless(tc.o, "B"), w.SubjectPointless(tc.o, steps.OrderSubject)}
		if want := [3]string{tc.a, tc.b, tc.o2}; got != want {
			t.Errorf("%s: A, B, order = %q, want %q", name, got, want)
		}
	}
	if got := w.StopOutcome(reviewrequest.ReasonRefunded); got != reviewrequest.OutcomeRefunded {
		t.Errorf("StopOutcome(refunded) = %q", got)
	}
	if got := w.Pointless(split); got != "" {
		t.Errorf("Pointless stops every parcel's run: %q", got)
	}
}
