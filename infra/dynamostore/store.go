package dynamostore

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/storedjson"
)

// DynamoDB is the part of the DynamoDB API the store uses; *dynamodb.Client
// implements it.
type DynamoDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// Streams is the part of the DynamoDB Streams API ReadFeed uses;
// *dynamodbstreams.Client implements it.
type Streams interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

var (
	_ care.Store = (*Store)(nil)
	_ DynamoDB   = (*dynamodb.Client)(nil)
	_ Streams    = (*dynamodbstreams.Client)(nil)
)

// maxAttempts bounds Ingest's optimistic retries (lost version races,
// transaction conflicts, throttling).
const maxAttempts = 25

// Store is a care.Store on one DynamoDB table created by CreateTable (or
// template.yaml with the same schema). It is safe for concurrent use.
type Store struct {
	db      DynamoDB
	streams Streams
	table   string
	clock   clock.Clock

	// pause waits between Ingest's retries. It is real time on purpose, like
	// the SDK's own retryer: it paces calls to a real service and is not
	// domain time, so a virtual clock must not stall it.
	pause func(ctx context.Context, d time.Duration) error

	mu         sync.Mutex
	streamArn  string         // cached LatestStreamArn
	shardsArn  string         // the stream shardsList describes
	shardsList []stypes.Shard // cached DescribeStream, oldest first (never modified)
	shardsAt   time.Time
	retention  map[string]retentionEntry // shops' message_text_days (textDays)
}

// New returns a store on table. streams may be nil when ReadFeed is not used
// (ReadFeed then fails). clk stands in for a delivery's ReceivedAt when that
// is zero (the ingest time: OrderState.UpdatedAt, Change.At).
func New(db DynamoDB, streams Streams, table string, clk clock.Clock) *Store {
	return &Store{db: db, streams: streams, table: table, clock: clk, pause: sleep}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backoff is full jitter over an exponential ceiling: 8ms at the first retry,
// doubling, capped at 250ms.
func backoff(attempt int) time.Duration {
	ceil := 4 * time.Millisecond << min(attempt, 6)
	ceil = min(ceil, 250*time.Millisecond)
	return time.Duration(rand.Int64N(int64(ceil))) + time.Millisecond
}

// raceJitter spreads the writers that lost a version race: 0-10ms.
func raceJitter() time.Duration { return time.Duration(rand.Int64N(int64(10 * time.Millisecond))) }

// LocalClients returns clients for a DynamoDB Local endpoint such as
// http://127.0.0.1:8000: static dummy credentials, region us-east-1, and no
// CRC32 check of responses (DynamoDB Local's error responses carry none).
func LocalClients(endpoint string) (*dynamodb.Client, *dynamodbstreams.Client) {
	creds := credentials.NewStaticCredentialsProvider("local", "local", "")
	db := dynamodb.New(dynamodb.Options{
		Region:                          "us-east-1",
		Credentials:                     creds,
		BaseEndpoint:                    aws.String(endpoint),
		DisableValidateResponseChecksum: true,
	})
	st := dynamodbstreams.New(dynamodbstreams.Options{
		Region:       "us-east-1",
		Credentials:  creds,
		BaseEndpoint: aws.String(endpoint),
	})
	return db, st
}

// ---- keys and items ----

const (
	attrPK      = "PK"
	attrSK      = "SK"
	attrData    = "data"
	attrDataZ   = "dataz"
	attrVersion = "version"
	attrOrderID = "order_id"

	skShop   = "SHOP"
	skKey    = "KEY"
	skState  = "STATE"
	skDedupe = "DEDUPE"
	skEvent  = "EVENT#"
	skSource = "SOURCE#"
)

// validShopID: shop ids never contain '#', which keeps every key unambiguous
// (order, event and delivery ids, which may, always come last). A shop id
// with '#' cannot exist, so reads and writes with one are ErrNotFound; that
// also stops shop "a#ORDER#x" from reaching shop "a"'s order "x#ORDER#o".
func validShopID(id string) bool { return id != "" && !strings.Contains(id, "#") }

func shopPK(shopID string) string             { return "SHOP#" + shopID }
func keyPK(hash string) string                { return "KEY#" + hash }
func orderPK(shopID, orderID string) string   { return "SHOP#" + shopID + "#ORDER#" + orderID }
func eventSK(seq int64) string                { return fmt.Sprintf("%s%020d", skEvent, seq) }
func eventIDPK(shopID, eventID string) string { return "SHOP#" + shopID + "#EVENTID#" + eventID }
func deliveryPK(d care.Delivery) string {
	return "SHOP#" + d.ShopID + "#DELIVERY#" + d.Source + "#" + d.DeliveryID
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
}

// inlineMax is the largest JSON kept readable in "data"; larger values are
// gzipped into "dataz" (an item holds at most 400 KB).
const inlineMax = 32 << 10

// item builds an item: its key, extra top-level attributes, and v as JSON in
// "data" (or gzipped JSON in "dataz" when large). JSON, the domain's own
// encoding, keeps ids, decimal strings, zones and nanoseconds exact.
func item(pk, sk string, v any, extra map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	it := key(pk, sk)
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s/%s: %w", pk, sk, err)
	}
	if len(b) <= inlineMax {
		it[attrData] = str(string(b))
	} else {
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		if _, err := w.Write(b); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		it[attrDataZ] = &types.AttributeValueMemberB{Value: z.Bytes()}
	}
	for k, a := range extra {
		it[k] = a
	}
	return it, nil
}

// decode decodes an item's "data" (or "dataz") into out.
func decode(it map[string]types.AttributeValue, out any) error {
	var b []byte
	switch {
	case it[attrData] != nil:
		a, ok := it[attrData].(*types.AttributeValueMemberS)
		if !ok {
			return fmt.Errorf("item %s: %s is not a string", pkOf(it), attrData)
		}
		b = []byte(a.Value)
	case it[attrDataZ] != nil:
		a, ok := it[attrDataZ].(*types.AttributeValueMemberB)
		if !ok {
			return fmt.Errorf("item %s: %s is not binary", pkOf(it), attrDataZ)
		}
		r, err := gzip.NewReader(bytes.NewReader(a.Value))
		if err != nil {
			return fmt.Errorf("item %s: %w", pkOf(it), err)
		}
		if b, err = io.ReadAll(r); err != nil {
			return fmt.Errorf("item %s: %w", pkOf(it), err)
		}
	default:
		return fmt.Errorf("item %s has no %s attribute", pkOf(it), attrData)
	}
	if err := storedjson.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decode item %s: %w", pkOf(it), err)
	}
	return nil
}

func pkOf(it map[string]types.AttributeValue) string {
	pk, _ := it[attrPK].(*types.AttributeValueMemberS)
	sk, _ := it[attrSK].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		return "?"
	}
	return pk.Value + "/" + sk.Value
}

// get reads one item consistently; ErrNotFound when absent.
func (s *Store) get(ctx context.Context, pk, sk string, out any) error {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            key(pk, sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return err
	}
	if res.Item == nil {
		return care.ErrNotFound
	}
	return decode(res.Item, out)
}

// reasonCodes lists a cancelled transaction's reason codes ("None" where an
// item did not cause it), for error messages.
func reasonCodes(tce *types.TransactionCanceledException) string {
	codes := make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		codes[i] = aws.ToString(r.Code)
	}
	return strings.Join(codes, ",")
}

func asCanceled(err error) (*types.TransactionCanceledException, bool) {
	var tce *types.TransactionCanceledException
	ok := errors.As(err, &tce)
	return tce, ok
}
