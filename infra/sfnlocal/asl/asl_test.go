package asl

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	v, err := DecodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func enc(t *testing.T, v any) string {
	t.Helper()
	b, err := EncodeJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustParse(t *testing.T, def string) *Machine {
	t.Helper()
	m, err := Parse([]byte(def))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return m
}

func TestJSONRoundTrip(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":1.0,"b":12345678901234567890123,"c":"<&>"}`, `{"a":1.0,"b":12345678901234567890123,"c":"<&>"}`},
		{`[1e3, -0, 2.50]`, `[1e3,-0,2.50]`},
		{`"héllo\u2028\u0001\t"`, "\"héllo\u2028\\u0001\\t\""},
		{`null`, `null`},
	}
	for _, tt := range tests {
		if got := enc(t, mustJSON(t, tt.in)); got != tt.want {
			t.Errorf("round trip %s = %s, want %s", tt.in, got, tt.want)
		}
	}
	if _, err := DecodeJSON([]byte(`{} {}`)); err == nil {
		t.Error("DecodeJSON accepted trailing data")
	}
	if got := enc(t, map[string]any{"i": 3, "f": 2.5, "g": float64(4), "l": int64(1) << 60}); got != `{"f":2.5,"g":4,"i":3,"l":1152921504606846976}` {
		t.Errorf("Go values encoded as %s", got)
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name string
		def  string
		want []string // substrings of problems, each "message at location"
	}{
		{"not json", `{`, []string{"INVALID_JSON_DESCRIPTION"}},
		{"missing StartAt and States", `{}`, []string{"'StartAt'", "'States'"}},
		{"StartAt unknown", `{"StartAt":"X","States":{"A":{"Type":"Succeed"}}}`, []string{"Missing 'Next' target: X at /StartAt"}},
		{"Next unknown", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`, []string{"MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next"}},
		{"End and Next", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B","End":true},"B":{"Type":"Succeed"}}}`, []string{"Both 'Next' and 'End' are set at /States/A"}},
		{"neither End nor Next", `{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`, []string{"Either 'Next' or 'End: true' is required at /States/A"}},
		{"unreachable", `{"StartAt":"A","States":{"A":{"Type":"Succeed"},"B":{"Type":"Succeed"}}}`, []string{`UNREACHABLE_STATE: State "B" is not reachable at /States/B`}},
		{"bad type", `{"StartAt":"A","States":{"A":{"Type":"Nope"}}}`, []string{"at /States/A/Type"}},
		{"unknown field", `{"StartAt":"A","States":{"A":{"Type":"Succeed","Foo":1}}}`, []string{`Field "Foo" is not supported at /States/A/Foo`}},
		{"bad InputPath", `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"a.b","End":true}}}`, []string{"at /States/A/InputPath"}},
		{"bad intrinsic", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.Nope(1)"},"End":true}}}`, []string{"unknown intrinsic function", "at /States/A/Parameters/x.$"}},
		{"intrinsic arity", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.ArrayLength(1, 2)"},"End":true}}}`, []string{"takes 1 arguments", "at /States/A/Parameters/x.$"}},
		{"dynamic non-string", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":1},"End":true}}}`, []string{"at /States/A/Parameters/x.$"}},
		{"ResultPath with wildcard", `{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$.a[*]","End":true}}}`, []string{"at /States/A/ResultPath"}},
		{"choice without choices", `{"StartAt":"A","States":{"A":{"Type":"Choice"}}}`, []string{"at /States/A/Choices"}},
		{"choice rule without Next", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.a","IsNull":true}],"Default":"B"},"B":{"Type":"Succeed"}}}`, []string{"'Next' is required", "at /States/A/Choices/0"}},
		{"choice two operators", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.a","IsNull":true,"IsString":true,"Next":"B"}]},"B":{"Type":"Succeed"}}}`, []string{"exactly one comparison operator"}},
		{"choice bad operand", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.a","NumericEquals":"1","Next":"B"}]},"B":{"Type":"Succeed"}}}`, []string{"at /States/A/Choices/0/NumericEquals"}},
		{"choice bad timestamp", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.a","TimestampEquals":"2016-13-01","Next":"B"}]},"B":{"Type":"Succeed"}}}`, []string{"at /States/A/Choices/0/TimestampEquals"}},
		{"wait two fields", `{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}}}`, []string{"Exactly one of"}},
		{"fail error and path", `{"StartAt":"A","States":{"A":{"Type":"Fail","Error":"E","ErrorPath":"$.e"}}}`, []string{"Only one of 'Error' and 'ErrorPath'"}},
		{"retry ALL not last", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:f","End":true,"Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["E"]}]}}}`, []string{"States.ALL must be the last", "at /States/A/Retry/0/ErrorEquals"}},
		{"retry bad backoff", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:f","End":true,"Retry":[{"ErrorEquals":["E"],"BackoffRate":0.5,"JitterStrategy":"HALF"}]}}}`, []string{"at /States/A/Retry/0/BackoffRate", "at /States/A/Retry/0/JitterStrategy"}},
		{"catch bad next", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:f","End":true,"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Z"}]}}}`, []string{"Missing 'Next' target: Z at /States/A/Catch/0/Next"}},
		{"bad resource", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"lambda-f","End":true}}}`, []string{"at /States/A/Resource"}},
		{"heartbeat >= timeout", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:f","TimeoutSeconds":5,"HeartbeatSeconds":5,"End":true}}}`, []string{"at /States/A/HeartbeatSeconds"}},
		{"nested branch problems", `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass","Next":"Y"}}}]}}}`, []string{"Missing 'Next' target: Y at /States/P/Branches/0/States/X/Next"}},
		{"lambda invoke without FunctionName", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}`, []string{"'FunctionName' is required", "at /States/T/Parameters"}},
		{"map without processor", `{"StartAt":"M","States":{"M":{"Type":"Map","End":true}}}`, []string{"'ItemProcessor' is required"}},
		{"many problems at once", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Q"},"B":{"Type":"Wait","End":true}}}`, []string{"/States/A/Next", "/States/B"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.def))
			if err == nil {
				t.Fatal("Parse accepted an invalid definition")
			}
			if f, ok := Unsupported(err); ok {
				t.Fatalf("reported as unsupported %q: %v", f, err)
			}
			if _, ok := err.(*ValidationError); !ok {
				t.Fatalf("error type %T, want *ValidationError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestParseUnsupported(t *testing.T) {
	wrap := func(state string) string {
		return `{"StartAt":"A","States":{"A":` + state + `}}`
	}
	task := func(res string) string {
		return wrap(`{"Type":"Task","Resource":"` + res + `","End":true}`)
	}
	tests := []struct {
		def, feature string
	}{
		{`{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Succeed"}}}`, FeatureJSONata},
		{wrap(`{"Type":"Pass","QueryLanguage":"JSONata","End":true}`), FeatureJSONata},
		{wrap(`{"Type":"Pass","Parameters":{"a":"{% $states.input %}"},"End":true}`), FeatureJSONata},
		{wrap(`{"Type":"Pass","Output":{"a":1},"End":true}`), FeatureJSONata},
		{wrap(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{},"End":true}`), FeatureJSONata},
		{wrap(`{"Type":"Pass","Assign":{"x":1},"End":true}`), FeatureVariables},
		{wrap(`{"Type":"Pass","Parameters":{"a.$":"$x"},"End":true}`), FeatureVariables},
		{task("arn:aws:states:us-east-1:111111111111:activity:act"), FeatureActivity},
		{task("arn:aws:states:::states:startExecution.sync:2"), FeatureSync},
		{task("arn:aws:states:::aws-sdk:s3:getObject"), FeatureAWSSDK},
		{task("arn:aws:states:::sqs:sendMessage.waitForTaskToken"), "sqs"},
		{task("arn:aws:states:::dynamodb:putItem"), "dynamodb"},
		{task("arn:aws:states:::states:startExecution"), "sfn"},
		{wrap(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Credentials":{"RoleArn":"r"},"End":true}`), FeatureCredentials},
		{wrap(`{"Type":"Map","End":true,"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"B","States":{"B":{"Type":"Succeed"}}}}`), FeatureDistributedMap},
		{wrap(`{"Type":"Map","End":true,"ItemReader":{},"ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}}`), FeatureItemReader},
		{wrap(`{"Type":"Map","End":true,"ItemBatcher":{},"ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}}`), FeatureItemBatcher},
		{wrap(`{"Type":"Map","End":true,"ResultWriter":{},"ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}}`), FeatureResultWriter},
	}
	for _, tt := range tests {
		t.Run(tt.feature, func(t *testing.T) {
			_, err := Parse([]byte(tt.def))
			f, ok := Unsupported(err)
			if !ok || f != tt.feature {
				t.Fatalf("Unsupported(%v) = %q, %v; want %q", err, f, ok, tt.feature)
			}
		})
	}
	if _, ok := Unsupported(&ValidationError{}); ok {
		t.Error("Unsupported(ValidationError) = true")
	}
}

func TestParseResources(t *testing.T) {
	tests := []struct {
		res  string
		want Resource
	}{
		{"arn:aws:lambda:us-east-1:111111111111:function:f", Resource{ARN: "arn:aws:lambda:us-east-1:111111111111:function:f", Kind: LambdaFunction, FunctionARN: "arn:aws:lambda:us-east-1:111111111111:function:f"}},
		{"arn:aws:lambda:eu-west-1:111111111111:function:f:live", Resource{ARN: "arn:aws:lambda:eu-west-1:111111111111:function:f:live", Kind: LambdaFunction, FunctionARN: "arn:aws:lambda:eu-west-1:111111111111:function:f:live"}},
		{"arn:aws:states:::lambda:invoke", Resource{ARN: "arn:aws:states:::lambda:invoke", Kind: LambdaInvoke}},
		{"arn:aws:states:::lambda:invoke.waitForTaskToken", Resource{ARN: "arn:aws:states:::lambda:invoke.waitForTaskToken", Kind: LambdaInvoke, WaitForTaskToken: true}},
	}
	for _, tt := range tests {
		m := mustParse(t, `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"`+tt.res+`","Parameters":{"FunctionName":"f"},"End":true}}}`)
		if diff := cmp.Diff(tt.want, m.States["A"].(*Task).Resource); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.res, diff)
		}
	}
}

