// Package sfnhttp serves the AWS Step Functions API over HTTP, exactly as
// AWS does on states.<region>.amazonaws.com, on top of ordercare's local
// engine (package sfnlocal) or anything else that implements API.
//
// Wire protocol: AWS JSON 1.0. Every call is `POST /` with
// `Content-Type: application/x-amz-json-1.0` (1.1 is accepted too) and
// `X-Amz-Target: AWSStepFunctions.<Operation>`; the body is the operation's
// input as JSON and a success is `200` with the output as JSON. An error is
// `400` (`413` for an oversized body, `500` for an internal failure) with
// the body `{"__type":"<namespace>#<Code>","message":"..."}` and the header
// `x-amzn-ErrorType: <Code>`: the AWS SDKs and the AWS CLI read the code
// from either, strip the namespace, and decode the known codes into their
// typed errors (for Go, *types.ExecutionAlreadyExists and the like). Every
// response carries `x-amzn-RequestId`.
//
// Errors the protocol layer produces itself, as AWS does:
//   - UnknownOperationException: a method other than POST, a path other
//     than "/", a Content-Type other than AWS JSON, a missing or foreign
//     X-Amz-Target, or an operation this server does not implement (the
//     fourteen listed on API are implemented; activities, aliases, versions,
//     map runs, tags, redrive, TestState and StartSyncExecution are not).
//   - SerializationException: a body that is not one JSON object, or a
//     member of the wrong JSON type.
//   - ValidationException: a member the operation does not define (the
//     engine refuses what it does not implement rather than ignore it; AWS
//     would ignore an unknown member).
//   - RequestEntityTooLargeException (413): a body over MaxRequestBytes,
//     AWS's 1 MB request quota.
//   - InternalFailure (500): any error from API that is not an
//     *sfnlocal.APIError. The client sees only the request id; the detail
//     goes to the log with that id.
//
// Authentication: Handler itself verifies nothing. SigV4.Wrap guards it
// with AWS Signature Version 4 against one key pair (what `care serve`
// serves); an unguarded Handler is for tests and in-process use only.
package sfnhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/ordercare/ordercare/infra/sfnlocal"
)

// API is the set of Step Functions operations the handler serves, one
// method per operation, with the AWS JSON 1.0 wire shapes of package
// sfnlocal. Methods return an *sfnlocal.APIError for errors the caller
// caused; any other error is reported as InternalFailure. *sfnlocal.Engine
// implements it.
type API interface {
	CreateStateMachine(context.Context, *sfnlocal.CreateStateMachineInput) (*sfnlocal.CreateStateMachineOutput, error)
	UpdateStateMachine(context.Context, *sfnlocal.UpdateStateMachineInput) (*sfnlocal.UpdateStateMachineOutput, error)
	DescribeStateMachine(context.Context, *sfnlocal.DescribeStateMachineInput) (*sfnlocal.DescribeStateMachineOutput, error)
	ListStateMachines(context.Context, *sfnlocal.ListStateMachinesInput) (*sfnlocal.ListStateMachinesOutput, error)
	DeleteStateMachine(context.Context, *sfnlocal.DeleteStateMachineInput) (*sfnlocal.DeleteStateMachineOutput, error)
	ValidateStateMachineDefinition(context.Context, *sfnlocal.ValidateStateMachineDefinitionInput) (*sfnlocal.ValidateStateMachineDefinitionOutput, error)
	StartExecution(context.Context, *sfnlocal.StartExecutionInput) (*sfnlocal.StartExecutionOutput, error)
	StopExecution(context.Context, *sfnlocal.StopExecutionInput) (*sfnlocal.StopExecutionOutput, error)
	DescribeExecution(context.Context, *sfnlocal.DescribeExecutionInput) (*sfnlocal.DescribeExecutionOutput, error)
	ListExecutions(context.Context, *sfnlocal.ListExecutionsInput) (*sfnlocal.ListExecutionsOutput, error)
	GetExecutionHistory(context.Context, *sfnlocal.GetExecutionHistoryInput) (*sfnlocal.GetExecutionHistoryOutput, error)
	SendTaskSuccess(context.Context, *sfnlocal.SendTaskSuccessInput) (*sfnlocal.SendTaskSuccessOutput, error)
	SendTaskFailure(context.Context, *sfnlocal.SendTaskFailureInput) (*sfnlocal.SendTaskFailureOutput, error)
	SendTaskHeartbeat(context.Context, *sfnlocal.SendTaskHeartbeatInput) (*sfnlocal.SendTaskHeartbeatOutput, error)
}

