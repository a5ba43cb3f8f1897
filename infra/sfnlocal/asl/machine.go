package asl

import (
	"fmt"
	"regexp"
	"strings"
)

// Machine is a parsed, validated state machine (top level, Parallel branch
// or Map item processor). It is read-only after Parse.
type Machine struct {
	Comment string
	StartAt string
	Version string
	// TimeoutSeconds is the top-level execution timeout; 0 means none.
	TimeoutSeconds int64
	// States by name.
	States map[string]State
	// Names lists state names sorted.
	Names []string
}

// State is one parsed state: *Pass, *Task, *Choice, *Wait, *Succeed, *Fail,
// *Parallel or *Map. Every state embeds Common.
type State interface {
	// Fields returns the fields shared by all state types.
	Fields() *Common
}

// Common holds the fields every state type may carry. Fields a state type
// does not allow are zero.
type Common struct {
	Name    string
	Type    string
	Comment string
	// Next is the following state; End is true for terminal states
	// (Succeed and Fail are always terminal; Choice has neither).
	Next string
	End  bool

	InputPath      Path
	OutputPath     Path
	Parameters     *Template
	ResultSelector *Template
	ResultPath     ResultPath
	Retry          []Retrier
	Catch          []Catcher
}

// Fields implements State.
func (c *Common) Fields() *Common { return c }

// EffectiveInput applies InputPath then Parameters (with env.Context for
// "$$" paths) to the state's raw input. For Map states it applies
// InputPath only (per-item Parameters/ItemSelector are in ItemInput).
func (c *Common) EffectiveInput(input any, env *Env) (any, error) {
	in, err := selectPath(c.InputPath, input, env)
	if err != nil {
		return nil, err
	}
	if c.Parameters != nil {
		return c.Parameters.Eval(in, env)
	}
	return in, nil
}

// ApplyResult turns a state's result into its output: ResultSelector (on
// the result), ResultPath (merging into the raw input), then OutputPath.
func (c *Common) ApplyResult(input, result any, env *Env) (any, error) {
	var err error
	if c.ResultSelector != nil {
		if result, err = c.ResultSelector.Eval(result, env); err != nil {
			return nil, err
		}
	}
	out, err := c.ResultPath.Apply(input, result)
	if err != nil {
		return nil, err
	}
	return selectPath(c.OutputPath, out, env)
}

// Output applies InputPath then OutputPath: the output of states that have
// no result (Succeed, Choice, Wait).
func (c *Common) Output(input any) (any, error) {
	in, err := selectPath(c.InputPath, input, nil)
	if err != nil {
		return nil, err
	}
	return selectPath(c.OutputPath, in, nil)
}

// Pass is a Pass state.
type Pass struct {
	Common
	// Result is the fixed result (HasResult tells whether it was given).
	Result    any
	HasResult bool
}

// Run computes a Pass state's output from its raw input.
func (p *Pass) Run(input any, env *Env) (any, error) {
	eff, err := p.EffectiveInput(input, env)
	if err != nil {
		return nil, err
	}
	res := eff
	if p.HasResult {
		res = deepCopy(p.Result)
	}
	return p.ApplyResult(input, res, env)
}

// Succeed is a Succeed state; its output is Output(input).
type Succeed struct{ Common }

// ResourceKind says how a Task invokes its resource.
type ResourceKind int

// Resource kinds.
const (
	// LambdaFunction: Resource is a Lambda function ARN; the effective
	// input is the payload and the function's output is the result.
	LambdaFunction ResourceKind = iota + 1
	// LambdaInvoke: arn:aws:states:::lambda:invoke; the effective input
	// holds FunctionName, Payload, ...; the result is the Invoke response
	// ({"Payload": ..., "StatusCode": 200, ...}).
	LambdaInvoke
)

// Resource is a parsed Task resource.
type Resource struct {
	ARN  string
	Kind ResourceKind
	// FunctionARN is the function ARN for LambdaFunction resources.
	FunctionARN string
	// WaitForTaskToken is true for ".waitForTaskToken" integrations.
	WaitForTaskToken bool
}

