package functions

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

// runtimeAPI is a fake of the Lambda Runtime API: it hands the function one
// event and records what the function answers (a response, an invocation
// error, or an init error).
type runtimeAPI struct {
	event  chan []byte // holds the one event
	answer chan answer
}

type answer struct {
	kind string // "response", "error" or "init error"
	body []byte
}

func (rt *runtimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const prefix = "/2018-06-01/runtime/"
	body, _ := io.ReadAll(r.Body)
	switch p := strings.TrimPrefix(r.URL.Path, prefix); {
	case r.Method == http.MethodGet && p == "invocation/next":
		select {
		case ev := <-rt.event:
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", "req-1")
			w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:111111111111:function:f")
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(ev)
		case <-r.Context().Done(): // one invocation only: the next poll waits until the test ends
		}
		return
	case r.Method == http.MethodPost && p == "invocation/req-1/response":
		rt.answer <- answer{"response", body}
	case r.Method == http.MethodPost && p == "invocation/req-1/error":
		rt.answer <- answer{"error", body}
	case r.Method == http.MethodPost && p == "init/error":
		rt.answer <- answer{"init error", body}
	default:
		http.NotFound(w, r)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// buildFunctions builds every registered function for this machine, with the
// Lambda build tags, once per test binary run.
func buildFunctions(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not on PATH: the functions cannot be built, so their mains are not run")
	}
	dir := t.TempDir()
	args := []string{"build", "-tags", "lambda.norpc", "-o", dir + string(os.PathSeparator)}
	for _, f := range Registry {
		args = append(args, "./"+f.Dir)
	}
	cmd := exec.Command(goBin, args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// TestMains runs each function's binary as Lambda does, against a fake
// Runtime API, with every AWS endpoint pointed at a closed port: the mains
// start from their environment alone, and their answers have Lambda's shape
// (including the error type name the state machines' Retry and Catch match).
func TestMains(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the functions' binaries are not built and run")
	}
	bin := buildFunctions(t)
	sample, err := os.ReadFile("../events/lambda/dynamodb-stream.json")
	if err != nil {
		t.Fatal(err)
	}
	healthz, _ := json.Marshal(events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "GET /healthz", RawPath: "/healthz",
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
			Method: "GET", Path: "/healthz"}}})
	tests := []struct {
		dir   string
		env   []string
		event []byte
		want  answer
		check func(t *testing.T, body []byte)
	}{
		{dir: "api", env: []string{"CARE_ADMIN_TOKEN=ocadm_0123456789abcdef"}, event: healthz, want: answer{kind: "response"},
			check: func(t *testing.T, body []byte) {
				var resp events.APIGatewayV2HTTPResponse
				if err := json.Unmarshal(body, &resp); err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("GET /healthz answered %s (%v)", body, err)
				}
			}},
		{dir: "ingest", event: healthz, want: answer{kind: "response"},
			check: func(t *testing.T, body []byte) {
				var resp events.APIGatewayV2HTTPResponse
				if err := json.Unmarshal(body, &resp); err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("GET /healthz answered %s (%v)", body, err)
				}
			}},
		{dir: "step", event: []byte(`{"action":"chase","state":{"run":{}}}`), want: answer{kind: "error"},
			check: func(t *testing.T, body []byte) {
				var e struct{ ErrorType string }
				if err := json.Unmarshal(body, &e); err != nil || e.ErrorType != "InputError" {
					t.Fatalf("error %s, want errorType InputError (%v)", body, err)
				}
			}},
		// DynamoDB is unreachable: the order's state item is skipped, and
		// its event, which needs the store, is reported for a retry.
		{dir: "router", env: []string{"STATE_MACHINE_PREFIX=arn:aws:states:us-east-1:111111111111:stateMachine:ordercare-"}, event: sample, want: answer{kind: "response"},
			check: func(t *testing.T, body []byte) {
				var resp events.DynamoDBEventResponse
				if err := json.Unmarshal(body, &resp); err != nil {
					t.Fatal(err)
				}
				want := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: "1208500000000061954870502"}}}
				if diff := cmp.Diff(want, resp); diff != "" {
					t.Fatalf("(-want +got):\n%s", diff)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			rt := &runtimeAPI{event: make(chan []byte, 1), answer: make(chan answer, 1)}
			rt.event <- tt.event
			srv := httptest.NewServer(rt)
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(bin, tt.dir))
			cmd.Env = append([]string{"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(srv.URL, "http://"),
				"TABLE_NAME=ordercare", "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
				"AWS_ENDPOINT_URL=http://127.0.0.1:1", "AWS_MAX_ATTEMPTS=1", "AWS_EC2_METADATA_DISABLED=true",
				"HOME=" + t.TempDir()}, tt.env...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			defer func() {
				_ = cmd.Process.Kill()
				<-exited
			}()
			select {
			case a := <-rt.answer:
				if a.kind != tt.want.kind {
					t.Fatalf("%s: %s, want a %s\nstderr: %s", a.kind, a.body, tt.want.kind, stderr.String())
				}
				tt.check(t, a.body)
			case err := <-exited:
				t.Fatalf("exited before answering (%v); stderr: %s", err, stderr.String())
			case <-ctx.Done():
				t.Fatalf("no answer; stderr: %s", stderr.String())
			}
		})
	}
}
