package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/erasure"
)

// An erasure item: PK SHOP#<shop>, SK ERASURE#<at>#<contact key>, data the
// erasure.Record.
const skErasure = "ERASURE#"

var _ erasure.Store = (*Store)(nil)

// EraseBuyer scrubs the buyer's orders (their STATE items), events (EVENT
// items: a MODIFY record, which the feed ignores), ledger entries and tasks
// item by item, each rewritten with one PutItem that keeps every other
// attribute, then records the erasure (see erasure.Store). A rewrite
// races an ingest of the same order; an erasure that lost to one finds the
// order again when repeated.
func (s *Store) EraseBuyer(ctx context.Context, shopID, contact string, at time.Time) (erasure.Record, error) {
	if !validShopID(shopID) || contact == "" {
		return erasure.Record{}, care.Invalid("contact", "empty")
	}
	rec := erasure.Record{ShopID: shopID, Contact: contact, At: at}
	var orders []string
	cursor := ""
	for {
		page, next, err := s.ListOrders(ctx, shopID, care.OrderFilter{}, cursor, 100)
		if err != nil {
			return rec, fmt.Errorf("erase: %w", err)
		}
		for _, o := range page {
			if erasure.Matches(o.Order, contact) {
				orders = append(orders, o.Order.ID)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	for _, id := range orders {
		it, err := s.getItem(ctx, orderPK(shopID, id), skState)
		if err != nil {
			return rec, fmt.Errorf("erase order %s: %w", id, err)
		}
		if err := rewrite(ctx, s, it, func(st *care.OrderState) { erasure.ScrubOrder(st) }); err != nil {
			return rec, err
		}
		rec.Orders++
		evs, err := s.queryAll(ctx, &dynamodb.QueryInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
			KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :ev)"),
			ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(orderPK(shopID, id)), ":ev": str(skEvent)}})
		if err != nil {
			return rec, fmt.Errorf("erase events of %s: %w", id, err)
		}
		for _, ev := range evs {
			if err := rewrite(ctx, s, ev, func(e *care.RecordedEvent) { erasure.ScrubEvent(&e.Event) }); err != nil {
				return rec, err
			}
			rec.Events++
		}
		msgs, err := s.queryIndex(ctx, GSI2, orderPK(shopID, id), gsi2Message)
		if err != nil {
			return rec, fmt.Errorf("erase messages of %s: %w", id, err)
		}
		for _, m := range msgs {
			if err := rewrite(ctx, s, m, func(m *care.Message) { erasure.ScrubMessage(m) }); err != nil {
				return rec, err
			}
			rec.Messages++
		}
		tasks, err := s.queryIndex(ctx, GSI2, orderPK(shopID, id), gsi2Task)
		if err != nil {
			return rec, fmt.Errorf("erase tasks of %s: %w", id, err)
		}
		for _, t := range tasks {
			if err := rewrite(ctx, s, t, func(t *care.Task) { erasure.ScrubTask(t) }); err != nil {
				return rec, err
			}
			rec.Tasks++
		}
	}
	it, err := item(shopPK(shopID), skErasure+timeKey(at)+"#"+contact, rec, nil)
	if err != nil {
		return rec, err
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: it}); err != nil {
		return rec, fmt.Errorf("record erasure: %w", err)
	}
	return rec, nil
}

// rewrite decodes it's data into a T, applies fn and puts the item back
// with every other attribute as it was. An index item (GSI projection ALL)
// carries the base table's keys, so it can be rewritten too.
func rewrite[T any](ctx context.Context, s *Store, it map[string]types.AttributeValue, fn func(*T)) error {
	var v T
	if err := decode(it, &v); err != nil {
		return fmt.Errorf("erase %s: %w", pkOf(it), err)
	}
	fn(&v)
	extra := map[string]types.AttributeValue{}
	for k, a := range it {
		if k != attrPK && k != attrSK && k != attrData && k != attrDataZ {
			extra[k] = a
		}
	}
	next, err := item(strOf(it, attrPK), strOf(it, attrSK), v, extra)
	if err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: next, ConditionExpression: aws.String(condExists)}); err != nil {
		return fmt.Errorf("erase %s: %w", pkOf(it), err)
	}
	return nil
}

// ListErasures returns the shop's erasures, oldest first.
func (s *Store) ListErasures(ctx context.Context, shopID string) ([]erasure.Record, error) {
	if !validShopID(shopID) {
		return nil, nil
	}
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :p)"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(shopPK(shopID)), ":p": str(skErasure)}})
	if err != nil {
		return nil, fmt.Errorf("list erasures: %w", err)
	}
	out := make([]erasure.Record, 0, len(items))
	for _, it := range items {
		var r erasure.Record
		if err := decode(it, &r); err != nil {
			return nil, fmt.Errorf("list erasures: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}