// Task is a Task state.
type Task struct {
	Common
	Resource Resource
	// TimeoutSeconds / HeartbeatSeconds are 0 when absent.
	TimeoutSeconds       int64
	TimeoutSecondsPath   Path
	HeartbeatSeconds     int64
	HeartbeatSecondsPath Path
}

// Choice is a Choice state. Rules are tried in order.
type Choice struct {
	Common
	Choices []*Rule
	Default string
}

// Wait is a Wait state: exactly one of the four fields is set.
type Wait struct {
	Common
	Seconds       int64
	HasSeconds    bool
	SecondsPath   Path
	Timestamp     string
	TimestampPath Path
}

// Fail is a Fail state.
type Fail struct {
	Common
	Error     string
	ErrorPath *Dynamic
	Cause     string
	CausePath *Dynamic

	hasError, hasCause bool // Error / Cause given (possibly empty)
}

// Dynamic is a field value given by a path or an intrinsic call (ErrorPath,
// CausePath, ...).
type Dynamic struct {
	Raw  string
	path *Path
	call *call
}

// Parallel is a Parallel state.
type Parallel struct {
	Common
	Branches []*Machine
}

// Map is an inline Map state.
type Map struct {
	Common
	// Processor is the item processor (ItemProcessor or legacy Iterator).
	Processor *Machine
	ItemsPath Path
	// ItemSelector is ItemSelector or the legacy Parameters (per item).
	ItemSelector       *Template
	MaxConcurrency     int64
	MaxConcurrencyPath Path
}

// Retrier is one Retry entry with defaults applied.
type Retrier struct {
	ErrorEquals     []string
	IntervalSeconds int64   // default 1
	MaxAttempts     int64   // default 3; 0 means never retry
	BackoffRate     float64 // default 2.0
	MaxDelaySeconds int64   // 0 = no cap
	JitterStrategy  string  // "FULL" or "NONE" (default)
}

// Catcher is one Catch entry.
type Catcher struct {
	ErrorEquals []string
	Next        string
	ResultPath  ResultPath
}

