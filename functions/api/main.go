// Command api is the HTTP Lambda function: the whole public HTTP contract
// (webhooks and /v1) behind an API Gateway HTTP API, on the DynamoDB store.
//
// Environment: TABLE_NAME (the DynamoDB table), CARE_ADMIN_TOKEN.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/ordercare/ordercare/infra/awsapp"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	h, err := awsapp.HTTPHandler(awsapp.HTTPConfig{AWS: awsCfg, Table: os.Getenv("TABLE_NAME"),
		AdminToken: os.Getenv("CARE_ADMIN_TOKEN"), Logger: lambdacontext.NewLogger()})
	if err != nil {
		return err
	}
	lambda.Start(h)
	return nil
}
