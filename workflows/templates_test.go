package workflows_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
	"github.com/ordercare/ordercare/workflows"
)

// TestDefaultTemplates checks that every workflow has a default template
// that satisfies the core template schema, its params the workflow's
// params.schema.json, and parses with the registry (core and params).
func TestDefaultTemplates(t *testing.T) {
	sd, err := jsonschema.UnmarshalJSON(bytes.NewReader(playbook.TemplateSchema()))
	if err != nil {
		t.Fatalf("template.schema.json: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("template.schema.json", sd); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("template.schema.json")
	if err != nil {
		t.Fatalf("template.schema.json does not compile: %v", err)
	}
	for _, wf := range workflows.All().Names() {
		t.Run(string(wf), func(t *testing.T) {
			b, err := workflows.DefaultTemplate(wf)
			if err != nil {
				t.Fatal(err)
			}
			var head struct {
				Workflow care.Workflow `json:"workflow"`
			}
			if err := json.Unmarshal(b, &head); err != nil || head.Workflow != wf {
				t.Fatalf("workflow = %q, %v", head.Workflow, err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Errorf("schema: %v", err)
			}
			// The params against the workflow's own schema, when it takes any.
			var doc struct {
				Params json.RawMessage `json:"params"`
			}
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			psch, err := os.ReadFile(filepath.Join(string(wf), "params.schema.json"))
			_, takes := workflows.All().Params(wf).(steps.ParamsParser)
			w, _ := workflows.All().Get(wf)
			_, own := w.(steps.ParamsParser)
			switch {
			case err == nil && own:
				pd, err := jsonschema.UnmarshalJSON(bytes.NewReader(psch))
				if err != nil {
					t.Fatal(err)
				}
				pc := jsonschema.NewCompiler()
				if err := pc.AddResource("params.schema.json", pd); err != nil {
					t.Fatal(err)
				}
				ps, err := pc.Compile("params.schema.json")
				if err != nil {
					t.Fatalf("params.schema.json does not compile: %v", err)
				}
				pi, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc.Params))
				if err != nil {
					t.Fatalf("params: %v", err)
				}
				if err := ps.Validate(pi); err != nil {
					t.Errorf("params schema: %v", err)
				}
			case own:
				t.Errorf("%s parses params but has no %s/params.schema.json: %v", wf, wf, err)
			case len(doc.Params) > 0:
				t.Errorf("%s takes no params, its default template has some", wf)
			}
			if !takes {
				t.Errorf("no params parser for %s", wf)
			}
			tp, err := workflows.All().ParseTemplate(wf, b)
			if err != nil {
				t.Errorf("ParseTemplate: %v", err)
			} else if own && tp.ParsedParams() == nil {
				t.Errorf("%s: no parsed params", wf)
			}
		})
	}
	if _, err := workflows.DefaultTemplate("review_ask"); !errors.Is(err, care.ErrInvalid) {
		t.Errorf("unknown workflow: %v", err)
	}
}

// TestDefaultTemplatesAreNeutral: what every new shop runs until ops edit
// it offers no coupon the shop never created and names no product or
// currency of a particular shop.
func TestDefaultTemplatesAreNeutral(t *testing.T) {
	for _, wf := range workflows.All().Names() {
		b, _ := workflows.DefaultTemplate(wf)
		tp, err := playbook.Parse(wf, b)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range tp.Steps {
			if s.Coupon != "" {
				t.Errorf("%s step %s offers coupon %q", wf, s.ID, s.Coupon)
			}
		}
		if !tp.On() {
			t.Errorf("%s is switched off by default", wf)
		}
		lower := strings.ToLower(string(b))
		for _, w := range []string{"tea", "茶", "tea10", "元", "券", "coupon\":"} {
			if strings.Contains(lower, w) {
				t.Errorf("%s default template says %q", wf, w)
			}
		}
	}
}

func TestDefaultTemplateIsACopy(t *testing.T) {
	a, _ := workflows.DefaultTemplate(care.UnpaidChase)
	a[0] = 'X'
	b, _ := workflows.DefaultTemplate(care.UnpaidChase)
	if b[0] != '{' {
		t.Error("DefaultTemplate shares its bytes")
	}
}

// TestDefaultCODScriptsStateTheFeeOnlyWhenThereIsOne: Shopify sends no COD
// fee, so the default scripts must not tell the buyer or the agent of a fee
// of 0.00; with a fee they state it and the sum. Buyers see the order's
// platform name (#1043), not ordercare's id.
func TestDefaultCODScriptsStateTheFeeOnlyWhenThereIsOne(t *testing.T) {
	b, _ := workflows.DefaultTemplate(care.CODConfirm)
	tp, err := playbook.Parse(care.CODConfirm, b)
	if err != nil {
		t.Fatal(err)
	}
	ord := care.Order{ID: "5630021409001", Name: "#1043", Total: "129.90", Currency: "CNY", PaymentMethod: care.PayCOD,
		Buyer: &care.Buyer{Name: "林美"}, Items: []care.Item{{Title: "Mug", Quantity: 1, Price: "129.90"}}}
	for _, tc := range []struct {
		fee        care.Decimal
		want, none []string
	}{
		{fee: "", want: []string{"129.90", "#1043"}, none: []string{"0.00", "服务费", "COD fee", "5630021409001"}},
		{fee: "8.00", want: []string{"8.00", "137.90", "#1043"}, none: []string{"5630021409001"}},
	} {
		ord.CODFee = tc.fee
		v := playbook.VarsFor(care.OrderState{Order: ord}, "Shop", nil)
		for _, id := range []string{"ask", "call"} {
			st, _, ok := tp.Step(id)
			if !ok {
				t.Fatalf("no step %s", id)
			}
			for _, loc := range []string{"zh-CN", "en"} {
				text, _, err := tp.Render(st, "script", loc, v)
				if err != nil {
					t.Fatalf("%s %s: %v", id, loc, err)
				}
				for _, w := range tc.want {
					if !strings.Contains(text, w) {
						t.Errorf("fee %q, %s %s: %q lacks %q", tc.fee, id, loc, text, w)
					}
				}
				for _, w := range tc.none {
					if strings.Contains(text, w) {
						t.Errorf("fee %q, %s %s: %q says %q", tc.fee, id, loc, text, w)
					}
				}
			}
		}
	}
}