var stateFields = map[string][]string{
	"Pass":     {"Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultPath", "Result"},
	"Task":     {"Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"},
	"Choice":   {"Type", "Comment", "InputPath", "OutputPath", "Choices", "Default"},
	"Wait":     {"Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Seconds", "SecondsPath", "Timestamp", "TimestampPath"},
	"Succeed":  {"Type", "Comment", "InputPath", "OutputPath"},
	"Fail":     {"Type", "Comment", "Error", "ErrorPath", "Cause", "CausePath"},
	"Parallel": {"Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "Branches"},
	"Map":      {"Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "Iterator", "ItemProcessor", "ItemsPath", "ItemSelector", "MaxConcurrency", "MaxConcurrencyPath"},
}

// parser collects problems while building a Machine.
type parser struct {
	probs       []Problem
	unsupported []*UnsupportedError
}

func (p *parser) bad(loc, format string, args ...any) {
	p.probs = append(p.probs, Problem{Code: "SCHEMA_VALIDATION_FAILED", Message: fmt.Sprintf(format, args...), Location: loc})
}

func (p *parser) code(code, loc, format string, args ...any) {
	p.probs = append(p.probs, Problem{Code: code, Message: fmt.Sprintf(format, args...), Location: loc})
}

func (p *parser) unsup(feature, loc, detail string) {
	p.unsupported = append(p.unsupported, &UnsupportedError{Feature: feature, Location: loc, Detail: detail})
}

// addProblems merges template/path problems, turning UNSUPPORTED codes into
// unsupported features.
func (p *parser) addProblems(base string, probs []Problem) {
	for _, pr := range probs {
		pr.Location = base + pr.Location
		if f, ok := strings.CutPrefix(pr.Code, "UNSUPPORTED:"); ok {
			p.unsup(f, pr.Location, pr.Message)
			continue
		}
		p.probs = append(p.probs, pr)
	}
}

// Parse parses and validates a state machine definition. It returns an
// *UnsupportedError (see Unsupported) when the definition uses a feature
// this package refuses, else a *ValidationError listing every problem.
func Parse(definition []byte) (*Machine, error) {
	v, err := DecodeJSON(definition)
	if err != nil {
		return nil, &ValidationError{Problems: []Problem{{Code: "INVALID_JSON_DESCRIPTION", Message: err.Error()}}}
	}
	p := &parser{}
	p.scanJSONata(v, "")
	m := p.machine(v, "", true)
	if len(p.unsupported) > 0 {
		return nil, p.unsupported[0]
	}
	if len(p.probs) > 0 {
		return nil, &ValidationError{Problems: p.probs}
	}
	return m, nil
}

// scanJSONata refuses "{% ... %}" expressions anywhere.
func (p *parser) scanJSONata(v any, loc string) {
	switch x := v.(type) {
	case string:
		t := strings.TrimSpace(x)
		if strings.HasPrefix(t, "{%") && strings.HasSuffix(t, "%}") {
			p.unsup(FeatureJSONata, loc, "JSONata expression")
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			p.scanJSONata(x[k], loc+"/"+k)
		}
	case []any:
		for i, e := range x {
			p.scanJSONata(e, fmt.Sprintf("%s/%d", loc, i))
		}
	}
}

func (p *parser) machine(v any, loc string, top bool) *Machine {
	obj, ok := v.(map[string]any)
	if !ok {
		p.bad(loc, "a state machine must be a JSON object")
		return nil
	}
	m := &Machine{States: map[string]State{}}
	allowed := map[string]bool{"StartAt": true, "States": true, "Comment": true, "QueryLanguage": true}
	if top {
		allowed["Version"] = true
		allowed["TimeoutSeconds"] = true
	} else {
		allowed["ProcessorConfig"] = true
	}
	for _, k := range sortedKeys(obj) {
		if !allowed[k] {
			p.bad(loc+"/"+k, "Field %q is not supported", k)
		}
	}
	p.queryLanguage(obj, loc)
	m.Comment = p.optString(obj, "Comment", loc)
	m.Version = p.optString(obj, "Version", loc)
	if m.Version != "" && m.Version != "1.0" {
		p.bad(loc+"/Version", "The value for the field 'Version' must be '1.0'")
	}
	if top {
		if t, ok := p.optInt(obj, "TimeoutSeconds", loc, 1); ok {
			m.TimeoutSeconds = t
		}
	}
	start, ok := obj["StartAt"].(string)
	if !ok {
		p.bad(loc, "The field 'StartAt' should be a non-empty STRING")
	}
	m.StartAt = start
	states, ok := obj["States"].(map[string]any)
	if !ok || len(states) == 0 {
		p.bad(loc, "The field 'States' should be a non-empty JSON object")
		return m
	}
	for _, name := range sortedKeys(states) {
		sloc := loc + "/States/" + name
		if name == "" || len(name) > 80 {
			p.bad(sloc, "State names must be 1 to 80 characters long")
		}
		st := p.state(name, states[name], sloc)
		if st != nil {
			m.States[name] = st
			m.Names = append(m.Names, name)
		}
	}
	if start != "" {
		if _, ok := states[start]; !ok {
			p.code("MISSING_TRANSITION_TARGET", loc+"/StartAt", "Missing 'Next' target: %s", start)
		}
	}
	// Transition targets and reachability.
	reach := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if reach[n] {
			return
		}
		if _, ok := m.States[n]; !ok {
			return
		}
		reach[n] = true
		for _, t := range transitions(m.States[n]) {
			visit(t.target)
		}
	}
	for _, name := range m.Names {
		for _, t := range transitions(m.States[name]) {
			if _, ok := states[t.target]; !ok {
				p.code("MISSING_TRANSITION_TARGET", loc+"/States/"+name+t.loc, "Missing 'Next' target: %s", t.target)
			}
		}
	}
	visit(start)
	if start != "" && reach[start] {
		for _, name := range m.Names {
			if !reach[name] {
				p.code("UNREACHABLE_STATE", loc+"/States/"+name, "State %q is not reachable", name)
			}
		}
	}
	return m
}

type transition struct{ target, loc string }

func transitions(s State) []transition {
	var out []transition
	c := s.Fields()
	if c.Next != "" {
		out = append(out, transition{c.Next, "/Next"})
	}
	for i, k := range c.Catch {
		out = append(out, transition{k.Next, fmt.Sprintf("/Catch/%d/Next", i)})
	}
	if ch, ok := s.(*Choice); ok {
		for i, r := range ch.Choices {
			out = append(out, transition{r.Next, fmt.Sprintf("/Choices/%d/Next", i)})
		}
		if ch.Default != "" {
			out = append(out, transition{ch.Default, "/Default"})
		}
	}
	return out
}

func (p *parser) queryLanguage(obj map[string]any, loc string) {
	if ql, ok := obj["QueryLanguage"]; ok {
		switch ql {
		case "JSONPath":
		case "JSONata":
			p.unsup(FeatureJSONata, loc+"/QueryLanguage", "QueryLanguage JSONata")
		default:
			p.bad(loc+"/QueryLanguage", "The value for the field 'QueryLanguage' must be one of JSONPath, JSONata")
		}
	}
}

func (p *parser) optString(obj map[string]any, key, loc string) string {
	v, ok := obj[key]
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		p.bad(loc+"/"+key, "The value for the field '%s' must be a STRING", key)
	}
	return s
}

