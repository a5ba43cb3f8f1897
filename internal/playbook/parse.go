package playbook

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/osteele/liquid/render"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/ordercare/ordercare/internal/care"
)

// Parse is ParseWith without a ParamsParser: the common core only, the
// params kept as written and unchecked. It is for tools and tests of the
// core; whatever runs or stores a template parses it with its workflow's
// ParamsParser (steps.Workflows.ParseTemplate).
func Parse(wf care.Workflow, body []byte) (*Template, error) { return ParseWith(wf, body, nil) }

// ParseWith decodes and validates the template body stored for workflow
// wf: the common core here, the params object by pp (nil: unchecked).
//
// A body of the old shape (stored before templates had params: the
// workflow's fields, such as pay_window or reply_timeout, at the top level)
// is migrated on read: when it has no "params", every top-level field the
// core does not know is moved into params, so the workflow judges it (an
// error names it params.pay_window).
//
// The checks run in four stages, each only when the one before passed:
//  1. the body is one JSON object without duplicate keys;
//  2. it satisfies the JSON Schema template.schema.json (types,
//     required and unknown fields, patterns such as non-negative durations,
//     fields allowed per action), and decodes strictly;
//  3. the semantic rules of the core: workflow equals wf; every script and
//     reason has the default locale, parses as Liquid and uses only the
//     variables Render binds — checked by rendering against two sample
//     orders with strict variables and statically over every tag and
//     output, so untaken branches count too; the include tag is refused;
//     step ids are unique; before_cutoff is positive and needs the
//     template's cutoff; a call's sla is positive; quiet hours are not
//     empty; min_gap is in range;
//  4. pp.ParseParams (its schema, its rules, such as a step's timing
//     against the workflow's deadline or the steps the workflow needs).
//
// Every error is a *care.FieldError (errors.Is care.ErrInvalid) whose Field is
// the JSON path of the offending value, such as "steps[2].script.en" or
// "params.reply_timeout" (a missing field is named by its would-be path).
// Of several errors of the failing stage Parse returns the first
// in document order (ties broken deterministically). The only other error is
// an unusable embedded schema, a build defect.
func ParseWith(wf care.Workflow, body []byte, pp ParamsParser) (*Template, error) {
	if !workflowName.MatchString(string(wf)) {
		return nil, care.Invalid("workflow", "%q is not a workflow name (1-32 characters of a-z, 0-9 and _)", wf)
	}
	if _, err := indexPositions(body); err != nil {
		return nil, err
	}
	body = liftLegacy(body)
	pos, err := indexPositions(body)
	if err != nil {
		return nil, err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return nil, care.Invalid("", "not valid JSON: %v", err)
	}
	sch, err := compiledSchema()
	if err != nil {
		return nil, fmt.Errorf("template schema: %w", err)
	}
	if err := sch.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return nil, care.Invalid("", "%v", err)
		}
		return nil, firstSchemaError(ve, pos)
	}
	t := new(Template)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(t); err != nil {
		// The schema admits only what decodes; this is a schema/model drift.
		return nil, care.Invalid("", "does not decode: %v", err)
	}
	if len(t.Params) > 0 {
		var c bytes.Buffer
		if json.Compact(&c, t.Params) == nil {
			t.Params = c.Bytes()
		}
	}
	errs := &errList{pos: pos}
	t.check(wf, errs)
	if err := errs.first(); err != nil {
		return nil, err
	}
	if pp != nil {
		raw := t.Params
		if len(raw) == 0 {
			raw = json.RawMessage("null")
		}
		v, err := pp.ParseParams(raw, t)
		if err != nil {
			if !errors.Is(err, care.ErrInvalid) {
				return nil, care.Invalid("params", "%v", err)
			}
			return nil, err
		}
		t.params = v
	}
	return t, nil
}

// coreFields are the top-level fields of the common core (template.schema.json).
var coreFields = map[string]bool{"workflow": true, "enabled": true, "default_locale": true, "channel": true,
	"cutoff": true, "quiet_hours": true, "min_gap": true, "contact_budget": true, "steps": true, "params": true}

