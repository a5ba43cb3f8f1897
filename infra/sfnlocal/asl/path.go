package asl

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ohler55/ojg/jp"
)

// Path is a compiled reference path ("$.a.b", "$.items[0]", "$[*]") or
// context path ("$$.Execution.Id") from a definition.
type Path struct {
	// Raw is the path text as written ("" when the field was absent).
	Raw string
	// Null is true when the field was JSON null (InputPath/OutputPath: the
	// state sees {}; ResultPath: the result is discarded).
	Null bool
	// Context is true for "$$..." paths, evaluated against the context object.
	Context bool

	expr     jp.Expr
	definite bool
	filter   bool
}

// IsSet reports whether the path was given (as text or null).
func (p Path) IsSet() bool { return p.Raw != "" || p.Null }

// String returns the path text.
func (p Path) String() string { return p.Raw }

// CompilePath compiles a path text. Context paths start with "$$".
func CompilePath(s string) (Path, error) {
	p := Path{Raw: s}
	src := s
	if strings.HasPrefix(s, "$$") {
		p.Context = true
		src = s[1:]
	}
	if !strings.HasPrefix(src, "$") {
		return p, fmt.Errorf("path %q must start with '$'", s)
	}
	if len(src) > 1 && src[1] != '.' && src[1] != '[' {
		return p, &UnsupportedError{Feature: FeatureVariables, Detail: "variable reference " + strconv.Quote(s)}
	}
	if x, ok := parseDefinite(src); ok {
		p.expr = x
		p.definite = true
		return p, nil
	}
	x, err := jp.ParseString(src)
	if err != nil {
		return p, fmt.Errorf("invalid JSONPath %q: %v", s, err)
	}
	p.expr = x
	p.definite = true
	for _, f := range x {
		switch f.(type) {
		case jp.Root, jp.Bracket, jp.Child, jp.Nth:
		case *jp.Filter:
			p.definite = false
			p.filter = true
		default:
			p.definite = false
		}
	}
	return p, nil
}

// parseDefinite parses a path made only of "$", ".name" and "['name']" /
// "[\"name\"]" / "[n]" steps the way Jayway does (names taken literally; in
// quoted names only \' or \" before the closing quote is an escape). It
// returns false for anything else (wildcards, slices, filters, ...).
func parseDefinite(src string) (jp.Expr, bool) {
	if !strings.HasPrefix(src, "$") {
		return nil, false
	}
	x := jp.Expr{jp.Root('$')}
	i := 1
	for i < len(src) {
		switch src[i] {
		case '.':
			j := i + 1
			for j < len(src) && src[j] != '.' && src[j] != '[' {
				j++
			}
			name := src[i+1 : j]
			if name == "" || name == "*" || strings.ContainsAny(name, "()?@ ") {
				return nil, false
			}
			x = append(x, jp.Child(name))
			i = j
		case '[':
			if i+1 >= len(src) {
				return nil, false
			}
			if q := src[i+1]; q == '\'' || q == '"' {
				// Find the closing quote followed by ']'.
				end := -1
				for j := i + 2; j+1 < len(src); j++ {
					if src[j] == q && src[j+1] == ']' && src[j-1] != '\\' {
						end = j
						break
					}
				}
				if end < 0 {
					return nil, false
				}
				name := src[i+2 : end]
				name = strings.ReplaceAll(name, "\\"+string(q), string(q))
				x = append(x, jp.Child(name))
				i = end + 2
				continue
			}
			j := i + 1
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			if j == i+1 || j >= len(src) || src[j] != ']' {
				return nil, false
			}
			n, err := strconv.Atoi(src[i+1 : j])
			if err != nil {
				return nil, false
			}
			x = append(x, jp.Nth(n))
			i = j + 1
		default:
			return nil, false
		}
	}
	return x, true
}

// mustPath is CompilePath for paths known valid.
func mustPath(s string) Path {
	p, err := CompilePath(s)
	if err != nil {
		panic(err)
	}
	return p
}

// pathMiss describes why a definite path found nothing, in Jayway's words.
type pathMiss struct{ msg string }

// Error implements error.
func (m *pathMiss) Error() string { return m.msg }

// eval evaluates p against data (or env's context object for context
// paths; a nil env has {}). A definite path (names and indices only)
// yields the single value, or a *pathMiss when nothing is there; any other
// path yields an array of all matches.
func (p Path) eval(data any, env *Env) (any, error) {
	if p.Context {
		data = env.ctx()
	}
	if p.definite {
		return p.evalDefinite(data)
	}
	if p.filter {
		res := p.expr.Get(toNative(data))
		out := make([]any, len(res))
		for i, r := range res {
			out[i] = Normalize(r)
		}
		return out, nil
	}
	res := p.expr.Get(data)
	if res == nil {
		res = []any{}
	}
	return res, nil
}