// optInt reads an optional integer field >= min.
func (p *parser) optInt(obj map[string]any, key, loc string, min int64) (int64, bool) {
	v, ok := obj[key]
	if !ok {
		return 0, false
	}
	n, ok := isIntegral(v)
	if !ok || n < min {
		p.bad(loc+"/"+key, "The value for the field '%s' must be an INTEGER >= %d", key, min)
		return 0, false
	}
	return n, true
}

func (p *parser) optPath(obj map[string]any, key, loc string, nullable bool) Path {
	v, ok := obj[key]
	if !ok {
		return Path{}
	}
	if v == nil {
		if !nullable {
			p.bad(loc+"/"+key, "The value for the field '%s' must be a STRING", key)
		}
		return Path{Null: true}
	}
	s, ok := v.(string)
	if !ok {
		p.bad(loc+"/"+key, "The value for the field '%s' must be a STRING", key)
		return Path{}
	}
	path, err := CompilePath(s)
	if err != nil {
		p.addProblems("", []Problem{pathProblem(err, fmt.Sprintf("The value for the field '%s' must be a valid JSONPath", key), loc+"/"+key)})
		return Path{}
	}
	return path
}

func (p *parser) optTemplate(obj map[string]any, key, loc string) *Template {
	v, ok := obj[key]
	if !ok {
		return nil
	}
	if _, ok := v.(map[string]any); !ok {
		p.bad(loc+"/"+key, "The value for the field '%s' must be an OBJECT", key)
		return nil
	}
	t, probs := CompileTemplate(v)
	p.addProblems(loc+"/"+key, probs)
	return t
}

func (p *parser) resultPath(obj map[string]any, loc string) ResultPath {
	v, ok := obj["ResultPath"]
	if !ok {
		return ResultPath{}
	}
	if v == nil {
		return ResultPath{Path: Path{Null: true}}
	}
	s, ok := v.(string)
	if !ok {
		p.bad(loc+"/ResultPath", "The value for the field 'ResultPath' must be a STRING")
		return ResultPath{}
	}
	rp, err := CompileResultPath(s)
	if err != nil {
		p.addProblems("", []Problem{pathProblem(err, "The value for the field 'ResultPath' must be a valid ReferencePath", loc+"/ResultPath")})
	}
	return rp
}

var stateTypes = map[string]bool{"Pass": true, "Task": true, "Choice": true, "Wait": true, "Succeed": true, "Fail": true, "Parallel": true, "Map": true}

