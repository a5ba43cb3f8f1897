package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

// getWorkflowSchema is GET /v1/workflows/{workflow}/schema (ops, agent): the
// JSON Schema (draft 2020-12) of the workflow's templates, what the console's
// template form is drawn from. It is the common core every template obeys
// (playbook.TemplateSchema) with "params" described for this workflow: the
// shape of the params in its default template (field names, types,
// durations, lists, nested objects), marked "x-derived": the workflow's own
// rules are checked when a template is checked or saved, and each refusal
// names its field like every other.
func (s *Server) getWorkflowSchema(w http.ResponseWriter, r *http.Request) {
	_, err := s.shopScope(r, "", care.RoleOps, care.RoleAgent)
	var wf care.Workflow
	if err == nil {
		wf, err = s.workflowOf(r)
	}
	var doc ordered
	if err == nil {
		doc, err = workflowSchema(wf, s.workflows.DefaultTemplate, s.workflows.ParamsSchema)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, doc)
}

// workflowSchema is the template schema of wf (see getWorkflowSchema),
// its properties in the order the core schema and the default template
// write them (the console draws its form in that order).
func workflowSchema(wf care.Workflow, defaults func(care.Workflow) ([]byte, error), paramsSchema func(care.Workflow) []byte) (ordered, error) {
	core, err := decodeOrdered(playbook.TemplateSchema())
	if err != nil {
		return nil, err
	}
	doc, ok := core.(ordered)
	if !ok {
		return nil, errors.New("template schema: not an object")
	}
	body, err := defaults(wf)
	if err != nil {
		return nil, err
	}
	var def struct {
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(body, &def); err != nil {
		return nil, err
	}
	params := ordered{{"type", "null"}, {"description", "This workflow takes no params."}}
	if len(def.Params) > 0 && !bytes.Equal(def.Params, []byte("null")) {
		v, err := decodeOrdered(def.Params)
		if err != nil {
			return nil, err
		}
		params = append(shapeOf(v),
			kv{"description", "The params of " + string(wf) + ", as its default template has them; the workflow checks its own rules on save."},
			kv{"x-derived", "default-template"})
		if doc := paramsSchema(wf); len(doc) > 0 {
			real, err := decodeOrdered(doc)
			if err != nil {
				return nil, err
			}
			if r, ok := real.(ordered); ok {
				params = overlay(params, r)
				if d := r.get("description"); d != nil {
					params.set("description", d)
				}
				params.set("x-derived", "default-template, params.schema.json")
			}
		}
	}
	doc.set("$id", "https://ordercare.dev/schemas/"+string(wf)+".template.schema.json")
	doc.set("title", string(wf)+" template")
	props, _ := doc.get("properties").(ordered)
	props.set("params", params)
	return doc, nil
}

// annotations are the keys overlay copies from a workflow's params schema
// onto the shape drawn from its default template: what a form field shows
// or checks (choices, bounds, patterns, help).
var annotations = []string{"enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "pattern",
	"minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "description"}

// overlay adds to shape (a params shape drawn from the default template)
// what the workflow's params schema real says of the same fields: the
// annotations of each property, recursively through objects and array
// items; and the properties real has that the default template leaves out,
// when they are plain values (a string, number, boolean, a list of them, or
// a duration): a field the form could not draw stays in the JSON view.
func overlay(shape, real ordered) ordered {
	for _, k := range annotations {
		if v := real.get(k); v != nil && shape.get(k) == nil {
			shape = append(shape, kv{k, v})
		}
	}
	if items, ok := real.get("items").(ordered); ok {
		if si, ok := shape.get("items").(ordered); ok {
			shape.set("items", overlay(si, items))
		}
	}
	rprops, ok := real.get("properties").(ordered)
	if !ok {
		return shape
	}
	sprops, ok := shape.get("properties").(ordered)
	if !ok {
		return shape
	}
	for _, e := range rprops {
		rp, ok := e.V.(ordered)
		if !ok {
			continue
		}
		if sp, ok := sprops.get(e.K).(ordered); ok {
			sprops.set(e.K, overlay(sp, rp))
		} else if plain(rp) {
			sprops = append(sprops, kv{e.K, rp})
		}
	}
	shape.set("properties", sprops)
	return shape
}

// plain says whether a params schema property is a value a form field
// edits as it is: a string, number or boolean (or a list of them) or a
// duration, with no reference to the params schema's own definitions.
func plain(p ordered) bool {
	if ref, ok := p.get("$ref").(string); ok {
		return ref == "#/$defs/duration" || ref == "#/$defs/time_of_day"
	}
	switch p.get("type") {
	case "string", "integer", "number", "boolean":
		return true
	case "array":
		items, ok := p.get("items").(ordered)
		return ok && items.get("$ref") == nil && items.get("properties") == nil && items.get("type") != "array" && items.get("type") != "object"
	}
	return false
}

// ordered is a JSON object that keeps its keys' order.
type ordered []kv

type kv struct {
	K string
	V any
}

func (o ordered) get(k string) any {
	for _, e := range o {
		if e.K == k {
			return e.V
		}
	}
	return nil
}

// set replaces k's value in place (o's elements are shared), or does
// nothing when o has no k.
func (o ordered) set(k string, v any) {
	for i := range o {
		if o[i].K == k {
			o[i].V = v
		}
	}
}

func (o ordered) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.K)
		v, err := json.Marshal(e.V)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// decodeOrdered decodes one JSON value, objects as ordered and numbers as
// json.Number.
func decodeOrdered(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return decodeValue(dec)
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		o := ordered{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			o = append(o, kv{k.(string), v})
		}
		_, err := dec.Token()
		return o, err
	case json.Delim('['):
		a := []any{}
		for dec.More() {
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err := dec.Token()
		return a, err
	}
	return tok, nil
}

var (
	durationRe  = regexp.MustCompile(`^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$`)
	timeOfDayRe = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
)

// shapeOf describes a JSON value's shape as a JSON Schema: objects by
// their properties (in order), arrays by their first element with the
// others' further properties, durations and times of day by the core's $defs.
func shapeOf(v any) ordered {
	switch x := v.(type) {
	case bool:
		return ordered{{"type", "boolean"}}
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return ordered{{"type", "integer"}}
		}
		return ordered{{"type", "number"}}
	case string:
		switch {
		case durationRe.MatchString(x):
			return ordered{{"$ref", "#/$defs/duration"}}
		case timeOfDayRe.MatchString(x):
			return ordered{{"$ref", "#/$defs/time_of_day"}}
		}
		return ordered{{"type", "string"}}
	case []any:
		if len(x) == 0 {
			return ordered{{"type", "array"}, {"items", ordered{{"type", "string"}}}}
		}
		item := shapeOf(x[0])
		if props, ok := item.get("properties").(ordered); ok {
			for _, e := range x[1:] {
				if o, ok := e.(ordered); ok {
					for _, p := range o {
						if props.get(p.K) == nil {
							props = append(props, kv{p.K, shapeOf(p.V)})
						}
					}
				}
			}
			item.set("properties", props)
		}
		return ordered{{"type", "array"}, {"items", item}}
	case ordered:
		props := ordered{}
		for _, p := range x {
			props = append(props, kv{p.K, shapeOf(p.V)})
		}
		return ordered{{"type", "object"}, {"properties", props}}
	}
	return ordered{}
}
