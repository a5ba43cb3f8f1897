package sfnlocal

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"
)

// TestSDK: the engine seen as the SDK client's operations answers as the
// HTTP API does, errors included (as smithy.APIError with AWS's codes).
func TestSDK(t *testing.T) {
	h := newHarness(t, "", false, map[string]any{})
	sm := h.create("sdk", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`)
	c := SDK{Engine: h.e}
	ctx := context.Background()
	out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("one"), Input: aws.String(`{"a":1}`)})
	if err != nil || aws.ToString(out.ExecutionArn) == "" || out.StartDate == nil {
		t.Fatalf("StartExecution = %+v, %v", out, err)
	}
	code := func(err error) string {
		var ae smithy.APIError
		if !errors.As(err, &ae) {
			return "not an APIError: " + err.Error()
		}
		return ae.ErrorCode()
	}
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("one"), Input: aws.String(`{"a":2}`)})
	if code(err) != ErrCodeExecutionAlreadyExists {
		t.Errorf("a second start with another input: %v; want %s", err, ErrCodeExecutionAlreadyExists)
	}
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("no-such-token"), Output: aws.String("{}")}); code(err) != ErrCodeInvalidToken {
		t.Errorf("SendTaskSuccess(unknown token): %v; want %s", err, ErrCodeInvalidToken)
	}
	stop, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: out.ExecutionArn, Error: aws.String("Stopped")})
	if err != nil || stop.StopDate == nil {
		t.Fatalf("StopExecution = %+v, %v", stop, err)
	}
	if d := h.wait(aws.ToString(out.ExecutionArn)); d.Status != StatusAborted {
		t.Errorf("after StopExecution: %s, want %s", d.Status, StatusAborted)
	}
}
