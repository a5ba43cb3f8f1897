package sfnlocal

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ordercare/ordercare/internal/clock"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type harness struct {
	t      *testing.T
	e      *Engine
	clk    *clock.Virtual
	mu     sync.Mutex
	closed map[string]chan string
	// commits receives a value after each group commit (dropped when full).
	commits chan struct{}
}

func newHarness(t *testing.T, path string, skip bool, fns map[string]any) *harness {
	t.Helper()
	h := &harness{t: t, clk: clock.NewVirtual(t0, nil), closed: map[string]chan string{}, commits: make(chan struct{}, 1)}
	if path == "" {
		path = filepath.Join(t.TempDir(), "sfn.db")
	}
	hook := func() {
		select {
		case h.commits <- struct{}{}:
		default:
		}
	}
	e, err := Open(context.Background(), Config{Path: path, Clock: h.clk, SkipIdle: skip, Functions: fns, OnExecutionClosed: h.onClosed, commitHook: hook})
	if err != nil {
		t.Fatal(err)
	}
	h.e = e
	t.Cleanup(func() { e.Close() })
	return h
}

func (h *harness) ch(arn string) chan string {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.closed[arn]
	if c == nil {
		c = make(chan string, 1)
		h.closed[arn] = c
	}
	return c
}

func (h *harness) onClosed(arn, status string) { h.ch(arn) <- status }

func (h *harness) create(name, def string) string {
	h.t.Helper()
	out, err := h.e.CreateStateMachine(context.Background(), &CreateStateMachineInput{Name: name, Definition: def, RoleArn: "arn:aws:iam::111111111111:role/r"})
	if err != nil {
		h.t.Fatalf("create %s: %v", name, err)
	}
	return out.StateMachineArn
}

func (h *harness) start(sm, name, input string) string {
	h.t.Helper()
	out, err := h.e.StartExecution(context.Background(), &StartExecutionInput{StateMachineArn: sm, Name: name, Input: input})
	if err != nil {
		h.t.Fatalf("start: %v", err)
	}
	return out.ExecutionArn
}

// wait waits (in real time, bounded) until execution arn closes.
func (h *harness) wait(arn string) *DescribeExecutionOutput {
	h.t.Helper()
	ch := h.ch(arn)
	if d, err := h.e.DescribeExecution(context.Background(), &DescribeExecutionInput{ExecutionArn: arn}); err == nil && d.Status != StatusRunning {
		return d // closed before this engine was opened
	}
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		h.t.Fatalf("execution %s did not finish", arn)
	}
	d, err := h.e.DescribeExecution(context.Background(), &DescribeExecutionInput{ExecutionArn: arn})
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

func (h *harness) history(arn string) []HistoryEvent {
	h.t.Helper()
	out, err := h.e.GetExecutionHistory(context.Background(), &GetExecutionHistoryInput{ExecutionArn: arn, MaxResults: 1000})
	if err != nil {
		h.t.Fatal(err)
	}
	return out.Events
}

// historyAll reads every page of an execution's history.
func (h *harness) historyAll(arn string) []HistoryEvent {
	h.t.Helper()
	var all []HistoryEvent
	tok := ""
	for {
		out, err := h.e.GetExecutionHistory(context.Background(), &GetExecutionHistoryInput{ExecutionArn: arn, MaxResults: 1000, NextToken: tok})
		if err != nil {
			h.t.Fatal(err)
		}
		all = append(all, out.Events...)
		if tok = out.NextToken; tok == "" {
			return all
		}
	}
}

func types(evs []HistoryEvent) []string {
	var s []string
	for _, e := range evs {
		s = append(s, e.Type)
	}
	return s
}

func jsonEq(t *testing.T, want, got string) {
	t.Helper()
	var a, b any
	if err := json.Unmarshal([]byte(want), &a); err != nil {
		t.Fatalf("want: %v", err)
	}
	if err := json.Unmarshal([]byte(got), &b); err != nil {
		t.Fatalf("got %q: %v", got, err)
	}
	if d := cmp.Diff(a, b); d != "" {
		t.Errorf("output (-want +got):\n%s", d)
	}
}

const benchDef = `{"StartAt":"P1","States":{
 "P1":{"Type":"Pass","Parameters":{"id.$":"States.Format('order-{}', $.n)","n.$":"$.n"},"Next":"C"},
 "C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":10,"Next":"Big"}],"Default":"Small"},
 "Big":{"Type":"Pass","Result":"big","ResultPath":"$.size","Next":"Done"},
 "Small":{"Type":"Pass","Result":"small","ResultPath":"$.size","Next":"Done"},
 "Done":{"Type":"Succeed"}}}`

