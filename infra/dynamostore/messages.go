package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ordercare/ordercare/internal/care"
)

// A message item: PK SHOP#<shop>#MSG#<id>, SK MSG, data; GSI1 (the shop's
// ledger by time) GSI1PK SHOP#<shop>#MSGS, GSI1SK <at>#<id>; GSI2 (the
// order's entries) GSI2PK SHOP#<shop>#ORDER#<order>, GSI2SK MSG#<at>#<id>.
// <at> is timeKey(At): fixed-width UTC, so key order is (At, ID) order.

const gsi2Message = "MSG#"

func messagesGSI1PK(shopID string) string { return "SHOP#" + shopID + "#MSGS" }

// messageItem is m's item; textExpires, when not nil, its text's expiry
// (attrTextExpires).
func messageItem(m care.Message, textExpires types.AttributeValue) (map[string]types.AttributeValue, error) {
	at := timeKey(m.At) + "#" + m.ID
	extra := map[string]types.AttributeValue{
		attrGSI1PK: str(messagesGSI1PK(m.ShopID)),
		attrGSI1SK: str(at),
		attrGSI2PK: str(orderPK(m.ShopID, m.OrderID)),
		attrGSI2SK: str(gsi2Message + at),
	}
	if textExpires != nil {
		extra[attrTextExpires] = textExpires
	}
	return item(messagePK(m.ShopID, m.ID), skMessage, m, extra)
}

func checkMessage(m care.Message) error {
	if !validShopID(m.ShopID) {
		return care.Invalid("shop_id", "a shop id is not empty and has no '#'")
	}
	if m.ID == "" {
		return care.Invalid("id", "empty")
	}
	return nil
}

// ReserveMessage stores m unless an entry with m.ID exists for the shop (one
// PutItem conditioned on attribute_not_exists); it returns the stored entry
// and whether it was created now. ErrInvalid for an empty id or a shop id
// with '#'.
func (s *Store) ReserveMessage(ctx context.Context, m care.Message) (care.Message, bool, error) {
	if err := checkMessage(m); err != nil {
		return care.Message{}, false, err
	}
	exp, err := s.textExpiry(ctx, m)
	if err != nil {
		return care.Message{}, false, fmt.Errorf("reserve message %s of shop %s: %w", m.ID, m.ShopID, err)
	}
	it, err := messageItem(m, exp)
	if err != nil {
		return care.Message{}, false, err
	}
	old, created, err := s.putNew(ctx, it)
	if err != nil {
		return care.Message{}, false, fmt.Errorf("reserve message %s of shop %s: %w", m.ID, m.ShopID, err)
	}
	if created {
		return m, true, nil
	}
	var got care.Message
	if err := decodeMessage(old, &got, s.clock.Now()); err != nil {
		return care.Message{}, false, fmt.Errorf("reserve message %s of shop %s: %w", m.ID, m.ShopID, err)
	}
	return got, false, nil
}

// UpdateMessage replaces an existing entry (same shop and ID; a PutItem
// conditioned on attribute_exists); ErrNotFound otherwise.
func (s *Store) UpdateMessage(ctx context.Context, m care.Message) error {
	if !validShopID(m.ShopID) || m.ID == "" {
		return fmt.Errorf("update message %s of shop %q: %w", m.ID, m.ShopID, care.ErrNotFound)
	}
	exp, err := s.textExpiry(ctx, m)
	if err != nil {
		return fmt.Errorf("update message %s of shop %s: %w", m.ID, m.ShopID, err)
	}
	it, err := messageItem(m, exp)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           &s.table,
		Item:                it,
		ConditionExpression: aws.String(condExists),
	})
	if _, ok := asCondFailed(err); ok {
		return fmt.Errorf("update message %s of shop %s: %w", m.ID, m.ShopID, care.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("update message %s of shop %s: %w", m.ID, m.ShopID, err)
	}
	return nil
}

// ListOrderMessages returns an order's entries oldest first (At, then ID):
// a Query on GSI2 (eventually consistent on AWS).
func (s *Store) ListOrderMessages(ctx context.Context, shopID, orderID string) ([]care.Message, error) {
	if !validShopID(shopID) {
		return nil, nil
	}
	items, err := s.queryIndex(ctx, GSI2, orderPK(shopID, orderID), gsi2Message)
	if err != nil {
		return nil, fmt.Errorf("list messages of order %s of shop %s: %w", orderID, shopID, err)
	}
	ms, err := decodeMessages(items, s.clock.Now())
	if err != nil {
		return nil, fmt.Errorf("list messages of order %s of shop %s: %w", orderID, shopID, err)
	}
	return ms, nil
}