var _ API = (*sfnlocal.Engine)(nil)

// MaxRequestBytes is the largest request body accepted: AWS Step Functions'
// quota of 1 MB per API request.
const MaxRequestBytes = 1 << 20

// TargetPrefix is the X-Amz-Target prefix of the Step Functions API.
const TargetPrefix = "AWSStepFunctions."

// Error codes the protocol layer produces (the engine's are in sfnlocal).
const (
	CodeUnknownOperation      = "UnknownOperationException"
	CodeSerialization         = "SerializationException"
	CodeValidation            = "ValidationException"
	CodeRequestEntityTooLarge = "RequestEntityTooLargeException"
	CodeInternalFailure       = "InternalFailure"
)

// Namespaces of the __type member, as AWS sends them: framework errors from
// the service framework, the others from the Step Functions model.
const (
	nsFramework = "com.amazon.coral.service#"
	nsService   = "com.amazonaws.swf.service.v2.model#"
)

const contentType = "application/x-amz-json-1.0"

// Handler is the http.Handler serving the Step Functions API. It is safe
// for concurrent use.
type Handler struct {
	api API
	log *slog.Logger
}

// NewHandler returns a Handler serving api. logger receives one record per
// internal failure (with the request id and operation, never the request
// body); nil discards them.
func NewHandler(api API, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{api: api, log: logger}
}

// operation decodes a request body, calls one API method and returns its
// output.
type operation func(ctx context.Context, api API, body []byte) (any, error)

// op adapts an API method expression to an operation.
func op[In, Out any](call func(API, context.Context, *In) (*Out, error)) operation {
	return func(ctx context.Context, api API, body []byte) (any, error) {
		in := new(In)
		if err := decode(body, in); err != nil {
			return nil, err
		}
		out, err := call(api, ctx, in)
		if err != nil {
			return nil, err
		}
		if out == nil {
			return struct{}{}, nil
		}
		return out, nil
	}
}

// operations maps each implemented operation name to its call.
var operations = map[string]operation{
	"CreateStateMachine":             op(API.CreateStateMachine),
	"UpdateStateMachine":             op(API.UpdateStateMachine),
	"DescribeStateMachine":           op(API.DescribeStateMachine),
	"ListStateMachines":              op(API.ListStateMachines),
	"DeleteStateMachine":             op(API.DeleteStateMachine),
	"ValidateStateMachineDefinition": op(API.ValidateStateMachineDefinition),
	"StartExecution":                 op(API.StartExecution),
	"StopExecution":                  op(API.StopExecution),
	"DescribeExecution":              op(API.DescribeExecution),
	"ListExecutions":                 op(API.ListExecutions),
	"GetExecutionHistory":            op(API.GetExecutionHistory),
	"SendTaskSuccess":                op(API.SendTaskSuccess),
	"SendTaskFailure":                op(API.SendTaskFailure),
	"SendTaskHeartbeat":              op(API.SendTaskHeartbeat),
}

// Operations returns the names of the operations the handler implements,
// sorted.
func Operations() []string {
	return slices.Sorted(maps.Keys(operations))
}

// protocolError is an error the handler itself answers with.
type protocolError struct {
	status int
	code   string
	msg    string
}

func (e *protocolError) Error() string { return e.code + ": " + e.msg }

