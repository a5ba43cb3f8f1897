package sfnlocal

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

const tokenDef = `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
 "Parameters":{"FunctionName":"notify","Payload":{"token.$":"$$.Task.Token","id.$":"$.id"}},"HeartbeatSeconds":60,"End":true}}}`

type tokenIn struct {
	Token string `json:"token"`
	ID    string `json:"id"`
}

func tokenHarness(t *testing.T) (*harness, string, chan string) {
	tokens := make(chan string, 100)
	h := newHarness(t, "", false, map[string]any{
		"notify": func(ctx context.Context, in tokenIn) (string, error) {
			tokens <- in.Token
			return "sent", nil
		},
	})
	return h, h.create("tok", tokenDef), tokens
}

func isCode(err error, code string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == code
}

func recvToken(t *testing.T, ch chan string) string {
	t.Helper()
	select {
	case tok := <-ch:
		return tok
	case <-time.After(10 * time.Second):
		t.Fatal("no task token")
		return ""
	}
}

// waitEvent polls the history until an event of type typ is committed.
func (h *harness) waitEvent(arn, typ string) {
	h.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		for _, ev := range h.history(arn) {
			if ev.Type == typ {
				return
			}
		}
		select {
		case <-h.commits:
		case <-timeout:
			h.t.Fatalf("no %s event in %s", typ, arn)
		}
	}
}

