package asl

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Rule is one Choice rule: a boolean combination (And/Or/Not) or a
// comparison of Variable with a literal or path value. Next is set on
// top-level rules only.
type Rule struct {
	Next string
	And  []*Rule
	Or   []*Rule
	Not  *Rule

	Variable Path
	// Operator is the comparison operator name, e.g. "StringEquals",
	// "NumericLessThanPath", "IsPresent".
	Operator string
	// Value is the literal operand (for non-Path operators).
	Value any
	// ValuePath is the operand path for "...Path" operators.
	ValuePath Path

	pattern *regexp.Regexp // compiled StringMatches pattern
}

type opKind int

const (
	opString opKind = iota + 1
	opNumeric
	opBoolean
	opTimestamp
	opIs
)

// comparisonOps maps operator names (without "Path") to their kind and
// relation ("eq", "lt", "gt", "le", "ge", "match").
var comparisonOps = map[string]struct {
	kind opKind
	rel  string
}{
	"StringEquals": {opString, "eq"}, "StringLessThan": {opString, "lt"}, "StringGreaterThan": {opString, "gt"},
	"StringLessThanEquals": {opString, "le"}, "StringGreaterThanEquals": {opString, "ge"}, "StringMatches": {opString, "match"},
	"NumericEquals": {opNumeric, "eq"}, "NumericLessThan": {opNumeric, "lt"}, "NumericGreaterThan": {opNumeric, "gt"},
	"NumericLessThanEquals": {opNumeric, "le"}, "NumericGreaterThanEquals": {opNumeric, "ge"},
	"BooleanEquals":   {opBoolean, "eq"},
	"TimestampEquals": {opTimestamp, "eq"}, "TimestampLessThan": {opTimestamp, "lt"}, "TimestampGreaterThan": {opTimestamp, "gt"},
	"TimestampLessThanEquals": {opTimestamp, "le"}, "TimestampGreaterThanEquals": {opTimestamp, "ge"},
	"IsNull": {opIs, "null"}, "IsPresent": {opIs, "present"}, "IsNumeric": {opIs, "numeric"}, "IsString": {opIs, "string"},
	"IsBoolean": {opIs, "boolean"}, "IsTimestamp": {opIs, "timestamp"},
}

func (p *parser) choice(c Common, obj map[string]any, loc string) State {
	s := &Choice{Common: c}
	s.Default = p.optString(obj, "Default", loc)
	rules, ok := obj["Choices"].([]any)
	if !ok || len(rules) == 0 {
		p.bad(loc+"/Choices", "The field 'Choices' must be a non-empty ARRAY")
	}
	for i, r := range rules {
		s.Choices = append(s.Choices, p.rule(r, fmt.Sprintf("%s/Choices/%d", loc, i), true))
	}
	return s
}

func (p *parser) rule(v any, loc string, top bool) *Rule {
	obj, ok := v.(map[string]any)
	if !ok {
		p.bad(loc, "A choice rule must be an OBJECT")
		return &Rule{}
	}
	r := &Rule{}
	if next, ok := obj["Next"]; ok {
		if !top {
			p.bad(loc+"/Next", "Nested choice rules cannot have 'Next'")
		}
		s, ok := next.(string)
		if !ok || s == "" {
			p.bad(loc+"/Next", "The value for the field 'Next' must be a non-empty STRING")
		}
		r.Next = s
	} else if top {
		p.bad(loc, "The field 'Next' is required on top-level choice rules")
	}
	ops := 0
	for _, k := range sortedKeys(obj) {
		val := obj[k]
		switch k {
		case "Next", "Comment":
		case "Variable":
			r.Variable = p.optPath(obj, "Variable", loc, false)
		case "And", "Or":
			ops++
			arr, ok := val.([]any)
			if !ok || len(arr) == 0 {
				p.bad(loc+"/"+k, "The field '%s' must be a non-empty ARRAY", k)
				continue
			}
			for i, e := range arr {
				sub := p.rule(e, fmt.Sprintf("%s/%s/%d", loc, k, i), false)
				if k == "And" {
					r.And = append(r.And, sub)
				} else {
					r.Or = append(r.Or, sub)
				}
			}
		case "Not":
			ops++
			r.Not = p.rule(val, loc+"/Not", false)
		case "Condition":
			p.unsup(FeatureJSONata, loc+"/Condition", "Condition")
		case "Assign":
			p.unsup(FeatureVariables, loc+"/Assign", "Assign")
		case "Output":
			p.unsup(FeatureJSONata, loc+"/Output", "Output")
		default:
			base, isPath := strings.CutSuffix(k, "Path")
			op, known := comparisonOps[k]
			if !known {
				op, known = comparisonOps[base]
				if !known || op.kind == opIs {
					p.bad(loc+"/"+k, "Field %q is not supported", k)
					continue
				}
			} else {
				isPath = false
			}
			ops++
			r.Operator = k
			if isPath {
				r.ValuePath = p.optPath(obj, k, loc, false)
				continue
			}
			r.Value = val
			if k == "StringMatches" {
				if s, ok := val.(string); ok {
					r.pattern = matchPattern(s)
				}
			}
			switch op.kind {
			case opString, opTimestamp:
				s, ok := val.(string)
				if !ok {
					p.bad(loc+"/"+k, "The value for the field '%s' must be a STRING", k)
				} else if op.kind == opTimestamp {
					if _, err := parseTimestamp(s); err != nil {
						p.bad(loc+"/"+k, "The value for the field '%s' must be a valid ISO-8601 timestamp", k)
					}
				}
			case opNumeric:
				if _, ok := isNumber(val); !ok {
					p.bad(loc+"/"+k, "The value for the field '%s' must be a NUMBER", k)
				}
			case opBoolean, opIs:
				if _, ok := val.(bool); !ok {
					p.bad(loc+"/"+k, "The value for the field '%s' must be a BOOLEAN", k)
				}
			}
		}
	}
	if ops != 1 {
		p.bad(loc, "A choice rule must have exactly one comparison operator or And/Or/Not")
	}
	if r.Operator != "" && !r.Variable.IsSet() {
		p.bad(loc, "The field 'Variable' is required with %s", r.Operator)
	}
	return r
}

