package dynamostore

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/erasure"
)

// Message texts and retention. A message item is the ledger entry, which
// must outlive its text (its status, receipt, segments and times feed the
// counts and metrics), so DynamoDB's TTL, which deletes whole items, cannot
// expire the text by deleting the item. Instead a message item whose shop
// has a retention policy (erasure.Retention) carries attrTextExpires (Unix
// seconds: At + message_text_days), every read of a message returns
// erasure.Erased in place of a text past it, and erasure.Expirer.Sweep
// (the receipts function, daily on AWS) rewrites the text away for good.
// TTLAttribute is for items that may go whole (provider refs).
const attrTextExpires = "text_expires_at"

// TTLAttribute is the table's TimeToLiveSpecification attribute
// (template.yaml): a Number of Unix seconds after which DynamoDB deletes
// the item, within days; reads check it themselves.
const TTLAttribute = attrExpires

// retentionTTL is how long a shop's retention policy is cached.
const retentionTTL = time.Minute

type retentionEntry struct {
	days int
	at   time.Time
}

// textDays returns the shop's message_text_days (0: texts are kept),
// cached for retentionTTL.
func (s *Store) textDays(ctx context.Context, shopID string) (int, error) {
	now := time.Now()
	s.mu.Lock()
	e, ok := s.retention[shopID]
	s.mu.Unlock()
	if ok && now.Sub(e.at) < retentionTTL {
		return e.days, nil
	}
	days := 0
	src, err := s.GetSource(ctx, shopID, erasure.RetentionSource)
	switch {
	case errors.Is(err, care.ErrNotFound):
	case err != nil:
		return 0, err
	default:
		if r, err := erasure.RetentionOf(src); err == nil {
			days = r.MessageTextDays
		}
	}
	s.mu.Lock()
	if s.retention == nil {
		s.retention = map[string]retentionEntry{}
	}
	s.retention[shopID] = retentionEntry{days: days, at: now}
	s.mu.Unlock()
	return days, nil
}

// textExpiry is the attribute m's item carries for its text's expiry
// (nil: none, because the shop keeps texts or m has none left).
func (s *Store) textExpiry(ctx context.Context, m care.Message) (types.AttributeValue, error) {
	if m.Text == "" || m.Text == erasure.Erased {
		return nil, nil
	}
	days, err := s.textDays(ctx, m.ShopID)
	if err != nil || days == 0 {
		return nil, err
	}
	return num(m.At.Add(time.Duration(days) * 24 * time.Hour).Unix()), nil
}

// decodeMessage decodes a message item as of now: a text past its
// attrTextExpires reads as erasure.Erased.
func decodeMessage(it map[string]types.AttributeValue, m *care.Message, now time.Time) error {
	if err := decode(it, m); err != nil {
		return err
	}
	if n, ok := it[attrTextExpires].(*types.AttributeValueMemberN); ok && m.Text != "" {
		if sec, err := strconv.ParseInt(n.Value, 10, 64); err == nil && sec <= now.Unix() {
			m.Text = erasure.Erased
		}
	}
	return nil
}
