package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// isoDate is LocalStack's PATTERN_ISO8601 (a zone designator is required).
var isoDate = regexp.MustCompile(`(?:[1-9]\d{3}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)|(?:[1-9]\d(?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[13579][26])00)-02-29)T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?(?:Z|[+-][01]\d:?([0-5]\d)?)`)

var uuidRe = regexp.MustCompile(`^[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}$`)

// tokenRe matches a value that is already a placeholder token.
var tokenRe = regexp.MustCompile(`^<[^<>]+>$`)

// Normalizer maps values produced by an engine onto the tokens of the
// recorded data, following the README's normalisation rules for one case.
// Numbering state (<uuid:N>, <replacement:N>) is shared by every call on
// the same Normalizer, as it is within one recorded snapshot: normalise the
// history first, then the output, error and cause. Not safe for concurrent use.
type Normalizer struct {
	placeholders []Placeholder
	steps        []step
	// SkipParallelSort disables the parallel_events_sorted transformer
	// (it is not idempotent, so fixed-point checks turn it off).
	SkipParallelSort bool
	// SkipJSONParse disables rule 1 (JSON text fields → objects); recorded
	// data is already parsed, and parsing is not idempotent (it would reach
	// JSON texts nested inside parsed values).
	SkipJSONParse bool

	uuids    map[string]string
	nextUUID int

	jsonInputs    map[string]string
	nextJSONInput int

	// headersFirst: the SDK header rules ran before the UUID rule when the
	// case was recorded (x-amzn-RequestId shows its header name rather than
	// a <uuid:N>); LocalStack's transformer set changed over time.
	headersFirst bool
	refs         map[string]map[string]string // replacement → value → token
	refNext      map[string]int
}

type step struct {
	t  Transformer
	re *regexp.Regexp
	jp jsonPath
}

// NewNormalizer prepares the normalisation of case c. It fails when a
// transformer cannot be compiled (some recorded regexes use Python-only
// syntax such as look-behind).
func NewNormalizer(c *Case) (*Normalizer, error) {
	n := &Normalizer{
		placeholders: c.Placeholders,
		uuids:        map[string]string{},
		jsonInputs:   map[string]string{},
		refs:         map[string]map[string]string{},
		refNext:      map[string]int{},
	}
	if b, err := json.Marshal(c.Expected.History); err == nil {
		n.headersFirst = bytes.Contains(b, []byte(`"x-amzn-RequestId":"x-amzn-RequestId"`)) ||
			bytes.Contains(b, []byte(`"RequestId":"RequestId"`))
	}
	for _, t := range c.Transformers {
		s := step{t: t}
		switch t.Kind {
		case "regex":
			re, err := regexp.Compile(t.Pattern)
			if err != nil {
				return nil, fmt.Errorf("transformer regex %q: %w", t.Pattern, err)
			}
			s.re = re
		case "jsonpath":
			p, err := parseJSONPath(t.Path)
			if err != nil {
				return nil, fmt.Errorf("transformer jsonpath %q: %w", t.Path, err)
			}
			s.jp = p
		case "parallel_events_sorted":
		default:
			return nil, fmt.Errorf("unknown transformer kind %q", t.Kind)
		}
		n.steps = append(n.steps, s)
	}
	return n, nil
}

// History normalises a list of history events (generic JSON values in the
// AWS wire shape, e.g. decoded from json.Marshal of sfnlocal.HistoryEvent).
// The input is not modified.
func (n *Normalizer) History(events []any) []any {
	doc := map[string]any{"events": deepCopy(events)}
	if !n.SkipJSONParse {
		parseJSONFields(doc)
	}
	out := n.run(doc, true).(map[string]any)
	ev, _ := out["events"].([]any)
	return ev
}

// Output normalises an execution output that is already decoded JSON
// (placeholders, global tokens, transformers; no JSON-text parsing). It is
// normalised as the output of an ExecutionSucceeded event, where AWS's
// recorded value comes from, so that event-scoped transformer paths apply.
func (n *Normalizer) Output(v any) any {
	return n.inEvent("ExecutionSucceeded", "executionSucceededEventDetails", "output", deepCopy(v), false)
}

// Cause normalises an execution's cause text: a text starting with "{"
// that parses as JSON becomes the parsed object (rule 1), then as Output,
// in an ExecutionFailed event.
func (n *Normalizer) Cause(s string) any {
	return n.inEvent("ExecutionFailed", "executionFailedEventDetails", "cause", s, !n.SkipJSONParse)
}

// Value normalises any decoded JSON value on its own.
func (n *Normalizer) Value(v any) any {
	return n.run(deepCopy(v), false)
}

