package dynamostore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/receipts"
)

// A provider ref item: PK REF#<provider message id>, SK REF, data the
// receipts.Ref, and attrExpires (the table's TTL attribute) its expiry.
const (
	pkRef = "REF#"
	skRef = "REF"
)

// attrExpires is the table's TimeToLiveSpecification attribute: a Number,
// Unix seconds, after which DynamoDB deletes the item (within a few days;
// reads check it themselves).
const attrExpires = "expires_at"

var _ receipts.Refs = (*Store)(nil)

// PutRef stores r under providerID until expires (receipts.Refs): one
// PutItem.
func (s *Store) PutRef(ctx context.Context, providerID string, r receipts.Ref, expires time.Time) error {
	if providerID == "" || r.ShopID == "" || r.OrderID == "" || r.LedgerID == "" {
		return care.Invalid("ref", "a provider id, shop, order and ledger id")
	}
	it, err := item(pkRef+providerID, skRef, r, map[string]types.AttributeValue{attrExpires: num(expires.Unix())})
	if err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: it}); err != nil {
		return fmt.Errorf("put ref: %w", err)
	}
	return nil
}

// GetRef returns the Ref of providerID as of now (receipts.Refs): one
// consistent GetItem; an item past its expiry is not found.
func (s *Store) GetRef(ctx context.Context, providerID string, now time.Time) (receipts.Ref, error) {
	if providerID == "" {
		return receipts.Ref{}, care.ErrNotFound
	}
	it, err := s.getItem(ctx, pkRef+providerID, skRef)
	if err != nil {
		return receipts.Ref{}, fmt.Errorf("get ref: %w", err)
	}
	if expired(it, now) {
		return receipts.Ref{}, fmt.Errorf("get ref: %w", care.ErrNotFound)
	}
	var r receipts.Ref
	if err := decode(it, &r); err != nil {
		return receipts.Ref{}, fmt.Errorf("get ref: %w", err)
	}
	return r, nil
}

// expired reports whether an item's attrExpires is at or before now (an
// item without one never expires).
func expired(it map[string]types.AttributeValue, now time.Time) bool {
	n, ok := it[attrExpires].(*types.AttributeValueMemberN)
	if !ok {
		return false
	}
	sec, err := strconv.ParseInt(n.Value, 10, 64)
	return err == nil && sec <= now.Unix()
}