type okIn struct {
	Value int `json:"value"`
}

type MyError struct{ Msg string }

func (e *MyError) Error() string { return e.Msg }

func TestExecutions(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	count := func(n string) int {
		mu.Lock()
		defer mu.Unlock()
		calls[n]++
		return calls[n]
	}
	fns := map[string]any{
		"double": func(ctx context.Context, in okIn) (okIn, error) { return okIn{Value: in.Value * 2}, nil },
		"boom":   func(ctx context.Context, in okIn) (okIn, error) { return okIn{}, errors.New("boom") },
		"custom": func(ctx context.Context, in okIn) (okIn, error) { return okIn{}, &MyError{Msg: "custom"} },
		"flaky": func(ctx context.Context, in okIn) (okIn, error) {
			if count("flaky") < 3 {
				return okIn{}, &MyError{Msg: "again"}
			}
			return okIn{Value: 7}, nil
		},
	}
	tests := []struct {
		name, def, input string
		status, output   string
		errName          string
		types            []string
	}{
		{
			name: "short", def: benchDef, input: `{"n":12}`, status: StatusSucceeded,
			output: `{"id":"order-12","n":12,"size":"big"}`,
			types: []string{"ExecutionStarted", "PassStateEntered", "PassStateExited", "ChoiceStateEntered", "ChoiceStateExited",
				"PassStateEntered", "PassStateExited", "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"},
		},
		{
			name: "wait", def: `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`, input: `{"a":1}`,
			status: StatusSucceeded, output: `{"a":1}`,
			types: []string{"ExecutionStarted", "WaitStateEntered", "WaitStateExited", "ExecutionSucceeded"},
		},
		{
			name: "fail", def: `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E","Cause":"C"}}}`,
			status: StatusFailed, errName: "E",
			types: []string{"ExecutionStarted", "FailStateEntered", "ExecutionFailed"},
		},
		{
			name:   "lambda arn",
			def:    `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:double","End":true}}}`,
			input:  `{"value":21}`,
			status: StatusSucceeded, output: `{"value":42}`,
			types: []string{"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded"},
		},
		{
			name:   "lambda invoke",
			def:    `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"double","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}}`,
			input:  `{"value":2}`,
			status: StatusSucceeded, output: `{"value":4}`,
			types: []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"},
		},
		{
			name:   "lambda error",
			def:    `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:boom","End":true}}}`,
			status: StatusFailed, errName: "errorString",
			types: []string{"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed", "ExecutionFailed"},
		},
		{
			name: "catch custom",
			def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:custom",
				"Catch":[{"ErrorEquals":["MyError"],"ResultPath":"$.err","Next":"S"}],"End":true},"S":{"Type":"Succeed"}}}`,
			input:  `{"value":1}`,
			status: StatusSucceeded, output: `{"value":1,"err":{"Error":"MyError","Cause":"{\"errorMessage\":\"custom\",\"errorType\":\"MyError\"}"}}`,
			types: []string{"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed", "TaskStateExited", "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"},
		},
		{
			name: "retry",
			def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:flaky",
				"Retry":[{"ErrorEquals":["MyError"],"IntervalSeconds":5,"MaxAttempts":3}],"End":true}}}`,
			status: StatusSucceeded, output: `{"value":7}`,
			types: []string{"ExecutionStarted", "TaskStateEntered",
				"LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed",
				"LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed",
				"LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded"},
		},
		{
			name: "parallel",
			def: `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
				{"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"End":true}}},
				{"StartAt":"B","States":{"B":{"Type":"Wait","Seconds":10,"Next":"B2"},"B2":{"Type":"Pass","Result":2,"End":true}}}]}}}`,
			status: StatusSucceeded, output: `[1,2]`,
			types: []string{"ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted", "PassStateEntered", "PassStateExited",
				"WaitStateEntered", "WaitStateExited", "PassStateEntered", "PassStateExited", "ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"},
		},
		{
			name: "map",
			def: `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.xs","MaxConcurrency":1,"ItemSelector":{"v.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index"},
				"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"D","States":{"D":{"Type":"Pass","End":true}}},"End":true}}}`,
			input:  `{"xs":["a","b"]}`,
			status: StatusSucceeded, output: `[{"v":"a","i":0},{"v":"b","i":1}]`,
			types: []string{"ExecutionStarted", "MapStateEntered", "MapStateStarted",
				"MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
				"MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
				"MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"},
		},
		{
			name:   "context object, built when a path reads it",
			def:    `{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"Q"},"Q":{"Type":"Pass","Parameters":{"state.$":"$$.State.Name","a.$":"$$.Execution.Input.a"},"End":true}}}`,
			input:  `{"a":1}`,
			status: StatusSucceeded, output: `{"state":"Q","a":1}`,
			types: []string{"ExecutionStarted", "PassStateEntered", "PassStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"},
		},
	}
	tests = append(tests, []struct {
		name, def, input string
		status, output   string
		errName          string
		types            []string
	}{
		{
			name: "parallel branch failure caught",
			def: `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[
				{"StartAt":"A","States":{"A":{"Type":"Fail","Error":"BranchErr","Cause":"c"}}},
				{"StartAt":"B","States":{"B":{"Type":"Wait","Seconds":5,"End":true}}}],
				"Catch":[{"ErrorEquals":["BranchErr"],"Next":"S"}],"End":true},"S":{"Type":"Succeed"}}}`,
			status: StatusSucceeded, output: `{"Error":"BranchErr","Cause":"c"}`,
			types: []string{"ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted", "FailStateEntered", "WaitStateEntered",
				"ParallelStateFailed", "ParallelStateExited", "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"},
		},
		{
			name:   "runtime error from a path",
			def:    `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.missing","End":true}}}`,
			status: StatusFailed, errName: "States.Runtime",
			types: []string{"ExecutionStarted", "PassStateEntered", "ExecutionFailed"},
		},
		{
			name:   "output over 256 KiB",
			def:    `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"a.$":"$.s","b.$":"$.s"},"End":true}}}`,
			input:  `{"s":"` + strings.Repeat("x", 140*1024) + `"}`,
			status: StatusFailed, errName: "States.DataLimitExceeded",
			types: []string{"ExecutionStarted", "PassStateEntered", "ExecutionFailed"},
		},
	}...)
	h := newHarness(t, "", true, fns)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			sm := h.create("sm"+string(rune('a'+i)), tc.def)
			in := tc.input
			if in == "" {
				in = "{}"
			}
			arn := h.start(sm, "x", in)
			d := h.wait(arn)
			if d.Status != tc.status {
				t.Fatalf("status %s, want %s (error %v cause %v)", d.Status, tc.status, deref(d.Error), deref(d.Cause))
			}
			if tc.output != "" {
				jsonEq(t, tc.output, deref(d.Output))
			}
			if tc.errName != "" && deref(d.Error) != tc.errName {
				t.Errorf("error %q, want %q", deref(d.Error), tc.errName)
			}
			evs := h.history(arn)
			if diff := cmp.Diff(tc.types, types(evs)); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
			for i, ev := range evs {
				if ev.ID != int64(i+1) {
					t.Errorf("event %d has id %d", i, ev.ID)
				}
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// TestOpenPathWithURICharacters: a data directory whose name holds URI
// syntax ('#', '?', '%') still opens its own file.
func TestOpenPathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a#b?c%d")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sfn.db")
	e, err := Open(context.Background(), Config{Path: path, Clock: clock.NewVirtual(time.Unix(0, 0), nil)})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at %s: %v", path, err)
	}
}