func decodeMessages(items []map[string]types.AttributeValue, now time.Time) ([]care.Message, error) {
	ms := make([]care.Message, len(items))
	for i, it := range items {
		if err := decodeMessage(it, &ms[i], now); err != nil {
			return nil, err
		}
	}
	// The index is in (At, ID) order already; a stable sort on the same
	// order costs little and guards the contract.
	sort.SliceStable(ms, func(i, j int) bool {
		if !ms[i].At.Equal(ms[j].At) {
			return ms[i].At.Before(ms[j].At)
		}
		return ms[i].ID < ms[j].ID
	})
	return ms, nil
}

// ListMessages returns a shop's entries with At in [from, to) oldest first
// (At, then ID), at most limit (1..1000) after cursor, and the next cursor
// ("" when there is none): a Query on GSI1 with GSI1SK BETWEEN timeKey(from)
// AND timeKey(to), Limit limit+1, eventually consistent on AWS. ErrInvalid
// for a bad limit or a cursor ListMessages did not return for this shop and
// window.
func (s *Store) ListMessages(ctx context.Context, shopID string, from, to time.Time, cursor string, limit int) ([]care.Message, string, error) {
	if limit < 1 || limit > maxPage {
		return nil, "", care.Invalid("limit", "must be 1..%d", maxPage)
	}
	var after string // GSI1SK of the last entry of the previous page
	if cursor != "" {
		var err error
		if after, err = decodeMessageCursor(shopID, cursor); err != nil {
			return nil, "", err
		}
		// A position outside the window is no cursor of this listing (and
		// DynamoDB refuses a start key outside the key condition).
		if after < timeKey(from) || after >= timeKey(to) {
			return nil, "", care.Invalid("cursor", "not a cursor of this time window")
		}
	}
	if !validShopID(shopID) || !from.Before(to) {
		return nil, "", nil
	}
	gpk := messagesGSI1PK(shopID)
	in := windowQuery(s.table, GSI1, gpk, from, to)
	in.Limit = aws.Int32(int32(limit + 1)) // one more tells whether a next page exists
	if after != "" {
		id := after[timeKeyLen+1:]
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			attrPK: str(messagePK(shopID, id)), attrSK: str(skMessage),
			attrGSI1PK: str(gpk), attrGSI1SK: str(after),
		}
	}
	var items []map[string]types.AttributeValue
	for { // a page stops at 1 MB: continue until limit+1 items or the end
		res, err := s.query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("list messages of shop %s: %w", shopID, err)
		}
		items = append(items, res.Items...)
		if len(items) > limit || res.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
		in.Limit = aws.Int32(int32(limit + 1 - len(items)))
	}
	more := len(items) > limit
	if more {
		items = items[:limit]
	}
	ms := make([]care.Message, len(items))
	now := s.clock.Now()
	for i, it := range items {
		if err := decodeMessage(it, &ms[i], now); err != nil {
			return nil, "", fmt.Errorf("list messages of shop %s: %w", shopID, err)
		}
	}
	next := ""
	if more {
		next = encodeMessageCursor(shopID, strOf(items[len(items)-1], attrGSI1SK))
	}
	return ms, next, nil
}

// A message cursor is base64url("m1:" + check + ":" + GSI1SK of the last
// entry returned), check being 16 hex digits of SHA-256 over the shop id and
// the position: a cursor edited by hand, or of another shop, is refused.
// (Not a secret MAC: it detects tampering, not a forger who reads this.)
const messageCursorPrefix = "m1:"

func messageCursorCheck(shopID, pos string) string {
	sum := sha256.Sum256([]byte("ordercare/messages\x00" + shopID + "\x00" + pos))
	return hex.EncodeToString(sum[:8])
}

func encodeMessageCursor(shopID, pos string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(messageCursorPrefix + messageCursorCheck(shopID, pos) + ":" + pos))
}

func decodeMessageCursor(shopID, c string) (string, error) {
	bad := care.Invalid("cursor", "not a cursor that ListMessages returned")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), messageCursorPrefix) {
		return "", bad
	}
	check, pos, ok := strings.Cut(strings.TrimPrefix(string(b), messageCursorPrefix), ":")
	if !ok || check != messageCursorCheck(shopID, pos) || len(pos) < timeKeyLen+2 || pos[timeKeyLen] != '#' {
		return "", bad
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000000000Z", pos[:timeKeyLen]); err != nil {
		return "", bad
	}
	return pos, nil
}
