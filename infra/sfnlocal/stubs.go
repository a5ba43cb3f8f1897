package sfnlocal

import (
	"context"
	"errors"
	"sync"
)

// Engine is a durable local AWS Step Functions (Standard) engine. All its
// methods are safe for concurrent use.
type Engine struct {
	cfg Config
	mu  sync.Mutex
}

var errNotImplemented = errors.New("sfnlocal: not implemented yet")

// Open opens (creating if needed) the store at cfg.Path and resumes every
// execution found there: pending Lambda invocations are invoked again and
// timers fire when due.
func Open(ctx context.Context, cfg Config) (*Engine, error) { return nil, errNotImplemented }

// Close stops the engine after committing what is in flight. Executions
// stay in the store and resume on the next Open.
func (e *Engine) Close() error { return nil }

// Register adds or replaces the Go Lambda handler for function name.
func (e *Engine) Register(name string, handler any) {}

func (e *Engine) CreateStateMachine(ctx context.Context, in *CreateStateMachineInput) (*CreateStateMachineOutput, error) {
	return nil, errNotImplemented
}
func (e *Engine) UpdateStateMachine(ctx context.Context, in *UpdateStateMachineInput) (*UpdateStateMachineOutput, error) {
	return nil, errNotImplemented
}
func (e *Engine) DescribeStateMachine(ctx context.Context, in *DescribeStateMachineInput) (*DescribeStateMachineOutput, error) {
	return nil, errNotImplemented
}
func (e *Engine) ListStateMachines(ctx context.Context, in *ListStateMachinesInput) (*ListStateMachinesOutput, error) {
	return nil, errNotImplemented
}
func (e *Engine) DeleteStateMachine(ctx context.Context, in *DeleteStateMachineInput) (*DeleteStateMachineOutput, error) {
	return nil, errNotImplemented
}
func (e *Engine) ValidateStateMachineDefinition(ctx context.Context, in *ValidateStateMachineDefinitionInput) (*ValidateStateMachineDefinitionOutput, error) {
	return nil, errNotImplemented
}
func (e *Engine) StartExecution(ctx context.Context, in *StartExecutionInput) (*StartExecutionOutput, error) {
	return nil, errNotImplemented
}
func (e *Engine) StopExecution(ctx context.Context, in *StopExecutionInput) (*StopExecutionOutput, error) {
	return nil, errNotImplemented
}
func (e *Engine) DescribeExecution(ctx context.Context, in *DescribeExecutionInput) (*DescribeExecutionOutput, error) {
	return nil, errNotImplemented
}
func (e *Engine) ListExecutions(ctx context.Context, in *ListExecutionsInput) (*ListExecutionsOutput, error) {
	return nil, errNotImplemented
}
func (e *Engine) GetExecutionHistory(ctx context.Context, in *GetExecutionHistoryInput) (*GetExecutionHistoryOutput, error) {
	return nil, errNotImplemented
}
func (e *Engine) SendTaskSuccess(ctx context.Context, in *SendTaskSuccessInput) (*SendTaskSuccessOutput, error) {
	return nil, errNotImplemented
}
func (e *Engine) SendTaskFailure(ctx context.Context, in *SendTaskFailureInput) (*SendTaskFailureOutput, error) {
	return nil, errNotImplemented
}
func (e *Engine) SendTaskHeartbeat(ctx context.Context, in *SendTaskHeartbeatInput) (*SendTaskHeartbeatOutput, error) {
	return nil, errNotImplemented
}
