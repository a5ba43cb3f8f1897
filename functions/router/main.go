// Command router is the change-feed Lambda function: its event source is
// the table's DynamoDB stream (ReportBatchItemFailures), and it starts,
// stops and resumes the care workflows' executions for each feed entry. An
// EventBridge rule also invokes it every minute to start the scheduled runs
// that came due (router.DueHandler).
//
// An opt-out reply gets its one confirmation from here, on the channel it
// came on (SES_CONFIGURATION_SET, SMS_ORIGINATION_IDENTITY and
// SMS_CONFIGURATION_SET as the step function's).
//
// Environment: TABLE_NAME (the DynamoDB table) and STATE_MACHINE_PREFIX
// (every workflow's state machine is the prefix + its name).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/ordercare/ordercare/infra/awschannels"
	"github.com/ordercare/ordercare/infra/dynamostore"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/router"
	"github.com/ordercare/ordercare/workflows"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "router:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	prefix := os.Getenv("STATE_MACHINE_PREFIX") // functions.StateMachinePrefixEnv
	if prefix == "" {
		return errors.New("STATE_MACHINE_PREFIX is not set")
	}
	store, cfg, err := dynamostore.Open(ctx, os.Getenv("TABLE_NAME"))
	if err != nil {
		return err
	}
	log := lambdacontext.NewLogger()
	r := newRouter(cfg, store, prefix)
	r.Logger = log
	stream := &router.StreamHandler{Router: r, Decode: dynamostore.ChangeFromStreamRecord, Logger: log, Reserve: 10 * time.Second}
	due := &router.DueHandler{Router: r, Logger: log, Reserve: 10 * time.Second}
	lambda.StartHandlerFunc(router.LambdaHandler(stream, due))
	return nil
}

// newRouter is the router over store, with the step handler's
// ConfirmOptOut (awschannels): an opt-out reply gets its one confirmation
// on the channel it came on, as on the local runtime.
func newRouter(cfg aws.Config, store awschannels.Store, prefix string) *router.Router {
	client := sfn.NewFromConfig(cfg)
	env := awschannels.Env{SESConfigurationSet: os.Getenv("SES_CONFIGURATION_SET"),
		SMSOriginationIdentity: os.Getenv("SMS_ORIGINATION_IDENTITY"), SMSConfigurationSet: os.Getenv("SMS_CONFIGURATION_SET")}
	h := awschannels.Handler(cfg, store, env, clock.Real{}, &router.Router{SFN: client})
	return &router.Router{Store: store, Consents: store, SFN: client, Clock: clock.Real{}, StateMachinePrefix: prefix,
		Workflows: workflows.All(), ConfirmOptOut: h.ConfirmOptOut}
}
