package asl

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"math/big"
	"math/rand"
	"strconv"
	"strings"
	"unicode/utf8"
)

// call is a parsed intrinsic function call States.Name(args...).
type call struct {
	name string // "States.Format"
	args []arg
	raw  string
}

// arg is one intrinsic argument: a literal, a path, or a nested call.
type arg struct {
	lit    any    // string, json.Number, bool, nil
	rawStr string // string literal text as written between quotes (escapes kept)
	isStr  bool
	path   *Path
	call   *call
}

// intrinsicArity gives the accepted argument counts (min, max; -1 = any).
var intrinsicArity = map[string][2]int{
	"States.Format":         {1, -1},
	"States.StringToJson":   {1, 1},
	"States.JsonToString":   {1, 1},
	"States.Array":          {0, -1},
	"States.ArrayPartition": {2, 2},
	"States.ArrayContains":  {2, 2},
	"States.ArrayRange":     {3, 3},
	"States.ArrayGetItem":   {2, 2},
	"States.ArrayLength":    {1, 1},
	"States.ArrayUnique":    {1, 1},
	"States.Base64Encode":   {1, 1},
	"States.Base64Decode":   {1, 1},
	"States.Hash":           {2, 2},
	"States.JsonMerge":      {3, 3},
	"States.MathRandom":     {2, 3},
	"States.MathAdd":        {2, 2},
	"States.StringSplit":    {2, 2},
	"States.UUID":           {0, 0},
}

// IsIntrinsic reports whether s looks like an intrinsic function call.
func IsIntrinsic(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), "States.") }

// compileIntrinsic parses an intrinsic call expression.
func compileIntrinsic(s string) (*call, error) {
	p := &iparser{src: s}
	p.skipSpace()
	c, err := p.call()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, fmt.Errorf("unexpected text %q after intrinsic function call", p.src[p.pos:])
	}
	return c, nil
}

type iparser struct {
	src string
	pos int
}

func (p *iparser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n' || p.src[p.pos] == '\r') {
		p.pos++
	}
}

func (p *iparser) call() (*call, error) {
	start := p.pos
	for p.pos < len(p.src) && (isIdentByte(p.src[p.pos]) || p.src[p.pos] == '.') {
		p.pos++
	}
	name := p.src[start:p.pos]
	if name == "" {
		return nil, fmt.Errorf("expected an intrinsic function name at offset %d", start)
	}
	ar, ok := intrinsicArity[name]
	if !ok {
		return nil, fmt.Errorf("unknown intrinsic function %q", name)
	}
	p.skipSpace()
	if p.pos >= len(p.src) || p.src[p.pos] != '(' {
		return nil, fmt.Errorf("expected '(' after %s", name)
	}
	p.pos++
	c := &call{name: name}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ')' {
		p.pos++
	} else {
		for {
			p.skipSpace()
			a, err := p.arg()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, a)
			p.skipSpace()
			if p.pos >= len(p.src) {
				return nil, fmt.Errorf("missing ')' in call to %s", name)
			}
			if p.src[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.src[p.pos] == ')' {
				p.pos++
				break
			}
			return nil, fmt.Errorf("unexpected %q in call to %s", p.src[p.pos], name)
		}
	}
	c.raw = p.src[start:p.pos]
	if len(c.args) < ar[0] || (ar[1] >= 0 && len(c.args) > ar[1]) {
		return nil, fmt.Errorf("%s takes %s, got %d", name, arityText(ar), len(c.args))
	}
	return c, nil
}

func arityText(ar [2]int) string {
	switch {
	case ar[1] < 0:
		return fmt.Sprintf("at least %d arguments", ar[0])
	case ar[0] == ar[1]:
		return fmt.Sprintf("%d arguments", ar[0])
	}
	return fmt.Sprintf("%d to %d arguments", ar[0], ar[1])
}

func isIdentByte(b byte) bool {
	return b == '_' || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
}

