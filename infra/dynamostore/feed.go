package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/ordercare/ordercare/internal/care"
)

// feedCursor is ReadFeed's position: per shard, the sequence number of the
// last record consumed, or shardDone once a closed shard is read to its end.
// Shards that left the stream (trimmed after 24 hours) drop out of it.
type feedCursor struct {
	Stream string            `json:"s"`
	Pos    map[string]string `json:"p,omitempty"`
}

const (
	shardDone          = "-"
	feedCursorPrefix   = "f1."
	getRecordsPageSize = 1000
	// maxEmptyPages: consecutive empty GetRecords pages that mean an open
	// shard's tip.
	maxEmptyPages = 3
)

func (c feedCursor) encode() string {
	b, _ := json.Marshal(c) // map keys are sorted: equal positions give equal cursors
	return feedCursorPrefix + base64.RawURLEncoding.EncodeToString(b)
}

func decodeFeedCursor(s string) (feedCursor, error) {
	var c feedCursor
	if s == "" {
		return c, nil
	}
	bad := care.Invalid("cursor", "not a cursor that ReadFeed returned")
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(s, feedCursorPrefix))
	if !strings.HasPrefix(s, feedCursorPrefix) || err != nil {
		return c, bad
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || c.Stream == "" {
		return feedCursor{}, bad
	}
	return c, nil
}

// ReadFeed reads the table's stream: at most limit changes (1..1000),
// one per EVENT item, after cursor ("" = the oldest record the stream still
// holds, 24 hours on AWS). Changes of one order come in apply order: a shard
// is read only after its parent is read to its end, and an order's items all
// live in one partition. Shards are read one after another (oldest first),
// so changes of different orders in different shards are not interleaved by
// time. The returned cursor equals cursor when no change is returned.
// ErrInvalid for a bad limit, a malformed cursor or one from another stream.
func (s *Store) ReadFeed(ctx context.Context, cursor string, limit int) ([]care.Change, string, error) {
	if limit < 1 || limit > maxPage {
		return nil, "", care.Invalid("limit", "must be 1..%d", maxPage)
	}
	cur, err := decodeFeedCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	if s.streams == nil {
		return nil, "", errors.New("read feed: store has no streams client")
	}
	arn, err := s.streamARN(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("read feed: %w", err)
	}
	if cur.Stream != "" && cur.Stream != arn {
		return nil, "", care.Invalid("cursor", "the cursor belongs to another stream")
	}
	shards, err := s.shardList(ctx, arn, false)
	if err != nil {
		return nil, "", fmt.Errorf("read feed: %w", err)
	}
	inStream := map[string]bool{}
	index := func() {
		clear(inStream)
		for _, sh := range shards {
			inStream[aws.ToString(sh.ShardId)] = true
		}
	}
	index()
	for id := range cur.Pos {
		if !inStream[id] { // the cached list is older than the cursor
			if shards, err = s.shardList(ctx, arn, true); err != nil {
				return nil, "", fmt.Errorf("read feed: %w", err)
			}
			index()
			break
		}
	}
	pos := map[string]string{}
	for id, p := range cur.Pos {
		if inStream[id] {
			pos[id] = p
		}
	}

	var changes []care.Change
	visited := map[string]bool{}
	for progressed := true; progressed && len(changes) < limit; {
		progressed = false
		// A shard read to its end may have children the list lacks, and a
		// shard that is gone was trimmed: both call for a fresh list.
		refresh := false
		for _, sh := range shards {
			id := aws.ToString(sh.ShardId)
			parent := aws.ToString(sh.ParentShardId)
			if visited[id] || pos[id] == shardDone || (parent != "" && inStream[parent] && pos[parent] != shardDone) {
				continue
			}
			visited[id] = true
			ended, err := s.readShard(ctx, arn, id, pos, &changes, limit)
			if errors.Is(err, errShardGone) {
				delete(pos, id)
				refresh = true
				continue
			}
			if err != nil {
				return nil, "", fmt.Errorf("read feed: shard %s: %w", id, err)
			}
			if len(changes) >= limit {
				break
			}
			if ended {
				pos[id] = shardDone
				progressed, refresh = true, true
			}
		}
		if refresh && len(changes) < limit {
			if shards, err = s.shardList(ctx, arn, true); err != nil {
				return nil, "", fmt.Errorf("read feed: %w", err)
			}
			index()
			progressed = true
		}
	}
	for id := range pos {
		if !inStream[id] {
			delete(pos, id)
		}
	}
	if len(changes) == 0 {
		return nil, cursor, nil
	}
	return changes, feedCursor{Stream: arn, Pos: pos}.encode(), nil
}

