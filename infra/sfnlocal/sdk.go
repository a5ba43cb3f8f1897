package sfnlocal

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"
)

// SDK is the engine as the part of the AWS SDK's Step Functions client
// that care's router calls (StartExecution, StopExecution,
// SendTaskSuccess), for a caller in the engine's own process: the same
// operations the HTTP API serves, without encoding, signing and decoding
// each request. An *APIError comes back as a smithy.APIError with the
// same code and message, as the SDK client would return it; optFns are
// ignored.
type SDK struct{ Engine *Engine }

func (c SDK) StartExecution(ctx context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	out, err := c.Engine.StartExecution(ctx, &StartExecutionInput{StateMachineArn: aws.ToString(in.StateMachineArn),
		Name: aws.ToString(in.Name), Input: aws.ToString(in.Input), TraceHeader: aws.ToString(in.TraceHeader)})
	if err != nil {
		return nil, sdkErr(err)
	}
	return &sfn.StartExecutionOutput{ExecutionArn: aws.String(out.ExecutionArn), StartDate: aws.Time(out.StartDate.Time)}, nil
}

func (c SDK) StopExecution(ctx context.Context, in *sfn.StopExecutionInput, _ ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error) {
	out, err := c.Engine.StopExecution(ctx, &StopExecutionInput{ExecutionArn: aws.ToString(in.ExecutionArn),
		Error: aws.ToString(in.Error), Cause: aws.ToString(in.Cause)})
	if err != nil {
		return nil, sdkErr(err)
	}
	return &sfn.StopExecutionOutput{StopDate: aws.Time(out.StopDate.Time)}, nil
}

func (c SDK) SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	if _, err := c.Engine.SendTaskSuccess(ctx, &SendTaskSuccessInput{TaskToken: aws.ToString(in.TaskToken), Output: aws.ToString(in.Output)}); err != nil {
		return nil, sdkErr(err)
	}
	return &sfn.SendTaskSuccessOutput{}, nil
}

func sdkErr(err error) error {
	var ae *APIError
	if errors.As(err, &ae) {
		return &smithy.GenericAPIError{Code: ae.Code, Message: ae.Message, Fault: smithy.FaultClient}
	}
	return err
}
