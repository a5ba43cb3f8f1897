package sfnhttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/infra/sfnhttp"
	"github.com/ordercare/ordercare/infra/sfnlocal"
	"github.com/ordercare/ordercare/internal/clock"
)

const roleArn = "arn:aws:iam::111111111111:role/care-sfn"

// passDefinition runs Pass with an intrinsic, Choice, Pass, Succeed.
const passDefinition = `{
  "StartAt": "Prepare",
  "States": {
    "Prepare": {"Type": "Pass", "Parameters": {"key.$": "States.Format('order-{}', $.orderId)", "amount.$": "$.amount"}, "Next": "IsLarge"},
    "IsLarge": {"Type": "Choice", "Choices": [{"Variable": "$.amount", "NumericGreaterThan": 100, "Next": "Large"}], "Default": "Small"},
    "Large": {"Type": "Pass", "Result": "large", "ResultPath": "$.size", "Next": "Done"},
    "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.size", "Next": "Done"},
    "Done": {"Type": "Succeed"}
  }
}`

// callbackDefinition hands a task token to the "agent" Lambda and waits for
// SendTaskSuccess/Failure, with a 10 s heartbeat and a 100 s timeout.
const callbackDefinition = `{
  "StartAt": "AskAgent",
  "States": {
    "AskAgent": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Parameters": {
        "FunctionName": "arn:aws:lambda:us-east-1:111111111111:function:agent",
        "Payload": {"token.$": "$$.Task.Token", "case.$": "$.case"}
      },
      "HeartbeatSeconds": 10,
      "TimeoutSeconds": 100,
      "ResultPath": "$.agent",
      "End": true
    }
  }
}`

// agentEvent is what the "agent" Lambda receives.
type agentEvent struct {
	Token string `json:"token"`
	Case  string `json:"case"`
}

// env is one engine behind one HTTP server, with an SDK client.
type env struct {
	engine *sfnlocal.Engine
	clock  *clock.Virtual
	url    string
	client *sfn.Client
	closed *closings
	tokens chan agentEvent
}

// closings hands out the final status of executions as the engine reports
// them.
type closings struct {
	mu sync.Mutex
	m  map[string]chan string
}

func (c *closings) ch(arn string) chan string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]chan string)
	}
	ch, ok := c.m[arn]
	if !ok {
		ch = make(chan string, 1)
		c.m[arn] = ch
	}
	return ch
}

// wait returns the final status of execution arn once it is committed.
func (c *closings) wait(t *testing.T, arn string) string {
	t.Helper()
	select {
	case s := <-c.ch(arn):
		return s
	case <-time.After(30 * time.Second):
		t.Fatalf("execution %s did not close within 30s", arn)
		return ""
	}
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{
		clock:  clock.NewVirtual(time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC), nil),
		closed: &closings{},
		tokens: make(chan agentEvent, 16),
	}
	agent := func(ctx context.Context, in agentEvent) (map[string]string, error) {
		e.tokens <- in
		return map[string]string{"queued": in.Case}, nil
	}
	eng, err := sfnlocal.Open(t.Context(), sfnlocal.Config{
		Path:              filepath.Join(t.TempDir(), "sfn.db"),
		Clock:             e.clock,
		Functions:         map[string]any{"agent": agent},
		OnExecutionClosed: func(arn, status string) { e.closed.ch(arn) <- status },
	})
	if err != nil {
		t.Fatalf("sfnlocal.Open: %v", err)
	}
	e.engine = eng
	srv := httptest.NewServer(sfnhttp.NewHandler(eng, slog.New(slog.NewTextHandler(t.Output(), nil))))
	t.Cleanup(func() {
		srv.Close()
		if err := eng.Close(); err != nil {
			t.Errorf("engine Close: %v", err)
		}
	})
	e.url = srv.URL
	e.client = newClient(srv.URL)
	return e
}

// newClient returns the real SDK client for the endpoint at url, as a
// program would configure it for a local endpoint.
func newClient(url string) *sfn.Client {
	return sfn.New(sfn.Options{
		BaseEndpoint: aws.String(url),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local-secret", ""),
		Retryer:      aws.NopRetryer{},
	})
}

func (e *env) createMachine(t testing.TB, name, definition string) string {
	t.Helper()
	out, err := e.client.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(definition), RoleArn: aws.String(roleArn),
	})
	if err != nil {
		t.Fatalf("CreateStateMachine %s: %v", name, err)
	}
	return aws.ToString(out.StateMachineArn)
}