func (p *parser) state(name string, v any, loc string) State {
	obj, ok := v.(map[string]any)
	if !ok {
		p.bad(loc, "A state must be a JSON object")
		return nil
	}
	typ, _ := obj["Type"].(string)
	if !stateTypes[typ] {
		p.bad(loc+"/Type", "The field 'Type' must be one of Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map")
		return nil
	}
	allowed := map[string]bool{}
	for _, f := range stateFields[typ] {
		allowed[f] = true
	}
	for _, k := range sortedKeys(obj) {
		if allowed[k] || k == "QueryLanguage" {
			continue
		}
		switch k {
		case "Assign":
			p.unsup(FeatureVariables, loc+"/Assign", "Assign")
		case "Arguments", "Output", "Items":
			p.unsup(FeatureJSONata, loc+"/"+k, "JSONata field "+k)
		case "Credentials":
			p.unsup(FeatureCredentials, loc+"/Credentials", "Credentials")
		case "ItemReader":
			p.unsup(FeatureItemReader, loc+"/ItemReader", "ItemReader")
		case "ItemBatcher":
			p.unsup(FeatureItemBatcher, loc+"/ItemBatcher", "ItemBatcher")
		case "ResultWriter":
			p.unsup(FeatureResultWriter, loc+"/ResultWriter", "ResultWriter")
		case "ToleratedFailureCount", "ToleratedFailureCountPath", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "Label":
			p.unsup(FeatureDistributedMap, loc+"/"+k, k)
		default:
			p.bad(loc+"/"+k, "Field %q is not supported", k)
		}
	}
	p.queryLanguage(obj, loc)
	c := Common{Name: name, Type: typ}
	c.Comment = p.optString(obj, "Comment", loc)
	if allowed["Next"] {
		next, hasNext := obj["Next"]
		end, hasEnd := obj["End"]
		if hasNext {
			s, ok := next.(string)
			if !ok || s == "" {
				p.bad(loc+"/Next", "The value for the field 'Next' must be a non-empty STRING")
			}
			c.Next = s
		}
		if hasEnd {
			b, ok := end.(bool)
			if !ok {
				p.bad(loc+"/End", "The value for the field 'End' must be a BOOLEAN")
			}
			c.End = b
		}
		switch {
		case hasNext && c.End:
			p.bad(loc, "Both 'Next' and 'End' are set")
		case !hasNext && !c.End:
			p.bad(loc, "Either 'Next' or 'End: true' is required")
		}
	}
	if typ == "Succeed" || typ == "Fail" {
		c.End = true
	}
	if allowed["InputPath"] {
		c.InputPath = p.optPath(obj, "InputPath", loc, true)
		c.OutputPath = p.optPath(obj, "OutputPath", loc, true)
	}
	if allowed["Parameters"] && typ != "Map" {
		c.Parameters = p.optTemplate(obj, "Parameters", loc)
	}
	if allowed["ResultSelector"] {
		c.ResultSelector = p.optTemplate(obj, "ResultSelector", loc)
	}
	if allowed["ResultPath"] {
		c.ResultPath = p.resultPath(obj, loc)
	}
	if allowed["Retry"] {
		c.Retry = p.retriers(obj["Retry"], loc+"/Retry")
		c.Catch = p.catchers(obj["Catch"], loc+"/Catch")
	}
	switch typ {
	case "Pass":
		s := &Pass{Common: c}
		s.Result, s.HasResult = obj["Result"]
		return s
	case "Succeed":
		return &Succeed{Common: c}
	case "Fail":
		return p.fail(c, obj, loc)
	case "Wait":
		return p.wait(c, obj, loc)
	case "Choice":
		return p.choice(c, obj, loc)
	case "Task":
		return p.task(c, obj, loc)
	case "Parallel":
		s := &Parallel{Common: c}
		br, ok := obj["Branches"].([]any)
		if !ok || len(br) == 0 {
			p.bad(loc+"/Branches", "The field 'Branches' must be a non-empty ARRAY")
		}
		for i, b := range br {
			s.Branches = append(s.Branches, p.machine(b, fmt.Sprintf("%s/Branches/%d", loc, i), false))
		}
		return s
	case "Map":
		return p.mapState(c, obj, loc)
	}
	return nil
}

func (p *parser) fail(c Common, obj map[string]any, loc string) State {
	s := &Fail{Common: c}
	s.Error = p.optString(obj, "Error", loc)
	s.Cause = p.optString(obj, "Cause", loc)
	_, s.hasError = obj["Error"]
	_, s.hasCause = obj["Cause"]
	s.ErrorPath = p.dynamic(obj, "ErrorPath", loc)
	s.CausePath = p.dynamic(obj, "CausePath", loc)
	if _, ok := obj["Error"]; ok && s.ErrorPath != nil {
		p.bad(loc, "Only one of 'Error' and 'ErrorPath' may be set")
	}
	if _, ok := obj["Cause"]; ok && s.CausePath != nil {
		p.bad(loc, "Only one of 'Cause' and 'CausePath' may be set")
	}
	return s
}

