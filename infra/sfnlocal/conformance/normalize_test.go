package conformance

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustDecode(t *testing.T, s string) any {
	t.Helper()
	v, err := DecodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func testCase(t *testing.T, placeholders string, transformers []Transformer) *Case {
	t.Helper()
	ph, err := orderedStrings(json.RawMessage(placeholders))
	if err != nil {
		t.Fatal(err)
	}
	return &Case{Name: "x/y", Placeholders: ph, Transformers: transformers}
}

// TestNormalizeEngineHistory feeds an engine-shaped history (JSON texts as
// strings, numeric timestamps, raw ARNs and UUIDs) and expects the recorded form.
func TestNormalizeEngineHistory(t *testing.T) {
	c := testCase(t, `{
		"arn:aws:iam::111111111111:role/r-1": "snf_role_arn",
		"sm_1": "<ArnPart_0idx>",
		"raise_exception": "<lambda_function_name>",
		"arn:aws:": "arn:<partition>:",
		"us-east-1": "<region>"}`, []Transformer{
		{Kind: "regex", Pattern: `Request ID: [a-zA-Z0-9-]+`, Replacement: "Request ID: <request_id>"},
		{Kind: "jsonpath", Path: "$..output.StartDate", Replacement: "start-date"},
	})
	cause := `{"errorMessage":"boom","errorType":"Exception","requestId":"0a1b2c3d-0000-4000-8000-00000000abcd","stackTrace":[]}`
	engine := []any{
		map[string]any{"timestamp": 1700000000.123, "type": "ExecutionStarted", "id": 1.0, "previousEventId": 0.0,
			"executionStartedEventDetails": map[string]any{"input": `{"b":1,"a":"arn:aws:lambda:us-east-1:111111111111:function:raise_exception"}`,
				"inputDetails": map[string]any{"truncated": false}, "roleArn": "arn:aws:iam::111111111111:role/r-1"}},
		map[string]any{"timestamp": 1700000000.5, "type": "TaskFailed", "id": 2.0, "previousEventId": 1.0,
			"taskFailedEventDetails": map[string]any{"cause": cause, "error": "Exception", "resource": "invoke", "resourceType": "lambda"}},
		map[string]any{"timestamp": 1700000001.0, "type": "PassStateExited", "id": 3.0, "previousEventId": 2.0,
			"stateExitedEventDetails": map[string]any{"name": "P", "output": `{"Cause":` + strconvQuote(cause) + `,"StartDate":"2024-01-01T00:00:00Z","when":"at 2024-01-01T10:00:00.123+01:00 ok","msg":"Request ID: abc-123"}`}},
		map[string]any{"timestamp": 1700000002.0, "type": "ExecutionSucceeded", "id": 4.0, "previousEventId": 3.0,
			"executionSucceededEventDetails": map[string]any{"output": `[1,2]`}},
	}
	want := mustDecode(t, `[
		{"timestamp":"timestamp","type":"ExecutionStarted","id":1,"previousEventId":0,
		 "executionStartedEventDetails":{"input":{"a":"arn:<partition>:lambda:<region>:111111111111:function:<lambda_function_name>","b":1},
		   "inputDetails":{"truncated":false},"roleArn":"snf_role_arn"}},
		{"timestamp":"timestamp","type":"TaskFailed","id":2,"previousEventId":1,
		 "taskFailedEventDetails":{"cause":{"errorMessage":"boom","errorType":"Exception","requestId":"<uuid:1>","stackTrace":[]},
		   "error":"Exception","resource":"invoke","resourceType":"lambda"}},
		{"timestamp":"timestamp","type":"PassStateExited","id":3,"previousEventId":2,
		 "stateExitedEventDetails":{"name":"P","output":{
		   "Cause":"{\"errorMessage\":\"boom\",\"errorType\":\"Exception\",\"requestId\":\"<uuid:1>\",\"stackTrace\":[]}",
		   "StartDate":"start-date","when":"at date ok","msg":"Request ID: <request_id>"}}},
		{"timestamp":"timestamp","type":"ExecutionSucceeded","id":4,"previousEventId":3,
		 "executionSucceededEventDetails":{"output":"[1,2]"}}]`)
	n, err := NewNormalizer(c)
	if err != nil {
		t.Fatal(err)
	}
	got := n.History(engine)
	if diff := cmp.Diff(want, any(got)); diff != "" {
		t.Errorf("History (-want +got):\n%s", diff)
	}
	// The output shares the numbering of the history.
	out := n.Output(mustDecode(t, `{"Cause":`+strconvQuote(cause)+`}`))
	if diff := cmp.Diff(mustDecode(t, `{"Cause":"{\"errorMessage\":\"boom\",\"errorType\":\"Exception\",\"requestId\":\"<uuid:1>\",\"stackTrace\":[]}"}`), out); diff != "" {
		t.Errorf("Value (-want +got):\n%s", diff)
	}
	if got := n.Cause(cause); !cmp.Equal(got, mustDecode(t, `{"errorMessage":"boom","errorType":"Exception","requestId":"<uuid:1>","stackTrace":[]}`)) {
		t.Errorf("Cause(cause) = %v", got)
	}
	if got := n.Cause("plain text"); got != "plain text" {
		t.Errorf("Cause(plain) = %v", got)
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestSortParallelEvents rebuilds the raw history of
// scenarios/test_parallel_state_nested and expects exactly the recorded
// (oddly truncated) result of LocalStack's transformer.
func TestSortParallelEvents(t *testing.T) {
	ev := func(id, prev int, typ, name string) map[string]any {
		m := map[string]any{"id": float64(id), "previousEventId": float64(prev), "type": typ}
		if name != "" {
			m["stateEnteredEventDetails"] = map[string]any{"name": name}
		}
		return m
	}
	raw := []any{
		ev(1, 0, "ExecutionStarted", ""), ev(2, 0, "ParallelStateEntered", "L1"), ev(3, 2, "ParallelStateStarted", ""),
		ev(4, 3, "ParallelStateEntered", "L2"), ev(5, 4, "ParallelStateStarted", ""),
		ev(6, 5, "PassStateEntered", "B"), ev(7, 6, "PassStateExited", ""),
		ev(8, 7, "ParallelStateSucceeded", ""), ev(9, 8, "ParallelStateExited", ""),
		ev(10, 9, "ParallelStateSucceeded", ""), ev(11, 9, "ParallelStateExited", ""), ev(12, 11, "ExecutionSucceeded", ""),
	}
	got := sortParallelEvents(raw)
	var ids []string
	for _, e := range got {
		m := e.(map[string]any)
		ids = append(ids, pyJSON(m["id"])+":"+m["type"].(string))
	}
	want := []string{"1:ExecutionStarted", "2:ParallelStateEntered", "3:ParallelStateStarted", "[0]:ParallelStateEntered",
		"5:ParallelStateStarted", "[0]:PassStateEntered", "[0]:PassStateExited", "11:ParallelStateExited", "12:ExecutionSucceeded"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("sortParallelEvents (-want +got):\n%s", diff)
	}
}

func TestPyJSON(t *testing.T) {
	v := mustDecode(t, `{"b":[1,2.5,null,true],"a":"é\"\n"}`)
	if got, want := pyJSON(v), `{"a": "\u00e9\"\n", "b": [1, 2.5, null, true]}`; got != want {
		t.Errorf("pyJSON = %s, want %s", got, want)
	}
}

func TestJSONPathParse(t *testing.T) {
	for _, p := range []string{"$..TaskToken", "$..events..executionSucceededEventDetails.output.FunctionResult", "$..Headers.x-amz-apigw-id"} {
		if _, err := parseJSONPath(p); err != nil {
			t.Errorf("parseJSONPath(%q): %v", p, err)
		}
	}
	for _, p := range []string{"TaskToken", "$.a[0]", "$"} {
		if _, err := parseJSONPath(p); err == nil {
			t.Errorf("parseJSONPath(%q) accepted", p)
		}
	}
}