func (p *iparser) arg() (arg, error) {
	if p.pos >= len(p.src) {
		return arg{}, fmt.Errorf("missing argument")
	}
	switch b := p.src[p.pos]; {
	case b == '\'':
		p.pos++
		var sb strings.Builder
		start := p.pos
		for {
			if p.pos >= len(p.src) {
				return arg{}, fmt.Errorf("unterminated string literal")
			}
			c := p.src[p.pos]
			if c == '\\' && p.pos+1 < len(p.src) {
				sb.WriteByte(p.src[p.pos+1])
				p.pos += 2
				continue
			}
			if c == '\'' {
				raw := p.src[start:p.pos]
				p.pos++
				return arg{lit: sb.String(), rawStr: raw, isStr: true}, nil
			}
			sb.WriteByte(c)
			p.pos++
		}
	case b == '$':
		start := p.pos
		depth := 0
		var quote byte
		for p.pos < len(p.src) {
			c := p.src[p.pos]
			if quote != 0 {
				if c == '\\' {
					p.pos++
				} else if c == quote {
					quote = 0
				}
				p.pos++
				continue
			}
			if c == '[' || c == '(' {
				depth++
			} else if c == ']' || (c == ')' && depth > 0) {
				depth--
			} else if depth > 0 && (c == '\'' || c == '"') {
				quote = c
			} else if depth == 0 && (c == ',' || c == ')') {
				break
			}
			p.pos++
		}
		text := strings.TrimSpace(p.src[start:p.pos])
		path, err := CompilePath(text)
		if err != nil {
			return arg{}, err
		}
		return arg{path: &path}, nil
	case b == '-' || (b >= '0' && b <= '9'):
		start := p.pos
		p.pos++
		for p.pos < len(p.src) && strings.IndexByte("0123456789.eE+-", p.src[p.pos]) >= 0 {
			p.pos++
		}
		text := p.src[start:p.pos]
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return arg{}, fmt.Errorf("invalid number %q", text)
		}
		return arg{lit: json.Number(text)}, nil
	case strings.HasPrefix(p.src[p.pos:], "States."):
		c, err := p.call()
		if err != nil {
			return arg{}, err
		}
		return arg{call: c}, nil
	default:
		for _, w := range []struct {
			s string
			v any
		}{{"true", true}, {"false", false}, {"null", nil}} {
			if strings.HasPrefix(p.src[p.pos:], w.s) {
				end := p.pos + len(w.s)
				if end == len(p.src) || !isIdentByte(p.src[end]) {
					p.pos = end
					return arg{lit: w.v}, nil
				}
			}
		}
		return arg{}, fmt.Errorf("unexpected %q in intrinsic function arguments", p.src[p.pos:])
	}
}

// Intrinsic evaluates an intrinsic function call text against input and
// env (for callers outside payload templates, e.g. tests).
func Intrinsic(expr string, input any, env *Env) (any, error) {
	c, err := compileIntrinsic(expr)
	if err != nil {
		return nil, err
	}
	return c.eval(input, env)
}

// ifail is an intrinsic evaluation failure.
func ifail(c *call, format string, args ...any) *Error {
	return &Error{Name: ErrRuntime, Cause: fmt.Sprintf("The function %s ", c.name) + fmt.Sprintf(format, args...), Prefixed: true}
}