func (p *parser) dynamic(obj map[string]any, key, loc string) *Dynamic {
	v, ok := obj[key]
	if !ok {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		p.bad(loc+"/"+key, "The value for the field '%s' must be a STRING", key)
		return nil
	}
	d := &Dynamic{Raw: s}
	if strings.HasPrefix(s, "$") {
		path, err := CompilePath(s)
		if err != nil {
			p.addProblems("", []Problem{pathProblem(err, fmt.Sprintf("The value for the field '%s' must be a valid JSONPath or intrinsic function", key), loc+"/"+key)})
			return nil
		}
		d.path = &path
		return d
	}
	cl, err := compileIntrinsic(s)
	if err != nil {
		p.bad(loc+"/"+key, "The value for the field '%s' must be a valid JSONPath or intrinsic function: %v", key, err)
		return nil
	}
	d.call = cl
	return d
}

func (p *parser) wait(c Common, obj map[string]any, loc string) State {
	s := &Wait{Common: c}
	n := 0
	if v, ok := obj["Seconds"]; ok {
		n++
		sec, ok := isIntegral(v)
		if !ok || sec < 0 {
			p.bad(loc+"/Seconds", "The value for the field 'Seconds' must be a non-negative INTEGER")
		}
		s.Seconds, s.HasSeconds = sec, true
	}
	if _, ok := obj["SecondsPath"]; ok {
		n++
		s.SecondsPath = p.optPath(obj, "SecondsPath", loc, false)
	}
	if v, ok := obj["Timestamp"]; ok {
		n++
		ts, ok := v.(string)
		if _, err := parseTimestamp(ts); !ok || err != nil {
			p.bad(loc+"/Timestamp", "The value for the field 'Timestamp' must be a valid ISO-8601 timestamp")
		}
		s.Timestamp = ts
	}
	if _, ok := obj["TimestampPath"]; ok {
		n++
		s.TimestampPath = p.optPath(obj, "TimestampPath", loc, false)
	}
	if n != 1 {
		p.bad(loc, "Exactly one of 'Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath' is required")
	}
	return s
}

var (
	lambdaARN = regexp.MustCompile(`^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$`)
	statesARN = regexp.MustCompile(`^arn:aws[a-z-]*:states:([a-z0-9-]*):(\d{12})?:([a-zA-Z0-9-]+):(.+)$`)
)

func (p *parser) task(c Common, obj map[string]any, loc string) State {
	s := &Task{Common: c}
	res, ok := obj["Resource"].(string)
	if !ok || res == "" {
		p.bad(loc+"/Resource", "The field 'Resource' must be a non-empty STRING")
	} else {
		s.Resource = p.resource(res, loc+"/Resource")
	}
	if s.Resource.Kind == LambdaInvoke {
		params, _ := obj["Parameters"].(map[string]any)
		_, hasName := params["FunctionName"]
		_, hasNamePath := params["FunctionName.$"]
		if !hasName && !hasNamePath {
			p.bad(loc+"/Parameters", "The field 'FunctionName' is required by %s", s.Resource.ARN)
		}
	}
	if t, ok := p.optInt(obj, "TimeoutSeconds", loc, 1); ok {
		s.TimeoutSeconds = t
	}
	if h, ok := p.optInt(obj, "HeartbeatSeconds", loc, 1); ok {
		s.HeartbeatSeconds = h
	}
	s.TimeoutSecondsPath = p.optPath(obj, "TimeoutSecondsPath", loc, false)
	s.HeartbeatSecondsPath = p.optPath(obj, "HeartbeatSecondsPath", loc, false)
	if s.TimeoutSeconds != 0 && s.TimeoutSecondsPath.IsSet() {
		p.bad(loc, "Only one of 'TimeoutSeconds' and 'TimeoutSecondsPath' may be set")
	}
	if s.HeartbeatSeconds != 0 && s.HeartbeatSecondsPath.IsSet() {
		p.bad(loc, "Only one of 'HeartbeatSeconds' and 'HeartbeatSecondsPath' may be set")
	}
	if s.TimeoutSeconds != 0 && s.HeartbeatSeconds != 0 && s.HeartbeatSeconds >= s.TimeoutSeconds {
		p.bad(loc+"/HeartbeatSeconds", "HeartbeatSeconds must be smaller than TimeoutSeconds")
	}
	return s
}

