// Command receipts is the receipts Lambda function: subscribed to the
// stack's SNS topics, it applies SES events (delivery, bounce, complaint,
// reject) to the send ledger and suppresses bounced or complaining
// addresses, applies SMS events, records two-way SMS replies as
// buyer.replied events, and once a day expires message texts past each
// shop's retention (infra/awsreceipts).
//
// Environment: TABLE_NAME (the DynamoDB table).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/ordercare/ordercare/infra/awsreceipts"
	"github.com/ordercare/ordercare/infra/dynamostore"
	"github.com/ordercare/ordercare/internal/clock"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "receipts:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	store, _, err := dynamostore.Open(ctx, os.Getenv("TABLE_NAME"))
	if err != nil {
		return err
	}
	h := &awsreceipts.Handler{Store: store, Clock: clock.Real{}, Logger: lambdacontext.NewLogger()}
	lambda.StartHandlerFunc(h.Invoke)
	return nil
}