func (n *Normalizer) inEvent(typ, details, field string, v any, parse bool) any {
	det := map[string]any{field: v}
	if parse {
		parseJSONFields(det)
	}
	doc := map[string]any{"events": []any{map[string]any{"type": typ, details: det}}}
	out := n.run(doc, false).(map[string]any)
	ev := out["events"].([]any)[0].(map[string]any)
	return ev[details].(map[string]any)[field]
}

func (n *Normalizer) run(doc any, events bool) any {
	// 2. Per-case literals.
	doc = mapStrings(doc, n.replacePlaceholders)
	// 3. Global tokens.
	doc = mapStrings(doc, func(s string) string { return isoDate.ReplaceAllString(s, "date") })
	doc = timestampKeys(doc)
	doc = n.causeJSONInputs(doc)
	if n.headersFirst {
		doc = sdkMetadata(doc, false)
	}
	n.collectUUIDs(doc)
	if len(n.uuids) > 0 {
		doc = mapStrings(doc, n.replaceUUIDs)
	}
	doc = sdkMetadata(doc, false)
	// 4. Test-specific transformers, in order.
	for _, s := range n.steps {
		switch s.t.Kind {
		case "regex":
			doc = applyRegexSerialized(doc, s.re, pyReplacement(s.t.Replacement))
		case "jsonpath":
			if s.t.ReplaceReference {
				doc = n.replaceReference(doc, s)
			} else {
				s.jp.each(doc, func(parent any, key any) {
					setChild(parent, key, s.t.Replacement)
				})
			}
		case "parallel_events_sorted":
			if events && !n.SkipParallelSort {
				if m, ok := doc.(map[string]any); ok {
					if ev, ok := m["events"].([]any); ok {
						m["events"] = sortParallelEvents(ev)
					}
				}
			}
		}
	}
	return doc
}

// tokenFor returns the token the case's placeholders map literal to, or
// literal itself when none does.
func (n *Normalizer) tokenFor(literal string) string {
	for _, p := range n.placeholders {
		if p.Literal == literal {
			return p.Token
		}
	}
	return literal
}

func (n *Normalizer) replacePlaceholders(s string) string {
	for _, p := range n.placeholders {
		if p.Literal != "" && strings.Contains(s, p.Literal) {
			s = strings.ReplaceAll(s, p.Literal, p.Token)
		}
	}
	return s
}

// collectUUIDs numbers, in document order (object keys sorted), every UUID
// held by a key ending in "id"/"Id" (directly or as a list element).
func (n *Normalizer) collectUUIDs(v any) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			val := x[k]
			if strings.HasSuffix(k, "id") || strings.HasSuffix(k, "Id") || strings.HasSuffix(k, "ID") {
				n.noteUUID(val)
				if l, ok := val.([]any); ok {
					for _, e := range l {
						n.noteUUID(e)
					}
				}
			}
			n.collectUUIDs(val)
		}
	case []any:
		for _, e := range x {
			n.collectUUIDs(e)
		}
	}
}

func (n *Normalizer) noteUUID(v any) {
	s, ok := v.(string)
	if !ok || !uuidRe.MatchString(s) {
		return
	}
	if _, seen := n.uuids[s]; !seen {
		n.nextUUID++
		n.uuids[s] = "<uuid:" + strconv.Itoa(n.nextUUID) + ">"
	}
}

func (n *Normalizer) replaceUUIDs(s string) string {
	if len(s) < 36 {
		return s
	}
	for u, tok := range n.uuids {
		if strings.Contains(s, u) {
			s = strings.ReplaceAll(s, u, tok)
		}
	}
	return s
}

func (n *Normalizer) replaceReference(doc any, s step) any {
	m := n.refs[s.t.Replacement]
	if m == nil {
		m = map[string]string{}
		n.refs[s.t.Replacement] = m
	}
	s.jp.each(doc, func(parent any, key any) {
		v, ok := getChild(parent, key).(string)
		if !ok || v == "" || tokenRe.MatchString(v) {
			return
		}
		if _, seen := m[v]; !seen {
			n.refNext[s.t.Replacement]++
			m[v] = "<" + s.t.Replacement + ":" + strconv.Itoa(n.refNext[s.t.Replacement]) + ">"
		}
	})
	if len(m) == 0 {
		return doc
	}
	return mapStrings(doc, func(str string) string {
		for v, tok := range m {
			if strings.Contains(str, v) {
				str = strings.ReplaceAll(str, v, tok)
			}
		}
		return str
	})
}

// parseJSONFields replaces, in place, every string value of an object whose
// text starts with "{" and parses as JSON by the parsed value. It descends
// into objects and into objects held in lists, never into parsed values
// (LocalStack's _transform_dict_to_parseable_values).
func parseJSONFields(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case map[string]any:
			parseJSONFields(x)
		case []any:
			for _, e := range x {
				if em, ok := e.(map[string]any); ok {
					parseJSONFields(em)
				}
			}
		case string:
			if strings.HasPrefix(x, "{") {
				if pv, err := DecodeJSON([]byte(x)); err == nil {
					m[k] = pv
				}
			}
		}
	}
}