// Decide evaluates the Choice state on its raw input: it returns the next
// state and the state's output (InputPath then OutputPath). When no rule
// matches and there is no Default it returns *Error States.NoChoiceMatched.
func (c *Choice) Decide(input any, env *Env) (next string, output any, err error) {
	in, err := selectPath(c.InputPath, input, env)
	if err != nil {
		return "", nil, err
	}
	for _, r := range c.Choices {
		if r.Eval(in, env) {
			next = r.Next
			break
		}
	}
	if next == "" {
		next = c.Default
	}
	if next == "" {
		return "", nil, &Error{Name: ErrNoChoiceMatched, Cause: "No Matches!", Prefixed: false}
	}
	out, err := selectPath(c.OutputPath, in, env)
	if err != nil {
		return "", nil, err
	}
	return next, out, nil
}

// Eval evaluates the rule against the (InputPath-filtered) input. A
// Variable that references nothing makes every comparison false (IsPresent
// tests exactly that).
func (r *Rule) Eval(input any, env *Env) bool {
	switch {
	case r.And != nil:
		for _, s := range r.And {
			if !s.Eval(input, env) {
				return false
			}
		}
		return true
	case r.Or != nil:
		for _, s := range r.Or {
			if s.Eval(input, env) {
				return true
			}
		}
		return false
	case r.Not != nil:
		return !r.Not.Eval(input, env)
	}
	v, err := r.Variable.eval(input, env)
	present := err == nil
	op, ok := comparisonOps[r.Operator]
	operand := r.Value
	if !ok {
		op = comparisonOps[strings.TrimSuffix(r.Operator, "Path")]
		w, err := r.ValuePath.eval(input, env)
		if err != nil {
			return false
		}
		operand = w
	}
	if op.kind == opIs {
		want, _ := operand.(bool)
		var got bool
		switch op.rel {
		case "present":
			got = present
		case "null":
			got = present && v == nil
		case "numeric":
			_, isNum := isNumber(v)
			got = present && isNum
		case "string":
			_, isStr := v.(string)
			got = present && isStr
		case "boolean":
			_, isBool := v.(bool)
			got = present && isBool
		case "timestamp":
			s, isStr := v.(string)
			if present && isStr {
				_, err := parseTimestamp(s)
				got = err == nil
			}
		}
		return got == want
	}
	if !present {
		return false
	}
	switch op.kind {
	case opString:
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false
		}
		if op.rel == "match" {
			if r.pattern != nil {
				return r.pattern.MatchString(a)
			}
			return stringMatches(a, b)
		}
		return relate(strings.Compare(a, b), op.rel)
	case opNumeric:
		a, ok1 := isNumber(v)
		b, ok2 := isNumber(operand)
		if !ok1 || !ok2 {
			return false
		}
		switch {
		case a < b:
			return relate(-1, op.rel)
		case a > b:
			return relate(1, op.rel)
		}
		return relate(0, op.rel)
	case opBoolean:
		a, ok1 := v.(bool)
		b, ok2 := operand.(bool)
		return ok1 && ok2 && a == b
	case opTimestamp:
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false
		}
		ta, err1 := parseTimestamp(a)
		tb, err2 := parseTimestamp(b)
		if err1 != nil || err2 != nil {
			return false
		}
		return relate(ta.Compare(tb), op.rel)
	}
	return false
}

func relate(cmp int, rel string) bool {
	switch rel {
	case "eq":
		return cmp == 0
	case "lt":
		return cmp < 0
	case "gt":
		return cmp > 0
	case "le":
		return cmp <= 0
	case "ge":
		return cmp >= 0
	}
	return false
}

// stringMatches implements StringMatches: '*' matches any run of
// characters; '\*' and '\\' are literal.
func stringMatches(s, pattern string) bool {
	re := matchPattern(pattern)
	return re != nil && re.MatchString(s)
}

// matchPattern compiles a StringMatches pattern to an anchored regexp.
func matchPattern(pattern string) *regexp.Regexp {
	var sb strings.Builder
	sb.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		ch := pattern[i]
		switch {
		case ch == '\\' && i+1 < len(pattern):
			sb.WriteString(regexp.QuoteMeta(string(pattern[i+1])))
			i++
		case ch == '*':
			sb.WriteString("(?s:.*)")
		default:
			sb.WriteString(regexp.QuoteMeta(string(ch)))
		}
	}
	sb.WriteString("$")
	re, err := regexp.Compile(sb.String())
	if err != nil {
		return nil
	}
	return re
}

var timestampRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)

// parseTimestamp parses an ISO-8601 extended offset date-time
// (2016-03-14T01:59:00Z, 2016-03-14T01:59:00.123+01:00).
func parseTimestamp(s string) (time.Time, error) {
	if !timestampRE.MatchString(s) {
		return time.Time{}, fmt.Errorf("not an ISO-8601 extended offset date-time: %q", s)
	}
	return time.Parse(time.RFC3339Nano, s)
}