// liftLegacy migrates a template of the old shape: without "params", the
// top-level fields the core does not know move into params, which takes
// the place of the first of them (document order is kept for errors). Any
// other body is returned as it is. body is valid JSON without duplicate keys.
func liftLegacy(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return body
	}
	var core, legacy []field
	at := -1 // index in core before which params goes
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return body
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return body
		}
		k := kt.(string)
		switch {
		case k == "params":
			return body
		case coreFields[k]:
			core = append(core, field{k, v})
		default:
			if at < 0 {
				at = len(core)
			}
			legacy = append(legacy, field{k, v})
		}
	}
	if len(legacy) == 0 {
		return body
	}
	params := field{"params", object(legacy)}
	out := make([]field, 0, len(core)+1)
	out = append(out, core[:at]...)
	out = append(out, params)
	out = append(out, core[at:]...)
	return object(out)
}

// field is one member of a JSON object.
type field struct {
	key string
	val json.RawMessage
}

// object writes fs as a JSON object, in order.
func object(fs []field) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(f.key)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(f.val)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// ParamsSchema is the JSON Schema of one workflow's params
// (workflows/<name>/params.schema.json).
type ParamsSchema struct{ sch *jsonschema.Schema }

// MustParamsSchema compiles a params schema (draft 2020-12); it panics on
// an unusable one, a build defect (a test of the workflow parses its
// default template).
func MustParamsSchema(url string, doc []byte) *ParamsSchema {
	d, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		panic(fmt.Sprintf("params schema %s: %v", url, err))
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(url, d); err != nil {
		panic(fmt.Sprintf("params schema %s: %v", url, err))
	}
	sch, err := c.Compile(url)
	if err != nil {
		panic(fmt.Sprintf("params schema %s: %v", url, err))
	}
	return &ParamsSchema{sch}
}

// Decode validates raw (a template's params, null when absent) against the
// schema and decodes it strictly into v. An error is a *care.FieldError on
// a path under "params", the first in document order.
func (s *ParamsSchema) Decode(raw json.RawMessage, v any) error {
	pos, err := indexPositions(raw)
	if err != nil {
		return prefixParams(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return care.Invalid("params", "not valid JSON: %v", err)
	}
	if err := s.sch.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return care.Invalid("params", "%v", err)
		}
		return prefixParams(firstSchemaError(ve, pos))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return care.Invalid("params", "does not decode: %v", err)
	}
	return nil
}

func prefixParams(err error) error {
	var fe *care.FieldError
	if errors.As(err, &fe) {
		f := "params"
		if fe.Field != "" {
			f += "." + fe.Field
		}
		if fe.Field == "" && strings.Contains(fe.Reason, "null") {
			return &care.FieldError{Field: "params", Reason: "required"}
		}
		return &care.FieldError{Field: f, Reason: fe.Reason}
	}
	return err
}

// ---- document order --------------------------------------------------------

