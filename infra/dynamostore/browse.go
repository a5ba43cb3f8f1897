package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ordercare/ordercare/internal/care"
)

// The lists of care.ShopAdmin and care.Browse, on the two overloaded
// indexes (no new index):
//
//	GSI1  SHOPS                         <shop>                 every shop by id (ListShops), on the SHOP item
//	      SHOP#<shop>#ORDERS            <updated ms>#<order>   a shop's orders by update (ListOrders), on STATE
//	      SHOP#<shop>#RUNS              <started>#<wf>#<order> runs, read newest first (ListRecentRuns)
//	      SHOP#<shop>#MSGS              <at>#<id>              messages, read newest first (ListRecentMessages)
//	GSI2  SHOP#<shop>#ORDERS#<status>   <updated ms>#<order>   a shop's orders of one status, on STATE
//
// Keys: each key (KEY#<hash>) has a reference item PK SHOP#<shop>, SK
// KEYREF#<role>#<hash>, so ReplaceKeys finds a role's keys with a consistent
// Query; the item SK KEYGEN#<role> counts replacements and serialises them.

const (
	shopsGSI1PK = "SHOPS"
	skKeyRef    = "KEYREF#"
	skKeyGen    = "KEYGEN#"
	attrGen     = "gen"
)

func ordersGSI1PK(shopID string) string { return "SHOP#" + shopID + "#ORDERS" }
func ordersGSI2PK(shopID string, st care.Status) string {
	return "SHOP#" + shopID + "#ORDERS#" + string(st)
}

// orderSortKey orders STATE items by UpdatedAt to the millisecond, then id.
func orderSortKey(o care.OrderState) string {
	return o.UpdatedAt.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z") + "#" + o.Order.ID
}

// stateIndexAttrs are the index attributes of an order's STATE item.
func stateIndexAttrs(shopID string, o care.OrderState) map[string]types.AttributeValue {
	sk := orderSortKey(o)
	return map[string]types.AttributeValue{
		attrGSI1PK: str(ordersGSI1PK(shopID)), attrGSI1SK: str(sk),
		attrGSI2PK: str(ordersGSI2PK(shopID, o.Status)), attrGSI2SK: str(sk),
	}
}

func keyRefSK(role care.Role, hash string) string { return skKeyRef + string(role) + "#" + hash }

// A list cursor is base64url("l1:" + check + ":" + the index sort key of
// the last entry returned), check binding it to the listing (index and
// partition): a cursor edited by hand or of another listing is refused.
const listCursorPrefix = "l1:"

func listCursorCheck(listing, pos string) string {
	sum := sha256.Sum256([]byte("ordercare/list\x00" + listing + "\x00" + pos))
	return hex.EncodeToString(sum[:8])
}

func encodeListCursor(listing, pos string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(listCursorPrefix + listCursorCheck(listing, pos) + ":" + pos))
}

func decodeListCursor(listing, c string) (string, error) {
	bad := care.Invalid("cursor", "not a cursor this listing returned")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), listCursorPrefix) {
		return "", bad
	}
	check, pos, ok := strings.Cut(strings.TrimPrefix(string(b), listCursorPrefix), ":")
	if !ok || pos == "" || check != listCursorCheck(listing, pos) {
		return "", bad
	}
	return pos, nil
}

// listIndex pages through index partition gpk in sort-key order (forward,
// or newest first), after the position cursor holds, keeping the items keep
// accepts, until limit of them and one more (which tells a next page
// exists) or the end. It returns the kept items and the next cursor.
func (s *Store) listIndex(ctx context.Context, index, gpk, cursor string, limit int, forward bool,
	keep func(map[string]types.AttributeValue) (bool, error)) ([]map[string]types.AttributeValue, string, error) {
	if limit < 1 || limit > maxPage {
		return nil, "", care.Invalid("limit", "must be 1..%d", maxPage)
	}
	listing := index + "\x00" + gpk
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(index),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": index + "PK"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(gpk)},
		ScanIndexForward:          aws.Bool(forward),
		Limit:                     aws.Int32(int32(limit + 1)),
	}
	if cursor != "" {
		pos, err := decodeListCursor(listing, cursor)
		if err != nil {
			return nil, "", err
		}
		op := "<"
		if forward {
			op = ">"
		}
		in.KeyConditionExpression = aws.String("#pk = :pk AND #sk " + op + " :pos")
		in.ExpressionAttributeNames["#sk"] = index + "SK"
		in.ExpressionAttributeValues[":pos"] = str(pos)
	}
	var items []map[string]types.AttributeValue
	for { // a page stops at Limit or 1 MB: continue until limit+1 kept or the end
		res, err := s.query(ctx, in)
		if err != nil {
			return nil, "", err
		}
		for _, it := range res.Items {
			ok, err := keep(it)
			if err != nil {
				return nil, "", err
			}
			if ok {
				items = append(items, it)
			}
		}
		if len(items) > limit || res.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
	if len(items) <= limit {
		return items, "", nil
	}
	items = items[:limit]
	return items, encodeListCursor(listing, strOf(items[limit-1], index+"SK")), nil
}

