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
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

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
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		return errors.New("TABLE_NAME is not set")
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	store := dynamostore.New(dynamodb.NewFromConfig(cfg), nil, table, clock.Real{})
	h := &awsreceipts.Handler{Store: store, Clock: clock.Real{}, Logger: lambdacontext.NewLogger()}
	lambda.StartHandlerFunc(h.Invoke)
	return nil
}