func (p *parser) resource(res, loc string) Resource {
	r := Resource{ARN: res}
	if lambdaARN.MatchString(res) {
		r.Kind, r.FunctionARN = LambdaFunction, res
		return r
	}
	m := statesARN.FindStringSubmatch(res)
	if m == nil {
		p.bad(loc, "The value for the field 'Resource' must be a valid ARN: %s", res)
		return r
	}
	kind, rest := m[3], m[4]
	if kind == "activity" {
		p.unsup(FeatureActivity, loc, res)
		return r
	}
	if m[1] != "" || m[2] != "" {
		p.bad(loc, "The value for the field 'Resource' must be a valid ARN: %s", res)
		return r
	}
	if kind == "aws-sdk" {
		p.unsup(FeatureAWSSDK, loc, res)
		return r
	}
	action := rest
	suffix := ""
	if i := strings.Index(rest, "."); i >= 0 {
		action, suffix = rest[:i], rest[i+1:]
	}
	switch {
	case strings.HasPrefix(suffix, "sync"):
		p.unsup(FeatureSync, loc, res)
		return r
	case suffix != "" && suffix != "waitForTaskToken":
		p.bad(loc, "Unknown integration pattern %q in %s", suffix, res)
		return r
	}
	if kind != "lambda" || action != "invoke" {
		if kind == "states" {
			kind = "sfn" // Step Functions itself (nested executions)
		}
		p.unsup(kind, loc, res)
		return r
	}
	r.Kind = LambdaInvoke
	r.WaitForTaskToken = suffix == "waitForTaskToken"
	return r
}

func (p *parser) mapState(c Common, obj map[string]any, loc string) State {
	s := &Map{Common: c}
	proc, hasProc := obj["ItemProcessor"]
	it, hasIt := obj["Iterator"]
	switch {
	case hasProc && hasIt:
		p.bad(loc, "Only one of 'ItemProcessor' and 'Iterator' may be set")
	case hasIt:
		proc = it
	case !hasProc:
		p.bad(loc, "The field 'ItemProcessor' is required")
	}
	if pm, ok := proc.(map[string]any); ok {
		if pc, ok := pm["ProcessorConfig"].(map[string]any); ok {
			switch pc["Mode"] {
			case "DISTRIBUTED":
				p.unsup(FeatureDistributedMap, loc+"/ItemProcessor/ProcessorConfig/Mode", "DISTRIBUTED mode")
			case nil, "INLINE":
			default:
				p.bad(loc+"/ItemProcessor/ProcessorConfig/Mode", "Mode must be INLINE or DISTRIBUTED")
			}
		}
		ploc := loc + "/ItemProcessor"
		if hasIt {
			ploc = loc + "/Iterator"
		}
		s.Processor = p.machine(proc, ploc, false)
	} else if proc != nil {
		p.bad(loc+"/ItemProcessor", "The field 'ItemProcessor' must be an OBJECT")
	}
	s.ItemsPath = p.optPath(obj, "ItemsPath", loc, false)
	_, hasSel := obj["ItemSelector"]
	_, hasParams := obj["Parameters"]
	if hasSel && hasParams {
		p.bad(loc, "Only one of 'ItemSelector' and 'Parameters' may be set")
	}
	if hasSel {
		s.ItemSelector = p.optTemplate(obj, "ItemSelector", loc)
	} else if hasParams {
		s.ItemSelector = p.optTemplate(obj, "Parameters", loc)
	}
	if n, ok := p.optInt(obj, "MaxConcurrency", loc, 0); ok {
		s.MaxConcurrency = n
	}
	s.MaxConcurrencyPath = p.optPath(obj, "MaxConcurrencyPath", loc, false)
	if _, ok := obj["MaxConcurrency"]; ok && s.MaxConcurrencyPath.IsSet() {
		p.bad(loc, "Only one of 'MaxConcurrency' and 'MaxConcurrencyPath' may be set")
	}
	return s
}

