// Package storedjson decodes JSON that json.Marshal wrote (what the stores
// keep: orders, runs; the engine's execution inputs) in one pass.
// encoding/json scans every input twice (to validate it, then to decode
// it), a byte at a time through a state machine: a stored order of 1.4 KB
// takes it 17 µs, and storedjson about 7 µs (BenchmarkOrder). Ten thousand
// stalls due at once read ten thousand orders.
//
// Unmarshal's result is always json.Unmarshal's: anything the fast path
// does not decode exactly as encoding/json would (a key that matches no
// field exactly, a number a field cannot hold, a type it does not handle,
// an input that is not valid JSON) sends the whole input to json.Unmarshal.
package storedjson

import (
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Unmarshal decodes data into v, which must point to a zero value for the
// fast path (a non-zero one goes to json.Unmarshal, which merges into it).
// The result and any error are json.Unmarshal's.
func Unmarshal(data []byte, v any) error {
	if fast(data, v) {
		return nil
	}
	return json.Unmarshal(data, v)
}

// fast decodes data into v and reports whether it could; when it could
// not, v is as it was.
func fast(data []byte, v any) bool {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || !rv.Elem().IsZero() {
		return false
	}
	d := decoder{data: data}
	if err := d.value(rv.Elem(), planOf(rv.Elem().Type())); err == nil {
		if d.space(); d.i == len(d.data) {
			return true
		}
	}
	rv.Elem().SetZero()
	return false
}

// errSlow says the fast path stopped: json.Unmarshal decides. The
// decoder's functions return it, or an Unmarshaler's error, which sends
// the input to json.Unmarshal too.
var errSlow = errors.New("storedjson: not on the fast path")

type decoder struct {
	data  []byte
	i     int
	depth int // objects and arrays open
}

// maxDepth is how deeply nested a value the fast path decodes (encoding/json
// takes up to 10,000 levels).
const maxDepth = 1000

func (d *decoder) space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// next skips white space and returns the next byte (0 at the end).
func (d *decoder) next() byte {
	d.space()
	if d.i < len(d.data) {
		return d.data[d.i]
	}
	return 0
}

// null consumes a null literal if one comes next.
func (d *decoder) null() bool {
	if d.next() == 'n' && len(d.data)-d.i >= 4 && string(d.data[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// open consumes the opening byte c ('{' or '[') and, when the object or
// array is empty, its closing byte too: empty reports that.
func (d *decoder) open(c byte) (empty bool, err error) {
	if d.next() != c {
		return false, errSlow
	}
	d.i++
	if d.next() == c+2 { // '}' is '{'+2, ']' is '['+2
		d.i++
		return true, nil
	}
	return false, nil
}

// key reads an object member's name and its colon.
func (d *decoder) key() ([]byte, error) {
	k, err := d.str()
	if err != nil {
		return nil, err
	}
	if d.next() != ':' {
		return nil, errSlow
	}
	d.i++
	return k, nil
}

// more consumes what follows a member or an element: a comma (more is
// true) or the closing byte close (false).
func (d *decoder) more(close byte) (bool, error) {
	switch d.next() {
	case ',':
		d.i++
		return true, nil
	case close:
		d.i++
		return false, nil
	}
	return false, errSlow
}

// str reads a string and returns its text; the slice aliases data when the
// string has no escape.
func (d *decoder) str() ([]byte, error) {
	if d.next() != '"' {
		return nil, errSlow
	}
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.data); j++ {
		switch c := d.data[j]; {
		case c == '"':
			s := d.data[start:j]
			if !ascii && !utf8.Valid(s) {
				return nil, errSlow // encoding/json replaces invalid bytes
			}
			d.i = j + 1
			return s, nil
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			return nil, errSlow
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, errSlow
}

// escaped reads the string that starts at data[start] and has an escape.
func (d *decoder) escaped(start int) ([]byte, error) {
	out := make([]byte, 0, 32)
	j := start
	for j < len(d.data) {
		c := d.data[j]
		switch {
		case c == '"':
			if !utf8.Valid(out) {
				return nil, errSlow
			}
			d.i = j + 1
			return out, nil
		case c < 0x20:
			return nil, errSlow
		case c != '\\':
			out = append(out, c)
			j++
			continue
		}
		if j+1 >= len(d.data) {
			return nil, errSlow
		}
		switch e := d.data[j+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(d.data, j+2)
			if !ok {
				return nil, errSlow
			}
			j += 6
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if j+1 < len(d.data) && d.data[j] == '\\' && d.data[j+1] == 'u' {
					r2, ok = hex4(d.data, j+2)
				}
				r = utf16.DecodeRune(r, r2)
				if !ok || r == utf8.RuneError {
					return nil, errSlow // a lone surrogate: encoding/json writes U+FFFD
				}
				j += 6
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return nil, errSlow
		}
		j += 2
	}
	return nil, errSlow
}

// hex4 reads the 4 hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// number reads a number as JSON writes it and returns its text.
func (d *decoder) number() ([]byte, error) {
	d.space()
	start, j := d.i, d.i
	b := d.data
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && '1' <= b[j] && b[j] <= '9':
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
	default:
		return nil, errSlow
	}
	if j < len(b) && b[j] == '.' {
		j++
		if j >= len(b) || b[j] < '0' || b[j] > '9' {
			return nil, errSlow
		}
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j >= len(b) || b[j] < '0' || b[j] > '9' {
			return nil, errSlow
		}
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
	}
	d.i = j
	return b[start:j], nil
}

// skip passes over one value of any kind and returns its text.
func (d *decoder) skip() ([]byte, error) {
	switch c := d.next(); {
	case c == '"':
		start := d.i
		if _, err := d.str(); err != nil {
			return nil, err
		}
		return d.data[start:d.i], nil
	case c == '{' || c == '[':
		if d.depth++; d.depth > maxDepth {
			return nil, errSlow
		}
		defer func() { d.depth-- }()
		start := d.i
		empty, err := d.open(c)
		for more := !empty; more && err == nil; more, err = d.more(c + 2) {
			if c == '{' {
				if _, err = d.key(); err != nil {
					break
				}
			}
			if _, err = d.skip(); err != nil {
				break
			}
		}
		if err != nil {
			return nil, err
		}
		return d.data[start:d.i], nil
	case c == '-' || ('0' <= c && c <= '9'):
		return d.number()
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if len(d.data)-d.i >= len(lit) && string(d.data[d.i:d.i+len(lit)]) == lit {
				d.i += len(lit)
				return d.data[d.i-len(lit) : d.i], nil
			}
		}
		return nil, errSlow
	}
}

// plan is how values of one type are decoded.
type plan struct {
	kind   kind
	elem   *plan            // pointer, slice, map: of the element
	fields map[string]field // struct: by JSON name
	typ    reflect.Type
}

type kind uint8

const (
	kSlow        kind = iota // a type the fast path leaves to encoding/json
	kUnmarshaler             // *T implements json.Unmarshaler
	kString
	kInt
	kUint
	kFloat
	kBool
	kPointer
	kSlice
	kMap
	kStruct
)

type field struct {
	index []int
	ord   int // its bit in object's mask of the fields seen
	plan  *plan
}

var plans sync.Map // reflect.Type -> *plan

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func planOf(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	building := map[reflect.Type]*plan{}
	p := build(t, building)
	for bt, bp := range building {
		plans.LoadOrStore(bt, bp)
	}
	return p
}

// build makes t's plan; building holds the plans being made, so that a
// recursive type refers to its own.
func build(t reflect.Type, building map[reflect.Type]*plan) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	if p, ok := building[t]; ok {
		return p
	}
	p := &plan{typ: t}
	building[t] = p
	switch {
	case t.Kind() == reflect.Pointer && t.Name() != "":
		p.kind = kSlow // a named pointer type
	case t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(unmarshalerType):
		p.kind = kUnmarshaler
	case t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(textUnmarshalerType):
		p.kind = kSlow
	default:
		switch t.Kind() {
		case reflect.String:
			p.kind = kString
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			p.kind = kInt
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			p.kind = kUint
		case reflect.Float32, reflect.Float64:
			p.kind = kFloat
		case reflect.Bool:
			p.kind = kBool
		case reflect.Pointer:
			p.kind, p.elem = kPointer, build(t.Elem(), building)
		case reflect.Slice:
			if t.Elem().Kind() != reflect.Uint8 { // []byte is base64
				p.kind, p.elem = kSlice, build(t.Elem(), building)
			}
		case reflect.Map:
			if t.Key().Kind() == reflect.String && !reflect.PointerTo(t.Key()).Implements(textUnmarshalerType) {
				p.kind, p.elem = kMap, build(t.Elem(), building)
			}
		case reflect.Struct:
			if fs, ok := structFields(t, building); ok {
				p.kind, p.fields = kStruct, fs
			}
		}
	}
	return p
}

// structFields lists the fields of struct t by JSON name as encoding/json
// finds them: exported fields and those of embedded structs, the
// shallowest of a name winning, then the one with a tag, no field when
// still tied. ok is false for what the fast path leaves to encoding/json:
// a ",string" option, an embedded struct pointer, a struct embedded twice.
func structFields(t reflect.Type, building map[reflect.Type]*plan) (map[string]field, bool) {
	type cand struct {
		index  []int
		tagged bool
		typ    reflect.Type
	}
	byName := map[string][]cand{}
	seen := map[reflect.Type]bool{t: true}
	type level struct {
		t     reflect.Type
		index []int
	}
	for current := []level{{t, nil}}; len(current) > 0; {
		var next []level
		for _, lv := range current {
			for i := range lv.t.NumField() {
				sf := lv.t.Field(i)
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if strings.Contains(","+opts+",", ",string,") {
					return nil, false
				}
				if !validTagName(name) {
					name = ""
				}
				ft := sf.Type
				if sf.Anonymous {
					if ft.Name() == "" && ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
						if ft.Kind() == reflect.Struct && name == "" {
							return nil, false
						}
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				index := append(append([]int(nil), lv.index...), i)
				if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
					if seen[ft] {
						return nil, false
					}
					seen[ft] = true
					next = append(next, level{ft, index})
					continue
				}
				tagged := name != ""
				if !tagged {
					name = sf.Name
				}
				byName[name] = append(byName[name], cand{index, tagged, sf.Type})
			}
		}
		current = next
	}
	out := map[string]field{}
	for name, cs := range byName {
		// Candidates come shallowest first: the first is dominant unless
		// the next is as shallow and as tagged.
		best := cs[0]
		for _, c := range cs[1:] {
			if len(c.index) == len(cs[0].index) && c.tagged && !best.tagged {
				best = c
			}
		}
		tied := 0
		for _, c := range cs {
			if len(c.index) == len(best.index) && c.tagged == best.tagged {
				tied++
			}
		}
		if tied > 1 {
			continue
		}
		out[name] = field{index: best.index, ord: len(out), plan: build(best.typ, building)}
	}
	if len(out) > 64 {
		return nil, false
	}
	return out, true
}

// validTagName is encoding/json's test of a tag's name.
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// value decodes the next value into v (settable) with plan p.
func (d *decoder) value(v reflect.Value, p *plan) error {
	switch p.kind {
	case kUnmarshaler:
		raw, err := d.skip()
		if err != nil {
			return err
		}
		return v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(raw)
	case kString:
		if d.null() {
			return nil
		}
		s, err := d.str()
		if err != nil {
			return err
		}
		v.SetString(string(s))
		return nil
	case kInt, kUint, kFloat:
		if d.null() {
			return nil
		}
		if c := d.next(); c != '-' && (c < '0' || c > '9') {
			return errSlow
		}
		n, err := d.number()
		if err != nil {
			return err
		}
		return setNumber(v, p.kind, n)
	case kBool:
		if d.null() {
			return nil
		}
		switch {
		case len(d.data)-d.i >= 4 && string(d.data[d.i:d.i+4]) == "true":
			d.i += 4
			v.SetBool(true)
		case len(d.data)-d.i >= 5 && string(d.data[d.i:d.i+5]) == "false":
			d.i += 5
			v.SetBool(false)
		default:
			return errSlow
		}
		return nil
	case kPointer:
		if d.null() {
			v.SetZero()
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(p.typ.Elem()))
		}
		return d.value(v.Elem(), p.elem)
	case kSlice, kMap, kStruct:
		if d.depth++; d.depth > maxDepth {
			return errSlow
		}
		defer func() { d.depth-- }()
		switch p.kind {
		case kSlice:
			return d.slice(v, p)
		case kMap:
			return d.mapValue(v, p)
		}
		return d.object(v, p)
	}
	return errSlow
}

func setNumber(v reflect.Value, k kind, n []byte) error {
	switch k {
	case kInt:
		neg := n[0] == '-'
		if neg {
			n = n[1:]
		}
		u, ok := digits(n)
		if !ok || u > 1<<63-1 {
			return errSlow
		}
		i := int64(u)
		if neg {
			i = -i
		}
		if v.OverflowInt(i) {
			return errSlow
		}
		v.SetInt(i)
	case kUint:
		u, ok := digits(n)
		if !ok || v.OverflowUint(u) {
			return errSlow
		}
		v.SetUint(u)
	default:
		f, err := strconv.ParseFloat(string(n), v.Type().Bits())
		if err != nil {
			return errSlow
		}
		v.SetFloat(f)
	}
	return nil
}

// digits reads an unsigned integer (no sign, fraction or exponent).
func digits(n []byte) (uint64, bool) {
	if len(n) == 0 {
		return 0, false
	}
	if len(n) > 18 {
		u, err := strconv.ParseUint(string(n), 10, 64)
		return u, err == nil
	}
	var u uint64
	for _, c := range n {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	return u, true
}

func (d *decoder) slice(v reflect.Value, p *plan) error {
	if d.null() {
		v.SetZero()
		return nil
	}
	v.Set(reflect.MakeSlice(p.typ, 0, 0)) // "[]" is an empty slice, not nil
	empty, err := d.open('[')
	for n, more := 0, !empty; more && err == nil; more, err = d.more(']') {
		v.Grow(1)
		v.SetLen(n + 1)
		if err = d.value(v.Index(n), p.elem); err != nil {
			break
		}
		n++
	}
	return err
}

func (d *decoder) mapValue(v reflect.Value, p *plan) error {
	if d.null() {
		v.SetZero()
		return nil
	}
	if d.next() != '{' {
		return errSlow
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(p.typ))
	}
	kt := p.typ.Key()
	e := reflect.New(p.typ.Elem()).Elem() // each value decoded here, then copied in
	empty, err := d.open('{')
	for more := !empty; more && err == nil; more, err = d.more('}') {
		var k []byte
		if k, err = d.key(); err != nil {
			break
		}
		e.SetZero()
		if err = d.value(e, p.elem); err != nil {
			break
		}
		key := reflect.ValueOf(string(k))
		if kt != key.Type() {
			key = key.Convert(kt)
		}
		v.SetMapIndex(key, e)
	}
	return err
}

func (d *decoder) object(v reflect.Value, p *plan) error {
	if d.null() {
		return nil
	}
	var seen uint64
	empty, err := d.open('{')
	for more := !empty; more && err == nil; more, err = d.more('}') {
		var k []byte
		if k, err = d.key(); err != nil {
			break
		}
		f, ok := p.fields[string(k)]
		if !ok || seen&(1<<f.ord) != 0 {
			return errSlow // encoding/json matches it case-insensitively, or skips it; or merges a repeat
		}
		seen |= 1 << f.ord
		fv := v.Field(f.index[0])
		for _, i := range f.index[1:] {
			fv = fv.Field(i)
		}
		if err = d.value(fv, f.plan); err != nil {
			break
		}
	}
	return err
}

// Value decodes data, one JSON value and nothing after it but white space,
// into what a json.Decoder with UseNumber gives: map[string]any, []any,
// string, json.Number, bool or nil. ok is false where the fast path stops
// (the same cases as Unmarshal's); the caller then decodes with
// encoding/json, which decides.
func Value(data []byte) (v any, ok bool) {
	d := decoder{data: data}
	v, err := d.any()
	if err != nil {
		return nil, false
	}
	if d.space(); d.i != len(d.data) {
		return nil, false
	}
	return v, true
}

func (d *decoder) any() (any, error) {
	switch c := d.next(); {
	case c == '"':
		s, err := d.str()
		return string(s), err
	case c == '{' || c == '[':
		if d.depth++; d.depth > maxDepth {
			return nil, errSlow
		}
		defer func() { d.depth-- }()
		m, a := map[string]any{}, []any{}
		empty, err := d.open(c)
		for more := !empty; more && err == nil; more, err = d.more(c + 2) {
			var k []byte
			if c == '{' {
				if k, err = d.key(); err != nil {
					break
				}
			}
			var e any
			if e, err = d.any(); err != nil {
				break
			}
			if c == '{' {
				m[string(k)] = e
			} else {
				a = append(a, e)
			}
		}
		if err != nil {
			return nil, err
		}
		if c == '{' {
			return m, nil
		}
		return a, nil
	case c == '-' || ('0' <= c && c <= '9'):
		n, err := d.number()
		return json.Number(n), err
	}
	lit, err := d.skip() // true, false, null
	switch string(lit) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return nil, err
}
