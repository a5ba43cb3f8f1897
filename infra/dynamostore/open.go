package dynamostore

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ordercare/ordercare/internal/clock"
)

// Open is the store a Lambda function's main opens: table (its TABLE_NAME;
// empty is an error) through the default AWS configuration, which it also
// returns for the function's other clients; no stream reader, the real
// clock.
func Open(ctx context.Context, table string) (*Store, aws.Config, error) {
	if table == "" {
		return nil, aws.Config{}, errors.New("TABLE_NAME is not set")
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, aws.Config{}, err
	}
	return New(dynamodb.NewFromConfig(cfg), nil, table, clock.Real{}), cfg, nil
}
