package sfnlocal

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTimestampJSON(t *testing.T) {
	ts := TS(time.Date(2026, 1, 2, 3, 4, 5, 123_000_000, time.UTC))
	b, err := json.Marshal(ts)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "1767323045.123" {
		t.Errorf("marshal: %s", b)
	}
	var back Timestamp
	if err := json.Unmarshal(b, &back); err != nil || !back.Equal(ts.Time) {
		t.Errorf("round trip: %v %v", back, err)
	}
}

func TestHistoryChunkRoundTrip(t *testing.T) {
	s := func(v string) *string { return &v }
	n := func(v int64) *int64 { return &v }
	evs := []HistoryEvent{
		{Type: EvExecutionStarted, ID: 1, ExecutionStartedEventDetails: &ExecutionStartedEventDetails{Input: s(`{"a":1}`), InputDetails: tr(), RoleArn: "r"}},
		{Type: "PassStateEntered", ID: 2, StateEnteredEventDetails: &StateEnteredEventDetails{Name: "P", Input: s("{}"), InputDetails: tr()}},
		{Type: EvTaskScheduled, ID: 3, PreviousEventID: 2, TaskScheduledEventDetails: &TaskScheduledEventDetails{ResourceType: "lambda", Resource: "invoke", Region: "us-east-1", Parameters: "{}", HeartbeatInSeconds: n(60)}},
		{Type: EvTaskFailed, ID: 4, PreviousEventID: 3, TaskFailedEventDetails: &TaskErrorEventDetails{ResourceType: "lambda", Resource: "invoke", Error: s("E")}},
		{Type: EvMapIterationAborted, ID: 5, MapIterationAbortedEventDetails: &MapIterationEventDetails{Name: "M", Index: 3}},
		{Type: EvExecutionFailed, ID: 6, PreviousEventID: 4, ExecutionFailedEventDetails: &ErrorCause{}},
		{Type: "SomethingNew", ID: 7, EvaluationFailedEventDetails: &EvaluationFailedEventDetails{State: "X"}},
	}
	for i := range evs {
		evs[i].Timestamp = TS(t0.Add(time.Duration(i) * time.Millisecond))
	}
	got, err := decodeEvents(encodeEvents(evs))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(evs, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}

func TestAPI(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "", true, nil)
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"C"},"C":{"Type":"Pass","End":true}}}`
	sm := h.create("api", def)

	// Identical re-creation is idempotent; a different definition conflicts.
	if _, err := h.e.CreateStateMachine(ctx, &CreateStateMachineInput{Name: "api", Definition: def, RoleArn: "arn:aws:iam::111111111111:role/r"}); err != nil {
		t.Errorf("identical create: %v", err)
	}
	if _, err := h.e.CreateStateMachine(ctx, &CreateStateMachineInput{Name: "api", Definition: strings.Replace(def, `"C"`, `"D"`, -1), RoleArn: "x"}); !isCode(err, ErrCodeStateMachineAlreadyExists) {
		t.Errorf("conflicting create: %v", err)
	}
	for _, bad := range []string{`{`, `{"StartAt":"X","States":{}}`, `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`} {
		if _, err := h.e.CreateStateMachine(ctx, &CreateStateMachineInput{Name: "bad", Definition: bad}); !isCode(err, ErrCodeInvalidDefinition) {
			t.Errorf("create %s: %v, want InvalidDefinition", bad, err)
		}
		v, err := h.e.ValidateStateMachineDefinition(ctx, &ValidateStateMachineDefinitionInput{Definition: bad})
		if err != nil || v.Result != "FAIL" || len(v.Diagnostics) == 0 {
			t.Errorf("validate %s: %+v %v", bad, v, err)
		}
	}
	d, err := h.e.DescribeStateMachine(ctx, &DescribeStateMachineInput{StateMachineArn: sm})
	if err != nil || d.Definition != def || d.Status != "ACTIVE" || d.Name != "api" {
		t.Fatalf("describe: %+v %v", d, err)
	}
	l, err := h.e.ListStateMachines(ctx, &ListStateMachinesInput{})
	if err != nil || len(l.StateMachines) != 1 {
		t.Fatalf("list: %+v %v", l, err)
	}

	arn := h.start(sm, "one", `{"k":"v"}`)
	h.wait(arn)
	all := h.history(arn)
	if len(all) != 8 {
		t.Fatalf("history has %d events", len(all))
	}
	// Pagination, forwards and backwards.
	var ids []int64
	tok := ""
	for {
		out, err := h.e.GetExecutionHistory(ctx, &GetExecutionHistoryInput{ExecutionArn: arn, MaxResults: 3, NextToken: tok, ReverseOrder: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range out.Events {
			ids = append(ids, ev.ID)
		}
		if tok = out.NextToken; tok == "" {
			break
		}
	}
	if d := cmp.Diff([]int64{8, 7, 6, 5, 4, 3, 2, 1}, ids); d != "" {
		t.Errorf("reverse pages (-want +got):\n%s", d)
	}
	no := false
	out, err := h.e.GetExecutionHistory(ctx, &GetExecutionHistoryInput{ExecutionArn: arn, IncludeExecutionData: &no})
	if err != nil {
		t.Fatal(err)
	}
	if out.Events[0].ExecutionStartedEventDetails.Input != nil || out.Events[1].StateEnteredEventDetails.Input != nil {
		t.Errorf("includeExecutionData=false kept data")
	}
	if _, err := h.e.GetExecutionHistory(ctx, &GetExecutionHistoryInput{ExecutionArn: arn + "x"}); !isCode(err, ErrCodeExecutionDoesNotExist) {
		t.Errorf("unknown execution: %v", err)
	}

	// Update: new executions use the new definition.
	def2 := `{"StartAt":"Z","States":{"Z":{"Type":"Pass","Result":2,"End":true}}}`
	if _, err := h.e.UpdateStateMachine(ctx, &UpdateStateMachineInput{StateMachineArn: sm, Definition: def2}); err != nil {
		t.Fatal(err)
	}
	arn2 := h.start(sm, "two", `{}`)
	if d := h.wait(arn2); deref(d.Output) != "2" {
		t.Errorf("after update output %s", deref(d.Output))
	}
	le, err := h.e.ListExecutions(ctx, &ListExecutionsInput{StateMachineArn: sm, MaxResults: 1})
	if err != nil || len(le.Executions) != 1 || le.NextToken == "" {
		t.Fatalf("list executions: %+v %v", le, err)
	}
	le2, err := h.e.ListExecutions(ctx, &ListExecutionsInput{StateMachineArn: sm, MaxResults: 1, NextToken: le.NextToken})
	if err != nil || len(le2.Executions) != 1 || le2.Executions[0].ExecutionArn == le.Executions[0].ExecutionArn {
		t.Fatalf("list executions page 2: %+v %v", le2, err)
	}
	if _, err := h.e.DeleteStateMachine(ctx, &DeleteStateMachineInput{StateMachineArn: sm}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.DescribeStateMachine(ctx, &DescribeStateMachineInput{StateMachineArn: sm}); !isCode(err, ErrCodeStateMachineDoesNotExist) {
		t.Errorf("describe deleted: %v", err)
	}
	if _, err := h.e.DescribeExecution(ctx, &DescribeExecutionInput{ExecutionArn: arn}); err != nil {
		t.Errorf("executions outlive their state machine: %v", err)
	}
}
