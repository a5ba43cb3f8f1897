package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ordercare/ordercare/internal/care"
)

// skAgent prefixes the sort key of a shop's agents (PK SHOP#<shop>), so one
// Query lists them in id order.
const skAgent = "AGENT#"

var _ care.Agents = (*Store)(nil)

// CreateAgent stores a new agent in a transaction that checks the shop
// exists: ErrNotFound if it does not, ErrConflict if the agent id exists.
func (s *Store) CreateAgent(ctx context.Context, a care.Agent) error {
	if !validShopID(a.ShopID) {
		return fmt.Errorf("create agent %s of shop %q: shop %w", a.ID, a.ShopID, care.ErrNotFound)
	}
	it, err := item(shopPK(a.ShopID), skAgent+a.ID, a, nil)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(shopPK(a.ShopID), skShop),
			ConditionExpression: aws.String("attribute_exists(" + attrPK + ")")}},
		{Put: &types.Put{TableName: &s.table, Item: it, ConditionExpression: aws.String("attribute_not_exists(" + attrPK + ")")}},
	}})
	if tce, ok := asCanceled(err); ok && len(tce.CancellationReasons) == 2 {
		if aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
			return fmt.Errorf("create agent %s of shop %s: shop %w", a.ID, a.ShopID, care.ErrNotFound)
		}
		if aws.ToString(tce.CancellationReasons[1].Code) == "ConditionalCheckFailed" {
			return fmt.Errorf("create agent %s of shop %s: %w", a.ID, a.ShopID, care.ErrConflict)
		}
	}
	if err != nil {
		return fmt.Errorf("create agent %s of shop %s: %w", a.ID, a.ShopID, err)
	}
	return nil
}

// GetAgent returns one agent of a shop or ErrNotFound.
func (s *Store) GetAgent(ctx context.Context, shopID, id string) (care.Agent, error) {
	if !validShopID(shopID) {
		return care.Agent{}, fmt.Errorf("get agent %s of shop %q: %w", id, shopID, care.ErrNotFound)
	}
	var a care.Agent
	if err := s.get(ctx, shopPK(shopID), skAgent+id, &a); err != nil {
		return care.Agent{}, fmt.Errorf("get agent %s of shop %s: %w", id, shopID, err)
	}
	return a, nil
}

// ListAgents returns a shop's agents ordered by id (strongly consistent).
func (s *Store) ListAgents(ctx context.Context, shopID string) ([]care.Agent, error) {
	out := []care.Agent{}
	if !validShopID(shopID) {
		return out, nil
	}
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(shopPK(shopID)), ":prefix": str(skAgent)},
	})
	if err != nil {
		return nil, fmt.Errorf("list agents of shop %s: %w", shopID, err)
	}
	for _, it := range items {
		var a care.Agent
		if err := decode(it, &a); err != nil {
			return nil, fmt.Errorf("list agents of shop %s: %w", shopID, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// UpdateAgent replaces an existing agent's name, active flag, key hash and
// UpdatedAt (CreatedAt kept), conditioned on the item existing:
// ErrNotFound if it does not.
func (s *Store) UpdateAgent(ctx context.Context, a care.Agent) error {
	old, err := s.GetAgent(ctx, a.ShopID, a.ID)
	if err != nil {
		return fmt.Errorf("update agent: %w", err)
	}
	a.CreatedAt = old.CreatedAt
	it, err := item(shopPK(a.ShopID), skAgent+a.ID, a, nil)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: it,
		ConditionExpression: aws.String("attribute_exists(" + attrPK + ")")})
	if _, ok := asCondFailed(err); ok {
		return fmt.Errorf("update agent %s of shop %s: %w", a.ID, a.ShopID, care.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("update agent %s of shop %s: %w", a.ID, a.ShopID, err)
	}
	return nil
}