// evalDefinite walks a definite path.
func (p Path) evalDefinite(data any) (any, error) {
	cur := data
	var sb strings.Builder
	sb.WriteByte('$')
	frags := make([]jp.Frag, 0, len(p.expr))
	for _, f := range p.expr {
		switch f.(type) {
		case jp.Child, jp.Nth:
			frags = append(frags, f)
		}
	}
	for i, f := range frags {
		leaf := i == len(frags)-1
		switch x := f.(type) {
		case jp.Child:
			key := string(x)
			obj, ok := cur.(map[string]any)
			if !ok {
				where := sb.String()
				sb.WriteString("['" + key + "']")
				if cur == nil && !leaf {
					return nil, &pathMiss{"Missing property in path " + sb.String()}
				}
				return nil, &pathMiss{fmt.Sprintf("Expected to find an object with property ['%s'] in path %s but found '%s'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonProvider'.", key, where, javaClass(cur))}
			}
			sb.WriteString("['" + key + "']")
			v, ok := obj[key]
			if !ok {
				if leaf {
					return nil, &pathMiss{"No results for path: " + sb.String()}
				}
				return nil, &pathMiss{"Missing property in path " + sb.String()}
			}
			cur = v
		case jp.Nth:
			n := int(x)
			arr, ok := cur.([]any)
			where := sb.String()
			sb.WriteString("[" + strconv.Itoa(n) + "]")
			if !ok {
				return nil, &pathMiss{fmt.Sprintf("Filter: [%d] can only be applied to arrays. Current context is: %s", n, where)}
			}
			if n < 0 {
				n += len(arr)
			}
			if n < 0 || n >= len(arr) {
				return nil, &pathMiss{"Index out of bounds when evaluating path " + sb.String()}
			}
			cur = arr[n]
		}
	}
	return cur, nil
}

func javaClass(v any) string {
	switch v.(type) {
	case string:
		return "java.lang.String"
	case bool:
		return "java.lang.Boolean"
	case json.Number:
		return "java.lang.Integer"
	case []any:
		return "java.util.ArrayList"
	case nil:
		return "null"
	}
	return "java.util.LinkedHashMap"
}

// toNative converts json.Number leaves to int64/float64 for ojg filters.
func toNative(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, ok := isIntegral(x); ok {
			return n
		}
		f, _ := isNumber(x)
		return f
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = toNative(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toNative(e)
		}
		return out
	}
	return v
}

// selectPath applies an InputPath/OutputPath-style path: null means {},
// absent means "$"; a definite path that matches nothing is States.Runtime
// "Invalid path '<p>' : <reason>".
func selectPath(p Path, data any, env *Env) (any, error) {
	if p.Null {
		return map[string]any{}, nil
	}
	if p.Raw == "" || p.Raw == "$" {
		return data, nil
	}
	v, err := p.eval(data, env)
	if err != nil {
		return nil, runtimeErr("Invalid path '%s' : %s", p.Raw, err.Error())
	}
	return v, nil
}

// ResultPath is a compiled ResultPath: where a state's result is written
// into its raw input.
type ResultPath struct {
	Path
	steps []jp.Frag
}

// CompileResultPath compiles a ResultPath text: "$" or a definite path of
// names and indices.
func CompileResultPath(s string) (ResultPath, error) {
	p, err := CompilePath(s)
	if err != nil {
		return ResultPath{}, err
	}
	if p.Context {
		return ResultPath{}, fmt.Errorf("ResultPath %q cannot reference the context object", s)
	}
	if !p.definite {
		return ResultPath{}, fmt.Errorf("ResultPath %q must be a definite path (names and indices only)", s)
	}
	rp := ResultPath{Path: p}
	for _, f := range p.expr {
		switch f.(type) {
		case jp.Child, jp.Nth:
			rp.steps = append(rp.steps, f)
		}
	}
	return rp, nil
}

// Apply merges result into input as AWS does: absent or "$" replaces the
// input; null discards the result; otherwise the result is written at the
// path, creating intermediate objects. The input is not modified. Writing
// through a non-object is States.ResultPathMatchFailure.
func (rp ResultPath) Apply(input, result any) (any, error) {
	if rp.Null {
		return input, nil
	}
	if rp.Raw == "" || len(rp.steps) == 0 {
		return result, nil
	}
	out, err := rp.set(input, rp.steps, result)
	if err != nil {
		return nil, &Error{Name: ErrResultPathMatchFailure, Cause: fmt.Sprintf("Unable to apply ResultPath %q to input %q", rp.Raw, encode(input)), Prefixed: false}
	}
	return out, nil
}

func (rp ResultPath) set(cur any, steps []jp.Frag, result any) (any, error) {
	if len(steps) == 0 {
		return result, nil
	}
	switch x := steps[0].(type) {
	case jp.Child:
		var obj map[string]any
		switch c := cur.(type) {
		case map[string]any:
			obj = make(map[string]any, len(c)+1)
			for k, v := range c {
				obj[k] = v
			}
		case nil:
			obj = map[string]any{}
		default:
			return nil, fmt.Errorf("not an object")
		}
		v, err := rp.set(obj[string(x)], steps[1:], result)
		if err != nil {
			return nil, err
		}
		obj[string(x)] = v
		return obj, nil
	case jp.Nth:
		arr, ok := cur.([]any)
		n := int(x)
		if !ok || n < 0 || n >= len(arr) {
			return nil, fmt.Errorf("no such element")
		}
		cp := append([]any(nil), arr...)
		v, err := rp.set(cp[n], steps[1:], result)
		if err != nil {
			return nil, err
		}
		cp[n] = v
		return cp, nil
	}
	return nil, fmt.Errorf("bad step")
}
