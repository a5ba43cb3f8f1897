package dynamostore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/ordercare/ordercare/internal/care"
)

// Top-level attributes of an EVENT item, read from its stream record by
// ReadFeed (and by the router Lambda on AWS).
const (
	attrShopID    = "shop_id"
	attrEventID   = "event_id"
	attrEventType = "event_type"
	attrAt        = "at"
	attrStatus    = "status"
)

// Positions of Ingest's transaction items, as CancellationReasons report them.
const (
	txState = iota
	txEvent
	txEventID
	txDelivery // absent when the delivery has no id
)

// Ingest records the event and applies it in one TransactWriteItems (see the
// package doc). now, passed to apply and stored as UpdatedAt and the
// Change's At, is d.ReceivedAt (the store's clock when that is zero). It
// returns Duplicate with the current state of the order the
// earlier event went to when the delivery id (per shop and source) or the
// event id (per shop) is recorded; apply's error as is when apply fails and
// the event is not a duplicate; ErrNotFound for an unknown shop; ErrInvalid
// for a source name that is empty or has '#'; ErrConflict when the order kept changing
// under it for maxAttempts attempts. The store assigns OrderState.ShopID and
// Version (the read version + 1, also the event's Seq). A delivery without
// an id (DeliveryID "") is deduplicated by its event id only.
func (s *Store) Ingest(ctx context.Context, d care.Delivery, ev care.Event, apply care.ApplyFunc) (care.IngestResult, error) {
	if !validShopID(d.ShopID) {
		return care.IngestResult{}, fmt.Errorf("ingest %s: shop %q: %w", ev.ID, d.ShopID, care.ErrNotFound)
	}
	if strings.Contains(d.Source, "#") || d.Source == "" {
		return care.IngestResult{}, care.Invalid("source", "a source name is not empty and has no '#'")
	}
	now := d.ReceivedAt
	if now.IsZero() {
		now = s.clock.Now()
	}
	orderID := ev.Order.ID
	var lastErr error
	// raced holds the order's state as a lost version race returned it
	// (ALL_OLD): the next attempt applies to it at once, without a read or
	// a pause, since the race means another writer made progress.
	var raced *care.OrderState
	shopChecked := false
	for attempt := 0; attempt < maxAttempts; attempt++ {
		cur := raced
		if attempt > 0 {
			d := backoff(attempt)
			if cur != nil { // progress was made: a short jitter only, to spread the losers
				d = raceJitter()
			}
			if err := s.pause(ctx, d); err != nil {
				return care.IngestResult{}, fmt.Errorf("ingest %s: %w", ev.ID, err)
			}
		}
		if cur == nil {
			var st care.OrderState
			switch err := s.get(ctx, orderPK(d.ShopID, orderID), skState, &st); {
			case err == nil:
				cur = &st
			case !errors.Is(err, care.ErrNotFound):
				return care.IngestResult{}, fmt.Errorf("ingest %s: read order %s: %w", ev.ID, orderID, err)
			}
		}
		raced = nil
		// A new order needs its shop. Checked once, by a read outside the
		// transaction: a condition on the shop item in every transaction
		// would make it a hot item that all of the shop's ingests conflict on.
		if cur == nil && !shopChecked {
			if _, err := s.GetShop(ctx, d.ShopID); err != nil {
				return care.IngestResult{}, fmt.Errorf("ingest %s: %w", ev.ID, err)
			}
			shopChecked = true
		}
		next, err := apply(cur, ev, now)
		if err != nil {
			// A duplicate is a duplicate even when apply would refuse it now.
			dupOrder, found, derr := s.findDuplicate(ctx, d, ev.ID)
			if derr != nil {
				return care.IngestResult{}, fmt.Errorf("ingest %s: %w", ev.ID, derr)
			}
			if found {
				return s.duplicate(ctx, d.ShopID, dupOrder)
			}
			return care.IngestResult{}, err
		}
		var prev int64
		if cur != nil {
			prev = cur.Version
		}
		next.ShopID, next.Version = d.ShopID, prev+1
		tx, err := s.ingestTx(d, ev, cur, next, now)
		if err != nil {
			return care.IngestResult{}, fmt.Errorf("ingest %s: %w", ev.ID, err)
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems: tx,
			// One token per attempt: an SDK retry of a transaction that did
			// commit succeeds instead of failing on its own dedupe items.
			ClientRequestToken: aws.String(uuid.NewString()),
		})
		if err == nil {
			return care.IngestResult{Order: next}, nil
		}
		tce, ok := asCanceled(err)
		if !ok {
			return care.IngestResult{}, fmt.Errorf("ingest %s: %w", ev.ID, err)
		}
		switch out, dupOrder := classify(tce.CancellationReasons); out {
		case outDuplicate:
			if dupOrder == "" { // no ALL_OLD image returned: look it up
				var found bool
				if dupOrder, found, err = s.findDuplicate(ctx, d, ev.ID); err != nil {
					return care.IngestResult{}, fmt.Errorf("ingest %s: %w", ev.ID, err)
				} else if !found {
					return care.IngestResult{}, fmt.Errorf("ingest %s: dedupe condition failed but no dedupe item found", ev.ID)
				}
			}
			return s.duplicate(ctx, d.ShopID, dupOrder)
		case outRetry:
			lastErr = err
			raced = racedState(tce.CancellationReasons)
			continue
		default:
			return care.IngestResult{}, fmt.Errorf("ingest %s: transaction cancelled (%s): %w", ev.ID, reasonCodes(tce), err)
		}
	}
	return care.IngestResult{}, fmt.Errorf("ingest %s: order %s still changing after %d attempts (%v): %w",
		ev.ID, orderID, maxAttempts, lastErr, care.ErrConflict)
}