// indexPositions numbers every value of the JSON document in the order it
// appears, by path ("steps[0].script.en"); the root is "". It rejects
// invalid JSON, trailing data and duplicate object keys.
func indexPositions(b []byte) (map[string]int, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	pos := map[string]int{}
	var walk func(path string) error
	walk = func(path string) error {
		pos[path] = len(pos)
		tok, err := dec.Token()
		if err != nil {
			return care.Invalid(path, "not valid JSON: %v", err)
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return care.Invalid(path, "not valid JSON: %v", err)
				}
				k := kt.(string)
				p := joinPath(path, k)
				if seen[k] {
					return care.Invalid(p, "duplicate key %q", k)
				}
				seen[k] = true
				if err := walk(p); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return care.Invalid(path, "not valid JSON: %v", err)
			}
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := walk(path + "[" + strconv.Itoa(i) + "]"); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return care.Invalid(path, "not valid JSON: %v", err)
			}
		}
		return nil
	}
	if err := walk(""); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, care.Invalid("", "not valid JSON: data after the template object")
	}
	return pos, nil
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// pathOf turns a JSON Schema instance location into our path form.
func pathOf(loc []string) string {
	var b strings.Builder
	for _, s := range loc {
		if _, err := strconv.Atoi(s); err == nil && b.Len() > 0 {
			b.WriteString("[" + s + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

// errList collects errors with their document position; first returns the
// earliest.
type errList struct {
	pos  map[string]int
	errs []posErr
	// byText breaks ties of position by field and reason rather than by
	// the order found (schema errors come in an unspecified order).
	byText bool
}

type posErr struct {
	pos, seq int
	err      *care.FieldError
}

func (l *errList) posOf(path string) int {
	for {
		if p, ok := l.pos[path]; ok {
			return p
		}
		i := max(strings.LastIndexAny(path, ".["), 0)
		if path == "" {
			return 0
		}
		path = path[:i]
	}
}

func (l *errList) add(field, format string, args ...any) {
	fe := &care.FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
	l.errs = append(l.errs, posErr{pos: l.posOf(field), seq: len(l.errs), err: fe})
}

// addAtEnd adds an error placed after everything in the document (a
// missing element is noticed at the end of its array).
func (l *errList) addAtEnd(field, format string, args ...any) {
	fe := &care.FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
	l.errs = append(l.errs, posErr{pos: len(l.pos), seq: len(l.errs), err: fe})
}

func (l *errList) first() error {
	if len(l.errs) == 0 {
		return nil
	}
	sort.SliceStable(l.errs, func(i, j int) bool {
		a, b := l.errs[i], l.errs[j]
		if a.pos != b.pos || !l.byText {
			return a.pos < b.pos
		}
		if a.err.Field != b.err.Field {
			return a.err.Field < b.err.Field
		}
		return a.err.Reason < b.err.Reason
	})
	return l.errs[0].err
}

// ---- schema ------------------------------------------------------------------

const schemaURL = "https://ordercare.dev/schemas/care-template.schema.json"

//go:embed template.schema.json
var templateSchema []byte

// TemplateSchema returns the JSON Schema (draft 2020-12) of care templates,
// template.schema.json: the structural half of what Parse checks. The slice
// is a fresh copy.
func TemplateSchema() []byte { return append([]byte(nil), templateSchema...) }

var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(TemplateSchema()))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, err
	}
	return c.Compile(schemaURL)
})

var printer = message.NewPrinter(language.English)

// firstSchemaError turns the leaves of a schema validation error into field
// errors and returns the first in document order.
func firstSchemaError(ve *jsonschema.ValidationError, pos map[string]int) error {
	l := &errList{pos: pos, byText: true}
	var visit func(e *jsonschema.ValidationError)
	visit = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			schemaLeaf(l, e)
			return
		}
		for _, c := range e.Causes {
			visit(c)
		}
	}
	visit(ve)
	if err := l.first(); err != nil {
		return err
	}
	return care.Invalid("", "%v", ve)
}

func schemaLeaf(l *errList, e *jsonschema.ValidationError) {
	path := pathOf(e.InstanceLocation)
	kw := e.SchemaURL
	if i := strings.Index(kw, "#"); i >= 0 {
		kw = kw[i+1:]
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			l.add(joinPath(path, m), "required%s", requiredHint(kw))
		}
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			if strings.HasPrefix(kw, "/$defs/localized") || strings.HasPrefix(kw, "/properties/replies") {
				l.add(joinPath(path, p), "key %q is not a BCP 47 language tag such as zh-CN", p)
				continue
			}
			l.add(joinPath(path, p), "unknown field")
		}
	case *kind.FalseSchema:
		l.add(path, "not allowed %s", falseHint(kw))
	case *kind.Pattern:
		l.add(path, "%s", patternHint(kw, k.Got))
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = fmt.Sprint(w)
		}
		l.add(path, "must be one of %s", strings.Join(want, ", "))
	case *kind.Type:
		l.add(path, "must be %s, not %s", strings.Join(k.Want, " or "), k.Got)
	case *kind.Minimum, *kind.Maximum:
		switch {
		case strings.HasSuffix(path, "contact_budget"):
			l.add(path, "must be an integer from 1 to 20")
		case strings.HasSuffix(path, "priority"):
			l.add(path, "must be an integer from 1 (most urgent) to 5")
		default:
			l.add(path, "%s", e.ErrorKind.LocalizedString(printer))
		}
	case *kind.MinItems:
		l.add(path, "needs at least %d item(s), has %d", k.Want, k.Got)
	case *kind.MaxItems:
		l.add(path, "allows at most %d items, has %d", k.Want, k.Got)
	case *kind.MinProperties:
		l.add(path, "needs at least %d entry, has %d", k.Want, k.Got)
	case *kind.MinLength:
		if k.Got == 0 {
			l.add(path, "must not be empty")
		} else {
			l.add(path, "needs at least %d characters", k.Want)
		}
	case *kind.MaxLength:
		l.add(path, "is %d characters long; at most %d", k.Got, k.Want)
	case *kind.UniqueItems:
		l.add(fmt.Sprintf("%s[%d]", path, k.Duplicates[1]), "repeats %s[%d]", path, k.Duplicates[0])
	default:
		l.add(path, "%s", e.ErrorKind.LocalizedString(printer))
	}
}