func TestInputOutputProcessing(t *testing.T) {
	ctx := map[string]any{"Execution": map[string]any{"Id": "exec-1"}}
	env := &Env{Context: ctx}
	tests := []struct {
		name, state, input, result, want string
		wantErr                          string
	}{
		{name: "defaults", state: `{}`, input: `{"a":1}`, result: `{"r":2}`, want: `{"r":2}`},
		{name: "result path merge", state: `{"ResultPath":"$.x.y"}`, input: `{"a":1}`, result: `7`, want: `{"a":1,"x":{"y":7}}`},
		{name: "result path replace existing", state: `{"ResultPath":"$.a"}`, input: `{"a":{"old":1}}`, result: `[1]`, want: `{"a":[1]}`},
		{name: "result path null", state: `{"ResultPath":null}`, input: `{"a":1}`, result: `7`, want: `{"a":1}`},
		{name: "result path into scalar", state: `{"ResultPath":"$.a.b"}`, input: `{"a":1}`, result: `7`, wantErr: ErrResultPathMatchFailure},
		{name: "result path array index", state: `{"ResultPath":"$.a[1]"}`, input: `{"a":[0,0]}`, result: `7`, want: `{"a":[0,7]}`},
		{name: "result selector", state: `{"ResultSelector":{"v.$":"$.Payload","ctx.$":"$$.Execution.Id","k":"lit"}}`, input: `{}`, result: `{"Payload":5}`, want: `{"ctx":"exec-1","k":"lit","v":5}`},
		{name: "output path", state: `{"ResultPath":"$.r","OutputPath":"$.r"}`, input: `{"a":1}`, result: `"x"`, want: `"x"`},
		{name: "output path null", state: `{"OutputPath":null}`, input: `{"a":1}`, result: `"x"`, want: `{}`},
		{name: "output path missing", state: `{"OutputPath":"$.nope"}`, input: `{}`, result: `{"a":1}`, wantErr: "Invalid path '$.nope' : No results for path: $['nope']"},
		{name: "output path missing parent", state: `{"OutputPath":"$.no.such"}`, input: `{}`, result: `{}`, wantErr: "Invalid path '$.no.such' : Missing property in path $['no']"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := `{"StartAt":"T","States":{"T":` + strings.Replace(tt.state, "{", `{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:f","End":true,`, 1) + `}}`
			def = strings.Replace(def, ",}", "}", 1)
			m := mustParse(t, def)
			task := m.States["T"].(*Task)
			out, err := task.ApplyResult(mustJSON(t, tt.input), mustJSON(t, tt.result), env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if _, ok := AsError(err); !ok {
					t.Fatalf("err %T is not *Error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := enc(t, out); got != tt.want {
				t.Errorf("output %s, want %s", got, tt.want)
			}
		})
	}
}

func TestEffectiveInput(t *testing.T) {
	m := mustParse(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:f","End":true,
		"InputPath":"$.in","Parameters":{"FunctionName":"f","Payload":{"x.$":"$.x","n.$":"States.MathAdd($.y, 1)","arr":[{"id.$":"$$.Execution.Id"}],"all.$":"$"}}}}}`)
	task := m.States["T"].(*Task)
	env := &Env{Context: map[string]any{"Execution": map[string]any{"Id": "e1"}}}
	out, err := task.EffectiveInput(mustJSON(t, `{"in":{"x":41,"y":41}}`), env)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"FunctionName":"f","Payload":{"all":{"x":41,"y":41},"arr":[{"id":"e1"}],"n":42,"x":41}}`
	if got := enc(t, out); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	_, err = task.EffectiveInput(mustJSON(t, `{"in":{"y":1}}`), env)
	e, ok := AsError(err)
	if !ok || e.Name != ErrRuntime || e.Cause != `The JSONPath '$.x' specified for the field 'x.$' could not be found in the input '{"y":1}'` {
		t.Fatalf("err = %#v", err)
	}
	if got := e.CauseAt("T", 2); got != `An error occurred while executing the state 'T' (entered at the event id #2). The JSONPath '$.x' specified for the field 'x.$' could not be found in the input '{"y":1}'` {
		t.Errorf("CauseAt = %q", got)
	}
	// A null InputPath gives the state {}.
	m = mustParse(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":null,"End":true}}}`)
	out, err = m.States["P"].(*Pass).Run(mustJSON(t, `{"a":1}`), nil)
	if err != nil || enc(t, out) != `{}` {
		t.Errorf("null InputPath: %v %v", out, err)
	}
}