func (e *env) start(t *testing.T, machine, name, input string) string {
	t.Helper()
	out, err := e.client.StartExecution(t.Context(), &sfn.StartExecutionInput{
		StateMachineArn: aws.String(machine), Name: aws.String(name), Input: aws.String(input),
	})
	if err != nil {
		t.Fatalf("StartExecution %s: %v", name, err)
	}
	return aws.ToString(out.ExecutionArn)
}

// token waits for the agent Lambda to receive a task token for case id.
func (e *env) token(t *testing.T, id string) string {
	t.Helper()
	for {
		select {
		case ev := <-e.tokens:
			if ev.Case != id {
				t.Fatalf("agent got case %q, want %q", ev.Case, id)
			}
			return ev.Token
		case <-time.After(30 * time.Second):
			t.Fatalf("agent Lambda not invoked for case %s within 30s", id)
		}
	}
}

func TestStateMachines(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	arn := e.createMachine(t, "bench", passDefinition)
	if want := "arn:aws:states:us-east-1:111111111111:stateMachine:bench"; arn != want {
		t.Errorf("stateMachineArn = %q, want %q", arn, want)
	}

	desc, err := e.client.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("DescribeStateMachine: %v", err)
	}
	if got, want := []string{aws.ToString(desc.Name), aws.ToString(desc.Definition), aws.ToString(desc.RoleArn), string(desc.Type), string(desc.Status)},
		[]string{"bench", passDefinition, roleArn, "STANDARD", "ACTIVE"}; !cmp.Equal(got, want) {
		t.Errorf("DescribeStateMachine (-want +got):\n%s", cmp.Diff(want, got))
	}
	if desc.CreationDate == nil || !desc.CreationDate.Equal(e.clock.Now()) {
		t.Errorf("creationDate = %v, want %v", desc.CreationDate, e.clock.Now())
	}

	// Creating the same machine again is idempotent; another definition under
	// the same name is StateMachineAlreadyExists.
	if again := e.createMachine(t, "bench", passDefinition); again != arn {
		t.Errorf("re-create returned %q, want %q", again, arn)
	}
	_, err = e.client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("bench"), Definition: aws.String(callbackDefinition), RoleArn: aws.String(roleArn),
	})
	if _, ok := errors.AsType[*types.StateMachineAlreadyExists](err); !ok {
		t.Errorf("CreateStateMachine with another definition: err = %v, want StateMachineAlreadyExists", err)
	}

	want := []string{"bench"}
	for i := range 4 {
		name := fmt.Sprintf("m%d", i)
		e.createMachine(t, name, passDefinition)
		want = append(want, name)
	}
	var got []string
	pages := 0
	p := sfn.NewListStateMachinesPaginator(e.client, &sfn.ListStateMachinesInput{MaxResults: 2})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListStateMachines page %d: %v", pages, err)
		}
		if len(page.StateMachines) > 2 {
			t.Errorf("page %d has %d machines, want at most 2", pages, len(page.StateMachines))
		}
		pages++
		for _, m := range page.StateMachines {
			got = append(got, aws.ToString(m.Name))
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !cmp.Equal(got, want) {
		t.Errorf("ListStateMachines names (-want +got):\n%s", cmp.Diff(want, got))
	}
	if pages != 3 {
		t.Errorf("ListStateMachines took %d pages of 2, want 3", pages)
	}

	if _, err := e.client.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{
		StateMachineArn: aws.String(arn), Definition: aws.String(callbackDefinition),
	}); err != nil {
		t.Fatalf("UpdateStateMachine: %v", err)
	}
	desc, err = e.client.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("DescribeStateMachine after update: %v", err)
	}
	if aws.ToString(desc.Definition) != callbackDefinition {
		t.Errorf("definition after update = %s, want the callback definition", aws.ToString(desc.Definition))
	}

	val, err := e.client.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{
		Definition: aws.String(`{"StartAt": "Nowhere", "States": {"A": {"Type": "Succeed"}}}`),
	})
	if err != nil {
		t.Fatalf("ValidateStateMachineDefinition: %v", err)
	}
	if val.Result != types.ValidateStateMachineDefinitionResultCodeFail || len(val.Diagnostics) == 0 {
		t.Errorf("ValidateStateMachineDefinition of a broken definition = %s with %d diagnostics, want FAIL with some", val.Result, len(val.Diagnostics))
	}
	val, err = e.client.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(passDefinition)})
	if err != nil || val.Result != types.ValidateStateMachineDefinitionResultCodeOk {
		t.Errorf("ValidateStateMachineDefinition of a good definition = %v, %v; want OK", val, err)
	}

	if _, err := e.client.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(arn)}); err != nil {
		t.Fatalf("DeleteStateMachine: %v", err)
	}
	desc, err = e.client.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if _, ok := errors.AsType[*types.StateMachineDoesNotExist](err); !ok && (err != nil || desc.Status != types.StateMachineStatusDeleting) {
		t.Errorf("DescribeStateMachine after delete: status %v, err %v; want DELETING or StateMachineDoesNotExist", desc, err)
	}
}