func keepAll(map[string]types.AttributeValue) (bool, error) { return true, nil }

// ListShops returns shops in id order: a Query on GSI1 partition SHOPS
// (eventually consistent on AWS).
func (s *Store) ListShops(ctx context.Context, cursor string, limit int) ([]care.Shop, string, error) {
	items, next, err := s.listIndex(ctx, GSI1, shopsGSI1PK, cursor, limit, true, keepAll)
	if err != nil {
		return nil, "", fmt.Errorf("list shops: %w", err)
	}
	out := make([]care.Shop, len(items))
	for i, it := range items {
		if err := decode(it, &out[i]); err != nil {
			return nil, "", fmt.Errorf("list shops: %w", err)
		}
	}
	return out, next, nil
}

// ReplaceKeys stores key and deletes the shop's other keys of its role in
// one transaction: the role's KEYGEN item put conditioned on the generation
// read (a concurrent replacement is retried), the new KEY and KEYREF
// conditioned on attribute_not_exists, and a Delete of each old KEY and
// KEYREF. ErrNotFound for an unknown shop; ErrConflict if the hash exists.
func (s *Store) ReplaceKeys(ctx context.Context, k care.APIKey) error {
	if !validShopID(k.ShopID) {
		return fmt.Errorf("replace %s key of shop %q: %w", k.Role, k.ShopID, care.ErrNotFound)
	}
	for attempt := 0; ; attempt++ {
		err := s.replaceKeysOnce(ctx, k)
		if err != errKeyGenMoved || attempt == 10 {
			if err == errKeyGenMoved {
				err = fmt.Errorf("replace %s key of shop %s: concurrent replacements: %w", k.Role, k.ShopID, care.ErrConflict)
			}
			return err
		}
	}
}

var errKeyGenMoved = fmt.Errorf("key generation moved")

func (s *Store) replaceKeysOnce(ctx context.Context, k care.APIKey) error {
	spk := shopPK(k.ShopID)
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(spk, skKeyGen+string(k.Role)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("replace %s key of shop %s: %w", k.Role, k.ShopID, err)
	}
	gen := int64(0)
	if res.Item != nil {
		if n, ok := res.Item[attrGen].(*types.AttributeValueMemberN); ok {
			gen, _ = strconv.ParseInt(n.Value, 10, 64)
		}
	}
	refs, err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(spk), ":prefix": str(skKeyRef + string(k.Role) + "#")},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("replace %s key of shop %s: %w", k.Role, k.ShopID, err)
	}
	genItem := key(spk, skKeyGen+string(k.Role))
	genItem[attrGen] = num(gen + 1)
	genCond := "attribute_not_exists(#pk)"
	genNames := map[string]string{"#pk": attrPK}
	var genVals map[string]types.AttributeValue
	if res.Item != nil {
		genCond = "#gen = :gen"
		genNames = map[string]string{"#gen": attrGen} // DynamoDB refuses a name the expression does not use
		genVals = map[string]types.AttributeValue{":gen": num(gen)}
	}
	keyItem, err := item(keyPK(k.Hash), skKey, k, nil)
	if err != nil {
		return err
	}
	notExists := aws.String("attribute_not_exists(" + attrPK + ")")
	tx := []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(spk, skShop),
			ConditionExpression: aws.String("attribute_exists(" + attrPK + ")")}},
		{Put: &types.Put{TableName: &s.table, Item: genItem, // a Put, not an Update: the functions' roles hold no UpdateItem
			ConditionExpression:       aws.String(genCond),
			ExpressionAttributeNames:  genNames,
			ExpressionAttributeValues: genVals}},
		{Put: &types.Put{TableName: &s.table, Item: keyItem, ConditionExpression: notExists}},
		{Put: &types.Put{TableName: &s.table, Item: key(spk, keyRefSK(k.Role, k.Hash)), ConditionExpression: notExists}},
	}
	for _, ref := range refs {
		sk := strOf(ref, attrSK)
		hash := strings.TrimPrefix(sk, skKeyRef+string(k.Role)+"#")
		if hash == k.Hash {
			continue
		}
		tx = append(tx,
			types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(keyPK(hash), skKey)}},
			types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(spk, sk)}})
	}
	if len(tx) > maxTransactItems {
		return fmt.Errorf("replace %s key of shop %s: %d old keys: %w", k.Role, k.ShopID, len(refs), care.ErrInvalid)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	if tce, ok := asCanceled(err); ok && len(tce.CancellationReasons) == len(tx) {
		failed := func(i int) bool { return aws.ToString(tce.CancellationReasons[i].Code) == "ConditionalCheckFailed" }
		switch {
		case failed(0):
			return fmt.Errorf("replace %s key of shop %s: %w", k.Role, k.ShopID, care.ErrNotFound)
		case failed(2) || failed(3):
			return fmt.Errorf("replace %s key of shop %s: key hash exists: %w", k.Role, k.ShopID, care.ErrConflict)
		case failed(1):
			return errKeyGenMoved
		}
		return fmt.Errorf("replace %s key of shop %s: transaction cancelled (%s): %w", k.Role, k.ShopID, reasonCodes(tce), err)
	}
	if err != nil {
		return fmt.Errorf("replace %s key of shop %s: %w", k.Role, k.ShopID, err)
	}
	return nil
}