func requiredHint(kw string) string {
	switch {
	case strings.HasPrefix(kw, "/$defs/step/allOf/1"):
		return " in a call step"
	}
	return ""
}

func falseHint(kw string) string {
	switch {
	case strings.HasPrefix(kw, "/$defs/step/allOf/0"):
		return "in a message step"
	case strings.HasPrefix(kw, "/$defs/step/allOf/1"):
		return "in a call step"
	case strings.HasPrefix(kw, "/$defs/step/allOf/2"):
		return "in a notify_shop step"
	}
	return "here"
}

func patternHint(kw, got string) string {
	switch {
	case strings.HasPrefix(kw, "/$defs/duration"):
		if strings.HasPrefix(strings.TrimSpace(got), "-") {
			return fmt.Sprintf("%q is negative: delays count forward from the order", got)
		}
		return fmt.Sprintf("%q is not a duration such as \"10m\", \"6h\" or \"1h30m\"", got)
	case strings.HasPrefix(kw, "/$defs/time_of_day"):
		return fmt.Sprintf("%q is not a time of day HH:MM such as \"16:00\"", got)
	case strings.HasPrefix(kw, "/$defs/locale"):
		return fmt.Sprintf("%q is not a BCP 47 language tag such as zh-CN", got)
	case strings.HasPrefix(kw, "/$defs/decimal"):
		return fmt.Sprintf("%q is not a non-negative decimal string such as \"500\" or \"99.90\"", got)
	case strings.HasPrefix(kw, "/$defs/name"):
		return fmt.Sprintf("%q is not 1-32 characters of a-z, 0-9 and _", got)
	}
	return fmt.Sprintf("%q has the wrong form", got)
}

// ---- semantic checks ---------------------------------------------------------