func TestPathsIndefinite(t *testing.T) {
	in := mustJSON(t, `{"items":[{"v":1,"s":0},{"v":2,"s":1},{"v":3,"s":0}]}`)
	tests := []struct{ path, want string }{
		{"$.items[0].v", `1`},
		{"$.items[-1].v", `3`},
		{"$.items[*].v", `[1,2,3]`},
		{"$.items[1:].v", `[2,3]`},
		{"$.items[?(@.s == 0)].v", `[1,3]`},
		{"$..v", `[1,2,3]`},
		{"$.nothing[*]", `[]`},
		{"$['items'][1]['v']", `2`},
	}
	for _, tt := range tests {
		p, err := CompilePath(tt.path)
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		v, err := p.eval(in, nil)
		if err != nil {
			t.Errorf("%s: %v", tt.path, err)
			continue
		}
		if got := enc(t, v); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.path, got, tt.want)
		}
	}
}

func TestIntrinsics(t *testing.T) {
	input := mustJSON(t, `{"s":"a,b,,c","n":3,"arr":[1,2,2,{"k":1},{"k":1}],"obj":{"a":1},"big":12345678901234567890}`)
	env := &Env{
		Context: map[string]any{"Execution": map[string]any{"Name": "exec-name"}},
		Random:  func() float64 { return 0.25 },
		UUID:    func() string { return "11111111-2222-4333-8444-555555555555" },
	}
	tests := []struct{ expr, want string }{
		{`States.Format('Hello {} and {}', $.n, $.obj)`, `"Hello 3 and {a=1}"`},
		{`States.Format('esc \{\} {} \'q\' \\', 'x')`, `"esc {} x 'q' \\"`},
		{`States.Format('{}', $$.Execution.Name)`, `"exec-name"`},
		{`States.Format('{}', $.arr)`, `"[1, 2, 2, {k=1}, {k=1}]"`},
		{`States.StringToJson('{"a": [1, 2.0]}')`, `{"a":[1,2.0]}`},
		{`States.JsonToString($.obj)`, `"{\"a\":1}"`},
		{`States.JsonToString(null)`, `"null"`},
		{`States.StringToJson('-0')`, `0`},
		{`States.StringToJson('null')`, `null`},
		{`States.StringToJson(' ')`, `null`},
		{`States.JsonMerge(States.StringToJson('{\"constant_in_literal\": \"false\"}'), $.obj, false)`, `{"a":1,"constant_in_literal":"false"}`},
		{`States.ArrayContains(States.Array(), null)`, `false`},
		{`States.ArrayRange(1, 9, 9)`, `[1]`},
		{`States.Format('{}', States.Array(1, 'two', null))`, `"[1, two, null]"`},
		{`States.Array(1, 'two', true, null, $.n)`, `[1,"two",true,null,3]`},
		{`States.ArrayPartition($.arr, 2)`, `[[1,2],[2,{"k":1}],[{"k":1}]]`},
		{`States.ArrayContains($.arr, $.obj)`, `false`},
		{`States.ArrayContains($.arr, 2)`, `true`},
		{`States.ArrayRange(10, 1, -3)`, `[10,7,4,1]`},
		{`States.ArrayGetItem($.arr, 3)`, `{"k":1}`},
		{`States.ArrayLength($.arr)`, `5`},
		{`States.ArrayUnique($.arr)`, `[1,2,{"k":1}]`},
		{`States.Base64Encode('Data to encode')`, `"RGF0YSB0byBlbmNvZGU="`},
		{`States.Base64Decode('RGF0YSB0byBlbmNvZGU=')`, `"Data to encode"`},
		{`States.Hash('input data', 'SHA-1')`, `"aaff4a450a104cd177d28d18d74485e8cae074b7"`},
		{`States.Hash('input data', 'SHA-512')`, `"fd12ac3e2d8cf5a3c0c3c0bd8fdb02e4de3c4dd9ed6ed4a4e4b0a6f1fdebdbb3ab9b5f12a0ac58d9f5bffd0b8b4a5d7d8c1c5b65e0c2e3f1f8d8e3e4c5b6a7d9"`},
		{`States.JsonMerge($.obj, States.StringToJson('{"b":2,"a":0}'), false)`, `{"a":0,"b":2}`},
		{`States.MathRandom(1, 9)`, `3`},
		{`States.MathAdd($.n, -10)`, `-7`},
		{`States.StringSplit($.s, ',')`, `["a","b","c"]`},
		{`States.UUID()`, `"11111111-2222-4333-8444-555555555555"`},
		{`States.ArrayGetItem(States.StringSplit($$.Execution.Name, '-'), States.MathAdd(States.ArrayLength(States.StringSplit($$.Execution.Name, '-')), -1))`, `"name"`},
		{`States.ArrayGetItem(States.Array($.big), 0)`, `12345678901234567890`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			v, err := Intrinsic(tt.expr, input, env)
			if err != nil {
				t.Fatal(err)
			}
			got := enc(t, v)
			if strings.Contains(tt.expr, "SHA-512") {
				// Length and alphabet only: the digest is checked by SHA-1 above.
				if len(got) != 130 {
					t.Errorf("SHA-512 hex length %d", len(got)-2)
				}
				return
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestIntrinsicErrors(t *testing.T) {
	input := mustJSON(t, `{"arr":[1],"s":"x"}`)
	tests := []string{
		`States.ArrayGetItem($.arr, 5)`,
		`States.ArrayPartition($.arr, 0)`,
		`States.ArrayLength($.s)`,
		`States.StringToJson('{nope')`,
		`States.Hash('x', 'SHA-3')`,
		`States.Base64Decode('***')`,
		`States.JsonMerge($.arr, $.arr, false)`,
		`States.Format('{} {}', 1)`,
		`States.MathRandom(5, 1)`,
		`States.UUID()`,
		`States.ArrayLength($.missing)`,
	}
	for _, expr := range tests {
		_, err := Intrinsic(expr, input, nil)
		e, ok := AsError(err)
		if !ok || e.Name != ErrRuntime || !e.Prefixed {
			t.Errorf("%s: err = %#v, want prefixed States.Runtime *Error", expr, err)
		}
	}
	for _, bad := range []string{`States.Format(`, `States.Array(1,)`, `States.Format('x') extra`, `States.Array('unterminated)`, `States.Array(@)`} {
		if _, err := compileIntrinsic(bad); err == nil {
			t.Errorf("compileIntrinsic(%q) accepted", bad)
		}
	}
}

func choiceMachine(t *testing.T, rule string) *Choice {
	t.Helper()
	m := mustParse(t, `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[`+rule+`]},"Y":{"Type":"Succeed"}}}`)
	return m.States["C"].(*Choice)
}

func TestChoice(t *testing.T) {
	tests := []struct {
		rule, input string
		match       bool
	}{
		{`{"Variable":"$.v","StringEquals":"a","Next":"Y"}`, `{"v":"a"}`, true},
		{`{"Variable":"$.v","StringEquals":"a","Next":"Y"}`, `{"v":1}`, false},
		{`{"Variable":"$.v","StringLessThan":"b","Next":"Y"}`, `{"v":"a"}`, true},
		{`{"Variable":"$.v","StringGreaterThanEqualsPath":"$.w","Next":"Y"}`, `{"v":"b","w":"b"}`, true},
		{`{"Variable":"$.v","StringMatches":"log-*.txt","Next":"Y"}`, `{"v":"log-2024.txt"}`, true},
		{`{"Variable":"$.v","StringMatches":"a\\*b","Next":"Y"}`, `{"v":"a*b"}`, true},
		{`{"Variable":"$.v","StringMatches":"a\\*b","Next":"Y"}`, `{"v":"axxb"}`, false},
		{`{"Variable":"$.v","NumericEquals":1,"Next":"Y"}`, `{"v":1.0}`, true},
		{`{"Variable":"$.v","NumericGreaterThanPath":"$.w","Next":"Y"}`, `{"v":2,"w":1.5}`, true},
		{`{"Variable":"$.v","NumericLessThanEquals":1,"Next":"Y"}`, `{"v":"1"}`, false},
		{`{"Variable":"$.v","BooleanEquals":true,"Next":"Y"}`, `{"v":true}`, true},
		{`{"Variable":"$.v","TimestampLessThan":"2020-01-01T00:00:00Z","Next":"Y"}`, `{"v":"2019-12-31T23:00:00-02:00"}`, false},
		{`{"Variable":"$.v","TimestampEquals":"2020-01-01T00:00:00Z","Next":"Y"}`, `{"v":"2020-01-01T01:00:00+01:00"}`, true},
		{`{"Variable":"$.v","IsPresent":false,"Next":"Y"}`, `{}`, true},
		{`{"Variable":"$.v","IsNull":true,"Next":"Y"}`, `{"v":null}`, true},
		{`{"Variable":"$.v","IsNumeric":true,"Next":"Y"}`, `{"v":"1"}`, false},
		{`{"Variable":"$.v","IsTimestamp":true,"Next":"Y"}`, `{"v":"2016-03-14T01:59:00.123Z"}`, true},
		{`{"Variable":"$.v","IsString":false,"Next":"Y"}`, `{}`, true},
		{`{"Variable":"$.v","IsNull":true,"Next":"Y"}`, `{}`, false},
		{`{"And":[{"Variable":"$.a","IsPresent":true},{"Not":{"Variable":"$.b","IsPresent":true}}],"Next":"Y"}`, `{"a":1}`, true},
		{`{"Or":[{"Variable":"$.a","NumericEquals":2},{"Variable":"$.b","StringEquals":"x"}],"Next":"Y"}`, `{"a":1,"b":"x"}`, true},
		{`{"Variable":"$.missing","StringEquals":"a","Next":"Y"}`, `{}`, false},
	}
	for _, tt := range tests {
		c := choiceMachine(t, tt.rule)
		next, _, err := c.Decide(mustJSON(t, tt.input), nil)
		if tt.match && (err != nil || next != "Y") {
			t.Errorf("%s on %s: next %q err %v, want match", tt.rule, tt.input, next, err)
		}
		if !tt.match {
			e, ok := AsError(err)
			if !ok || e.Name != ErrNoChoiceMatched {
				t.Errorf("%s on %s: next %q err %v, want States.NoChoiceMatched", tt.rule, tt.input, next, err)
			}
		}
	}
}

func TestWaitDue(t *testing.T) {
	entered := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		state, input string
		want         time.Time
		wantErr      string
	}{
		{`"Seconds":10`, `{}`, entered.Add(10 * time.Second), ""},
		{`"SecondsPath":"$.s"`, `{"s":0}`, entered, ""},
		{`"SecondsPath":"$.s"`, `{"s":-1}`, time.Time{}, "The SecondsPath parameter references a negative value: $.s == -1"},
		{`"SecondsPath":"$.s"`, `{"s":1.5}`, time.Time{}, "The SecondsPath parameter cannot be parsed as a long value: $.s == 1.5"},
		{`"SecondsPath":"$.s"`, `{}`, time.Time{}, "The SecondsPath parameter does not reference an input value: $.s"},
		{`"Timestamp":"2026-01-02T00:00:00+01:00"`, `{}`, time.Date(2026, 1, 1, 23, 0, 0, 0, time.UTC), ""},
		{`"TimestampPath":"$.t"`, `{"t":"2016-12-05T21:29:29"}`, time.Time{}, "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.t == 2016-12-05T21:29:29"},
		{`"TimestampPath":"$.t"`, `{"t":"2016-13-05T21:29:29Z"}`, time.Time{}, "does not reference a valid ISO-8601"},
		{`"TimestampPath":"$.t"`, `{"t":"2095-01-01T00:00:00Z"}`, time.Time{}, "Wait state delay is too long."},
	}
	for _, tt := range tests {
		m := mustParse(t, `{"StartAt":"W","States":{"W":{"Type":"Wait",`+tt.state+`,"End":true}}}`)
		due, out, err := m.States["W"].(*Wait).Due(mustJSON(t, tt.input), entered)
		if tt.wantErr != "" {
			e, ok := AsError(err)
			if !ok || e.Name != ErrRuntime || !strings.Contains(e.Cause, tt.wantErr) {
				t.Errorf("%s on %s: err %v, want %q", tt.state, tt.input, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !due.Equal(tt.want) || enc(t, out) != tt.input {
			t.Errorf("%s on %s: due %v out %v err %v, want %v", tt.state, tt.input, due, out, err, tt.want)
		}
	}
}

func TestFailResolve(t *testing.T) {
	m := mustParse(t, `{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e","CausePath":"States.Format('bad {}', $.c)"}}}`)
	fo, err := m.States["F"].(*Fail).Resolve(mustJSON(t, `{"e":"MyError","c":7}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(FailOutput{Error: "MyError", Cause: "bad 7", HasError: true, HasCause: true}, fo); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	_, err = m.States["F"].(*Fail).Resolve(mustJSON(t, `{"c":1}`), nil)
	if e, ok := AsError(err); !ok || !strings.Contains(e.Cause, "The JSONPath '$.e' specified for the field 'ErrorPath' could not be found in the input '{\"c\":1}'") {
		t.Errorf("err = %v", err)
	}
	m = mustParse(t, `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E","Cause":""}}}`)
	fo, _ = m.States["F"].(*Fail).Resolve(mustJSON(t, `{}`), nil)
	if !fo.HasError || !fo.HasCause || fo.Cause != "" {
		t.Errorf("empty Cause reported %+v", fo)
	}
	m = mustParse(t, `{"StartAt":"F","States":{"F":{"Type":"Fail"}}}`)
	fo, _ = m.States["F"].(*Fail).Resolve(mustJSON(t, `{}`), nil)
	if fo.HasError || fo.HasCause {
		t.Errorf("empty Fail reported %+v", fo)
	}
}

func TestDecideRetry(t *testing.T) {
	m := mustParse(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:f","End":true,"Retry":[
		{"ErrorEquals":["Custom"],"MaxAttempts":0},
		{"ErrorEquals":["States.Timeout"],"IntervalSeconds":2,"BackoffRate":3,"MaxAttempts":4,"MaxDelaySeconds":10},
		{"ErrorEquals":["States.TaskFailed"],"JitterStrategy":"FULL"},
		{"ErrorEquals":["States.ALL"],"IntervalSeconds":5,"BackoffRate":1}]}}}`)
	r := m.States["T"].Fields().Retry
	half := func() float64 { return 0.5 }
	tests := []struct {
		name     string
		err      string
		attempts []int
		want     RetryDecision
	}{
		{"max attempts zero never retries", "Custom", nil, RetryDecision{Index: 0}},
		{"first backoff", "States.Timeout", nil, RetryDecision{Retry: true, Index: 1, Delay: 2 * time.Second}},
		{"second backoff", "States.Timeout", []int{0, 1}, RetryDecision{Retry: true, Index: 1, Delay: 6 * time.Second}},
		{"capped", "States.Timeout", []int{0, 2}, RetryDecision{Retry: true, Index: 1, Delay: 10 * time.Second}},
		{"exhausted", "States.Timeout", []int{0, 4}, RetryDecision{Index: 1}},
		{"TaskFailed with full jitter", "Lambda.Unknown", []int{0, 0, 1}, RetryDecision{Retry: true, Index: 2, Delay: time.Second}},
		{"States.ALL", "States.ResultPathMatchFailure", nil, RetryDecision{Retry: true, Index: 2, Delay: 500 * time.Millisecond}},
		{"runtime never retried", "States.Runtime", nil, RetryDecision{Index: -1}},
		{"data limit only by name", "States.DataLimitExceeded", nil, RetryDecision{Index: -1}},
	}
	for _, tt := range tests {
		if got := DecideRetry(r, tt.attempts, tt.err, half); got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if !ErrorMatches([]string{ErrTaskFailed}, ErrHeartbeatTimeout) || ErrorMatches([]string{ErrTaskFailed}, ErrTimeout) {
		t.Error("States.TaskFailed matching wrong")
	}
}

func TestCatch(t *testing.T) {
	m := mustParse(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:f","End":true,"Catch":[
		{"ErrorEquals":["A","B"],"Next":"H","ResultPath":"$.err"},
		{"ErrorEquals":["States.ALL"],"Next":"H"}]},"H":{"Type":"Succeed"}}}`)
	c := m.States["T"].Fields().Catch
	i, ok := MatchCatch(c, "B")
	if !ok || i != 0 {
		t.Fatalf("MatchCatch(B) = %d %v", i, ok)
	}
	out, err := c[i].Output(mustJSON(t, `{"a":1}`), "B", "why")
	if err != nil || enc(t, out) != `{"a":1,"err":{"Cause":"why","Error":"B"}}` {
		t.Errorf("Output = %s %v", enc(t, out), err)
	}
	if i, ok := MatchCatch(c, "Other"); !ok || i != 1 {
		t.Errorf("MatchCatch(Other) = %d %v", i, ok)
	}
	if _, ok := MatchCatch(c, ErrRuntime); ok {
		t.Error("States.Runtime was caught")
	}
}

func TestMapData(t *testing.T) {
	m := mustParse(t, `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemsPath":"$.items","MaxConcurrencyPath":"$.mc",
		"ItemSelector":{"i.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value","e.$":"$$.Execution.Id","o.$":"$.other"},
		"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}}`)
	ms := m.States["M"].(*Map)
	env := &Env{Context: map[string]any{"Execution": map[string]any{"Id": "e1"}}}
	eff, err := ms.EffectiveInput(mustJSON(t, `{"items":["a","b"],"other":1,"mc":2}`), env)
	if err != nil {
		t.Fatal(err)
	}
	items, err := ms.Items(eff)
	if err != nil || len(items) != 2 {
		t.Fatalf("Items = %v %v", items, err)
	}
	in, err := ms.ItemInput(eff, 1, items[1], env)
	if err != nil || enc(t, in) != `{"e":"e1","i":1,"o":1,"v":"b"}` {
		t.Errorf("ItemInput = %s %v", enc(t, in), err)
	}
	if _, ok := env.Context.(map[string]any)["Map"]; ok {
		t.Error("ItemInput modified the caller's context")
	}
	if n, err := ms.Concurrency(eff); n != 2 || err != nil {
		t.Errorf("Concurrency = %d %v", n, err)
	}
	_, err = ms.Items(mustJSON(t, `{"items":{"a":1}}`))
	if e, ok := AsError(err); !ok || e.Cause != `Map state input must be an array but was: {"a":1}` {
		t.Errorf("Items(object) err = %v", err)
	}
	_, err = ms.Concurrency(mustJSON(t, `{"mc":"NoNumber"}`))
	if e, ok := AsError(err); !ok || e.Cause != `The MaxConcurrencyPath field refers to value "NoNumber" which is not a valid integer: $.mc` {
		t.Errorf("Concurrency err = %v", err)
	}
	if ms.Processor == nil || ms.Processor.StartAt != "P" {
		t.Error("processor not parsed")
	}
}

func TestTaskTimeouts(t *testing.T) {
	m := mustParse(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:f","End":true,"TimeoutSecondsPath":"$.to","HeartbeatSeconds":5}}}`)
	task := m.States["T"].(*Task)
	to, hb, err := task.Timeouts(mustJSON(t, `{"to":30}`))
	if err != nil || to != 30*time.Second || hb != 5*time.Second {
		t.Errorf("Timeouts = %v %v %v", to, hb, err)
	}
	_, _, err = task.Timeouts(mustJSON(t, `{}`))
	if e, ok := AsError(err); !ok || e.Cause != `Invalid path '$.to' : No results for path: $['to']` {
		t.Errorf("missing path err = %v", err)
	}
	m = mustParse(t, `{"TimeoutSeconds":60,"StartAt":"T","States":{"T":{"Type":"Succeed"}}}`)
	if m.TimeoutSeconds != 60 {
		t.Errorf("machine TimeoutSeconds = %d", m.TimeoutSeconds)
	}
}

func TestParallelBranches(t *testing.T) {
	m := mustParse(t, `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Parameters":{"x.$":"$.a"},"ResultSelector":{"first.$":"$[0]"},"ResultPath":"$.out",
		"Branches":[{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}]}}}`)
	p := m.States["P"].(*Parallel)
	if len(p.Branches) != 2 {
		t.Fatalf("branches = %d", len(p.Branches))
	}
	in := mustJSON(t, `{"a":1}`)
	eff, err := p.EffectiveInput(in, nil)
	if err != nil || enc(t, eff) != `{"x":1}` {
		t.Fatalf("EffectiveInput = %v %v", eff, err)
	}
	out, err := p.ApplyResult(in, []any{eff, eff}, nil)
	if err != nil || enc(t, out) != `{"a":1,"out":{"first":{"x":1}}}` {
		t.Errorf("ApplyResult = %s %v", enc(t, out), err)
	}
}

func TestNormalizeKeepsCanonical(t *testing.T) {
	v := map[string]any{"a": []any{json.Number("1"), "x"}}
	if got := Normalize(v); got.(map[string]any)["a"].([]any)[0] != json.Number("1") {
		t.Errorf("Normalize changed %v", got)
	}
}