func (p *parser) errorEquals(v any, loc string) []string {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		p.bad(loc+"/ErrorEquals", "The field 'ErrorEquals' must be a non-empty ARRAY of STRING")
		return nil
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			p.bad(fmt.Sprintf("%s/ErrorEquals/%d", loc, i), "Error names must be STRINGs")
			continue
		}
		if s == ErrAll && len(arr) > 1 {
			p.bad(fmt.Sprintf("%s/ErrorEquals/%d", loc, i), "States.ALL must appear alone in ErrorEquals")
		}
		out = append(out, s)
	}
	return out
}

func (p *parser) retriers(v any, loc string) []Retrier {
	if v == nil {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		p.bad(loc, "The field 'Retry' must be an ARRAY")
		return nil
	}
	var out []Retrier
	for i, e := range arr {
		rloc := fmt.Sprintf("%s/%d", loc, i)
		obj, ok := e.(map[string]any)
		if !ok {
			p.bad(rloc, "A retrier must be an OBJECT")
			continue
		}
		for _, k := range sortedKeys(obj) {
			switch k {
			case "ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment":
			default:
				p.bad(rloc+"/"+k, "Field %q is not supported", k)
			}
		}
		r := Retrier{IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2.0, JitterStrategy: "NONE"}
		r.ErrorEquals = p.errorEquals(obj["ErrorEquals"], rloc)
		if n, ok := p.optInt(obj, "IntervalSeconds", rloc, 1); ok {
			r.IntervalSeconds = n
		}
		if n, ok := p.optInt(obj, "MaxAttempts", rloc, 0); ok {
			r.MaxAttempts = n
		}
		if n, ok := p.optInt(obj, "MaxDelaySeconds", rloc, 1); ok {
			r.MaxDelaySeconds = n
		}
		if b, ok := obj["BackoffRate"]; ok {
			f, ok := isNumber(b)
			if !ok || f < 1.0 {
				p.bad(rloc+"/BackoffRate", "The value for the field 'BackoffRate' must be a NUMBER >= 1.0")
			} else {
				r.BackoffRate = f
			}
		}
		if j, ok := obj["JitterStrategy"]; ok {
			if j != "FULL" && j != "NONE" {
				p.bad(rloc+"/JitterStrategy", "The value for the field 'JitterStrategy' must be FULL or NONE")
			} else {
				r.JitterStrategy = j.(string)
			}
		}
		for _, n := range r.ErrorEquals {
			if n == ErrAll && i != len(arr)-1 {
				p.bad(rloc+"/ErrorEquals", "A retrier with States.ALL must be the last one")
			}
		}
		out = append(out, r)
	}
	return out
}

func (p *parser) catchers(v any, loc string) []Catcher {
	if v == nil {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		p.bad(loc, "The field 'Catch' must be an ARRAY")
		return nil
	}
	var out []Catcher
	for i, e := range arr {
		cloc := fmt.Sprintf("%s/%d", loc, i)
		obj, ok := e.(map[string]any)
		if !ok {
			p.bad(cloc, "A catcher must be an OBJECT")
			continue
		}
		for _, k := range sortedKeys(obj) {
			switch k {
			case "ErrorEquals", "Next", "ResultPath", "Comment":
			case "Assign":
				p.unsup(FeatureVariables, cloc+"/Assign", "Assign")
			case "Output":
				p.unsup(FeatureJSONata, cloc+"/Output", "Output")
			default:
				p.bad(cloc+"/"+k, "Field %q is not supported", k)
			}
		}
		c := Catcher{ErrorEquals: p.errorEquals(obj["ErrorEquals"], cloc)}
		next, ok := obj["Next"].(string)
		if !ok || next == "" {
			p.bad(cloc+"/Next", "The field 'Next' must be a non-empty STRING")
		}
		c.Next = next
		c.ResultPath = p.resultPath(obj, cloc)
		for _, n := range c.ErrorEquals {
			if n == ErrAll && i != len(arr)-1 {
				p.bad(cloc+"/ErrorEquals", "A catcher with States.ALL must be the last one")
			}
		}
		out = append(out, c)
	}
	return out
}
