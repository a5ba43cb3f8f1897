package conformance

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/infra/sfnlocal"
	"github.com/ordercare/ordercare/internal/clock"
)

// TestHTTPClient checks that the runner's HTTP client answers exactly as
// the engine's methods do: outputs, paginated history and *APIError.
func TestHTTPClient(t *testing.T) {
	ctx := context.Background()
	closed := make(chan string, 1)
	eng, err := sfnlocal.Open(ctx, sfnlocal.Config{
		Path:              ":memory:",
		Clock:             clock.NewVirtual(start, nil),
		SkipIdle:          true,
		OnExecutionClosed: func(_, status string) { closed <- status },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := eng.Close(); err != nil {
			t.Errorf("close engine: %v", err)
		}
	})
	api, stop := serve(viaAPI, eng)
	t.Cleanup(stop)

	sm, err := api.CreateStateMachine(ctx, &sfnlocal.CreateStateMachineInput{
		Name:       "via",
		Definition: `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"W"},"W":{"Type":"Wait","Seconds":5,"Next":"F"},"F":{"Type":"Fail","Error":"E<&>","Cause":"c"}}}`,
		RoleArn:    "arn:aws:iam::111111111111:role/r",
	})
	if err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	ex, err := api.StartExecution(ctx, &sfnlocal.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: "e", Input: `{"a": "<é>"}`})
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	<-closed

	wantDesc, err := eng.DescribeExecution(ctx, &sfnlocal.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	gotDesc, err := api.DescribeExecution(ctx, &sfnlocal.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
	if err != nil {
		t.Fatalf("DescribeExecution: %v", err)
	}
	if d := cmp.Diff(wantDesc, gotDesc); d != "" {
		t.Errorf("DescribeExecution over HTTP (-engine +http):\n%s", d)
	}

	pages := func(s stepFunctions) (all []sfnlocal.HistoryEvent, n int) {
		token := ""
		for {
			out, err := s.GetExecutionHistory(ctx, &sfnlocal.GetExecutionHistoryInput{ExecutionArn: ex.ExecutionArn, MaxResults: 2, NextToken: token})
			if err != nil {
				t.Fatalf("GetExecutionHistory: %v", err)
			}
			all, n = append(all, out.Events...), n+1
			if token = out.NextToken; token == "" {
				return all, n
			}
		}
	}
	want, wantPages := pages(eng)
	got, gotPages := pages(api)
	if d := cmp.Diff(want, got); d != "" || gotPages != wantPages || wantPages < 3 {
		t.Errorf("history over HTTP: %d pages, engine %d; (-engine +http):\n%s", gotPages, wantPages, d)
	}

	bad := &sfnlocal.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn + "-missing"}
	_, wantErr := eng.DescribeExecution(ctx, bad)
	_, gotErr := api.DescribeExecution(ctx, bad)
	var we, ge *sfnlocal.APIError
	if !errors.As(wantErr, &we) || !errors.As(gotErr, &ge) {
		t.Fatalf("want *APIError from both, got engine %v, http %v", wantErr, gotErr)
	}
	if d := cmp.Diff(we, ge); d != "" {
		t.Errorf("error over HTTP (-engine +http):\n%s", d)
	}
	if _, err := api.StopExecution(ctx, &sfnlocal.StopExecutionInput{ExecutionArn: "not-an-arn"}); !errors.Is(err, &sfnlocal.APIError{Code: sfnlocal.ErrCodeInvalidArn}) {
		t.Errorf("StopExecution(bad ARN) over HTTP = %v, want %s", err, sfnlocal.ErrCodeInvalidArn)
	}
}