func TestTaskTokens(t *testing.T) {
	ctx := context.Background()
	t.Run("success once", func(t *testing.T) {
		h, sm, tokens := tokenHarness(t)
		arn := h.start(sm, "a", `{"id":"1"}`)
		tok := recvToken(t, tokens)
		h.waitEvent(arn, "TaskSubmitted")
		if _, err := h.e.SendTaskSuccess(ctx, &SendTaskSuccessInput{TaskToken: tok, Output: `{"ok":true}`}); err != nil {
			t.Fatal(err)
		}
		d := h.wait(arn)
		if d.Status != StatusSucceeded {
			t.Fatalf("status %s", d.Status)
		}
		jsonEq(t, `{"ok":true}`, *d.Output)
		_, err := h.e.SendTaskSuccess(ctx, &SendTaskSuccessInput{TaskToken: tok, Output: `{}`})
		if !isCode(err, ErrCodeTaskTimedOut) {
			t.Errorf("second SendTaskSuccess: %v, want TaskTimedOut", err)
		}
		_, err = h.e.SendTaskSuccess(ctx, &SendTaskSuccessInput{TaskToken: "nope", Output: `{}`})
		if !isCode(err, ErrCodeInvalidToken) {
			t.Errorf("unknown token: %v, want InvalidToken", err)
		}
		_, err = h.e.SendTaskSuccess(ctx, &SendTaskSuccessInput{TaskToken: tok, Output: `{`})
		if !isCode(err, ErrCodeInvalidOutput) {
			t.Errorf("bad output: %v, want InvalidOutput", err)
		}
		want := []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"}
		if got := types(h.history(arn)); !equalStrings(got, want) {
			t.Errorf("history %v, want %v", got, want)
		}
	})
	t.Run("race", func(t *testing.T) {
		h, sm, tokens := tokenHarness(t)
		arn := h.start(sm, "a", `{"id":"1"}`)
		tok := recvToken(t, tokens)
		h.waitEvent(arn, "TaskSubmitted")
		var wg sync.WaitGroup
		var mu sync.Mutex
		oks, timedOut := 0, 0
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				var err error
				if i%2 == 0 {
					_, err = h.e.SendTaskSuccess(ctx, &SendTaskSuccessInput{TaskToken: tok, Output: `"s"`})
				} else {
					_, err = h.e.SendTaskFailure(ctx, &SendTaskFailureInput{TaskToken: tok, Error: "E"})
				}
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					oks++
				case isCode(err, ErrCodeTaskTimedOut):
					timedOut++
				default:
					t.Errorf("unexpected error %v", err)
				}
			}(i)
		}
		wg.Wait()
		if oks != 1 || timedOut != 19 {
			t.Errorf("%d successes and %d TaskTimedOut, want 1 and 19", oks, timedOut)
		}
		h.wait(arn)
	})
	t.Run("heartbeat", func(t *testing.T) {
		h, sm, tokens := tokenHarness(t)
		arn := h.start(sm, "a", `{"id":"1"}`)
		tok := recvToken(t, tokens)
		h.waitEvent(arn, "TaskSubmitted")
		h.clk.Advance(50 * time.Second)
		if _, err := h.e.SendTaskHeartbeat(ctx, &SendTaskHeartbeatInput{TaskToken: tok}); err != nil {
			t.Fatal(err)
		}
		h.clk.Advance(50 * time.Second) // 100 s after start, 50 s after the heartbeat
		if _, err := h.e.SendTaskHeartbeat(ctx, &SendTaskHeartbeatInput{TaskToken: tok}); err != nil {
			t.Fatalf("heartbeat within the extended deadline: %v", err)
		}
		h.clk.Advance(61 * time.Second)
		d := h.wait(arn)
		if d.Status != StatusFailed || *d.Error != "States.HeartbeatTimeout" {
			t.Fatalf("status %s error %v, want FAILED States.HeartbeatTimeout", d.Status, deref(d.Error))
		}
		_, err := h.e.SendTaskSuccess(ctx, &SendTaskSuccessInput{TaskToken: tok, Output: `{}`})
		if !isCode(err, ErrCodeTaskTimedOut) {
			t.Errorf("late SendTaskSuccess: %v, want TaskTimedOut", err)
		}
	})
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestStartExecutionIdempotent(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "", false, nil)
	sm := h.create("w", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"End":true}}}`)
	a := h.start(sm, "same", `{"x":1}`)
	b := h.start(sm, "same", `{"x":1}`)
	if a != b {
		t.Fatalf("different ARNs %s %s", a, b)
	}
	_, err := h.e.StartExecution(ctx, &StartExecutionInput{StateMachineArn: sm, Name: "same", Input: `{"x":2}`})
	if !isCode(err, ErrCodeExecutionAlreadyExists) {
		t.Fatalf("different input: %v, want ExecutionAlreadyExists", err)
	}
	h.clk.Advance(10 * time.Second)
	if d := h.wait(a); d.Status != StatusSucceeded {
		t.Fatalf("status %s", d.Status)
	}
	_, err = h.e.StartExecution(ctx, &StartExecutionInput{StateMachineArn: sm, Name: "same", Input: `{"x":1}`})
	if !isCode(err, ErrCodeExecutionAlreadyExists) {
		t.Fatalf("closed execution: %v, want ExecutionAlreadyExists", err)
	}
	for _, tc := range []struct {
		in   StartExecutionInput
		code string
	}{
		{StartExecutionInput{StateMachineArn: sm, Name: "has space"}, ErrCodeInvalidName},
		{StartExecutionInput{StateMachineArn: sm, Input: "{"}, ErrCodeInvalidExecutionInput},
		{StartExecutionInput{StateMachineArn: sm + "x"}, ErrCodeStateMachineDoesNotExist},
		{StartExecutionInput{StateMachineArn: "arn:bad"}, ErrCodeInvalidArn},
	} {
		if _, err := h.e.StartExecution(ctx, &tc.in); !isCode(err, tc.code) {
			t.Errorf("%+v: %v, want %s", tc.in, err, tc.code)
		}
	}
}

func TestStopAndTimeouts(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "", false, map[string]any{
		"hang": func(ctx context.Context, in struct{}) (string, error) { <-ctx.Done(); return "", ctx.Err() },
	})
	w := h.create("w", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100,"End":true}}}`)
	a := h.start(w, "stopme", "")
	if _, err := h.e.StopExecution(ctx, &StopExecutionInput{ExecutionArn: a, Error: "Why", Cause: "because"}); err != nil {
		t.Fatal(err)
	}
	d := h.wait(a)
	if d.Status != StatusAborted || deref(d.Error) != "Why" {
		t.Errorf("stopped: %s %s", d.Status, deref(d.Error))
	}
	if got := types(h.history(a)); !equalStrings(got, []string{"ExecutionStarted", "WaitStateEntered", "ExecutionAborted"}) {
		t.Errorf("history %v", got)
	}

	tt := h.create("tt", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:hang","TimeoutSeconds":5,
		"Catch":[{"ErrorEquals":["States.Timeout"],"Next":"C"}],"End":true},"C":{"Type":"Pass","End":true}}}`)
	b := h.start(tt, "t", "")
	h.waitEvent(b, "LambdaFunctionStarted")
	h.clk.Advance(5 * time.Second)
	if d := h.wait(b); d.Status != StatusSucceeded {
		t.Errorf("task timeout caught: %s", d.Status)
	}
	if got := types(h.history(b)); !equalStrings(got, []string{"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionTimedOut", "TaskStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}) {
		t.Errorf("history %v", got)
	}

	et := h.create("et", `{"TimeoutSeconds":30,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100,"End":true}}}`)
	c := h.start(et, "t", "")
	h.waitEvent(c, "WaitStateEntered")
	h.clk.Advance(30 * time.Second)
	if d := h.wait(c); d.Status != StatusTimedOut {
		t.Errorf("execution timeout: %s", d.Status)
	}
}
