package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ordercare/ordercare/internal/care"
)

// maxTransactItems is DynamoDB's limit on the items of one transaction.
const maxTransactItems = 100

// CreateShop stores the shop and its keys in one transaction, each put
// conditioned on attribute_not_exists: ErrConflict if the shop id or a key
// hash exists (or a hash repeats in keys), and then nothing is written.
// ErrInvalid for a shop id containing '#' or more than 99 keys.
func (s *Store) CreateShop(ctx context.Context, shop care.Shop, keys []care.APIKey) error {
	if !validShopID(shop.ID) {
		return care.Invalid("id", "a shop id is not empty and has no '#'")
	}
	if 1+2*len(keys) > maxTransactItems {
		return care.Invalid("keys", "at most %d keys per shop creation", (maxTransactItems-1)/2)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k.Hash] {
			return fmt.Errorf("create shop %s: key hash given twice: %w", shop.ID, care.ErrConflict)
		}
		seen[k.Hash] = true
	}
	notExists := aws.String("attribute_not_exists(" + attrPK + ")")
	it, err := shopItem(shop)
	if err != nil {
		return err
	}
	tx := []types.TransactWriteItem{{Put: &types.Put{TableName: &s.table, Item: it, ConditionExpression: notExists}}}
	for _, k := range keys {
		it, err := item(keyPK(k.Hash), skKey, k, nil)
		if err != nil {
			return err
		}
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it, ConditionExpression: notExists}},
			types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: key(shopPK(shop.ID), keyRefSK(k.Role, k.Hash)),
				ConditionExpression: notExists}}) // ReplaceKeys (browse.go) finds a role's keys by these
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	if tce, ok := asCanceled(err); ok {
		for _, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "ConditionalCheckFailed" {
				return fmt.Errorf("create shop %s: shop id or key hash exists: %w", shop.ID, care.ErrConflict)
			}
		}
		return fmt.Errorf("create shop %s: transaction cancelled (%s): %w", shop.ID, reasonCodes(tce), err)
	}
	if err != nil {
		return fmt.Errorf("create shop %s: %w", shop.ID, err)
	}
	return nil
}

// GetShop returns a shop or ErrNotFound.
func (s *Store) GetShop(ctx context.Context, id string) (care.Shop, error) {
	if !validShopID(id) {
		return care.Shop{}, fmt.Errorf("get shop %q: %w", id, care.ErrNotFound)
	}
	var shop care.Shop
	if err := s.get(ctx, shopPK(id), skShop, &shop); err != nil {
		return care.Shop{}, fmt.Errorf("get shop %s: %w", id, err)
	}
	return shop, nil
}

// KeyByHash finds an API key by the hash of its secret, or ErrNotFound.
func (s *Store) KeyByHash(ctx context.Context, hash string) (care.APIKey, error) {
	var k care.APIKey
	if err := s.get(ctx, keyPK(hash), skKey, &k); err != nil {
		return care.APIKey{}, fmt.Errorf("get key: %w", err)
	}
	return k, nil
}

// PutSource creates or replaces a shop's credentials for one source, in a
// transaction that checks the shop exists: ErrNotFound if it does not.
func (s *Store) PutSource(ctx context.Context, src care.Source) error {
	if !validShopID(src.ShopID) {
		return fmt.Errorf("put source %s of shop %q: %w", src.Name, src.ShopID, care.ErrNotFound)
	}
	it, err := item(shopPK(src.ShopID), skSource+src.Name, src, nil)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(shopPK(src.ShopID), skShop),
			ConditionExpression: aws.String("attribute_exists(" + attrPK + ")")}},
		{Put: &types.Put{TableName: &s.table, Item: it}},
	}})
	if tce, ok := asCanceled(err); ok && len(tce.CancellationReasons) > 0 &&
		aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		return fmt.Errorf("put source %s of shop %s: %w", src.Name, src.ShopID, care.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("put source %s of shop %s: %w", src.Name, src.ShopID, err)
	}
	return nil
}

// GetSource returns a shop's credentials for a source or ErrNotFound.
func (s *Store) GetSource(ctx context.Context, shopID, name string) (care.Source, error) {
	if !validShopID(shopID) {
		return care.Source{}, fmt.Errorf("get source %s of shop %q: %w", name, shopID, care.ErrNotFound)
	}
	var src care.Source
	err := s.get(ctx, shopPK(shopID), skSource+name, &src)
	if err != nil {
		return care.Source{}, fmt.Errorf("get source %s of shop %s: %w", name, shopID, err)
	}
	return src, nil
}

// SetServiceHours replaces the shop's service hours (nil: the default): the
// shop item is read and written back conditioned on its data being
// unchanged (retried when another writer changed it), so nothing else of
// the shop changes. ErrNotFound if the shop does not exist.
func (s *Store) SetServiceHours(ctx context.Context, shopID string, h *care.ServiceHours) (care.Shop, error) {
	if !validShopID(shopID) {
		return care.Shop{}, fmt.Errorf("set service hours of shop %q: %w", shopID, care.ErrNotFound)
	}
	for range 8 {
		old, err := s.getItem(ctx, shopPK(shopID), skShop)
		if err != nil {
			return care.Shop{}, fmt.Errorf("set service hours of shop %s: %w", shopID, err)
		}
		var shop care.Shop
		if err := decode(old, &shop); err != nil {
			return care.Shop{}, fmt.Errorf("set service hours of shop %s: %w", shopID, err)
		}
		shop.ServiceHours = h
		it, err := shopItem(shop)
		if err != nil {
			return care.Shop{}, err
		}
		attr := attrData
		if _, ok := old[attrData]; !ok {
			attr = attrDataZ
		}
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 &s.table,
			Item:                      it,
			ConditionExpression:       aws.String("#d = :d"),
			ExpressionAttributeNames:  map[string]string{"#d": attr},
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": old[attr]},
		})
		if _, ok := asCondFailed(err); ok {
			continue // changed (or deleted) meanwhile: read again
		}
		if err != nil {
			return care.Shop{}, fmt.Errorf("set service hours of shop %s: %w", shopID, err)
		}
		return shop, nil
	}
	return care.Shop{}, fmt.Errorf("set service hours of shop %s: too many concurrent writers: %w", shopID, care.ErrConflict)
}

// shopItem is a shop's item, with the index keys ListShops reads
// (browse.go): every write of a shop item goes through it, so a rewrite
// never drops the shop from the list.
func shopItem(shop care.Shop) (map[string]types.AttributeValue, error) {
	return item(shopPK(shop.ID), skShop, shop, map[string]types.AttributeValue{
		attrGSI1PK: str(shopsGSI1PK), attrGSI1SK: str(shop.ID)})
}