func (c *call) eval(input any, env *Env) (any, error) {
	vals := make([]any, len(c.args))
	for i, a := range c.args {
		switch {
		case a.path != nil:
			v, err := a.path.eval(input, env)
			if err != nil {
				return nil, runtimeErr("The JSONPath '%s' specified for the function %s could not be found in the input '%s'", a.path.Raw, c.name, encode(input))
			}
			vals[i] = v
		case a.call != nil:
			v, err := a.call.eval(input, env)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		default:
			vals[i] = a.lit
		}
	}
	for i := range vals {
		vals[i] = Normalize(vals[i])
	}
	switch c.name {
	case "States.Format":
		return c.format(vals)
	case "States.StringToJson":
		s, ok := vals[0].(string)
		if !ok {
			return nil, ifail(c, "requires a string argument, got %s", typeName(vals[0]))
		}
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		v, err := DecodeJSON([]byte(s))
		if err != nil {
			return nil, ifail(c, "could not parse its argument as JSON: %s", s)
		}
		return canonicalInts(v), nil
	case "States.JsonToString":
		return encode(vals[0]), nil
	case "States.Array":
		return append([]any{}, vals...), nil
	case "States.ArrayPartition":
		arr, ok := vals[0].([]any)
		if !ok {
			return nil, ifail(c, "requires an array as its first argument, got %s", typeName(vals[0]))
		}
		n, ok := intArg(vals[1])
		if !ok || n <= 0 {
			return nil, ifail(c, "requires a positive integer chunk size, got %s", encode(vals[1]))
		}
		out := []any{}
		for i := 0; i < len(arr); i += int(n) {
			end := i + int(n)
			if end > len(arr) {
				end = len(arr)
			}
			out = append(out, append([]any{}, arr[i:end]...))
		}
		return out, nil
	case "States.ArrayContains":
		arr, ok := vals[0].([]any)
		if !ok {
			return nil, ifail(c, "requires an array as its first argument, got %s", typeName(vals[0]))
		}
		for _, e := range arr {
			if deepEqual(e, vals[1]) {
				return true, nil
			}
		}
		return false, nil
	case "States.ArrayRange":
		var nums [3]int64
		for i := 0; i < 3; i++ {
			n, ok := intArg(vals[i])
			if !ok {
				return nil, ifail(c, "requires integer arguments, got %s", encode(vals[i]))
			}
			nums[i] = n
		}
		start, end, step := nums[0], nums[1], nums[2]
		if step == 0 {
			return nil, ifail(c, "requires a non-zero step")
		}
		out := []any{}
		for v := start; (step > 0 && v <= end) || (step < 0 && v >= end); v += step {
			if len(out) >= 1000 {
				return nil, ifail(c, "would produce more than 1000 elements")
			}
			out = append(out, json.Number(strconv.FormatInt(v, 10)))
		}
		return out, nil
	case "States.ArrayGetItem":
		arr, ok := vals[0].([]any)
		if !ok {
			return nil, ifail(c, "requires an array as its first argument, got %s", typeName(vals[0]))
		}
		n, ok := intArg(vals[1])
		if !ok || n < 0 || n >= int64(len(arr)) {
			return nil, ifail(c, "was given an index out of bounds: %s", encode(vals[1]))
		}
		return arr[n], nil
	case "States.ArrayLength":
		arr, ok := vals[0].([]any)
		if !ok {
			return nil, ifail(c, "requires an array argument, got %s", typeName(vals[0]))
		}
		return json.Number(strconv.Itoa(len(arr))), nil
	case "States.ArrayUnique":
		arr, ok := vals[0].([]any)
		if !ok {
			return nil, ifail(c, "requires an array argument, got %s", typeName(vals[0]))
		}
		out := []any{}
	next:
		for _, e := range arr {
			for _, o := range out {
				if deepEqual(e, o) {
					continue next
				}
			}
			out = append(out, e)
		}
		return out, nil
	case "States.Base64Encode":
		s, ok := vals[0].(string)
		if !ok {
			return nil, ifail(c, "requires a string argument, got %s", typeName(vals[0]))
		}
		if utf8.RuneCountInString(s) > 10000 {
			return nil, ifail(c, "input exceeds 10000 characters")
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "States.Base64Decode":
		s, ok := vals[0].(string)
		if !ok {
			return nil, ifail(c, "requires a string argument, got %s", typeName(vals[0]))
		}
		if len(s) > 10000 {
			return nil, ifail(c, "input exceeds 10000 characters")
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, ifail(c, "could not decode its argument as base64")
		}
		return string(b), nil
	case "States.Hash":
		s, ok := vals[0].(string)
		if !ok {
			s = encode(vals[0])
		}
		alg, _ := vals[1].(string)
		var h hash.Hash
		switch alg {
		case "MD5":
			h = md5.New()
		case "SHA-1":
			h = sha1.New()
		case "SHA-256":
			h = sha256.New()
		case "SHA-384":
			h = sha512.New384()
		case "SHA-512":
			h = sha512.New()
		default:
			return nil, ifail(c, "does not support the hash algorithm %s; supported: MD5, SHA-1, SHA-256, SHA-384, SHA-512", encode(vals[1]))
		}
		if utf8.RuneCountInString(s) > 10000 {
			return nil, ifail(c, "input exceeds 10000 characters")
		}
		h.Write([]byte(s))
		return hex.EncodeToString(h.Sum(nil)), nil
	case "States.JsonMerge":
		a, ok1 := vals[0].(map[string]any)
		b, ok2 := vals[1].(map[string]any)
		if !ok1 || !ok2 {
			return nil, ifail(c, "requires two JSON objects, got %s and %s", typeName(vals[0]), typeName(vals[1]))
		}
		deep, ok := vals[2].(bool)
		if !ok {
			return nil, ifail(c, "requires a boolean as its third argument")
		}
		if deep {
			return nil, ifail(c, "supports only shallow merges (third argument false)")
		}
		out := make(map[string]any, len(a)+len(b))
		for k, v := range a {
			out[k] = v
		}
		for k, v := range b {
			out[k] = v
		}
		return out, nil
	case "States.MathRandom":
		start, ok1 := roundArg(vals[0])
		end, ok2 := roundArg(vals[1])
		if !ok1 || !ok2 {
			return nil, ifail(c, "requires numeric arguments")
		}
		if start >= end {
			return nil, ifail(c, "requires start < end, got %d and %d", start, end)
		}
		var f float64
		if len(vals) == 3 {
			seed, ok := roundArg(vals[2])
			if !ok {
				return nil, ifail(c, "requires an integer seed")
			}
			f = rand.New(rand.NewSource(seed)).Float64()
		} else {
			if env == nil || env.Random == nil {
				return nil, ifail(c, "has no random source")
			}
			f = env.Random()
		}
		v := start + int64(math.Floor(f*float64(end-start)))
		return json.Number(strconv.FormatInt(v, 10)), nil
	case "States.MathAdd":
		a, ok1 := roundArg(vals[0])
		b, ok2 := roundArg(vals[1])
		if !ok1 || !ok2 {
			return nil, ifail(c, "requires numeric arguments")
		}
		return json.Number(strconv.FormatInt(a+b, 10)), nil
	case "States.StringSplit":
		s, ok1 := vals[0].(string)
		d, ok2 := vals[1].(string)
		if !ok1 || !ok2 {
			return nil, ifail(c, "requires two string arguments")
		}
		parts := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(d, r) })
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	case "States.UUID":
		if env == nil || env.UUID == nil {
			return nil, ifail(c, "has no UUID source")
		}
		return env.UUID(), nil
	}
	return nil, ifail(c, "is not supported")
}