// readShard appends the changes of one shard after pos[id] until limit, the
// shard's current end (ended false) or, for a closed shard, its last record
// (ended true). pos[id] follows every record consumed.
func (s *Store) readShard(ctx context.Context, arn, id string, pos map[string]string, changes *[]care.Change, limit int) (ended bool, err error) {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: &id, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon}
	if p := pos[id]; p != "" {
		in.ShardIteratorType, in.SequenceNumber = stypes.ShardIteratorTypeAfterSequenceNumber, aws.String(p)
	}
	itOut, err := s.streams.GetShardIterator(ctx, in)
	var gone *stypes.ResourceNotFoundException
	if errors.As(err, &gone) {
		return false, errShardGone
	}
	var trimmed *stypes.TrimmedDataAccessException
	if errors.As(err, &trimmed) { // the position aged out of the stream: resume from its oldest record
		in.ShardIteratorType, in.SequenceNumber = stypes.ShardIteratorTypeTrimHorizon, nil
		itOut, err = s.streams.GetShardIterator(ctx, in)
	}
	if err != nil {
		return false, fmt.Errorf("get shard iterator: %w", err)
	}
	it := itOut.ShardIterator
	empty := 0
	for it != nil {
		out, err := s.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(getRecordsPageSize)})
		if err != nil {
			return false, fmt.Errorf("get records: %w", err)
		}
		for _, rec := range out.Records {
			if rec.Dynamodb == nil || rec.Dynamodb.SequenceNumber == nil {
				continue
			}
			pos[id] = *rec.Dynamodb.SequenceNumber
			c, ok, err := toChange(rec)
			if err != nil {
				return false, err
			}
			if ok {
				*changes = append(*changes, c)
				if len(*changes) >= limit {
					return false, nil
				}
			}
		}
		if out.NextShardIterator == nil {
			return true, nil
		}
		if len(out.Records) == 0 {
			// An empty page may also be an empty stretch of the shard, not
			// its tip ("it might take multiple calls to get to a portion of
			// the shard that contains stream records"): look a little further.
			if empty++; empty >= maxEmptyPages {
				return false, nil
			}
		} else {
			empty = 0
		}
		it = out.NextShardIterator
	}
	return true, nil
}

// toChange turns an EVENT item's INSERT record into a Change; ok is false
// for every other record.
func toChange(rec stypes.Record) (care.Change, bool, error) {
	sk, _ := rec.Dynamodb.Keys[attrSK].(*stypes.AttributeValueMemberS)
	if rec.EventName != stypes.OperationTypeInsert || sk == nil || !strings.HasPrefix(sk.Value, skEvent) {
		return care.Change{}, false, nil
	}
	img := rec.Dynamodb.NewImage
	s := func(name string) string {
		if a, ok := img[name].(*stypes.AttributeValueMemberS); ok {
			return a.Value
		}
		return ""
	}
	var version int64
	if a, ok := img[attrVersion].(*stypes.AttributeValueMemberN); ok {
		version, _ = strconv.ParseInt(a.Value, 10, 64)
	}
	at, err := time.Parse(time.RFC3339Nano, s(attrAt))
	if err != nil || version < 1 || s(attrShopID) == "" {
		return care.Change{}, false, fmt.Errorf("stream record %s: event item without the feed attributes (NEW_IMAGE stream needed)", sk.Value)
	}
	return care.Change{
		ShopID:  s(attrShopID),
		OrderID: s(attrOrderID),
		EventID: s(attrEventID),
		Type:    care.EventType(s(attrEventType)),
		Version: version,
		At:      at,
	}, true, nil
}

var (
	errNoStream  = errors.New("table has no stream")
	errShardGone = errors.New("shard no longer in the stream")
)

// shardListTTL bounds how long ReadFeed trusts its cached shard list even
// when no shard it read ended (a safety net: new shards only appear when a
// shard closes, which reading it to its end reveals).
const shardListTTL = 5 * time.Minute

// shardList returns the stream's shards, oldest first, from a cache unless
// refresh: DescribeStream is limited to 10 calls per second per account.
func (s *Store) shardList(ctx context.Context, arn string, refresh bool) ([]stypes.Shard, error) {
	s.mu.Lock()
	if !refresh && s.shardsArn == arn && s.shardsList != nil && s.clock.Now().Sub(s.shardsAt) < shardListTTL {
		l := s.shardsList
		s.mu.Unlock()
		return l, nil
	}
	s.mu.Unlock()
	l, err := s.shards(ctx, arn)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.shardsArn, s.shardsList, s.shardsAt = arn, l, s.clock.Now()
	s.mu.Unlock()
	return l, nil
}

// streamARN returns the table's latest stream ARN, cached after the first call.
func (s *Store) streamARN(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streamArn != "" {
		return s.streamArn, nil
	}
	out, err := s.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &s.table})
	if err != nil {
		return "", fmt.Errorf("describe table %s: %w", s.table, err)
	}
	if out.Table.LatestStreamArn == nil {
		return "", fmt.Errorf("table %s: %w", s.table, errNoStream)
	}
	s.streamArn = *out.Table.LatestStreamArn
	return s.streamArn, nil
}

// shards lists the stream's shards, oldest first.
func (s *Store) shards(ctx context.Context, arn string) ([]stypes.Shard, error) {
	var shards []stypes.Shard
	in := &dynamodbstreams.DescribeStreamInput{StreamArn: &arn}
	for {
		out, err := s.streams.DescribeStream(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("describe stream: %w", err)
		}
		shards = append(shards, out.StreamDescription.Shards...)
		if out.StreamDescription.LastEvaluatedShardId == nil {
			break
		}
		in.ExclusiveStartShardId = out.StreamDescription.LastEvaluatedShardId
	}
	start := func(sh stypes.Shard) string {
		if sh.SequenceNumberRange == nil {
			return ""
		}
		return aws.ToString(sh.SequenceNumberRange.StartingSequenceNumber)
	}
	sort.SliceStable(shards, func(i, j int) bool {
		a, b := start(shards[i]), start(shards[j])
		if len(a) != len(b) { // sequence numbers are decimal strings of varying length
			return len(a) < len(b)
		}
		if a != b {
			return a < b
		}
		return aws.ToString(shards[i].ShardId) < aws.ToString(shards[j].ShardId)
	})
	return shards, nil
}
