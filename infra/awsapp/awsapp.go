// Package awsapp wires ordercare's handlers to AWS services for the Lambda
// functions in functions/: the DynamoDB store and the HTTP API behind API
// Gateway. Mains read the environment and call it; nothing here reads the
// environment itself.
package awsapp

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/ordercare/ordercare/infra/apigw"
	"github.com/ordercare/ordercare/infra/dynamostore"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/httpapi"
)

// HTTPConfig is what the HTTP functions (api, ingest) need.
type HTTPConfig struct {
	AWS        aws.Config
	Table      string // DynamoDB table name
	AdminToken string
	Logger     *slog.Logger
}

// HTTPHandler returns the API Gateway (HTTP API, payload 2.0) handler that
// serves the public HTTP contract from the DynamoDB store.
func HTTPHandler(cfg HTTPConfig) (func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error), error) {
	if cfg.Table == "" {
		return nil, errors.New("awsapp: table name is required")
	}
	store := dynamostore.New(dynamodb.NewFromConfig(cfg.AWS), dynamodbstreams.NewFromConfig(cfg.AWS), cfg.Table, clock.Real{})
	api, err := httpapi.New(httpapi.Config{Store: store, Clock: clock.Real{}, AdminToken: cfg.AdminToken, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	return apigw.Handler(api), nil
}