// ingestTx builds the transaction's items in the tx* order: three, or four
// when the delivery has an id.
func (s *Store) ingestTx(d care.Delivery, ev care.Event, cur *care.OrderState, next care.OrderState, now time.Time) ([]types.TransactWriteItem, error) {
	opk := orderPK(d.ShopID, ev.Order.ID)
	stateAttrs := stateIndexAttrs(d.ShopID, next) // ListOrders (browse.go)
	stateAttrs[attrVersion] = num(next.Version)
	stateAttrs[attrStatus] = str(string(next.Status))
	state, err := item(opk, skState, next, stateAttrs)
	if err != nil {
		return nil, err
	}
	rec := care.RecordedEvent{Seq: next.Version, Delivery: d, Event: ev}
	event, err := item(opk, eventSK(next.Version), rec, map[string]types.AttributeValue{
		attrShopID:    str(d.ShopID),
		attrOrderID:   str(ev.Order.ID),
		attrEventID:   str(ev.ID),
		attrEventType: str(string(ev.Type)),
		attrVersion:   num(next.Version),
		attrAt:        str(now.UTC().Format(time.RFC3339Nano)),
	})
	if err != nil {
		return nil, err
	}
	dedupe := func(pk string) map[string]types.AttributeValue {
		it := key(pk, skDedupe)
		it[attrOrderID] = str(ev.Order.ID)
		it[attrEventID] = str(ev.ID)
		it[attrVersion] = num(next.Version)
		return it
	}
	notExists := aws.String("attribute_not_exists(" + attrPK + ")")
	statePut := &types.Put{TableName: &s.table, Item: state,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}
	if cur == nil {
		statePut.ConditionExpression = notExists
	} else {
		statePut.ConditionExpression = aws.String("#v = :v")
		statePut.ExpressionAttributeNames = map[string]string{"#v": attrVersion}
		statePut.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(cur.Version)}
	}
	tx := make([]types.TransactWriteItem, txDelivery, txDelivery+1)
	tx[txState] = types.TransactWriteItem{Put: statePut}
	tx[txEvent] = types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: event, ConditionExpression: notExists}}
	tx[txEventID] = types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: dedupe(eventIDPK(d.ShopID, ev.ID)),
		ConditionExpression: notExists, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}}
	if d.DeliveryID != "" {
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: dedupe(deliveryPK(d)),
			ConditionExpression: notExists, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}})
	}
	return tx, nil
}