func TestExecutions(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	machine := e.createMachine(t, "bench", passDefinition)

	var arns []string
	for i, amount := range []int{5, 150, 7, 300, 9} {
		arn := e.start(t, machine, fmt.Sprintf("order-%d", i), fmt.Sprintf(`{"orderId":"o%d","amount":%d}`, i, amount))
		if status := e.closed.wait(t, arn); status != "SUCCEEDED" {
			t.Fatalf("execution %s closed %s, want SUCCEEDED", arn, status)
		}
		arns = append(arns, arn)
	}

	desc, err := e.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arns[1])})
	if err != nil {
		t.Fatalf("DescribeExecution: %v", err)
	}
	if desc.Status != types.ExecutionStatusSucceeded || aws.ToString(desc.Name) != "order-1" || aws.ToString(desc.StateMachineArn) != machine {
		t.Errorf("DescribeExecution = status %s name %s machine %s", desc.Status, aws.ToString(desc.Name), aws.ToString(desc.StateMachineArn))
	}
	var output map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(desc.Output)), &output); err != nil {
		t.Fatalf("output %q: %v", aws.ToString(desc.Output), err)
	}
	if want := map[string]any{"key": "order-o1", "amount": 150.0, "size": "large"}; !cmp.Equal(output, want) {
		t.Errorf("output (-want +got):\n%s", cmp.Diff(want, output))
	}
	if desc.StopDate == nil || desc.StartDate == nil {
		t.Errorf("startDate %v stopDate %v, want both", desc.StartDate, desc.StopDate)
	}

	// A closed execution's name cannot be reused, even with the same input.
	_, err = e.client.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(machine), Name: aws.String("order-0"), Input: aws.String(`{"orderId":"o0","amount":5}`),
	})
	if _, ok := errors.AsType[*types.ExecutionAlreadyExists](err); !ok {
		t.Errorf("restart of a closed execution: err = %v, want ExecutionAlreadyExists", err)
	}

	t.Run("ListExecutions pages", func(t *testing.T) {
		var got []string
		p := sfn.NewListExecutionsPaginator(e.client, &sfn.ListExecutionsInput{StateMachineArn: aws.String(machine), MaxResults: 2})
		pages := 0
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListExecutions page %d: %v", pages, err)
			}
			pages++
			for _, x := range page.Executions {
				got = append(got, aws.ToString(x.ExecutionArn))
				if x.Status != types.ExecutionStatusSucceeded {
					t.Errorf("%s status %s, want SUCCEEDED", aws.ToString(x.Name), x.Status)
				}
			}
		}
		if pages != 3 {
			t.Errorf("%d pages of 2 for 5 executions, want 3", pages)
		}
		want := slices.Clone(arns)
		slices.Sort(want)
		slices.Sort(got)
		if !cmp.Equal(got, want) {
			t.Errorf("ListExecutions (-want +got):\n%s", cmp.Diff(want, got))
		}
		running, err := e.client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(machine), StatusFilter: types.ExecutionStatusRunning})
		if err != nil || len(running.Executions) != 0 {
			t.Errorf("ListExecutions RUNNING = %v, %v; want none", running, err)
		}
	})

	t.Run("GetExecutionHistory pages and reverseOrder", func(t *testing.T) {
		full, err := e.client.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arns[0])})
		if err != nil {
			t.Fatalf("GetExecutionHistory: %v", err)
		}
		want := []string{"ExecutionStarted", "PassStateEntered", "PassStateExited", "ChoiceStateEntered", "ChoiceStateExited",
			"PassStateEntered", "PassStateExited", "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"}
		if got := eventTypes(full.Events); !cmp.Equal(got, want) {
			t.Fatalf("history (-want +got):\n%s", cmp.Diff(want, got))
		}
		for i, ev := range full.Events {
			if ev.Id != int64(i+1) {
				t.Errorf("event %d has id %d", i, ev.Id)
			}
		}
		for _, reverse := range []bool{false, true} {
			var paged []types.HistoryEvent
			p := sfn.NewGetExecutionHistoryPaginator(e.client, &sfn.GetExecutionHistoryInput{
				ExecutionArn: aws.String(arns[0]), MaxResults: 3, ReverseOrder: reverse,
			})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatalf("GetExecutionHistory reverse=%v: %v", reverse, err)
				}
				if len(page.Events) > 3 {
					t.Errorf("page of %d events, want at most 3", len(page.Events))
				}
				paged = append(paged, page.Events...)
			}
			wantEvents := slices.Clone(full.Events)
			if reverse {
				slices.Reverse(wantEvents)
			}
			if diff := cmp.Diff(eventIDs(wantEvents), eventIDs(paged)); diff != "" {
				t.Errorf("paged history reverse=%v ids (-want +got):\n%s", reverse, diff)
			}
		}
	})
}