func perr(status int, code, format string, args ...any) *protocolError {
	return &protocolError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// ServeHTTP serves one Step Functions API call.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := uuid.NewString()
	w.Header().Set("x-amzn-RequestId", reqID)

	name, call, rerr := route(r)
	if rerr != nil {
		h.writeError(w, rerr)
		return
	}
	body, berr := readBody(w, r)
	if berr != nil {
		h.writeError(w, berr)
		return
	}
	out, err := call(r.Context(), h.api, body)
	if err != nil {
		h.fail(w, r, reqID, name, err)
		return
	}
	buf, err := json.Marshal(out)
	if err != nil {
		h.fail(w, r, reqID, name, fmt.Errorf("encode %s output: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(buf)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf)
}

// route checks the method, path, content type and target of r.
func route(r *http.Request) (string, operation, *protocolError) {
	if r.Method != http.MethodPost {
		return "", nil, perr(http.StatusMethodNotAllowed, CodeUnknownOperation,
			"method %s not allowed: the Step Functions API takes POST /", r.Method)
	}
	if r.URL.Path != "/" {
		return "", nil, perr(http.StatusNotFound, CodeUnknownOperation,
			"path %q not found: the Step Functions API takes POST /", r.URL.Path)
	}
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/x-amz-json-1.0" && mt != "application/x-amz-json-1.1") {
		return "", nil, perr(http.StatusBadRequest, CodeUnknownOperation,
			"unsupported Content-Type %q: want %s", ct, contentType)
	}
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, TargetPrefix)
	if !ok {
		return "", nil, perr(http.StatusBadRequest, CodeUnknownOperation,
			"X-Amz-Target %q is not %s<Operation>", target, TargetPrefix)
	}
	call, ok := operations[name]
	if !ok {
		return "", nil, perr(http.StatusBadRequest, CodeUnknownOperation,
			"operation %s is not supported by this Step Functions endpoint", name)
	}
	return name, call, nil
}

// readBody reads at most MaxRequestBytes of r's body.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *protocolError) {
	tooLarge := perr(http.StatusRequestEntityTooLarge, CodeRequestEntityTooLarge,
		"request body exceeds the %d-byte limit of a Step Functions API request", MaxRequestBytes)
	if r.ContentLength > MaxRequestBytes {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge
		}
		return nil, perr(http.StatusBadRequest, CodeSerialization, "reading request body: %v", err)
	}
	return body, nil
}

// decode decodes body, one JSON object, into in. An empty body or null is
// the empty input.
func decode(body []byte, in any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr):
			if typeErr.Field == "" {
				return perr(http.StatusBadRequest, CodeSerialization,
					"request body must be a JSON object, not %s", typeErr.Value)
			}
			return perr(http.StatusBadRequest, CodeSerialization,
				"member %s must be %s, not %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.TrimPrefix(err.Error(), "json: unknown field ")
			return perr(http.StatusBadRequest, CodeValidation, "unknown member %s", field)
		default:
			return perr(http.StatusBadRequest, CodeSerialization, "request body is not valid JSON: %v", err)
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return perr(http.StatusBadRequest, CodeSerialization, "request body has data after the JSON object")
	}
	return nil
}

// jsonKind names a Go kind the way the JSON document would spell it.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	case "slice", "array":
		return "a list"
	default:
		return "an object"
	}
}

// fail answers an error returned by an operation.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, reqID, name string, err error) {
	if pe, ok := errors.AsType[*protocolError](err); ok {
		h.writeError(w, pe)
		return
	}
	if ae, ok := errors.AsType[*sfnlocal.APIError](err); ok && ae.Code != sfnlocal.ErrCodeInternal && ae.Code != "" {
		h.writeError(w, &protocolError{status: http.StatusBadRequest, code: ae.Code, msg: ae.Message})
		return
	}
	if r.Context().Err() != nil {
		// The client went away; nobody reads this answer.
		h.log.DebugContext(r.Context(), "step functions api: request abandoned",
			"request_id", reqID, "operation", name, "err", err)
	} else {
		h.log.ErrorContext(r.Context(), "step functions api: internal failure",
			"request_id", reqID, "operation", name, "err", err)
	}
	h.writeError(w, perr(http.StatusInternalServerError, CodeInternalFailure,
		"internal failure; request id %s", reqID))
}

// errorBody is the AWS JSON 1.0 error document.
type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func (h *Handler) writeError(w http.ResponseWriter, e *protocolError) {
	ns := nsService
	switch e.code {
	case CodeUnknownOperation, CodeSerialization, CodeRequestEntityTooLarge, CodeInternalFailure,
		CodeMissingAuthenticationToken, CodeIncompleteSignature, CodeUnrecognizedClient, CodeInvalidSignature:
		ns = nsFramework
	}
	buf, _ := json.Marshal(errorBody{Type: ns + e.code, Message: e.msg})
	hdr := w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Set("Content-Length", strconv.Itoa(len(buf)))
	hdr.Set("x-amzn-ErrorType", e.code)
	if e.status == http.StatusMethodNotAllowed {
		hdr.Set("Allow", http.MethodPost)
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(buf)
}
