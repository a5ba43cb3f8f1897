package unpaidchase_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
	unpaidchase "github.com/ordercare/ordercare/workflows/unpaid_chase"
)

type doc = map[string]any

func defaultDoc(t *testing.T) doc {
	t.Helper()
	var d doc
	if err := json.Unmarshal(unpaidchase.Workflow{}.DefaultTemplate(), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func step(d doc, i int) doc { return d["steps"].([]any)[i].(doc) }

func parse(t *testing.T, d doc) (*playbook.Template, error) {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return playbook.ParseWith(unpaidchase.Name, b, unpaidchase.Workflow{})
}

// TestParamsErrors: the params are the workflow's to validate, with paths
// under params (or the step a rule across core and params names).
func TestParamsErrors(t *testing.T) {
	cases := []struct {
		name          string
		mutate        func(d doc)
		field, reason string
	}{
		{"params missing", func(d doc) { delete(d, "params") }, "params", "required"},
		{"pay window missing", func(d doc) { d["params"] = doc{} }, "params.pay_window", "required"},
		{"pay window zero", func(d doc) { d["params"].(doc)["pay_window"] = "0" }, "params.pay_window", "positive"},
		{"pay window negative", func(d doc) { d["params"].(doc)["pay_window"] = "-1h" }, "params.pay_window", "negative"},
		{"pay window a number", func(d doc) { d["params"].(doc)["pay_window"] = 72 }, "params.pay_window", "must be string"},
		{"cod_confirm's field", func(d doc) { d["params"].(doc)["reply_timeout"] = "2h" }, "params.reply_timeout", "unknown field"},
		{"step after the deadline", func(d doc) { step(d, 3)["after"] = "71h" }, "steps[3].after", "at or after the deadline"},
		{"step exactly at the deadline", func(d doc) { step(d, 2)["after"] = "72h" }, "steps[2].after", "at or after the deadline"},
		{"before_deadline beyond the window", func(d doc) { step(d, 3)["before_deadline"] = "80h" }, "steps[3].before_deadline", "no time"},
		{"old shape, bad pay window", func(d doc) { delete(d, "params"); d["pay_window"] = "0" }, "params.pay_window", "positive"},
		{"old shape and params", func(d doc) { d["pay_window"] = "72h" }, "pay_window", "unknown field"},
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
			if fe.Field != tc.field || !strings.Contains(fe.Reason, tc.reason) {
				t.Errorf("error = {%q, %q}, want {%q, …%q…}", fe.Field, fe.Reason, tc.field, tc.reason)
			}
		})
	}
}

// TestOldShape: a version stored before params (pay_window at the top
// level) still parses, and its pay window still makes the deadline.
func TestOldShape(t *testing.T) {
	d := defaultDoc(t)
	delete(d, "params")
	d["pay_window"] = "48h"
	tpl, err := parse(t, d)
	if err != nil {
		t.Fatalf("old shape: %v", err)
	}
	if p, ok := tpl.ParsedParams().(unpaidchase.Params); !ok || p.PayWindow.Std() != 48*time.Hour {
		t.Errorf("params = %#v, want pay_window 48h", tpl.ParsedParams())
	}
	placed := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	e := &steps.Env{Tpl: tpl, Order: care.OrderState{Order: care.Order{ID: "1", PlacedAt: &placed}}}
	if got := (unpaidchase.Workflow{}).Deadline(e); !got.Equal(placed.Add(48 * time.Hour)) {
		t.Errorf("Deadline = %v, want placed + 48h", got)
	}
	pay := placed.Add(time.Hour)
	e.Order.Order.PayDeadline = &pay
	if got := (unpaidchase.Workflow{}).Deadline(e); !got.Equal(pay) {
		t.Errorf("Deadline = %v, want the order's pay deadline", got)
	}
	// The new shape of the same template is the same template.
	nd := defaultDoc(t)
	nd["params"] = doc{"pay_window": "48h"}
	nt, err := parse(t, nd)
	if err != nil {
		t.Fatal(err)
	}
	if string(nt.Params) != string(tpl.Params) {
		t.Errorf("params %s, old shape read as %s", nt.Params, tpl.Params)
	}
}