type outcome int

const (
	outFail      outcome = iota // not retryable: return the error
	outDuplicate                // a dedupe item exists
	outRetry                    // lost a version race, conflicted or throttled: read again and retry
)

// classify maps the cancellation reasons of Ingest's transaction to what to
// do. A failed dedupe condition wins over everything (the event is recorded,
// whatever else happened); its ALL_OLD image names the order, when returned.
func classify(reasons []types.CancellationReason) (outcome, string) {
	code := func(i int) string {
		if i < len(reasons) {
			return aws.ToString(reasons[i].Code)
		}
		return ""
	}
	for _, i := range []int{txEventID, txDelivery} {
		if code(i) == "ConditionalCheckFailed" {
			var orderID string
			if a, ok := reasons[i].Item[attrOrderID].(*types.AttributeValueMemberS); ok {
				orderID = a.Value
			}
			return outDuplicate, orderID
		}
	}
	retry := false
	for i := range reasons {
		switch code(i) {
		case "None", "":
		case "ConditionalCheckFailed", "TransactionConflict", "ThrottlingError",
			"ProvisionedThroughputExceeded", "RequestLimitExceeded":
			retry = true
		default:
			return outFail, ""
		}
	}
	if retry {
		return outRetry, ""
	}
	return outFail, ""
}

// racedState returns the order's state from the ALL_OLD image of a failed
// STATE condition, or nil when there is none (then Ingest reads it).
func racedState(reasons []types.CancellationReason) *care.OrderState {
	if len(reasons) <= txState || aws.ToString(reasons[txState].Code) != "ConditionalCheckFailed" || len(reasons[txState].Item) == 0 {
		return nil
	}
	var st care.OrderState
	if decode(reasons[txState].Item, &st) != nil {
		return nil
	}
	return &st
}

// findDuplicate reports whether the delivery id or the event id is recorded,
// and for which order.
func (s *Store) findDuplicate(ctx context.Context, d care.Delivery, eventID string) (string, bool, error) {
	pks := []string{eventIDPK(d.ShopID, eventID)}
	if d.DeliveryID != "" {
		pks = append(pks, deliveryPK(d))
	}
	for _, pk := range pks {
		res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      &s.table,
			Key:            key(pk, skDedupe),
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return "", false, fmt.Errorf("read dedupe item: %w", err)
		}
		if res.Item != nil {
			a, _ := res.Item[attrOrderID].(*types.AttributeValueMemberS)
			if a == nil {
				return "", false, fmt.Errorf("dedupe item has no %s", attrOrderID)
			}
			return a.Value, true, nil
		}
	}
	return "", false, nil
}

func (s *Store) duplicate(ctx context.Context, shopID, orderID string) (care.IngestResult, error) {
	o, err := s.GetOrder(ctx, shopID, orderID)
	if err != nil {
		return care.IngestResult{}, fmt.Errorf("duplicate event: %w", err)
	}
	return care.IngestResult{Duplicate: true, Order: o}, nil
}

// GetOrder returns an order's current state or ErrNotFound.
func (s *Store) GetOrder(ctx context.Context, shopID, orderID string) (care.OrderState, error) {
	if !validShopID(shopID) {
		return care.OrderState{}, fmt.Errorf("get order %s of shop %q: %w", orderID, shopID, care.ErrNotFound)
	}
	var o care.OrderState
	if err := s.get(ctx, orderPK(shopID, orderID), skState, &o); err != nil {
		return care.OrderState{}, fmt.Errorf("get order %s of shop %s: %w", orderID, shopID, err)
	}
	return o, nil
}

