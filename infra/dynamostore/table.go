package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Admin is the part of the DynamoDB API CreateTable and DeleteTable use;
// *dynamodb.Client implements it.
type Admin interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DeleteTable(ctx context.Context, in *dynamodb.DeleteTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error)
}

var _ Admin = (*dynamodb.Client)(nil)

// Secondary indexes. Both are overloaded (generic attribute names, projection
// ALL) so item types share them; times (<at>, <due>, <started>) are in the
// fixed-width UTC form of timeKey:
//
//	GSI1  SHOP#<shop>#MSGS            <at>#<id>                  a shop's messages by time (ListMessages)
//	      SHOP#<shop>#TASKS#<status>  <priority:02d>#<due>#<id>  the agent queue (ListTasks by status)
//	      SHOP#<shop>#RUNS            <started>#<wf>#<order>     a shop's runs by start (ListRuns, ListRecentRuns)
//	      SHOP#<shop>#ORDERS          <updated ms>#<order>       a shop's orders by update (ListOrders)
//	      SHOPS                       <shop>                     every shop (ListShops)
//	GSI2  SHOP#<shop>#ORDER#<order>   MSG#<at>#<id>              an order's messages (ListOrderMessages)
//	                                  TASK#<id>                  an order's tasks (ListTasks by order)
//	      SHOP#<shop>#ORDERS#<status> <updated ms>#<order>       a shop's orders of one status (ListOrders)
//	      DUE#<0..7>                  <next>#<shop>#<order>#<wf>#<subject>  scheduled runs by start (DueRuns)
const (
	GSI1 = "GSI1"
	GSI2 = "GSI2"
)

// CreateTable creates the store's table (PAY_PER_REQUEST, stream NEW_IMAGE,
// GSI1 and GSI2) and waits until it is ACTIVE, polling DescribeTable until
// ctx ends. It is what template.yaml declares on AWS.
func CreateTable(ctx context.Context, db Admin, table string) error {
	s := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	gsi := func(name string) types.GlobalSecondaryIndex {
		return types.GlobalSecondaryIndex{
			IndexName: aws.String(name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(name + "PK"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(name + "SK"), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}, // see hydrate
		}
	}
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			s(attrPK), s(attrSK), s(GSI1 + "PK"), s(GSI1 + "SK"), s(GSI2 + "PK"), s(GSI2 + "SK"),
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{gsi(GSI1), gsi(GSI2)},
		StreamSpecification: &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewTypeNewImage,
		},
	})
	if err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return fmt.Errorf("describe table %s: %w", table, err)
		}
		if out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("table %s not active: %w", table, err)
		}
	}
}

// DeleteTable deletes a table; a table that does not exist is not an error.
func DeleteTable(ctx context.Context, db Admin, table string) error {
	_, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	var nf *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("delete table %s: %w", table, err)
	}
	return nil
}