// mapStrings applies f to every string (object keys included) and returns
// the rebuilt value.
func mapStrings(v any, f func(string) string) any {
	switch x := v.(type) {
	case string:
		return f(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[f(k)] = mapStrings(e, f)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = mapStrings(e, f)
		}
		return x
	}
	return v
}

// timestampKeys replaces the value of every key whose name contains
// "timestamp" (any case) by "timestamp", unless the value is already a token
// (a valid ISO date has become "date" first: the recorded data shows both).
func timestampKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.Contains(strings.ToLower(k), "timestamp") {
				if s, ok := e.(string); !ok || (s != "date" && !tokenRe.MatchString(s)) {
					x[k] = "timestamp"
				}
				continue
			}
			x[k] = timestampKeys(e)
		}
	case []any:
		for i, e := range x {
			x[i] = timestampKeys(e)
		}
	}
	return v
}

// jsonInputRe finds a JSON object quoted in an error cause ('{...}').
var jsonInputRe = regexp.MustCompile(`'\{.*\}'`)

// causeJSONInputs applies replaceJSONInput to the values of "cause" keys.
func (n *Normalizer) causeJSONInputs(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && strings.EqualFold(k, "cause") {
				x[k] = n.replaceJSONInput(s)
				continue
			}
			x[k] = n.causeJSONInputs(e)
		}
	case []any:
		for i, e := range x {
			x[i] = n.causeJSONInputs(e)
		}
	}
	return v
}

func (n *Normalizer) replaceJSONInput(s string) string {
	if !strings.Contains(s, "'{") {
		return s
	}
	return jsonInputRe.ReplaceAllStringFunc(s, func(m string) string {
		body := m[1 : len(m)-1]
		if !json.Valid([]byte(body)) {
			return m
		}
		tok, ok := n.jsonInputs[body]
		if !ok {
			n.nextJSONInput++
			tok = "<json-input:" + strconv.Itoa(n.nextJSONInput) + ">"
			n.jsonInputs[body] = tok
		}
		return "'" + tok + "'"
	})
}

var headerNames = map[string]bool{"X-Amzn-Trace-Id": true, "x-amz-crc32": true, "x-amzn-RequestId": true}

// sdkMetadata applies the SDK response rules of the README: ResponseMetadata
// reduced, SdkHttpMetadata..Date → "date", SdkResponseMetadata..RequestId →
// "RequestId", some header values → their header name. Values that are
// already tokens (e.g. <uuid:N>) are kept.
func sdkMetadata(v any, inHTTP bool) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			switch {
			case k == "ResponseMetadata":
				x[k] = map[string]any{"HTTPHeaders": map[string]any{}, "HTTPStatusCode": float64(200)}
			case inHTTP && k == "Date" && !holdsToken(e):
				x[k] = "date"
			case inHTTP && headerNames[k] && !holdsToken(e):
				x[k] = k
			case k == "SdkResponseMetadata":
				if rm, ok := e.(map[string]any); ok {
					if _, has := rm["RequestId"]; has && !holdsToken(rm["RequestId"]) {
						rm["RequestId"] = "RequestId"
					}
				}
			default:
				x[k] = sdkMetadata(e, inHTTP || k == "SdkHttpMetadata")
			}
		}
	case []any:
		for i, e := range x {
			x[i] = sdkMetadata(e, inHTTP)
		}
	}
	return v
}

func holdsToken(v any) bool {
	switch x := v.(type) {
	case string:
		return tokenRe.MatchString(x)
	case []any:
		return len(x) == 1 && holdsToken(x[0])
	}
	return false
}

