package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/workflows"
)

// TestWorkflowSchema: GET /v1/workflows/{workflow}/schema is a JSON Schema
// that compiles, that every workflow's default template satisfies, whose
// core is the common template schema and whose params describe the
// workflow's own (unpaid_chase's pay_window is a duration).
func TestWorkflowSchema(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	ops := shop.Keys[care.RoleOps]
	for _, wf := range workflows.All().Names() {
		t.Run(string(wf), func(t *testing.T) {
			r := e.do("GET", "/v1/workflows/"+string(wf)+"/schema", shop.Keys[care.RoleAgent], nil, nil)
			if r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Body))
			if err != nil {
				t.Fatal(err)
			}
			c := jsonschema.NewCompiler()
			url := "https://ordercare.dev/test/" + string(wf) + ".json"
			if err := c.AddResource(url, doc); err != nil {
				t.Fatal(err)
			}
			sch, err := c.Compile(url)
			if err != nil {
				t.Fatalf("the schema does not compile: %v", err)
			}
			def := e.do("GET", "/v1/templates/"+string(wf), ops, nil, nil)
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(def.Body))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Errorf("the default template does not satisfy its schema: %v", err)
			}
			var s struct {
				Properties map[string]json.RawMessage
				Defs       map[string]json.RawMessage `json:"$defs"`
			}
			if err := json.Unmarshal(r.Body, &s); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"steps", "quiet_hours", "contact_budget", "channel", "params"} {
				if s.Properties[k] == nil {
					t.Errorf("no property %q", k)
				}
			}
			if s.Defs["step"] == nil || s.Defs["localized"] == nil {
				t.Errorf("no step or localized definition")
			}
		})
	}
	var s struct {
		Properties struct {
			Params struct {
				Properties map[string]map[string]any
			}
		}
	}
	e.do("GET", "/v1/workflows/unpaid_chase/schema", ops, nil, nil).json(t, &s)
	if got := s.Properties.Params.Properties["pay_window"]["$ref"]; got != "#/$defs/duration" {
		t.Errorf("unpaid_chase params.pay_window: %v; want a duration", s.Properties.Params.Properties["pay_window"])
	}
	// The workflow's params schema adds its constraints and help to the
	// shape the default template gives: choices, bounds.
	s.Properties.Params.Properties = nil
	e.do("GET", "/v1/workflows/review_request/schema", ops, nil, nil).json(t, &s)
	rr := s.Properties.Params.Properties
	if per := rr["per"]; fmt.Sprint(per["enum"]) != "[order parcel]" || per["description"] == nil {
		t.Errorf("review_request params.per: %v; want its choices and help from params.schema.json", per)
	}
	if mr := rr["max_reminders"]; mr["maximum"] != 3.0 || mr["minimum"] != 0.0 {
		t.Errorf("review_request params.max_reminders: %v; want 0..3 from params.schema.json", mr)
	}
	// In the core schema's order (the form's), not sorted.
	body := string(e.do("GET", "/v1/workflows/unpaid_chase/schema", ops, nil, nil).Body)
	if i, j, k := strings.Index(body, `"default_locale":{`), strings.Index(body, `"contact_budget":{`), strings.Index(body, `"steps":{`); i < 0 || !(i < j && j < k) {
		t.Errorf("properties out of the core schema's order: default_locale at %d, contact_budget at %d, steps at %d", i, j, k)
	}
	if r := e.do("GET", "/v1/workflows/nope/schema", ops, nil, nil); r.Status != 404 || !bytes.Contains(r.Body, []byte(`"unknown_workflow"`)) {
		t.Errorf("unknown workflow: %d %s", r.Status, r.Body)
	}
	if r := e.do("GET", "/v1/workflows/unpaid_chase/schema", "", nil, nil); r.Status != 401 {
		t.Errorf("without a key: %d", r.Status)
	}
}
