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

// Parse decodes and validates the template body stored for workflow wf.
//
// The checks run in three stages, each only when the one before passed:
//  1. the body is one JSON object without duplicate keys;
//  2. it satisfies the JSON Schema template.schema.json (types,
//     required and unknown fields, patterns such as non-negative durations,
//     fields allowed per workflow and per action), and decodes strictly;
//  3. the semantic rules: workflow equals wf; every script and reason has the
//     default locale, parses as Liquid and uses only the variables Render
//     binds — checked by rendering against two sample orders with strict
//     variables and statically over every tag and output, so untaken
//     branches count too; the include tag is refused; step ids are unique;
//     an unpaid_chase step happens before its deadline (after < pay_window −
//     before_deadline); before_cutoff is positive and needs the template's
//     cutoff; a call's sla is positive; quiet hours are not empty; reply
//     keywords exist for the default locale, are usable and not both yes and
//     no; a cod_confirm template has exactly the steps ask (message), call
//     (call, outcomes confirmed, declined, unreachable) and declined
//     (notify_shop).
//
// Every error is a *care.FieldError (errors.Is care.ErrInvalid) whose Field is
// the JSON path of the offending value, such as "steps[2].script.en" (a
// missing field is named by its would-be path, a missing cod_confirm step by
// "steps"). Of several errors of the failing stage Parse returns the first
// in document order (ties broken deterministically). The only other error is
// an unusable embedded schema, a build defect.
func Parse(wf care.Workflow, body []byte) (*Template, error) {
	if !workflowName.MatchString(string(wf)) {
		return nil, care.Invalid("workflow", "%q is not a workflow name (1-32 characters of a-z, 0-9 and _)", wf)
	}
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
	errs := &errList{pos: pos}
	t.check(wf, errs)
	if err := errs.first(); err != nil {
		return nil, err
	}
	return t, nil
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
	case strings.HasPrefix(kw, "/allOf/0"):
		return " in an unpaid_chase template"
	case strings.HasPrefix(kw, "/allOf/1"):
		return " in a cod_confirm template"
	case strings.HasPrefix(kw, "/$defs/step/allOf/1"):
		return " in a call step"
	}
	return ""
}

func falseHint(kw string) string {
	switch {
	case strings.HasPrefix(kw, "/allOf/0"):
		return "in an unpaid_chase template"
	case strings.HasPrefix(kw, "/allOf/1"):
		return "in a cod_confirm template"
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
	switch wf {
	case care.UnpaidChase:
		if t.PayWindow <= 0 {
			l.add("pay_window", "must be positive")
		}
	case care.CODConfirm:
		if t.ReplyTimeout <= 0 {
			l.add("reply_timeout", "must be positive")
		}
		t.checkReplies(l)
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
		if wf == care.UnpaidChase && s.Action != ActionNotifyShop && t.PayWindow > 0 {
			room := t.PayWindow - s.BeforeDeadline
			switch {
			case room <= 0:
				l.add(p+".before_deadline", "%s leaves no time inside the pay window %s", s.BeforeDeadline.Std(), t.PayWindow.Std())
			case s.After >= room:
				l.add(p+".after", "%s is at or after the deadline: the pay window %s minus before_deadline %s leaves %s",
					s.After.Std(), t.PayWindow.Std(), s.BeforeDeadline.Std(), room.Std())
			}
		}
	}
	if wf == care.CODConfirm {
		t.checkCODShape(l)
	}
}

func (t *Template) checkCODShape(l *errList) {
	want := map[string]Action{CODAsk: ActionMessage, CODCall: ActionCall, CODDeclined: ActionNotifyShop, CODConfirmed: ActionNotifyShop}
	seen := map[string]bool{}
	for i, s := range t.Steps {
		p := fmt.Sprintf("steps[%d]", i)
		a, ok := want[s.ID]
		if !ok {
			l.add(p+".id", "cod_confirm steps are ask (message), call (call), declined (notify_shop) and optionally confirmed (notify_shop); %q is none of them", s.ID)
			continue
		}
		seen[s.ID] = true
		if s.Action != a {
			l.add(p+".action", "step %q of cod_confirm must be a %s", s.ID, a)
		}
		if s.ID == CODCall && s.Action == ActionCall {
			got := slices.Clone(s.Outcomes)
			slices.Sort(got)
			if !slices.Equal(got, CODOutcomes) { // CODOutcomes is sorted
				l.add(p+".outcomes", "must be exactly %s", joinQuoted(CODOutcomes))
			}
		}
	}
	for _, id := range []string{CODAsk, CODCall, CODDeclined} {
		if !seen[id] {
			l.addAtEnd("steps", "cod_confirm needs a step %q (%s)", id, want[id])
		}
	}
}

func (t *Template) checkReplies(l *errList) {
	if _, ok := t.Replies[t.DefaultLocale]; !ok {
		l.add("replies", "missing the default locale %s", t.DefaultLocale)
	}
	t.replies = map[string]*keywordSet{}
	for _, loc := range sortedKeys(t.Replies) {
		kw := t.Replies[loc]
		ks := &keywordSet{}
		yes := map[string]bool{}
		for i, w := range kw.Yes {
			n := normalize(w)
			if n == "" {
				l.add(fmt.Sprintf("replies.%s.yes[%d]", loc, i), "has no letters or digits")
				continue
			}
			yes[n] = true
			ks.yes = append(ks.yes, n)
		}
		for i, w := range kw.No {
			n := normalize(w)
			if n == "" {
				l.add(fmt.Sprintf("replies.%s.no[%d]", loc, i), "has no letters or digits")
				continue
			}
			if yes[n] {
				l.add(fmt.Sprintf("replies.%s.no[%d]", loc, i), "%q is also a yes keyword", w)
			}
			ks.no = append(ks.no, n)
		}
		t.replies[loc] = ks
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
}

var (
	liquidErrRE = regexp.MustCompile(`^Liquid error(?: \(line (\d+)\))?: `)
	markupRE    = regexp.MustCompile(`(?s)\{%-?(.*?)-?%\}|\{\{-?(.*?)-?\}\}`)
	quotedRE    = regexp.MustCompile(`"[^"]*"|'[^']*'`)
	nsVarRE     = regexp.MustCompile(`\b(order|buyer|shop|step)\.([A-Za-z_][A-Za-z0-9_]*)`)
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
	samples := []map[string]any{sampleVars().bindings(t, s), sparseVars().bindings(t, s)}
	maxLen, limit := t.maxLen(s, field)
	for _, loc := range sortedKeys(m) {
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
	top := map[string]bool{"order": true, "buyer": true, "shop": true, "step": true, "cutoff": t.Cutoff != ""}
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
	return VarsFor(care.OrderState{Order: care.Order{
		ID: "SAMPLE-1", PlacedAt: &placed, PayDeadline: &deadline, Total: "129.90", Currency: "CNY",
		PaymentMethod: care.PayCOD, CODFee: "8.00",
		Buyer: &care.Buyer{Name: "Li Lei"},
		Items: []care.Item{{Title: "Longjing 250 g", Quantity: 2, Price: "49.95"},
			{Title: "Tea cup", Quantity: 1, Price: "30.00"}},
	}}, "Sample Tea Shop", time.UTC)
}