// GetOrders returns the current states of a shop's orders orderIDs, by id
// (BatchGetItem, strongly consistent, as GetOrder reads); an order not
// found is left out. At most care.MaxGetOrders ids, else ErrInvalid.
func (s *Store) GetOrders(ctx context.Context, shopID string, orderIDs []string) (map[string]care.OrderState, error) {
	if len(orderIDs) > care.MaxGetOrders {
		return nil, care.Invalid("order_ids", "at most %d", care.MaxGetOrders)
	}
	out := make(map[string]care.OrderState, len(orderIDs))
	if len(orderIDs) == 0 || !validShopID(shopID) {
		return out, nil
	}
	keys := make([]map[string]types.AttributeValue, 0, len(orderIDs))
	ids := make(map[string]string, len(orderIDs)) // by itemKey
	for _, id := range orderIDs {
		k := key(orderPK(shopID, id), skState)
		if _, dup := ids[itemKey(k)]; !dup { // BatchGetItem refuses a key given twice
			ids[itemKey(k)] = id
			keys = append(keys, k)
		}
	}
	found, err := s.batchGet(ctx, keys, true)
	if err != nil {
		return nil, fmt.Errorf("get %d orders of shop %s: %w", len(orderIDs), shopID, err)
	}
	for k, it := range found {
		var o care.OrderState
		if err := decode(it, &o); err != nil {
			return nil, fmt.Errorf("get order %s of shop %s: %w", ids[k], shopID, err)
		}
		out[ids[k]] = o
	}
	return out, nil
}

// maxPage is the largest page ListEvents returns.
const maxPage = 1000

// ListEvents returns an order's recorded events in seq order, at most limit
// (1..1000) after cursor, and the next page's cursor ("" when there is none).
// ErrNotFound for an unknown order; ErrInvalid for a bad limit or a cursor
// ListEvents did not return.
func (s *Store) ListEvents(ctx context.Context, shopID, orderID, cursor string, limit int) ([]care.RecordedEvent, string, error) {
	if limit < 1 || limit > maxPage {
		return nil, "", care.Invalid("limit", "must be 1..%d", maxPage)
	}
	if !validShopID(shopID) {
		return nil, "", fmt.Errorf("list events of order %s of shop %q: %w", orderID, shopID, care.ErrNotFound)
	}
	pk := orderPK(shopID, orderID)
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("#pk = :pk AND begins_with(#sk, :ev)"),
		ExpressionAttributeNames: map[string]string{
			"#pk": attrPK, "#sk": attrSK,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":ev": str(skEvent)},
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(int32(limit + 1)), // one more tells whether a next page exists
	}
	if cursor != "" {
		after, err := decodeEventCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = key(pk, eventSK(after))
	}
	// A Query page stops at 1 MB: keep reading until limit+1 items or the end.
	var items []map[string]types.AttributeValue
	for {
		res, err := s.query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("list events of order %s of shop %s: %w", orderID, shopID, err)
		}
		items = append(items, res.Items...)
		if len(items) > limit || res.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
		in.Limit = aws.Int32(int32(limit + 1 - len(items)))
	}
	if len(items) == 0 {
		if _, err := s.GetOrder(ctx, shopID, orderID); err != nil {
			return nil, "", fmt.Errorf("list events: %w", err)
		}
		return nil, "", nil
	}
	more := len(items) > limit
	if more {
		items = items[:limit]
	}
	evs := make([]care.RecordedEvent, len(items))
	for i, it := range items {
		if err := decode(it, &evs[i]); err != nil {
			return nil, "", fmt.Errorf("list events of order %s: %w", orderID, err)
		}
	}
	next := ""
	if more {
		next = encodeEventCursor(evs[len(evs)-1].Seq)
	}
	return evs, next, nil
}

const eventCursorPrefix = "ev1:"

func encodeEventCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(eventCursorPrefix + strconv.FormatInt(seq, 10)))
}

func decodeEventCursor(c string) (int64, error) {
	bad := care.Invalid("cursor", "not a cursor that ListEvents returned")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), eventCursorPrefix) {
		return 0, bad
	}
	seq, err := strconv.ParseInt(strings.TrimPrefix(string(b), eventCursorPrefix), 10, 64)
	if err != nil || seq < 1 {
		return 0, bad
	}
	return seq, nil
}