func eventTypes(evs []types.HistoryEvent) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, string(ev.Type))
	}
	return out
}

func eventIDs(evs []types.HistoryEvent) []int64 {
	var out []int64
	for _, ev := range evs {
		out = append(out, ev.Id)
	}
	return out
}

func TestCallbacks(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	machine := e.createMachine(t, "agent", callbackDefinition)

	describe := func(t *testing.T, arn string) *sfn.DescribeExecutionOutput {
		t.Helper()
		d, err := e.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("DescribeExecution: %v", err)
		}
		return d
	}

	t.Run("idempotent start while running, then success", func(t *testing.T) {
		input := `{"case":"c1"}`
		arn := e.start(t, machine, "c1", input)
		token := e.token(t, "c1")
		if again := e.start(t, machine, "c1", input); again != arn {
			t.Errorf("same name and input while running: got %q, want %q", again, arn)
		}
		_, err := e.client.StartExecution(ctx, &sfn.StartExecutionInput{
			StateMachineArn: aws.String(machine), Name: aws.String("c1"), Input: aws.String(`{"case":"other"}`),
		})
		if ae, ok := errors.AsType[*types.ExecutionAlreadyExists](err); !ok {
			t.Errorf("same name, other input: err = %v, want ExecutionAlreadyExists", err)
		} else if ae.ErrorMessage() == "" {
			t.Errorf("ExecutionAlreadyExists has no message")
		}
		if got := describe(t, arn).Status; got != types.ExecutionStatusRunning {
			t.Errorf("status while waiting = %s, want RUNNING", got)
		}
		if _, err := e.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"outcome":"confirmed"}`)}); err != nil {
			t.Fatalf("SendTaskSuccess: %v", err)
		}
		if status := e.closed.wait(t, arn); status != "SUCCEEDED" {
			t.Fatalf("closed %s, want SUCCEEDED", status)
		}
		if got, want := aws.ToString(describe(t, arn).Output), `{"case":"c1","agent":{"outcome":"confirmed"}}`; !jsonEqual(t, got, want) {
			t.Errorf("output = %s, want %s", got, want)
		}
		// A second completion of the same token is refused.
		_, err = e.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)})
		if err == nil {
			t.Errorf("second SendTaskSuccess succeeded, want an error")
		}
	})

	t.Run("failure", func(t *testing.T) {
		arn := e.start(t, machine, "c2", `{"case":"c2"}`)
		token := e.token(t, "c2")
		if _, err := e.client.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{
			TaskToken: aws.String(token), Error: aws.String("Agent.Refused"), Cause: aws.String("buyer unreachable"),
		}); err != nil {
			t.Fatalf("SendTaskFailure: %v", err)
		}
		if status := e.closed.wait(t, arn); status != "FAILED" {
			t.Fatalf("closed %s, want FAILED", status)
		}
		d := describe(t, arn)
		if aws.ToString(d.Error) != "Agent.Refused" || aws.ToString(d.Cause) != "buyer unreachable" {
			t.Errorf("error %q cause %q, want Agent.Refused / buyer unreachable", aws.ToString(d.Error), aws.ToString(d.Cause))
		}
	})

	t.Run("heartbeat keeps the task alive", func(t *testing.T) {
		arn := e.start(t, machine, "c3", `{"case":"c3"}`)
		token := e.token(t, "c3")
		mustAdvance(t, e.clock, 6*time.Second)
		if _, err := e.client.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(token)}); err != nil {
			t.Fatalf("SendTaskHeartbeat: %v", err)
		}
		mustAdvance(t, e.clock, 6*time.Second) // 12 s after the start, 6 s after the heartbeat
		if _, err := e.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`"ok"`)}); err != nil {
			t.Fatalf("SendTaskSuccess after heartbeat: %v", err)
		}
		if status := e.closed.wait(t, arn); status != "SUCCEEDED" {
			t.Fatalf("closed %s, want SUCCEEDED", status)
		}
	})

	t.Run("timeout without heartbeat", func(t *testing.T) {
		arn := e.start(t, machine, "c6", `{"case":"c6"}`)
		token := e.token(t, "c6")
		// Heartbeats every 5 s keep it alive past HeartbeatSeconds, not
		// past TimeoutSeconds: the last advance reaches 100 s.
		for range 20 {
			if _, err := e.client.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(token)}); err != nil {
				t.Fatalf("SendTaskHeartbeat: %v", err)
			}
			mustAdvance(t, e.clock, 5*time.Second)
		}
		if status := e.closed.wait(t, arn); status != "FAILED" {
			t.Fatalf("closed %s, want FAILED", status)
		}
		if got := aws.ToString(describe(t, arn).Error); got != "States.Timeout" {
			t.Errorf("error = %q, want States.Timeout", got)
		}
		_, err := e.client.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String("Late")})
		if _, ok := errors.AsType[*types.TaskTimedOut](err); !ok {
			t.Errorf("SendTaskFailure after the timeout: err = %v, want TaskTimedOut", err)
		}
	})

	t.Run("late completion is TaskTimedOut", func(t *testing.T) {
		arn := e.start(t, machine, "c4", `{"case":"c4"}`)
		token := e.token(t, "c4")
		mustAdvance(t, e.clock, 11*time.Second) // no heartbeat for 11 s > HeartbeatSeconds
		if status := e.closed.wait(t, arn); status != "FAILED" {
			t.Fatalf("closed %s, want FAILED", status)
		}
		if got := aws.ToString(describe(t, arn).Error); got != "States.HeartbeatTimeout" {
			t.Errorf("error = %q, want States.HeartbeatTimeout", got)
		}
		_, err := e.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)})
		if _, ok := errors.AsType[*types.TaskTimedOut](err); !ok {
			t.Errorf("SendTaskSuccess after the timeout: err = %v, want TaskTimedOut", err)
		}
		_, err = e.client.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(token)})
		if _, ok := errors.AsType[*types.TaskTimedOut](err); !ok {
			t.Errorf("SendTaskHeartbeat after the timeout: err = %v, want TaskTimedOut", err)
		}
	})

	t.Run("StopExecution", func(t *testing.T) {
		arn := e.start(t, machine, "c5", `{"case":"c5"}`)
		e.token(t, "c5")
		out, err := e.client.StopExecution(ctx, &sfn.StopExecutionInput{
			ExecutionArn: aws.String(arn), Error: aws.String("Order.Paid"), Cause: aws.String("buyer paid"),
		})
		if err != nil {
			t.Fatalf("StopExecution: %v", err)
		}
		if out.StopDate == nil {
			t.Errorf("StopExecution returned no stopDate")
		}
		if status := e.closed.wait(t, arn); status != "ABORTED" {
			t.Fatalf("closed %s, want ABORTED", status)
		}
		d := describe(t, arn)
		if d.Status != types.ExecutionStatusAborted || aws.ToString(d.Error) != "Order.Paid" || aws.ToString(d.Cause) != "buyer paid" {
			t.Errorf("after stop: status %s error %q cause %q", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
		}
		hist, err := e.client.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), ReverseOrder: true, MaxResults: 1})
		if err != nil || len(hist.Events) != 1 || hist.Events[0].Type != types.HistoryEventTypeExecutionAborted {
			t.Errorf("last event = %v, %v; want ExecutionAborted", hist, err)
		}
	})
}

func mustAdvance(t *testing.T, c *clock.Virtual, d time.Duration) {
	t.Helper()
	if _, err := c.Advance(d); err != nil {
		t.Fatalf("advance clock: %v", err)
	}
}

func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Errorf("not JSON: %q", a)
		return false
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("not JSON: %q", b)
	}
	return cmp.Equal(x, y)
}

// TestTypedErrors checks that the SDK decodes each engine error into its
// typed error.
func TestTypedErrors(t *testing.T) {
	e := newEnv(t)
	machine := e.createMachine(t, "bench", passDefinition)
	missingExec := "arn:aws:states:us-east-1:111111111111:execution:bench:nope"
	missingMachine := "arn:aws:states:us-east-1:111111111111:stateMachine:nope"

	tests := []struct {
		name string
		call func(ctx context.Context, c *sfn.Client) error
		is   func(error) bool
	}{
		{"DescribeExecution unknown", func(ctx context.Context, c *sfn.Client) error {
			_, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(missingExec)})
			return err
		}, isType[*types.ExecutionDoesNotExist]},
		{"DescribeExecution bad ARN", func(ctx context.Context, c *sfn.Client) error {
			_, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("not-an-arn")})
			return err
		}, isType[*types.InvalidArn]},
		{"DescribeStateMachine unknown", func(ctx context.Context, c *sfn.Client) error {
			_, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(missingMachine)})
			return err
		}, isType[*types.StateMachineDoesNotExist]},
		{"StartExecution unknown machine", func(ctx context.Context, c *sfn.Client) error {
			_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(missingMachine)})
			return err
		}, isType[*types.StateMachineDoesNotExist]},
		{"StartExecution input not JSON", func(ctx context.Context, c *sfn.Client) error {
			_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(machine), Input: aws.String("{oops")})
			return err
		}, isType[*types.InvalidExecutionInput]},
		{"StartExecution bad name", func(ctx context.Context, c *sfn.Client) error {
			_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(machine), Name: aws.String("has space")})
			return err
		}, isType[*types.InvalidName]},
		{"CreateStateMachine bad definition", func(ctx context.Context, c *sfn.Client) error {
			_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
				Name: aws.String("broken"), Definition: aws.String(`{"StartAt":"X","States":{}}`), RoleArn: aws.String(roleArn),
			})
			return err
		}, isType[*types.InvalidDefinition]},
		{"SendTaskSuccess garbage token", func(ctx context.Context, c *sfn.Client) error {
			_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("garbage"), Output: aws.String("{}")})
			return err
		}, isType[*types.InvalidToken]},
		{"SendTaskFailure garbage token", func(ctx context.Context, c *sfn.Client) error {
			_, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String("garbage")})
			return err
		}, isType[*types.InvalidToken]},
		{"SendTaskHeartbeat garbage token", func(ctx context.Context, c *sfn.Client) error {
			_, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String("garbage")})
			return err
		}, isType[*types.InvalidToken]},
		{"StopExecution unknown", func(ctx context.Context, c *sfn.Client) error {
			_, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(missingExec)})
			return err
		}, isType[*types.ExecutionDoesNotExist]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(t.Context(), e.client)
			if !tt.is(err) {
				t.Fatalf("err = %T %v, want the typed error", err, err)
			}
			if ae, ok := errors.AsType[smithy.APIError](err); !ok || ae.ErrorMessage() == "" || ae.ErrorFault() != smithy.FaultClient {
				t.Errorf("APIError message %q fault %v, want a message and FaultClient", ae.ErrorMessage(), ae.ErrorFault())
			}
		})
	}
}

func isType[E error](err error) bool {
	_, ok := errors.AsType[E](err)
	return ok
}

// failingAPI is an API whose every call fails with an internal error.
type failingAPI struct {
	sfnhttp.API
	err error
}

func (f failingAPI) ListStateMachines(context.Context, *sfnlocal.ListStateMachinesInput) (*sfnlocal.ListStateMachinesOutput, error) {
	return nil, f.err
}

func TestInternalFailure(t *testing.T) {
	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &logs}, nil))
	srv := httptest.NewServer(sfnhttp.NewHandler(failingAPI{err: errors.New("disk on fire at /var/lib/care")}, logger))
	defer srv.Close()

	_, err := newClient(srv.URL).ListStateMachines(t.Context(), &sfn.ListStateMachinesInput{})
	ae, ok := errors.AsType[smithy.APIError](err)
	if !ok || ae.ErrorCode() != "InternalFailure" {
		t.Fatalf("err = %v, want InternalFailure", err)
	}
	if strings.Contains(ae.ErrorMessage(), "disk") {
		t.Errorf("client sees the internal detail: %q", ae.ErrorMessage())
	}
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusInternalServerError {
		t.Errorf("status = %v, want 500", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "disk on fire") || !strings.Contains(logs.String(), "ListStateMachines") {
		t.Errorf("log %q lacks the detail and operation", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
