package asl

import (
	"errors"
	"fmt"
	"strings"
)

// Error names defined by the States Language that this package raises or
// treats specially.
const (
	ErrAll                    = "States.ALL"
	ErrRuntime                = "States.Runtime"
	ErrTaskFailed             = "States.TaskFailed"
	ErrTimeout                = "States.Timeout"
	ErrHeartbeatTimeout       = "States.HeartbeatTimeout"
	ErrDataLimitExceeded      = "States.DataLimitExceeded"
	ErrNoChoiceMatched        = "States.NoChoiceMatched"
	ErrIntrinsicFailure       = "States.IntrinsicFailure"
	ErrParameterPathFailure   = "States.ParameterPathFailure"
	ErrResultPathMatchFailure = "States.ResultPathMatchFailure"
	ErrBranchFailed           = "States.BranchFailed"
	ErrPermissions            = "States.Permissions"
)

// Error is a runtime error raised while evaluating a state. Name is the ASL
// error name (e.g. "States.Runtime"); Cause is the cause text without the
// state prefix. When Prefixed is true AWS reports the cause as
// "An error occurred while executing the state 'S' (entered at the event id #N). " + Cause;
// use CauseAt to build that text.
type Error struct {
	Name     string
	Cause    string
	Prefixed bool
}

// Error implements error.
func (e *Error) Error() string { return e.Name + ": " + e.Cause }

// CauseAt returns the cause text AWS reports for this error raised in state
// stateName, which was entered at history event enteredEventID.
func (e *Error) CauseAt(stateName string, enteredEventID int64) string {
	if !e.Prefixed {
		return e.Cause
	}
	return fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). %s", stateName, enteredEventID, e.Cause)
}

// runtimeErr returns a prefixed States.Runtime error.
func runtimeErr(format string, args ...any) *Error {
	return &Error{Name: ErrRuntime, Cause: fmt.Sprintf(format, args...), Prefixed: true}
}

// AsError returns the *Error inside err, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// Problem is one validation problem in a definition: Code is AWS's code
// (SCHEMA_VALIDATION_FAILED, MISSING_TRANSITION_TARGET, ...), Location a JSON
// pointer such as "/States/X/Next".
type Problem struct {
	Code     string
	Message  string
	Location string
}

// String renders the problem as "CODE: message at /location".
func (p Problem) String() string {
	if p.Location == "" {
		return p.Code + ": " + p.Message
	}
	return p.Code + ": " + p.Message + " at " + p.Location
}

// ValidationError lists every problem found in an invalid definition. Its
// text mimics CreateStateMachine's InvalidDefinition message.
type ValidationError struct {
	Problems []Problem
}

// Error implements error.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "Invalid State Machine Definition: '" + strings.Join(parts, ", ") + "'"
}

// Feature names reported by Unsupported. A service integration is reported by
// its service name (e.g. "sqs", "dynamodb").
const (
	FeatureJSONata        = "jsonata"
	FeatureVariables      = "variables"
	FeatureExpress        = "express"
	FeatureSync           = "sync"
	FeatureActivity       = "activity"
	FeatureCredentials    = "credentials"
	FeatureAWSSDK         = "aws-sdk"
	FeatureDistributedMap = "distributed_map"
	FeatureItemReader     = "item_reader"
	FeatureItemBatcher    = "item_batcher"
	FeatureResultWriter   = "result_writer"
)

// UnsupportedError reports a valid States Language feature this package
// refuses to run. Location is a JSON pointer into the definition.
type UnsupportedError struct {
	Feature  string
	Location string
	Detail   string
}

// Error implements error.
func (e *UnsupportedError) Error() string {
	s := "unsupported States Language feature " + e.Feature
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	if e.Location != "" {
		s += " at " + e.Location
	}
	return s
}

// Unsupported reports whether err (from Parse) refuses a feature that is not
// implemented, and which one (see the Feature constants; service integrations
// by service name). It returns false for invalid definitions.
func Unsupported(err error) (feature string, ok bool) {
	var u *UnsupportedError
	if errors.As(err, &u) {
		return u.Feature, true
	}
	return "", false
}