// pyReplacement converts a Python re.sub replacement (\1, \g<1>, \\) to Go's
// Regexp.Expand syntax.
func pyReplacement(r string) string {
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c == '$':
			b.WriteString("$$")
		case c == '\\' && i+1 < len(r) && r[i+1] >= '0' && r[i+1] <= '9':
			b.WriteString("${" + string(r[i+1]) + "}")
			i++
		case c == '\\' && i+1 < len(r) && r[i+1] == '\\':
			b.WriteByte('\\')
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// applyRegexSerialized applies re to the JSON text of doc (as LocalStack
// does), falling back to per-string replacement when the result is not JSON.
func applyRegexSerialized(doc any, re *regexp.Regexp, repl string) any {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err == nil {
		text := buf.String()
		if !re.MatchString(text) {
			return doc
		}
		out := re.ReplaceAllString(text, repl)
		if v, err := DecodeJSON([]byte(out)); err == nil {
			return v
		}
	}
	return mapStrings(doc, func(s string) string { return re.ReplaceAllString(s, repl) })
}

// sortParallelEvents reproduces LocalStack's SfnNoneRecursiveParallelTransformer
// exactly, including its in-place list surgery while iterating.
func sortParallelEvents(events []any) []any {
	startIdx := -1
	var sub []any
	in := false
	for i := 0; i < len(events); i++ {
		ev, ok := events[i].(map[string]any)
		t, _ := ev["type"].(string)
		switch {
		case !ok || t == "":
			in = false
		case t == "ParallelStateSucceeded" || t == "ParallelStateAborted" || t == "ParallelStateExited" || t == "ParallelStateFailed":
			if startIdx < 0 {
				startIdx = 0 // Python: events[None:i]
			}
			sorted := append([]any(nil), sub...)
			sort.SliceStable(sorted, func(a, b int) bool { return pyJSON(sorted[a]) < pyJSON(sorted[b]) })
			rest := append([]any(nil), events[i:]...)
			events = append(append(events[:startIdx:startIdx], sorted...), rest...)
			in = false
		case t == "ParallelStateStarted":
			in = true
			sub = nil
			startIdx = i + 1
		case in:
			ev["id"] = []any{float64(0)}
			ev["previousEventId"] = float64(0)
			sub = append(sub, ev)
		}
	}
	return events
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// jsonPath is the small JSONPath subset used by the recorded transformers:
// "$" followed by ".name" and "..name" segments.
type jsonPath []pathSeg

type pathSeg struct {
	descent bool
	name    string
}

func parseJSONPath(p string) (jsonPath, error) {
	if !strings.HasPrefix(p, "$") {
		return nil, fmt.Errorf("path must start with $")
	}
	rest := p[1:]
	var out jsonPath
	for rest != "" {
		seg := pathSeg{}
		switch {
		case strings.HasPrefix(rest, ".."):
			seg.descent = true
			rest = rest[2:]
		case strings.HasPrefix(rest, "."):
			rest = rest[1:]
		default:
			return nil, fmt.Errorf("unsupported syntax at %q", rest)
		}
		end := strings.IndexByte(rest, '.')
		if end < 0 {
			end = len(rest)
		}
		seg.name = rest[:end]
		if seg.name == "" || strings.ContainsAny(seg.name, "[]*") {
			return nil, fmt.Errorf("unsupported segment %q", seg.name)
		}
		rest = rest[end:]
		out = append(out, seg)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty path")
	}
	return out, nil
}

// each calls f(parent, key) for every location the path matches.
func (p jsonPath) each(doc any, f func(parent any, key any)) {
	var walk func(v any, segs jsonPath)
	walk = func(v any, segs jsonPath) {
		seg := segs[0]
		last := len(segs) == 1
		visit := func(m map[string]any) {
			if child, ok := m[seg.name]; ok {
				if last {
					f(m, seg.name)
				} else {
					walk(child, segs[1:])
				}
			}
		}
		if m, ok := v.(map[string]any); ok {
			visit(m)
		}
		if !seg.descent {
			return
		}
		switch x := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(x) {
				walk(x[k], segs)
			}
		case []any:
			for _, e := range x {
				walk(e, segs)
			}
		}
	}
	walk(doc, p)
}

func getChild(parent any, key any) any {
	if m, ok := parent.(map[string]any); ok {
		return m[key.(string)]
	}
	return nil
}

func setChild(parent any, key any, v any) {
	if m, ok := parent.(map[string]any); ok {
		m[key.(string)] = v
	}
}

// pyJSON prints v like Python's json.dumps(v, sort_keys=True) with default
// separators and ensure_ascii.
func pyJSON(v any) string {
	var b strings.Builder
	writePyJSON(&b, v)
	return b.String()
}

func writePyJSON(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case float64:
		b.WriteString(pyFloatOrInt(x))
	case json.Number:
		b.WriteString(x.String())
	case string:
		writePyJSONString(b, x)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyJSON(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range sortedKeys(x) {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyJSONString(b, k)
			b.WriteString(": ")
			writePyJSON(b, x[k])
		}
		b.WriteByte('}')
	default:
		fmt.Fprintf(b, "%v", x)
	}
}

func writePyJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r >= 0x7f && r < 0x10000):
			fmt.Fprintf(b, `\u%04x`, r)
		case r >= 0x10000:
			r -= 0x10000
			fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// pyFloatOrInt prints an integral float64 as an integer, others as Python's
// float repr.
func pyFloatOrInt(f float64) string {
	if f == float64(int64(f)) && f > -1e15 && f < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return pyFloatRepr(f)
}
