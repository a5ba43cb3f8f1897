package asl

import (
	"fmt"
	"strings"
)

// Env is what evaluation needs besides the state input. All fields are
// optional: a nil Context (and Lazy) behaves as {}; a nil Random or UUID
// makes States.MathRandom / States.UUID fail with States.Runtime. An Env
// is used by one goroutine at a time.
type Env struct {
	// Context is the context object ($$) as a JSON value: {"Execution":
	// {...}, "State": {...}, "StateMachine": {...}, "Task": {...}}.
	// ItemInput adds "Map": {"Item": {"Index", "Value"}} itself.
	Context any
	// Lazy, when Context is nil, builds it the first time a "$$" path
	// needs it: most states read no context path, and building the
	// object for each was a kilobyte of allocation per state.
	Lazy func() any
	// Random returns a uniformly distributed float64 in [0, 1).
	Random func() float64
	// UUID returns a new random (version 4) UUID in canonical text form.
	UUID func() string
}

func (e *Env) ctx() any {
	if e == nil {
		return map[string]any{}
	}
	if e.Context == nil && e.Lazy != nil {
		e.Context = e.Lazy()
	}
	if e.Context == nil {
		return map[string]any{}
	}
	return e.Context
}

// Template is a compiled payload template: Parameters, ResultSelector or
// ItemSelector. Keys ending in ".$" take a path, a context path or an
// intrinsic function call; all other values are copied literally.
type Template struct {
	// Raw is the template as written.
	Raw  any
	root tnode
}

type tnode struct {
	lit    any      // literal (kind 0)
	fields []tfield // object (kind 1)
	elems  []tnode  // array (kind 2)
	kind   int
}

type tfield struct {
	key    string // output key (".$" removed)
	rawKey string
	node   *tnode // non-dynamic value
	path   *Path  // "$..." / "$$..."
	call   *call  // States.X(...)
}

// CompileTemplate compiles a payload template. Errors name the offending
// field with a JSON pointer relative to the template.
func CompileTemplate(raw any) (*Template, []Problem) {
	var probs []Problem
	root := compileNode(Normalize(raw), "", &probs)
	return &Template{Raw: raw, root: root}, probs
}

func compileNode(v any, loc string, probs *[]Problem) tnode {
	switch x := v.(type) {
	case map[string]any:
		n := tnode{kind: 1}
		for _, k := range sortedKeys(x) {
			val := x[k]
			f := tfield{key: k, rawKey: k}
			if strings.HasSuffix(k, ".$") {
				f.key = strings.TrimSuffix(k, ".$")
				s, ok := val.(string)
				if !ok {
					*probs = append(*probs, Problem{"SCHEMA_VALIDATION_FAILED", fmt.Sprintf("The value for the field '%s' must be a STRING that contains a JSONPath or an intrinsic function", k), loc + "/" + k})
					continue
				}
				if strings.HasPrefix(s, "$") {
					p, err := CompilePath(s)
					if err != nil {
						*probs = append(*probs, pathProblem(err, fmt.Sprintf("The value for the field '%s' must be a valid JSONPath or a valid intrinsic function call", k), loc+"/"+k))
						continue
					}
					f.path = &p
				} else {
					c, err := compileIntrinsic(s)
					if err != nil {
						*probs = append(*probs, pathProblem(err, fmt.Sprintf("The value for the field '%s' must be a valid JSONPath or a valid intrinsic function call", k), loc+"/"+k))
						continue
					}
					f.call = c
				}
			} else {
				sub := compileNode(val, loc+"/"+k, probs)
				f.node = &sub
			}
			n.fields = append(n.fields, f)
		}
		return n
	case []any:
		n := tnode{kind: 2}
		for i, e := range x {
			n.elems = append(n.elems, compileNode(e, fmt.Sprintf("%s/%d", loc, i), probs))
		}
		return n
	}
	return tnode{lit: v}
}

// pathProblem turns a compile error into a Problem, keeping
// UnsupportedError distinguishable (its code is UNSUPPORTED).
func pathProblem(err error, msg, loc string) Problem {
	if u, ok := err.(*UnsupportedError); ok {
		return Problem{Code: "UNSUPPORTED:" + u.Feature, Message: u.Error(), Location: loc}
	}
	return Problem{Code: "SCHEMA_VALIDATION_FAILED", Message: msg + ": " + err.Error(), Location: loc}
}

// Eval builds the payload from input (for "$" paths) and env.Context (for
// "$$" paths). A path that matches nothing is States.Runtime with AWS's
// "The JSONPath '...' specified for the field '...' could not be found in
// the input '...'" cause; intrinsic failures are States.Runtime too.
func (t *Template) Eval(input any, env *Env) (any, error) {
	if t == nil {
		return input, nil
	}
	return t.root.eval(input, env)
}

func (n *tnode) eval(input any, env *Env) (any, error) {
	switch n.kind {
	case 1:
		out := make(map[string]any, len(n.fields))
		for i := range n.fields {
			f := &n.fields[i]
			switch {
			case f.path != nil:
				v, err := f.path.eval(input, env)
				if err != nil {
					return nil, runtimeErr("The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", f.path.Raw, f.rawKey, encode(input))
				}
				out[f.key] = v
			case f.call != nil:
				v, err := f.call.eval(input, env)
				if err != nil {
					return nil, err
				}
				out[f.key] = v
			default:
				v, err := f.node.eval(input, env)
				if err != nil {
					return nil, err
				}
				out[f.key] = v
			}
		}
		return out, nil
	case 2:
		out := make([]any, len(n.elems))
		for i := range n.elems {
			v, err := n.elems[i].eval(input, env)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	return deepCopy(n.lit), nil
}
