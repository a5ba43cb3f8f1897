package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/ordercare/ordercare/infra/sfnhttp"
	"github.com/ordercare/ordercare/infra/sfnlocal"
)

// stepFunctions is the set of Step Functions operations the runner calls.
// Engine-only hooks (Register, OnExecutionClosed, clocks) are not in it:
// they stay in-process whichever way the operations go.
type stepFunctions interface {
	CreateStateMachine(context.Context, *sfnlocal.CreateStateMachineInput) (*sfnlocal.CreateStateMachineOutput, error)
	StartExecution(context.Context, *sfnlocal.StartExecutionInput) (*sfnlocal.StartExecutionOutput, error)
	StopExecution(context.Context, *sfnlocal.StopExecutionInput) (*sfnlocal.StopExecutionOutput, error)
	DescribeExecution(context.Context, *sfnlocal.DescribeExecutionInput) (*sfnlocal.DescribeExecutionOutput, error)
	GetExecutionHistory(context.Context, *sfnlocal.GetExecutionHistoryInput) (*sfnlocal.GetExecutionHistoryOutput, error)
}

var (
	_ stepFunctions = (*sfnlocal.Engine)(nil)
	_ stepFunctions = (*httpClient)(nil)
)

// Values of ASL_CONFORMANCE_VIA.
const (
	viaEngine = ""    // call the engine's Go methods (the default)
	viaAPI    = "api" // go over HTTP through sfnhttp on loopback
)

// serve returns how the runner reaches eng's operations, and a function
// that releases what serve started (to call before eng.Close). With
// viaAPI, it serves eng with sfnhttp on a loopback httptest.Server.
func serve(via string, eng *sfnlocal.Engine) (stepFunctions, func()) {
	if via != viaAPI {
		return eng, func() {}
	}
	srv := httptest.NewServer(sfnhttp.NewHandler(eng, nil))
	client := srv.Client()
	// Parallel cases share one server: keep their connections alive.
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	return &httpClient{url: srv.URL, client: client}, srv.Close
}

// httpClient is a minimal AWS JSON 1.0 client of the Step Functions API:
// it posts the sfnlocal input struct with X-Amz-Target and decodes the
// output struct, or the error document into an *sfnlocal.APIError.
type httpClient struct {
	url    string
	client *http.Client
}

func (c *httpClient) CreateStateMachine(ctx context.Context, in *sfnlocal.CreateStateMachineInput) (*sfnlocal.CreateStateMachineOutput, error) {
	return call[sfnlocal.CreateStateMachineOutput](ctx, c, "CreateStateMachine", in)
}

func (c *httpClient) StartExecution(ctx context.Context, in *sfnlocal.StartExecutionInput) (*sfnlocal.StartExecutionOutput, error) {
	return call[sfnlocal.StartExecutionOutput](ctx, c, "StartExecution", in)
}

func (c *httpClient) StopExecution(ctx context.Context, in *sfnlocal.StopExecutionInput) (*sfnlocal.StopExecutionOutput, error) {
	return call[sfnlocal.StopExecutionOutput](ctx, c, "StopExecution", in)
}

func (c *httpClient) DescribeExecution(ctx context.Context, in *sfnlocal.DescribeExecutionInput) (*sfnlocal.DescribeExecutionOutput, error) {
	return call[sfnlocal.DescribeExecutionOutput](ctx, c, "DescribeExecution", in)
}

func (c *httpClient) GetExecutionHistory(ctx context.Context, in *sfnlocal.GetExecutionHistoryInput) (*sfnlocal.GetExecutionHistoryOutput, error) {
	return call[sfnlocal.GetExecutionHistoryOutput](ctx, c, "GetExecutionHistory", in)
}

// call performs one operation. A non-200 answer becomes an *APIError whose
// Code is __type without its "namespace#" (or x-amzn-ErrorType when the
// body has none).
func call[Out any](ctx context.Context, c *httpClient, op string, in any) (*Out, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("%s: encode input: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", sfnhttp.TargetPrefix+op)
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: read response: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(data, &e); err != nil {
			return nil, fmt.Errorf("%s: HTTP %d with an undecodable error body: %q", op, resp.StatusCode, data)
		}
		code := e.Type
		if i := strings.LastIndexByte(code, '#'); i >= 0 {
			code = code[i+1:]
		}
		if code == "" {
			code, _, _ = strings.Cut(resp.Header.Get("x-amzn-ErrorType"), ":")
		}
		return nil, &sfnlocal.APIError{Code: code, Message: e.Message}
	}
	out := new(Out)
	if err := json.Unmarshal(data, out); err != nil {
		return nil, fmt.Errorf("%s: decode output: %w", op, err)
	}
	return out, nil
}
