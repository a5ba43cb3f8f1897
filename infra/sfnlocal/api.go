package sfnlocal

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/ordercare/ordercare/internal/clock"
)

// Config configures an Engine. The zero value of every field but Path is
// usable.
type Config struct {
	// Path is the SQLite database file (created if absent, WAL mode).
	// ":memory:" or "" keeps everything in memory (nothing survives Close).
	Path string
	// Clock is the engine's only source of time; nil means clock.Real{}.
	Clock clock.Clock
	// SkipIdle, with a *clock.Virtual Clock, makes the engine advance the
	// clock to the next due timer whenever nothing else is runnable (no
	// execution to step, no Lambda invocation in flight). Tests use it to
	// run Wait states and timeouts instantly. Executions waiting for a task
	// token with no deadline are not "runnable" and do not block skipping.
	SkipIdle bool
	// Region and Account build ARNs; defaults "us-east-1" and "111111111111".
	Region  string
	Account string
	// Functions maps Lambda function names to Go handlers. A handler is any
	// value lambda.NewHandler accepts (func(ctx, In) (Out, error) and its
	// variants) or a lambda.Handler. More can be added with Register.
	Functions map[string]any
	// Logger receives the engine's rare diagnostics (commit failures,
	// handler panics). nil discards them.
	Logger *slog.Logger
	// OnExecutionClosed, when not nil, is called after an execution's final
	// status (SUCCEEDED, FAILED, TIMED_OUT, ABORTED) is durably committed.
	// It is called from the engine's writer goroutine: it must not block
	// and must not call back into the Engine synchronously.
	OnExecutionClosed func(executionArn, status string)
	// Workers is the number of goroutines invoking Lambda handlers
	// concurrently; default 64.
	Workers int
	// MaxBatch is the maximum number of transitions committed in one SQLite
	// transaction (group commit); default 4096.
	MaxBatch int
	// HoldInvocations makes Open start no Lambda invocation (the ones
	// interrupted by the last shutdown or crash included) until Start is
	// called. A runtime that registers its handlers after Open (because they
	// need the engine's API) sets it, registers, then calls Start: an
	// invocation can then never find its function missing and fail the run
	// with Lambda.ResourceNotFoundException. Everything else (API calls,
	// Pass, Choice and Wait states, timers) runs from Open on; Task states
	// queue their invocations until Start.
	HoldInvocations bool

	// commitHook, when set (tests), is called after every group commit.
	commitHook func()
}

// Timestamp is a point in time that encodes in JSON the way the AWS JSON 1.0
// protocol does: seconds since the Unix epoch as a number with a fraction
// (millisecond precision), e.g. 1700000000.123.
type Timestamp struct{ time.Time }

// MarshalJSON encodes t as epoch seconds with a fraction.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

// UnmarshalJSON accepts epoch seconds (number) or an RFC 3339 string.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return err
		}
		t.Time = v.UTC()
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	sec, frac := math.Modf(f)
	t.Time = time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond)).UTC()
	return nil
}

// TS wraps t (truncated to milliseconds, UTC) as a Timestamp.
func TS(t time.Time) Timestamp { return Timestamp{t.UTC().Truncate(time.Millisecond)} }

// TSPtr returns a pointer to TS(t), or nil for the zero time.
func TSPtr(t time.Time) *Timestamp {
	if t.IsZero() {
		return nil
	}
	v := TS(t)
	return &v
}

