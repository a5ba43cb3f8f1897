package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The indexes project keys only (CreateTable, template.yaml): a write that
// changes no index key is charged for the table alone, not once more per
// index. Most writes are such updates (a ledger entry marked sent, a run's
// step, an order's new event), so this roughly halves the write units of a
// step. The price is a read: the items an index query finds are read from
// the table, by key, before they are returned.

// query runs one Query page; the items of a page of an index are read from
// the table (hydrate), so every caller sees whole items whatever it queries.
func (s *Store) query(ctx context.Context, in *dynamodb.QueryInput) (*dynamodb.QueryOutput, error) {
	return s.queryRead(ctx, in, false)
}

// queryRead is query; consistent makes the index's items read from the
// table strongly consistent (a whole read unit each instead of half): the
// caller gets them as stored, not merely as the index last saw them.
func (s *Store) queryRead(ctx context.Context, in *dynamodb.QueryInput, consistent bool) (*dynamodb.QueryOutput, error) {
	res, err := s.db.Query(ctx, in)
	if err != nil || in.IndexName == nil || len(res.Items) == 0 {
		return res, err
	}
	if res.Items, err = s.hydrate(ctx, aws.ToString(in.IndexName), res.Items, consistent); err != nil {
		return nil, err
	}
	return res, nil
}

// batchGetMax is BatchGetItem's limit on keys per call.
const batchGetMax = 100

// hydrate reads from the table the items whose index entries are entries,
// in the entries' order. Unless consistent, the reads are eventually
// consistent, as the index itself is (half the read units of a consistent
// read). An item gone since, or whose key in index moved since (a task
// claimed after the query of the open ones), is left out: the index entry
// was stale.
func (s *Store) hydrate(ctx context.Context, index string, entries []map[string]types.AttributeValue, consistent bool) ([]map[string]types.AttributeValue, error) {
	keys := make([]map[string]types.AttributeValue, len(entries))
	for i, e := range entries {
		keys[i] = map[string]types.AttributeValue{attrPK: e[attrPK], attrSK: e[attrSK]}
	}
	found, err := s.batchGet(ctx, keys, consistent)
	if err != nil {
		return nil, fmt.Errorf("read %d index items: %w", len(entries), err)
	}
	items := make([]map[string]types.AttributeValue, 0, len(entries))
	for _, e := range entries {
		it, ok := found[itemKey(e)]
		if ok && strOf(it, index+"PK") == strOf(e, index+"PK") && strOf(it, index+"SK") == strOf(e, index+"SK") {
			items = append(items, it)
		}
	}
	return items, nil
}

// batchGet reads the items with keys (BatchGetItem, batchGetMax keys a
// call, unprocessed keys again with backoff), strongly consistent or not;
// it returns them by itemKey, leaving out those that do not exist.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, consistent bool) (map[string]map[string]types.AttributeValue, error) {
	found := make(map[string]map[string]types.AttributeValue, len(keys))
	for start := 0; start < len(keys); start += batchGetMax {
		req := map[string]types.KeysAndAttributes{s.table: {Keys: keys[start:min(start+batchGetMax, len(keys))], ConsistentRead: aws.Bool(consistent)}}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 0 {
				if attempt >= maxAttempts {
					return nil, fmt.Errorf("unprocessed after %d attempts", attempt)
				}
				if err := s.pause(ctx, backoff(attempt)); err != nil {
					return nil, err
				}
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, err
			}
			for _, it := range res.Responses[s.table] {
				found[itemKey(it)] = it
			}
			req = res.UnprocessedKeys
		}
	}
	return found, nil
}

// itemKey is an item's primary key as one string.
func itemKey(it map[string]types.AttributeValue) string {
	return strOf(it, attrPK) + "\x00" + strOf(it, attrSK)
}