// TestMapSchedulesAllBeforeStarting: as AWS records it, the tasks of a Map's
// concurrent iterations are all scheduled before any of them starts. (Which
// result comes back first is up to the workers, so only the start is pinned.)
func TestMapSchedulesAllBeforeStarting(t *testing.T) {
	h := newHarness(t, filepath.Join(t.TempDir(), "sfn.db"), true, map[string]any{
		"double": func(ctx context.Context, in map[string]int) (map[string]int, error) {
			return map[string]int{"value": 2 * in["value"]}, nil
		},
	})
	sm := h.create("map", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.xs","ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"double","Payload":{"value.$":"$"}},"OutputPath":"$.Payload.value","End":true}}},"End":true}}}`)
	arn := h.start(sm, "e1", `{"xs":[1,2,3]}`)
	if d := h.wait(arn); d.Status != StatusSucceeded || deref(d.Output) != "[2,4,6]" {
		t.Fatalf("status %s output %s", d.Status, deref(d.Output))
	}
	got := types(h.historyAll(arn))
	want := []string{"ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapIterationStarted", "MapIterationStarted", "MapIterationStarted",
		"TaskStateEntered", "TaskScheduled", "TaskStateEntered", "TaskScheduled", "TaskStateEntered", "TaskScheduled",
		"TaskStarted", "TaskStarted", "TaskStarted"}
	if d := cmp.Diff(want, got[:len(want)]); d != "" {
		t.Errorf("history start (-want +got):\n%s", d)
	}
}