// AWS error codes returned in APIError.Code.
const (
	ErrCodeExecutionAlreadyExists    = "ExecutionAlreadyExists"
	ErrCodeExecutionDoesNotExist     = "ExecutionDoesNotExist"
	ErrCodeExecutionLimitExceeded    = "ExecutionLimitExceeded"
	ErrCodeStateMachineDoesNotExist  = "StateMachineDoesNotExist"
	ErrCodeStateMachineAlreadyExists = "StateMachineAlreadyExists"
	ErrCodeStateMachineDeleting      = "StateMachineDeleting"
	ErrCodeStateMachineTypeNotSupp   = "StateMachineTypeNotSupported"
	ErrCodeInvalidDefinition         = "InvalidDefinition"
	ErrCodeInvalidArn                = "InvalidArn"
	ErrCodeInvalidName               = "InvalidName"
	ErrCodeInvalidExecutionInput     = "InvalidExecutionInput"
	ErrCodeInvalidToken              = "InvalidToken"
	ErrCodeInvalidOutput             = "InvalidOutput"
	ErrCodeTaskDoesNotExist          = "TaskDoesNotExist"
	ErrCodeTaskTimedOut              = "TaskTimedOut"
	ErrCodeValidationException       = "ValidationException"
	ErrCodeMissingRequiredParameter  = "MissingRequiredParameter"
	ErrCodeInternal                  = "InternalFailure"
)

