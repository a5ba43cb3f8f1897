// Command api is the HTTP Lambda function: the public HTTP contract (/v1
// and /healthz; webhooks go to the ingest function) behind an API Gateway
// HTTP API, on the DynamoDB store. Completing an agent task resumes its
// workflow through Step Functions (SendTaskSuccess). It also serves the
// browser console (internal/console) at / and /console/.
//
// Environment: TABLE_NAME (the DynamoDB table), CARE_ADMIN_TOKEN,
// UNSUBSCRIBE_KEY (optional: at least 32 characters; the key the step
// function signs one-click unsubscribe links with; unset, /unsubscribe is
// not served).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/ordercare/ordercare/infra/apigw"
	"github.com/ordercare/ordercare/infra/dynamostore"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/consent"
	"github.com/ordercare/ordercare/internal/console"
	"github.com/ordercare/ordercare/internal/httpapi"
	"github.com/ordercare/ordercare/internal/router"
	"github.com/ordercare/ordercare/workflows"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	store, cfg, err := dynamostore.Open(ctx, os.Getenv("TABLE_NAME"))
	if err != nil {
		return err
	}
	var unsub *consent.Signer
	if k := os.Getenv("UNSUBSCRIBE_KEY"); k != "" {
		if len(k) < 32 {
			return errors.New("UNSUBSCRIBE_KEY must be at least 32 characters")
		}
		unsub = &consent.Signer{Key: []byte(k)}
	}
	api, err := httpapi.New(httpapi.Config{Store: store, Clock: clock.Real{}, AdminToken: os.Getenv("CARE_ADMIN_TOKEN"),
		Logger: lambdacontext.NewLogger(), Resumer: &router.Router{SFN: sfn.NewFromConfig(cfg)}, Workflows: workflows.All(),
		Unsubscribe: unsub, Consents: store, Erasure: store})
	if err != nil {
		return err
	}
	lambda.StartHandlerFunc(apigw.Handler(console.Handler(api))) // the console at / and /console/
	return nil
}
