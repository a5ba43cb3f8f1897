package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/consent"
)

// A consent item: PK SHOP#<shop>, SK CONSENT#<contact key>#<channel>,
// data the consent.Record, at its At as timeKey (compared by PutConsent).
const skConsent = "CONSENT#"

var _ consent.Store = (*Store)(nil)

func consentSK(contact, channel string) string { return skConsent + contact + "#" + channel }

// PutConsent stores r unless the stored statement is later: one PutItem
// conditioned on no item or an at not after r's. ErrInvalid as the
// consent.Store contract says, and for a shop id or contact with '#'.
func (s *Store) PutConsent(ctx context.Context, r consent.Record) error {
	switch {
	case !validShopID(r.ShopID):
		return care.Invalid("shop_id", "a shop id is not empty and has no '#'")
	case r.Contact == "" || containsHash(r.Contact):
		return care.Invalid("contact", "a contact key is not empty and has no '#'")
	case r.Channel == "":
		return care.Invalid("channel", "empty")
	case !consent.ValidState(r.State):
		return care.Invalid("state", "granted, opted_out_marketing or opted_out_all")
	}
	it, err := item(shopPK(r.ShopID), consentSK(r.Contact, r.Channel), r, map[string]types.AttributeValue{attrAt: str(timeKey(r.At))})
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 &s.table,
		Item:                      it,
		ConditionExpression:       aws.String(condNotExists + " OR #at <= :at"),
		ExpressionAttributeNames:  map[string]string{"#at": attrAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": str(timeKey(r.At))},
	})
	if _, ok := asCondFailed(err); ok {
		return nil // a later statement is stored
	}
	if err != nil {
		return fmt.Errorf("put consent: %w", err)
	}
	return nil
}

// ListConsents returns the statements about contact at the shop, by channel
// (one consistent Query).
func (s *Store) ListConsents(ctx context.Context, shopID, contact string) ([]consent.Record, error) {
	if !validShopID(shopID) || contact == "" || containsHash(contact) {
		return nil, nil
	}
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(shopPK(shopID)), ":prefix": str(skConsent + contact + "#")},
	})
	if err != nil {
		return nil, fmt.Errorf("list consents: %w", err)
	}
	out := make([]consent.Record, 0, len(items))
	for _, it := range items {
		var r consent.Record
		if err := decode(it, &r); err != nil {
			return nil, fmt.Errorf("list consents: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// DeleteConsents removes every statement about contact at the shop.
func (s *Store) DeleteConsents(ctx context.Context, shopID, contact string) error {
	rs, err := s.ListConsents(ctx, shopID, contact)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key(shopPK(shopID), consentSK(contact, r.Channel))}); err != nil {
			return fmt.Errorf("delete consent: %w", err)
		}
	}
	return nil
}

func containsHash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' {
			return true
		}
	}
	return false
}
