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
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

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
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		return errors.New("TABLE_NAME is not set")
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	store := dynamostore.New(dynamodb.NewFromConfig(cfg), nil, table, clock.Real{})
	api, err := httpapi.New(httpapi.Config{Store: store, Clock: clock.Real{}, AdminToken: rand.Text(),
		Logger: lambdacontext.NewLogger()})
	if err != nil {
		return err
	}
	lambda.StartHandlerFunc(apigw.Handler(api))
	return nil
}
