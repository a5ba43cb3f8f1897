package dynamostore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ordercare/ordercare/internal/care"
)

// A wait item lives in its order's partition: PK SHOP#<shop>#ORDER#<order>,
// SK WAIT#<key>, and holds either token (S: an Await came first) or answer
// (B: a Deliver came first), never both. Every step below is one conditional
// single-item write, so the item moves between absent, token and answer one
// atomic step at a time: a concurrent Await and Deliver are serialised on the
// item, and whichever comes second finds (and removes) what the first left.
// A step that loses a race to the other side goes round again (it then finds
// the other side's value); maxAttempts rounds, then ErrConflict.

func waitKey(shopID, orderID, k string) map[string]types.AttributeValue {
	return key(orderPK(shopID, orderID), skWait+k)
}

// Await registers token for (shop, order, key). If an answer was delivered
// before, it is removed and returned instead (found true) and the token is
// not kept. Registering replaces an older token. ErrInvalid for an empty
// token or a shop id with '#'.
func (s *Store) Await(ctx context.Context, shopID, orderID, k, token string) (json.RawMessage, bool, error) {
	if !validShopID(shopID) {
		return nil, false, care.Invalid("shop_id", "a shop id is not empty and has no '#'")
	}
	if token == "" {
		return nil, false, care.Invalid("token", "empty")
	}
	wk := waitKey(shopID, orderID, k)
	for range maxAttempts {
		// 1. Register the token unless an answer is there (the usual case:
		// the execution waits before the buyer answers).
		it := key(strOf(wk, attrPK), strOf(wk, attrSK))
		it[attrToken] = str(token)
		_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                &s.table,
			Item:                     it,
			ConditionExpression:      aws.String("attribute_not_exists(#a)"),
			ExpressionAttributeNames: map[string]string{"#a": attrAnswer},
		})
		if err == nil {
			return nil, false, nil
		}
		if _, ok := asCondFailed(err); !ok {
			return nil, false, fmt.Errorf("await %s of order %s of shop %s: %w", k, orderID, shopID, err)
		}
		// 2. An answer is there: take it, unless another Await took it first.
		out, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName:                &s.table,
			Key:                      wk,
			ConditionExpression:      aws.String("attribute_exists(#a)"),
			ExpressionAttributeNames: map[string]string{"#a": attrAnswer},
			ReturnValues:             types.ReturnValueAllOld,
		})
		if err == nil {
			a, _ := out.Attributes[attrAnswer].(*types.AttributeValueMemberB)
			if a == nil {
				return nil, false, fmt.Errorf("await %s of order %s of shop %s: taken answer has no %s attribute", k, orderID, shopID, attrAnswer)
			}
			return json.RawMessage(a.Value), true, nil
		}
		if _, ok := asCondFailed(err); !ok {
			return nil, false, fmt.Errorf("await %s of order %s of shop %s: %w", k, orderID, shopID, err)
		}
	}
	return nil, false, fmt.Errorf("await %s of order %s of shop %s: still racing after %d attempts: %w", k, orderID, shopID, maxAttempts, care.ErrConflict)
}

// Deliver hands answer to the token registered for (shop, order, key): the
// token is removed and returned (found true). With none registered, the
// answer is kept (replacing an older one) for the next Await. ErrInvalid for
// a shop id with '#'.
func (s *Store) Deliver(ctx context.Context, shopID, orderID, k string, answer json.RawMessage) (string, bool, error) {
	if !validShopID(shopID) {
		return "", false, care.Invalid("shop_id", "a shop id is not empty and has no '#'")
	}
	wk := waitKey(shopID, orderID, k)
	for range maxAttempts {
		// 1. Take the registered token (the usual case).
		out, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName:                &s.table,
			Key:                      wk,
			ConditionExpression:      aws.String("attribute_exists(#t)"),
			ExpressionAttributeNames: map[string]string{"#t": attrToken},
			ReturnValues:             types.ReturnValueAllOld,
		})
		if err == nil {
			if t := strOf(out.Attributes, attrToken); t != "" {
				return t, true, nil
			}
			return "", false, fmt.Errorf("deliver %s of order %s of shop %s: taken token is empty", k, orderID, shopID)
		}
		if _, ok := asCondFailed(err); !ok {
			return "", false, fmt.Errorf("deliver %s of order %s of shop %s: %w", k, orderID, shopID, err)
		}
		// 2. No token: keep the answer, unless an Await registered meanwhile.
		it := key(strOf(wk, attrPK), strOf(wk, attrSK))
		it[attrAnswer] = &types.AttributeValueMemberB{Value: append([]byte{}, answer...)}
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                &s.table,
			Item:                     it,
			ConditionExpression:      aws.String("attribute_not_exists(#t)"),
			ExpressionAttributeNames: map[string]string{"#t": attrToken},
		})
		if err == nil {
			return "", false, nil
		}
		if _, ok := asCondFailed(err); !ok {
			return "", false, fmt.Errorf("deliver %s of order %s of shop %s: %w", k, orderID, shopID, err)
		}
	}
	return "", false, fmt.Errorf("deliver %s of order %s of shop %s: still racing after %d attempts: %w", k, orderID, shopID, maxAttempts, care.ErrConflict)
}
