// Command step is the step Lambda function: the handler every Task state of
// the care workflows invokes (their ${StepFunction} substitution). It reads
// and writes the DynamoDB store, delivers messages through the shop's
// webhook channel, and resumes executions (SendTaskSuccess) when an answer
// arrived before the task started waiting.
//
// Environment: TABLE_NAME (the DynamoDB table).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/ordercare/ordercare/infra/dynamostore"
	"github.com/ordercare/ordercare/infra/shopwebhook"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/router"
	"github.com/ordercare/ordercare/internal/steps"
	"github.com/ordercare/ordercare/workflows"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "step:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		return errors.New("TABLE_NAME is not set")
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	slog.SetDefault(lambdacontext.NewLogger())
	store := dynamostore.New(dynamodb.NewFromConfig(cfg), nil, table, clock.Real{})
	h := &steps.Handler{Store: store, Clock: clock.Real{}, Resumer: &router.Router{SFN: sfn.NewFromConfig(cfg)},
		Channels:  map[string]steps.Channel{"webhook": &shopwebhook.Channel{Sources: store, Clock: clock.Real{}}},
		Workflows: workflows.All()}
	lambda.StartHandlerFunc(h.Handle)
	return nil
}