// format implements States.Format: '{}' placeholders filled in order;
// '\{' and '\}' are literal braces.
func (c *call) format(vals []any) (any, error) {
	tmpl, ok := vals[0].(string)
	if !ok || !c.args[0].isStr && c.args[0].path == nil && c.args[0].call == nil {
		return nil, ifail(c, "requires a string template as its first argument")
	}
	raw := tmpl
	escaped := false
	if c.args[0].isStr {
		raw = c.args[0].rawStr
		escaped = true
	}
	var sb strings.Builder
	argi := 1
	for i := 0; i < len(raw); i++ {
		ch := raw[i]
		if escaped && ch == '\\' && i+1 < len(raw) {
			sb.WriteByte(raw[i+1])
			i++
			continue
		}
		if ch == '{' && i+1 < len(raw) && raw[i+1] == '}' {
			if argi >= len(vals) {
				return nil, ifail(c, "has more placeholders than arguments")
			}
			sb.WriteString(javaString(vals[argi]))
			argi++
			i++
			continue
		}
		sb.WriteByte(ch)
	}
	if argi != len(vals) {
		return nil, ifail(c, "has %d arguments for %d placeholders", len(vals)-1, argi-1)
	}
	return sb.String(), nil
}

// intArg returns v as an integer when it is an integral number.
func intArg(v any) (int64, bool) {
	if n, ok := isIntegral(v); ok {
		return n, true
	}
	f, ok := isNumber(v)
	if !ok || f != math.Trunc(f) {
		return 0, false
	}
	return int64(f), true
}

// roundArg returns v rounded as Java's Math.round (half up).
func roundArg(v any) (int64, bool) {
	if n, ok := isIntegral(v); ok {
		return n, true
	}
	f, ok := isNumber(v)
	if !ok {
		return 0, false
	}
	return int64(math.Floor(f + 0.5)), true
}

// canonicalInts rewrites integer literals the way Jackson reads them
// ("-0" becomes 0, "007" cannot occur in valid JSON).
func canonicalInts(v any) any {
	switch x := v.(type) {
	case json.Number:
		if !strings.ContainsAny(string(x), ".eE") {
			if n, ok := new(big.Int).SetString(string(x), 10); ok {
				return json.Number(n.String())
			}
		}
		return x
	case map[string]any:
		for k, e := range x {
			x[k] = canonicalInts(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = canonicalInts(e)
		}
		return x
	}
	return v
}