// ListOrders returns a shop's orders most recently updated first: a Query
// on GSI1 (every order) or GSI2 (one status), newest first.
func (s *Store) ListOrders(ctx context.Context, shopID string, f care.OrderFilter, cursor string, limit int) ([]care.OrderState, string, error) {
	if !validShopID(shopID) {
		return nil, "", nil
	}
	index, gpk := GSI1, ordersGSI1PK(shopID)
	if f.Status != "" {
		index, gpk = GSI2, ordersGSI2PK(shopID, f.Status)
	}
	items, next, err := s.listIndex(ctx, index, gpk, cursor, limit, false, keepAll)
	if err != nil {
		return nil, "", fmt.Errorf("list orders of shop %s: %w", shopID, err)
	}
	out := make([]care.OrderState, len(items))
	for i, it := range items {
		if err := decode(it, &out[i]); err != nil {
			return nil, "", fmt.Errorf("list orders of shop %s: %w", shopID, err)
		}
	}
	return out, next, nil
}

// ListRecentRuns returns a shop's runs newest first: a Query on GSI1
// SHOP#<shop>#RUNS backwards, filtered by workflow and status as read.
func (s *Store) ListRecentRuns(ctx context.Context, shopID string, f care.RunFilter, cursor string, limit int) ([]care.Run, string, error) {
	if !validShopID(shopID) {
		return nil, "", nil
	}
	var out []care.Run
	keep := func(it map[string]types.AttributeValue) (bool, error) {
		r, err := decodeRun(it)
		if err != nil {
			return false, err
		}
		if (f.Workflow != "" && r.Workflow != f.Workflow) || (f.Status != "" && r.Status != f.Status) {
			return false, nil
		}
		out = append(out, r)
		return true, nil
	}
	items, next, err := s.listIndex(ctx, GSI1, runsGSI1PK(shopID), cursor, limit, false, keep)
	if err != nil {
		return nil, "", fmt.Errorf("list runs of shop %s: %w", shopID, err)
	}
	return out[:len(items)], next, nil
}

// ListRecentMessages returns a shop's ledger newest first: a Query on GSI1
// SHOP#<shop>#MSGS backwards.
func (s *Store) ListRecentMessages(ctx context.Context, shopID, cursor string, limit int) ([]care.Message, string, error) {
	if !validShopID(shopID) {
		return nil, "", nil
	}
	items, next, err := s.listIndex(ctx, GSI1, messagesGSI1PK(shopID), cursor, limit, false, keepAll)
	if err != nil {
		return nil, "", fmt.Errorf("list messages of shop %s: %w", shopID, err)
	}
	out := make([]care.Message, len(items))
	now := s.clock.Now()
	for i, it := range items {
		if err := decodeMessage(it, &out[i], now); err != nil {
			return nil, "", fmt.Errorf("list messages of shop %s: %w", shopID, err)
		}
	}
	return out, next, nil
}