func (t *Template) check(wf care.Workflow, l *errList) {
	if t.Workflow != wf {
		l.add("workflow", "is %q but the template is stored for %q", t.Workflow, wf)
		return
	}
	t.cutoffMin = -1
	if t.Cutoff != "" {
		t.cutoffMin = parseClock(t.Cutoff)
	}
	if q := t.QuietHours; q != nil {
		t.quietFrom, t.quietTo = parseClock(q.From), parseClock(q.To)
		if t.quietFrom == t.quietTo {
			l.add("quiet_hours.to", "equals from: quiet hours must not be empty (omit quiet_hours for none)")
		}
	}
	if g := t.MinGap; g != nil && (g.Std() < MinGapFloor || g.Std() > MinGapCeiling) {
		l.add("min_gap", "%s is outside %s..%s: the least time between two messages to one buyer", g.Std(), MinGapFloor, MinGapCeiling)
	}
	ids := map[string]int{}
	t.compiled = map[scriptKey]render.Node{}
	for i, s := range t.Steps {
		p := fmt.Sprintf("steps[%d]", i)
		if j, dup := ids[s.ID]; dup {
			l.add(p+".id", "duplicate id %q (also steps[%d])", s.ID, j)
		} else {
			ids[s.ID] = i
		}
		t.compileField(l, p, s, "script", s.Script)
		if s.Action == ActionCall {
			t.compileField(l, p, s, "reason", s.Reason)
			if s.SLA <= 0 {
				l.add(p+".sla", "must be positive")
			}
		}
		if s.BeforeCutoff != nil {
			switch {
			case *s.BeforeCutoff <= 0:
				l.add(p+".before_cutoff", "must be positive: at the cut-off itself the order no longer ships today")
			case t.Cutoff == "":
				l.add(p+".before_cutoff", "needs the template's cutoff")
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// ---- Liquid ------------------------------------------------------------------

// knownVars are the variables of each namespace Render binds (step.coupon
// only when the step has a coupon; cutoff only when the template has one).
var knownVars = map[string][]string{
	"order": {"id", "name", "total", "currency", "cod_fee", "cod_total", "pay_deadline", "placed_at", "items", "item_count"},
	"buyer": {"name"},
	"shop":  {"name"},
	"step":  {"coupon"},
	// shipment: what a shipping notice is about (Vars.Shipment); empty elsewhere.
	"shipment": {"parcels", "count", "total", "split_reason", "complete", "remaining"},
	// pickup: the pickup point a pickup reminder is about (Vars.Pickup); empty elsewhere.
	"pickup": {"point", "deadline"},
}

var (
	liquidErrRE = regexp.MustCompile(`^Liquid error(?: \(line (\d+)\))?: `)
	markupRE    = regexp.MustCompile(`(?s)\{%-?(.*?)-?%\}|\{\{-?(.*?)-?\}\}`)
	quotedRE    = regexp.MustCompile(`"[^"]*"|'[^']*'`)
	nsVarRE     = regexp.MustCompile(`\b(order|buyer|shop|step|shipment)\.([A-Za-z_][A-Za-z0-9_]*)`)
	leadRE      = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_-]*)`)
	defRE       = regexp.MustCompile(`^\s*(?:for\s+([A-Za-z_][A-Za-z0-9_-]*)\s+in\b|assign\s+([A-Za-z_][A-Za-z0-9_-]*)|capture\s+([A-Za-z_][A-Za-z0-9_-]*)|tablerow\s+([A-Za-z_][A-Za-z0-9_-]*)\s+in\b)`)
)

// builtinNames may lead an output expression besides the bound variables.
var builtinNames = map[string]bool{"forloop": true, "tablerowloop": true, "true": true, "false": true,
	"nil": true, "null": true, "empty": true, "blank": true}

func (t *Template) compileField(l *errList, p string, s Step, field string, m map[string]string) {
	fp := p + "." + field
	if _, ok := m[t.DefaultLocale]; !ok {
		l.add(fp, "missing the default locale %s (the fallback for every buyer)", t.DefaultLocale)
	}
	maxLen, limit := t.maxLen(s, field)
	for _, loc := range sortedKeys(m) {
		samples := []map[string]any{sampleVars().bindings(t, s, loc), sparseVars().bindings(t, s, loc)}
		src := m[loc]
		lp := fp + "." + loc
		tpl, err := compileScript(src)
		if err != nil {
			l.add(lp, "%s", err)
			continue
		}
		if bad := unknownStatic(src, s, t); bad != "" {
			l.add(lp, "unknown variable %s", bad)
			continue
		}
		ok := true
		for _, b := range samples {
			if _, err := renderScript(tpl, b, maxLen, limit); err != nil {
				var le *LimitError
				if errors.As(err, &le) {
					l.add(lp, "%s for a sample order", le.Reason)
				} else {
					l.add(lp, "%s", liquidMessage(err))
				}
				ok = false
				break
			}
		}
		if ok {
			t.compiled[scriptKey{s.ID, field, loc}] = tpl
		}
	}
}

// liquidMessage turns a liquid error into a reason: "unknown variable {{ order.totl }}".
func liquidMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "undefined variable in "); i >= 0 {
		return "unknown variable " + msg[i+len("undefined variable in "):]
	}
	if m := liquidErrRE.FindStringSubmatch(msg); m != nil {
		if m[1] != "" {
			return "line " + m[1] + ": " + msg[len(m[0]):]
		}
		return msg[len(m[0]):]
	}
	return msg
}

// unknownStatic finds, in every tag and output of src, including branches a
// sample render does not take, a namespaced variable Render does not bind
// ({% if order.totl %}) or an output led by an unbound name ({{ coupon }});
// it returns the first, or "".
func unknownStatic(src string, s Step, t *Template) string {
	marks := markupRE.FindAllStringSubmatch(src, -1)
	local := map[string]bool{}
	for _, m := range marks {
		if d := defRE.FindStringSubmatch(m[1]); d != nil {
			for _, name := range d[1:] {
				if name != "" {
					local[name] = true
				}
			}
		}
	}
	top := map[string]bool{"order": true, "buyer": true, "shop": true, "step": true, "shipment": true, "pickup": true, "cutoff": t.Cutoff != ""}
	for _, m := range marks {
		tag, isTag := m[1], strings.HasPrefix(m[0], "{%")
		body := quotedRE.ReplaceAllString(tag+m[2], `""`)
		for _, v := range nsVarRE.FindAllStringSubmatch(body, -1) {
			known := slices.Contains(knownVars[v[1]], v[2])
			if v[1] == "step" && v[2] == "coupon" && s.Coupon == "" {
				known = false
			}
			if !known && !local[v[1]] {
				if isTag {
					return v[0] + " in " + strings.TrimSpace(m[0])
				}
				return strings.TrimSpace(m[0])
			}
		}
		if isTag {
			continue
		}
		if lead := leadRE.FindStringSubmatch(body); lead != nil {
			name := lead[1]
			if !top[name] && !local[name] && !builtinNames[name] {
				return strings.TrimSpace(m[0])
			}
		}
	}
	return ""
}

// sparseVars is an order with every optional field empty: online payment,
// no deadline, no buyer name, no items.
func sparseVars() Vars {
	return VarsFor(care.OrderState{Order: care.Order{ID: "SAMPLE-2", Total: "9.90", Currency: "CNY"}}, "Sample Tea Shop", time.UTC)
}

// sampleVars is the order every script renders against at parse time.
func sampleVars() Vars {
	placed := time.Date(2026, 11, 11, 0, 5, 0, 0, time.UTC)
	deadline := placed.Add(72 * time.Hour)
	v := sampleOrderVars(placed, deadline)
	v.Shipment = ShipmentVars{Total: 2, SplitReason: "warehouse",
		Parcels: []ParcelVars{{Number: 1, Carrier: "SF Express", TrackingNumber: "SF1234567890123",
			TrackingURL: "https://www.sf-express.com/track?no=SF1234567890123", Items: []ItemVars{{Title: "Longjing 250 g", Quantity: 2}}},
			{Number: 2, Carrier: "ZTO", TrackingNumber: "ZT9876543210", TrackingURL: "https://www.zto.com/track?no=ZT9876543210",
				Items: []ItemVars{{Title: "Tea cup", Quantity: 1}}}},
		Remaining: []ItemVars{{Title: "Tea tray", Quantity: 1}}}
	v.Pickup = PickupVars{Point: "Cainiao Station, Building 3, 88 Wensan Road", Deadline: deadline}
	return v
}

func sampleOrderVars(placed, deadline time.Time) Vars {
	return VarsFor(care.OrderState{Order: care.Order{
		ID: "SAMPLE-1", PlacedAt: &placed, PayDeadline: &deadline, Total: "129.90", Currency: "CNY",
		PaymentMethod: care.PayCOD, CODFee: "8.00",
		Buyer: &care.Buyer{Name: "Li Lei"},
		Items: []care.Item{{Title: "Longjing 250 g", Quantity: 2, Price: "49.95"},
			{Title: "Tea cup", Quantity: 1, Price: "30.00"}},
	}}, "Sample Tea Shop", time.UTC)
}