// APIError is the error every Engine operation returns for a failure the
// caller caused or can act on. Code is the AWS error code (the `__type` of
// the AWS JSON 1.0 error body); Message is human readable. Other errors
// (I/O, closed engine) are internal and should map to HTTP 500.
type APIError struct {
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// Is reports whether target is an *APIError with the same Code, so that
// errors.Is(err, &APIError{Code: ErrCodeInvalidToken}) works.
func (e *APIError) Is(target error) bool {
	t, ok := target.(*APIError)
	return ok && t.Code == e.Code
}

func apiErr(code, format string, args ...any) *APIError {
	return &APIError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// LoggingConfiguration is accepted and stored, never acted on.
type LoggingConfiguration struct {
	Level                string            `json:"level,omitempty"`
	IncludeExecutionData bool              `json:"includeExecutionData,omitempty"`
	Destinations         []json.RawMessage `json:"destinations,omitempty"`
}

// TracingConfiguration is accepted and stored, never acted on.
type TracingConfiguration struct {
	Enabled bool `json:"enabled"`
}

// CreateStateMachineInput is the CreateStateMachine request.
type CreateStateMachineInput struct {
	Name                 string                `json:"name"`
	Definition           string                `json:"definition"`
	RoleArn              string                `json:"roleArn"`
	Type                 string                `json:"type,omitempty"` // STANDARD (default); EXPRESS is refused
	LoggingConfiguration *LoggingConfiguration `json:"loggingConfiguration,omitempty"`
	TracingConfiguration *TracingConfiguration `json:"tracingConfiguration,omitempty"`
	Tags                 []Tag                 `json:"tags,omitempty"`
	Publish              bool                  `json:"publish,omitempty"`
	VersionDescription   string                `json:"versionDescription,omitempty"`
}

// CreateStateMachineOutput is the CreateStateMachine response.
type CreateStateMachineOutput struct {
	StateMachineArn string    `json:"stateMachineArn"`
	CreationDate    Timestamp `json:"creationDate"`
}

// UpdateStateMachineInput is the UpdateStateMachine request. Empty fields
// are left unchanged. Running executions keep the definition they started with.
type UpdateStateMachineInput struct {
	StateMachineArn      string                `json:"stateMachineArn"`
	Definition           string                `json:"definition,omitempty"`
	RoleArn              string                `json:"roleArn,omitempty"`
	LoggingConfiguration *LoggingConfiguration `json:"loggingConfiguration,omitempty"`
	TracingConfiguration *TracingConfiguration `json:"tracingConfiguration,omitempty"`
	Publish              bool                  `json:"publish,omitempty"`
	VersionDescription   string                `json:"versionDescription,omitempty"`
}

// UpdateStateMachineOutput is the UpdateStateMachine response.
type UpdateStateMachineOutput struct {
	UpdateDate Timestamp `json:"updateDate"`
	RevisionId string    `json:"revisionId,omitempty"`
}

// DescribeStateMachineInput is the DescribeStateMachine request.
type DescribeStateMachineInput struct {
	StateMachineArn string `json:"stateMachineArn"`
	IncludedData    string `json:"includedData,omitempty"`
}

// DescribeStateMachineOutput is the DescribeStateMachine response.
type DescribeStateMachineOutput struct {
	StateMachineArn      string                `json:"stateMachineArn"`
	Name                 string                `json:"name"`
	Status               string                `json:"status"` // ACTIVE or DELETING
	Definition           string                `json:"definition"`
	RoleArn              string                `json:"roleArn"`
	Type                 string                `json:"type"`
	CreationDate         Timestamp             `json:"creationDate"`
	LoggingConfiguration *LoggingConfiguration `json:"loggingConfiguration,omitempty"`
	TracingConfiguration *TracingConfiguration `json:"tracingConfiguration,omitempty"`
	RevisionId           string                `json:"revisionId,omitempty"`
	Description          string                `json:"description,omitempty"`
}

// ListStateMachinesInput is the ListStateMachines request.
type ListStateMachinesInput struct {
	MaxResults int    `json:"maxResults,omitempty"`
	NextToken  string `json:"nextToken,omitempty"`
}

// StateMachineListItem is one entry of ListStateMachinesOutput.
type StateMachineListItem struct {
	StateMachineArn string    `json:"stateMachineArn"`
	Name            string    `json:"name"`
	Type            string    `json:"type"`
	CreationDate    Timestamp `json:"creationDate"`
}

// ListStateMachinesOutput is the ListStateMachines response.
type ListStateMachinesOutput struct {
	StateMachines []StateMachineListItem `json:"stateMachines"`
	NextToken     string                 `json:"nextToken,omitempty"`
}

// DeleteStateMachineInput is the DeleteStateMachine request.
type DeleteStateMachineInput struct {
	StateMachineArn string `json:"stateMachineArn"`
}

// DeleteStateMachineOutput is the (empty) DeleteStateMachine response.
type DeleteStateMachineOutput struct{}

// ValidateStateMachineDefinitionInput is the ValidateStateMachineDefinition request.
type ValidateStateMachineDefinitionInput struct {
	Definition string `json:"definition"`
	Type       string `json:"type,omitempty"`
	Severity   string `json:"severity,omitempty"`
	MaxResults int    `json:"maxResults,omitempty"`
}

// ValidateStateMachineDefinitionDiagnostic is one finding.
type ValidateStateMachineDefinitionDiagnostic struct {
	Severity string `json:"severity"` // ERROR or WARNING
	Code     string `json:"code"`
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
}

// ValidateStateMachineDefinitionOutput is the ValidateStateMachineDefinition
// response; Result is "OK" or "FAIL".
type ValidateStateMachineDefinitionOutput struct {
	Result      string                                     `json:"result"`
	Diagnostics []ValidateStateMachineDefinitionDiagnostic `json:"diagnostics"`
	Truncated   bool                                       `json:"truncated"`
}

// StartExecutionInput is the StartExecution request. An empty Name gets a
// UUID; an empty Input means "{}".
type StartExecutionInput struct {
	StateMachineArn string `json:"stateMachineArn"`
	Name            string `json:"name,omitempty"`
	Input           string `json:"input,omitempty"`
	TraceHeader     string `json:"traceHeader,omitempty"`
}

// StartExecutionOutput is the StartExecution response.
type StartExecutionOutput struct {
	ExecutionArn string    `json:"executionArn"`
	StartDate    Timestamp `json:"startDate"`
}

// StopExecutionInput is the StopExecution request.
type StopExecutionInput struct {
	ExecutionArn string `json:"executionArn"`
	Error        string `json:"error,omitempty"`
	Cause        string `json:"cause,omitempty"`
}

// StopExecutionOutput is the StopExecution response.
type StopExecutionOutput struct {
	StopDate Timestamp `json:"stopDate"`
}

// DescribeExecutionInput is the DescribeExecution request.
type DescribeExecutionInput struct {
	ExecutionArn string `json:"executionArn"`
	IncludedData string `json:"includedData,omitempty"`
}

// CloudWatchEventsExecutionDataDetails tells whether input/output are included.
type CloudWatchEventsExecutionDataDetails struct {
	Included bool `json:"included"`
}

// Execution statuses.
const (
	StatusRunning   = "RUNNING"
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
)

// DescribeExecutionOutput is the DescribeExecution response.
type DescribeExecutionOutput struct {
	ExecutionArn    string                                `json:"executionArn"`
	StateMachineArn string                                `json:"stateMachineArn"`
	Name            string                                `json:"name"`
	Status          string                                `json:"status"`
	StartDate       Timestamp                             `json:"startDate"`
	StopDate        *Timestamp                            `json:"stopDate,omitempty"`
	Input           *string                               `json:"input,omitempty"`
	InputDetails    *CloudWatchEventsExecutionDataDetails `json:"inputDetails,omitempty"`
	Output          *string                               `json:"output,omitempty"`
	OutputDetails   *CloudWatchEventsExecutionDataDetails `json:"outputDetails,omitempty"`
	TraceHeader     string                                `json:"traceHeader,omitempty"`
	Error           *string                               `json:"error,omitempty"`
	Cause           *string                               `json:"cause,omitempty"`
	RedriveCount    int                                   `json:"redriveCount"`
	RedriveStatus   string                                `json:"redriveStatus,omitempty"`
}

// ListExecutionsInput is the ListExecutions request.
type ListExecutionsInput struct {
	StateMachineArn string `json:"stateMachineArn"`
	StatusFilter    string `json:"statusFilter,omitempty"`
	MaxResults      int    `json:"maxResults,omitempty"`
	NextToken       string `json:"nextToken,omitempty"`
}

// ExecutionListItem is one entry of ListExecutionsOutput.
type ExecutionListItem struct {
	ExecutionArn    string     `json:"executionArn"`
	StateMachineArn string     `json:"stateMachineArn"`
	Name            string     `json:"name"`
	Status          string     `json:"status"`
	StartDate       Timestamp  `json:"startDate"`
	StopDate        *Timestamp `json:"stopDate,omitempty"`
	RedriveCount    int        `json:"redriveCount"`
}

// ListExecutionsOutput is the ListExecutions response, newest first.
type ListExecutionsOutput struct {
	Executions []ExecutionListItem `json:"executions"`
	NextToken  string              `json:"nextToken,omitempty"`
}

// GetExecutionHistoryInput is the GetExecutionHistory request. MaxResults
// 0 means 100 (AWS's default, max 1000). IncludeExecutionData nil means true.
type GetExecutionHistoryInput struct {
	ExecutionArn         string `json:"executionArn"`
	MaxResults           int    `json:"maxResults,omitempty"`
	ReverseOrder         bool   `json:"reverseOrder,omitempty"`
	NextToken            string `json:"nextToken,omitempty"`
	IncludeExecutionData *bool  `json:"includeExecutionData,omitempty"`
}

// GetExecutionHistoryOutput is the GetExecutionHistory response.
type GetExecutionHistoryOutput struct {
	Events    []HistoryEvent `json:"events"`
	NextToken string         `json:"nextToken,omitempty"`
}

// SendTaskSuccessInput is the SendTaskSuccess request.
type SendTaskSuccessInput struct {
	TaskToken string `json:"taskToken"`
	Output    string `json:"output"`
}

// SendTaskSuccessOutput is the (empty) SendTaskSuccess response.
type SendTaskSuccessOutput struct{}

// SendTaskFailureInput is the SendTaskFailure request.
type SendTaskFailureInput struct {
	TaskToken string `json:"taskToken"`
	Error     string `json:"error,omitempty"`
	Cause     string `json:"cause,omitempty"`
}

// SendTaskFailureOutput is the (empty) SendTaskFailure response.
type SendTaskFailureOutput struct{}

// SendTaskHeartbeatInput is the SendTaskHeartbeat request.
type SendTaskHeartbeatInput struct {
	TaskToken string `json:"taskToken"`
}

// SendTaskHeartbeatOutput is the (empty) SendTaskHeartbeat response.
type SendTaskHeartbeatOutput struct{}

// History event types (HistoryEvent.Type) the engine emits.
const (
	EvExecutionStarted        = "ExecutionStarted"
	EvExecutionSucceeded      = "ExecutionSucceeded"
	EvExecutionFailed         = "ExecutionFailed"
	EvExecutionAborted        = "ExecutionAborted"
	EvExecutionTimedOut       = "ExecutionTimedOut"
	EvLambdaFunctionScheduled = "LambdaFunctionScheduled"
	EvLambdaFunctionStarted   = "LambdaFunctionStarted"
	EvLambdaFunctionSucceeded = "LambdaFunctionSucceeded"
	EvLambdaFunctionFailed    = "LambdaFunctionFailed"
	EvLambdaFunctionTimedOut  = "LambdaFunctionTimedOut"
	EvTaskScheduled           = "TaskScheduled"
	EvTaskStarted             = "TaskStarted"
	EvTaskSubmitted           = "TaskSubmitted"
	EvTaskSucceeded           = "TaskSucceeded"
	EvTaskFailed              = "TaskFailed"
	EvTaskTimedOut            = "TaskTimedOut"
	EvMapStateStarted         = "MapStateStarted"
	EvMapStateSucceeded       = "MapStateSucceeded"
	EvMapStateFailed          = "MapStateFailed"
	EvMapStateAborted         = "MapStateAborted"
	EvMapIterationStarted     = "MapIterationStarted"
	EvMapIterationSucceeded   = "MapIterationSucceeded"
	EvMapIterationFailed      = "MapIterationFailed"
	EvMapIterationAborted     = "MapIterationAborted"
	EvParallelStateStarted    = "ParallelStateStarted"
	EvParallelStateSucceeded  = "ParallelStateSucceeded"
	EvParallelStateFailed     = "ParallelStateFailed"
	EvParallelStateAborted    = "ParallelStateAborted"
)

// HistoryEventExecutionDataDetails tells whether input/output was truncated.
type HistoryEventExecutionDataDetails struct {
	Truncated bool `json:"truncated"`
}

// ExecutionStartedEventDetails details ExecutionStarted.
type ExecutionStartedEventDetails struct {
	Input        *string                           `json:"input,omitempty"`
	InputDetails *HistoryEventExecutionDataDetails `json:"inputDetails,omitempty"`
	RoleArn      string                            `json:"roleArn,omitempty"`
}

// ExecutionSucceededEventDetails details ExecutionSucceeded.
type ExecutionSucceededEventDetails struct {
	Output        *string                           `json:"output,omitempty"`
	OutputDetails *HistoryEventExecutionDataDetails `json:"outputDetails,omitempty"`
}

// ErrorCause details the Failed/Aborted/TimedOut events (executionFailed,
// executionAborted, executionTimedOut, lambdaFunctionFailed,
// lambdaFunctionTimedOut, mapRunFailed …). Absent fields are omitted.
type ErrorCause struct {
	Error *string `json:"error,omitempty"`
	Cause *string `json:"cause,omitempty"`
}

// StateEnteredEventDetails details every <Type>StateEntered event.
type StateEnteredEventDetails struct {
	Name         string                            `json:"name"`
	Input        *string                           `json:"input,omitempty"`
	InputDetails *HistoryEventExecutionDataDetails `json:"inputDetails,omitempty"`
}

// StateExitedEventDetails details every <Type>StateExited event.
type StateExitedEventDetails struct {
	Name          string                            `json:"name"`
	Output        *string                           `json:"output,omitempty"`
	OutputDetails *HistoryEventExecutionDataDetails `json:"outputDetails,omitempty"`
}

// LambdaFunctionScheduledEventDetails details LambdaFunctionScheduled.
type LambdaFunctionScheduledEventDetails struct {
	Resource         string                            `json:"resource"`
	Input            *string                           `json:"input,omitempty"`
	InputDetails     *HistoryEventExecutionDataDetails `json:"inputDetails,omitempty"`
	TimeoutInSeconds *int64                            `json:"timeoutInSeconds,omitempty"`
}

// LambdaFunctionSucceededEventDetails details LambdaFunctionSucceeded.
type LambdaFunctionSucceededEventDetails struct {
	Output        *string                           `json:"output,omitempty"`
	OutputDetails *HistoryEventExecutionDataDetails `json:"outputDetails,omitempty"`
}

// TaskScheduledEventDetails details TaskScheduled (optimised integrations
// such as arn:aws:states:::lambda:invoke: ResourceType "lambda", Resource "invoke").
type TaskScheduledEventDetails struct {
	ResourceType       string `json:"resourceType"`
	Resource           string `json:"resource"`
	Region             string `json:"region"`
	Parameters         string `json:"parameters"`
	TimeoutInSeconds   *int64 `json:"timeoutInSeconds,omitempty"`
	HeartbeatInSeconds *int64 `json:"heartbeatInSeconds,omitempty"`
}

// TaskStartedEventDetails details TaskStarted.
type TaskStartedEventDetails struct {
	ResourceType string `json:"resourceType"`
	Resource     string `json:"resource"`
}

// TaskResultEventDetails details TaskSucceeded and TaskSubmitted.
type TaskResultEventDetails struct {
	ResourceType  string                            `json:"resourceType"`
	Resource      string                            `json:"resource"`
	Output        *string                           `json:"output,omitempty"`
	OutputDetails *HistoryEventExecutionDataDetails `json:"outputDetails,omitempty"`
}

// TaskErrorEventDetails details TaskFailed and TaskTimedOut.
type TaskErrorEventDetails struct {
	ResourceType string  `json:"resourceType"`
	Resource     string  `json:"resource"`
	Error        *string `json:"error,omitempty"`
	Cause        *string `json:"cause,omitempty"`
}

// MapStateStartedEventDetails details MapStateStarted.
type MapStateStartedEventDetails struct {
	Length int `json:"length"`
}

// MapIterationEventDetails details MapIterationStarted/Succeeded/Failed/Aborted.
type MapIterationEventDetails struct {
	Name  string `json:"name"`
	Index int    `json:"index"`
}

// EvaluationFailedEventDetails details EvaluationFailed (JSONata; never
// emitted by this engine, declared for completeness).
type EvaluationFailedEventDetails struct {
	Error    *string `json:"error,omitempty"`
	Cause    *string `json:"cause,omitempty"`
	Location string  `json:"location,omitempty"`
	State    string  `json:"state"`
}

// HistoryEvent is one event of an execution's history, in the AWS wire
// shape. Exactly one details member is set for event types that carry
// details; ids start at 1 and previousEventId follows AWS's rules.
type HistoryEvent struct {
	Timestamp       Timestamp `json:"timestamp"`
	Type            string    `json:"type"`
	ID              int64     `json:"id"`
	PreviousEventID int64     `json:"previousEventId"`

	ExecutionStartedEventDetails   *ExecutionStartedEventDetails   `json:"executionStartedEventDetails,omitempty"`
	ExecutionSucceededEventDetails *ExecutionSucceededEventDetails `json:"executionSucceededEventDetails,omitempty"`
	ExecutionFailedEventDetails    *ErrorCause                     `json:"executionFailedEventDetails,omitempty"`
	ExecutionAbortedEventDetails   *ErrorCause                     `json:"executionAbortedEventDetails,omitempty"`
	ExecutionTimedOutEventDetails  *ErrorCause                     `json:"executionTimedOutEventDetails,omitempty"`

	StateEnteredEventDetails *StateEnteredEventDetails `json:"stateEnteredEventDetails,omitempty"`
	StateExitedEventDetails  *StateExitedEventDetails  `json:"stateExitedEventDetails,omitempty"`

	LambdaFunctionScheduledEventDetails      *LambdaFunctionScheduledEventDetails `json:"lambdaFunctionScheduledEventDetails,omitempty"`
	LambdaFunctionScheduleFailedEventDetails *ErrorCause                          `json:"lambdaFunctionScheduleFailedEventDetails,omitempty"`
	LambdaFunctionStartFailedEventDetails    *ErrorCause                          `json:"lambdaFunctionStartFailedEventDetails,omitempty"`
	LambdaFunctionSucceededEventDetails      *LambdaFunctionSucceededEventDetails `json:"lambdaFunctionSucceededEventDetails,omitempty"`
	LambdaFunctionFailedEventDetails         *ErrorCause                          `json:"lambdaFunctionFailedEventDetails,omitempty"`
	LambdaFunctionTimedOutEventDetails       *ErrorCause                          `json:"lambdaFunctionTimedOutEventDetails,omitempty"`

	TaskScheduledEventDetails    *TaskScheduledEventDetails `json:"taskScheduledEventDetails,omitempty"`
	TaskStartedEventDetails      *TaskStartedEventDetails   `json:"taskStartedEventDetails,omitempty"`
	TaskStartFailedEventDetails  *TaskErrorEventDetails     `json:"taskStartFailedEventDetails,omitempty"`
	TaskSubmittedEventDetails    *TaskResultEventDetails    `json:"taskSubmittedEventDetails,omitempty"`
	TaskSubmitFailedEventDetails *TaskErrorEventDetails     `json:"taskSubmitFailedEventDetails,omitempty"`
	TaskSucceededEventDetails    *TaskResultEventDetails    `json:"taskSucceededEventDetails,omitempty"`
	TaskFailedEventDetails       *TaskErrorEventDetails     `json:"taskFailedEventDetails,omitempty"`
	TaskTimedOutEventDetails     *TaskErrorEventDetails     `json:"taskTimedOutEventDetails,omitempty"`

	MapStateStartedEventDetails       *MapStateStartedEventDetails `json:"mapStateStartedEventDetails,omitempty"`
	MapIterationStartedEventDetails   *MapIterationEventDetails    `json:"mapIterationStartedEventDetails,omitempty"`
	MapIterationSucceededEventDetails *MapIterationEventDetails    `json:"mapIterationSucceededEventDetails,omitempty"`
	MapIterationFailedEventDetails    *MapIterationEventDetails    `json:"mapIterationFailedEventDetails,omitempty"`
	MapIterationAbortedEventDetails   *MapIterationEventDetails    `json:"mapIterationAbortedEventDetails,omitempty"`

	EvaluationFailedEventDetails *EvaluationFailedEventDetails `json:"evaluationFailedEventDetails,omitempty"`
}

// The Engine's operations. Each is safe for concurrent use, returns an
// *APIError for caller errors (codes above) and another error only for
// internal failures. A nil input is a ValidationException.
var (
	_ = (*Engine).CreateStateMachine
	_ = (*Engine).UpdateStateMachine
	_ = (*Engine).DescribeStateMachine
	_ = (*Engine).ListStateMachines
	_ = (*Engine).DeleteStateMachine
	_ = (*Engine).ValidateStateMachineDefinition
	_ = (*Engine).StartExecution
	_ = (*Engine).StopExecution
	_ = (*Engine).DescribeExecution
	_ = (*Engine).ListExecutions
	_ = (*Engine).GetExecutionHistory
	_ = (*Engine).SendTaskSuccess
	_ = (*Engine).SendTaskFailure
	_ = (*Engine).SendTaskHeartbeat
	_ context.Context
)
