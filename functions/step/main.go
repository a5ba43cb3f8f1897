// Command step is the step Lambda function: the handler every Task state of
// the care workflows invokes (their ${StepFunction} substitution). It reads
// and writes the DynamoDB store, delivers messages through the shop's
// webhook channel, and resumes executions (SendTaskSuccess) when an answer
// arrived before the task started waiting.
//
// Channels: webhook (the shop's signed callback), email (Amazon SES v2,
// from the shop's verified identity), sms (AWS End User Messaging SMS,
// SendTextMessage to the buyer's number: infra/eumsms).
//
// Environment: TABLE_NAME (the DynamoDB table); PUBLIC_URL (the API's base
// URL) and UNSUBSCRIBE_KEY (at least 32 characters, as the api function's)
// for marketing email's one-click unsubscribe links (unset: marketing email
// is refused); SMS_ORIGINATION_IDENTITY (optional: the phone number, pool
// or sender id texts go from) and SMS_CONFIGURATION_SET (the stack's, whose
// event destination brings SMS delivery events back);
// SES_CONFIGURATION_SET (the stack's configuration set, whose event
// destination brings the receipts back; a shop's own set wins).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/ordercare/ordercare/infra/awschannels"
	"github.com/ordercare/ordercare/infra/dynamostore"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/router"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "step:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	store, cfg, err := dynamostore.Open(ctx, os.Getenv("TABLE_NAME"))
	if err != nil {
		return err
	}
	slog.SetDefault(lambdacontext.NewLogger())
	env := awschannels.Env{PublicURL: os.Getenv("PUBLIC_URL"), UnsubscribeKey: os.Getenv("UNSUBSCRIBE_KEY"),
		SESConfigurationSet: os.Getenv("SES_CONFIGURATION_SET"), SMSOriginationIdentity: os.Getenv("SMS_ORIGINATION_IDENTITY"),
		SMSConfigurationSet: os.Getenv("SMS_CONFIGURATION_SET")}
	h := awschannels.Handler(cfg, store, env, clock.Real{}, &router.Router{SFN: sfn.NewFromConfig(cfg)})
	lambda.StartHandlerFunc(h.Handle)
	return nil
}
