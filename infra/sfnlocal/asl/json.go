package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/ordercare/ordercare/internal/storedjson"
)

// DecodeJSON decodes one JSON document into the package's value
// representation (see the package comment). Trailing data is an error.
// storedjson.Value decodes it in one pass; where it stops, a json.Decoder
// decides.
func DecodeJSON(b []byte) (any, error) {
	if v, ok := storedjson.Value(b); ok {
		return v, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("asl: trailing data after JSON value")
	}
	var extra any
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("asl: trailing data after JSON value")
	}
	return v, nil
}

// EncodeJSON prints v compactly as Step Functions (Jackson) does: no HTML
// or U+2028 escaping, control characters as \n-style or \u00XX escapes,
// numbers as written. Object keys are sorted. It fails only on values that
// are not JSON (e.g. channels).
func EncodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeJSON(buf *bytes.Buffer, v any) error {
	switch x := leaf(v).(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case json.Number:
		if !json.Valid([]byte(x)) {
			return fmt.Errorf("asl: invalid number %q", string(x))
		}
		buf.WriteString(string(x))
	case string:
		writeJSONString(buf, x)
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case map[string]any:
		buf.WriteByte('{')
		for i, k := range sortedKeys(x) {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSONString(buf, k)
			buf.WriteByte(':')
			if err := writeJSON(buf, x[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	default:
		n := Normalize(v)
		if isCanonical(n) {
			return writeJSON(buf, n)
		}
		return fmt.Errorf("asl: cannot encode %T as JSON", v)
	}
	return nil
}

// leaf converts Go numeric leaves to json.Number; other values are
// returned unchanged.
func leaf(v any) any {
	switch x := v.(type) {
	case int:
		return json.Number(strconv.Itoa(x))
	case int64:
		return json.Number(strconv.FormatInt(x, 10))
	case int32:
		return json.Number(strconv.FormatInt(int64(x), 10))
	case uint64:
		return json.Number(strconv.FormatUint(x, 10))
	case float64:
		return numFromFloat(x)
	case float32:
		return numFromFloat(float64(x))
	}
	return v
}

func writeJSONString(buf *bytes.Buffer, s string) {
	const hex = "0123456789ABCDEF"
	buf.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			buf.WriteString(`\"`)
		case c == '\\':
			buf.WriteString(`\\`)
		case c == '\n':
			buf.WriteString(`\n`)
		case c == '\r':
			buf.WriteString(`\r`)
		case c == '\t':
			buf.WriteString(`\t`)
		case c == '\b':
			buf.WriteString(`\b`)
		case c == '\f':
			buf.WriteString(`\f`)
		case c < 0x20:
			buf.WriteString(`\u00`)
			buf.WriteByte(hex[c>>4])
			buf.WriteByte(hex[c&0xF])
		default:
			buf.WriteByte(c)
		}
	}
	buf.WriteByte('"')
}

// encode is EncodeJSON for values known to be encodable.
func encode(v any) string {
	b, err := EncodeJSON(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Normalize returns v with every number as json.Number and every container
// as map[string]any / []any. Values already canonical are returned as is
// (containers are copied only when something inside changes).
func Normalize(v any) any {
	switch x := v.(type) {
	case nil, string, bool, json.Number:
		return v
	case map[string]any:
		if isCanonical(x) {
			return x
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Normalize(e)
		}
		return out
	case []any:
		if isCanonical(x) {
			return x
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Normalize(e)
		}
		return out
	case int, int64, int32, uint64, float64, float32:
		return leaf(x)
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, s := range x {
			out[k] = s
		}
		return out
	default:
		// Anything else: round-trip through encoding/json.
		b, err := json.Marshal(x)
		if err != nil {
			return v
		}
		n, err := DecodeJSON(b)
		if err != nil {
			return v
		}
		return n
	}
}

// isCanonical reports whether v is already in the canonical representation.
func isCanonical(v any) bool {
	switch x := v.(type) {
	case nil, string, bool, json.Number:
		return true
	case map[string]any:
		for _, e := range x {
			if !isCanonical(e) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range x {
			if !isCanonical(e) {
				return false
			}
		}
		return true
	}
	return false
}

func numFromFloat(f float64) json.Number {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return json.Number(strconv.FormatFloat(f, 'f', -1, 64))
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
}

// isNumber reports whether v is a JSON number and returns it as a float64.
func isNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			// Out of range: still a number.
			bf, _, err2 := big.ParseFloat(string(x), 10, 64, big.ToNearestEven)
			if err2 != nil {
				return 0, false
			}
			f, _ = bf.Float64()
		}
		return f, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case float64:
		return x, true
	case float32:
		return float64(x), true
	}
	return 0, false
}

// isIntegral reports whether v is a JSON number written without fraction or
// exponent (Java's int/long), returning it.
func isIntegral(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if strings.ContainsAny(s, ".eE") {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	}
	return 0, false
}

// deepEqual compares two JSON values; numbers compare by numeric value.
func deepEqual(a, b any) bool {
	a, b = leaf(a), leaf(b)
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		fx, _ := isNumber(x)
		fy, _ := isNumber(y)
		return fx == fy
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !deepEqual(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

// deepCopy returns a copy of v sharing no containers with it.
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

// javaString renders v the way Java's toString renders the Jackson/Map
// value AWS uses in States.Format and string interpolation: strings as is,
// objects as {k=v, ...}, arrays as [a, b].
func javaString(v any) string {
	var sb strings.Builder
	writeJava(&sb, v, true)
	return sb.String()
}

func writeJava(sb *strings.Builder, v any, top bool) {
	switch x := leaf(v).(type) {
	case nil:
		sb.WriteString("null")
	case string:
		sb.WriteString(x)
	case bool:
		sb.WriteString(strconv.FormatBool(x))
	case json.Number:
		sb.WriteString(string(x))
	case []any:
		sb.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				sb.WriteString(", ")
			}
			writeJava(sb, e, false)
		}
		sb.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		sb.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(k)
			sb.WriteByte('=')
			writeJava(sb, x[k], false)
		}
		sb.WriteByte('}')
	default:
		fmt.Fprint(sb, x)
	}
}

// typeName names v's JSON type as AWS does in messages.
func typeName(v any) string {
	switch leaf(v).(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func itoa(i int) string { return strconv.Itoa(i) }
