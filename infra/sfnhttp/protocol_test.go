package sfnhttp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/infra/sfnhttp"
)

// TestProtocolErrors sends raw requests and checks the AWS JSON 1.0 error
// each gets.
func TestProtocolErrors(t *testing.T) {
	e := newEnv(t)
	const ct = "application/x-amz-json-1.0"
	huge := `{"stateMachineArn":"x","input":"` + strings.Repeat("a", sfnhttp.MaxRequestBytes) + `"}`

	tests := []struct {
		name    string
		method  string
		path    string
		ctype   string
		target  string
		body    string
		chunked bool
		status  int
		code    string
		msg     string // substring of the message
	}{
		{"GET", http.MethodGet, "/", ct, "AWSStepFunctions.ListStateMachines", "", false, 405, "UnknownOperationException", "POST /"},
		{"other path", http.MethodPost, "/v1", ct, "AWSStepFunctions.ListStateMachines", "{}", false, 404, "UnknownOperationException", "/v1"},
		{"no target", http.MethodPost, "/", ct, "", "{}", false, 400, "UnknownOperationException", "X-Amz-Target"},
		{"foreign target", http.MethodPost, "/", ct, "DynamoDB_20120810.ListTables", "{}", false, 400, "UnknownOperationException", "DynamoDB_20120810"},
		{"unknown operation", http.MethodPost, "/", ct, "AWSStepFunctions.CreateActivity", "{}", false, 400, "UnknownOperationException", "CreateActivity"},
		{"form content type", http.MethodPost, "/", "application/x-www-form-urlencoded", "AWSStepFunctions.ListStateMachines", "{}", false, 400, "UnknownOperationException", "Content-Type"},
		{"malformed JSON", http.MethodPost, "/", ct, "AWSStepFunctions.ListStateMachines", `{"maxResults":`, false, 400, "SerializationException", "not valid JSON"},
		{"array body", http.MethodPost, "/", ct, "AWSStepFunctions.ListStateMachines", `[]`, false, 400, "SerializationException", "JSON object"},
		{"wrong member type", http.MethodPost, "/", ct, "AWSStepFunctions.ListStateMachines", `{"maxResults":"ten"}`, false, 400, "SerializationException", "maxResults must be a number"},
		{"trailing data", http.MethodPost, "/", ct, "AWSStepFunctions.ListStateMachines", `{} {}`, false, 400, "SerializationException", "after the JSON object"},
		{"unknown member", http.MethodPost, "/", ct, "AWSStepFunctions.ListStateMachines", `{"pageSize":10}`, false, 400, "ValidationException", `"pageSize"`},
		{"too large", http.MethodPost, "/", ct, "AWSStepFunctions.StartExecution", huge, false, 413, "RequestEntityTooLargeException", "1048576-byte limit"},
		{"too large chunked", http.MethodPost, "/", ct, "AWSStepFunctions.StartExecution", huge, true, 413, "RequestEntityTooLargeException", "1048576-byte limit"},
		{"engine error", http.MethodPost, "/", ct, "AWSStepFunctions.DescribeExecution", `{"executionArn":"arn:aws:states:us-east-1:111111111111:execution:m:e"}`, false, 400, "ExecutionDoesNotExist", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			req, err := http.NewRequestWithContext(t.Context(), tt.method, e.url+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", tt.ctype)
			if tt.target != "" {
				req.Header.Set("X-Amz-Target", tt.target)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("error body %q: %v", raw, err)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if h := resp.Header.Get("X-Amzn-ErrorType"); h != tt.code {
				t.Errorf("x-amzn-ErrorType = %q, want %q", h, tt.code)
			}
			if _, code, _ := strings.Cut(got.Type, "#"); code != tt.code {
				t.Errorf("__type = %q, want <namespace>#%s", got.Type, tt.code)
			}
			if !strings.Contains(got.Message, tt.msg) || got.Message == "" {
				t.Errorf("message = %q, want it to contain %q", got.Message, tt.msg)
			}
			if resp.Header.Get("x-amzn-RequestId") == "" {
				t.Errorf("no x-amzn-RequestId")
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

// TestSignedAnyCredentials checks that a request signed with any
// credentials, or not signed at all, is served, and that an empty body is
// the empty input.
func TestSignedAnyCredentials(t *testing.T) {
	e := newEnv(t)
	for _, auth := range []string{
		"",
		"AWS4-HMAC-SHA256 Credential=AKIDSOMEONE/20261111/us-east-1/states/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000",
	} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.url+"/", strings.NewReader(""))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "AWSStepFunctions.ListStateMachines")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(raw) != `{"stateMachines":[]}` {
			t.Errorf("Authorization %q: status %d body %s, want 200 {\"stateMachines\":[]}", auth, resp.StatusCode, raw)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
			t.Errorf("Content-Type = %q", ct)
		}
	}
}

// TestOperations pins the operations served.
func TestOperations(t *testing.T) {
	got := sfnhttp.Operations()
	want := []string{"CreateStateMachine", "DeleteStateMachine", "DescribeExecution", "DescribeStateMachine",
		"GetExecutionHistory", "ListExecutions", "ListStateMachines", "SendTaskFailure", "SendTaskHeartbeat",
		"SendTaskSuccess", "StartExecution", "StopExecution", "UpdateStateMachine", "ValidateStateMachineDefinition"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Operations (-want +got):\n%s", diff)
	}
}
