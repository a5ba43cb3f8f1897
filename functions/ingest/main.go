// Command ingest is the webhook Lambda function: the same HTTP handler as
// the api function, deployed only on POST /webhooks/{shop}/{source} with a
// role that can read items by key and write them, but not query, scan or
// delete. It holds no admin token: it gets a random one per cold start that
// nobody knows, so no admin call can succeed through it.
//
// Environment: TABLE_NAME (the DynamoDB table).
package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/ordercare/ordercare/infra/apigw"
	"github.com/ordercare/ordercare/infra/dynamostore"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/httpapi"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	store, _, err := dynamostore.Open(ctx, os.Getenv("TABLE_NAME"))
	if err != nil {
		return err
	}
	api, err := httpapi.New(httpapi.Config{Store: store, Clock: clock.Real{}, AdminToken: rand.Text(),
		Logger: lambdacontext.NewLogger()})
	if err != nil {
		return err
	}
	lambda.StartHandlerFunc(apigw.Handler(api))
	return nil
}
