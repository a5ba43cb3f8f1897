package dynamostore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
)

// DynamoDB Local keeps one open shard per table, so shard lineage (splits,
// closed parents, trimmed shards) is tested here against a hand-written
// stream with the semantics AWS documents.

type fakeShard struct {
	id, parent string
	start      string
	closed     bool
	recs       []stypes.Record
	stretch    int // empty pages served before the first record (an empty stretch)
}

type fakeStreams struct {
	shards    []*fakeShard // in DescribeStream order
	calls     int          // GetRecords calls
	describes int          // DescribeStream calls
}

func (f *fakeStreams) shard(id string) *fakeShard {
	for _, sh := range f.shards {
		if sh.id == id {
			return sh
		}
	}
	return nil
}

func (f *fakeStreams) DescribeStream(_ context.Context, in *dynamodbstreams.DescribeStreamInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	f.describes++
	// Two shards per page, to exercise LastEvaluatedShardId.
	from := 0
	if in.ExclusiveStartShardId != nil {
		for i, sh := range f.shards {
			if sh.id == *in.ExclusiveStartShardId {
				from = i + 1
			}
		}
	}
	desc := &stypes.StreamDescription{StreamArn: in.StreamArn}
	for i := from; i < len(f.shards) && i < from+2; i++ {
		sh := f.shards[i]
		s := stypes.Shard{ShardId: aws.String(sh.id), SequenceNumberRange: &stypes.SequenceNumberRange{StartingSequenceNumber: aws.String(sh.start)}}
		if sh.parent != "" {
			s.ParentShardId = aws.String(sh.parent)
		}
		if sh.closed && len(sh.recs) > 0 {
			s.SequenceNumberRange.EndingSequenceNumber = sh.recs[len(sh.recs)-1].Dynamodb.SequenceNumber
		}
		desc.Shards = append(desc.Shards, s)
		if i == from+1 && i+1 < len(f.shards) {
			desc.LastEvaluatedShardId = aws.String(sh.id)
		}
	}
	return &dynamodbstreams.DescribeStreamOutput{StreamDescription: desc}, nil
}

func (f *fakeStreams) GetShardIterator(_ context.Context, in *dynamodbstreams.GetShardIteratorInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	sh := f.shard(*in.ShardId)
	if sh == nil {
		return nil, &stypes.ResourceNotFoundException{Message: aws.String("no shard " + *in.ShardId)}
	}
	idx := 0
	switch in.ShardIteratorType {
	case stypes.ShardIteratorTypeTrimHorizon:
	case stypes.ShardIteratorTypeAfterSequenceNumber:
		idx = -1
		for i, r := range sh.recs {
			if *r.Dynamodb.SequenceNumber == *in.SequenceNumber {
				idx = i + 1
			}
		}
		if idx < 0 {
			return nil, &stypes.TrimmedDataAccessException{Message: aws.String("trimmed")}
		}
	default:
		return nil, fmt.Errorf("fake: iterator type %s", in.ShardIteratorType)
	}
	return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: aws.String(fmt.Sprintf("%s|%d", sh.id, idx))}, nil
}

func (f *fakeStreams) GetRecords(_ context.Context, in *dynamodbstreams.GetRecordsInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	f.calls++
	id, n, _ := strings.Cut(*in.ShardIterator, "|")
	idx, _ := strconv.Atoi(n)
	sh := f.shard(id)
	if idx == 0 && sh.stretch > 0 {
		sh.stretch--
		return &dynamodbstreams.GetRecordsOutput{NextShardIterator: in.ShardIterator}, nil
	}
	// Pages of at most 2 records, whatever Limit asks, as a real stream may.
	end := min(idx+2, len(sh.recs), idx+int(aws.ToInt32(in.Limit)))
	out := &dynamodbstreams.GetRecordsOutput{Records: sh.recs[idx:end]}
	if !sh.closed || end < len(sh.recs) {
		out.NextShardIterator = aws.String(fmt.Sprintf("%s|%d", id, end))
	}
	return out, nil
}

// tableDB answers DescribeTable with the fake stream's ARN.
type tableDB struct{ DynamoDB }

func (tableDB) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return &dynamodb.DescribeTableOutput{Table: &dtypes.TableDescription{LatestStreamArn: aws.String("arn:fake:stream")}}, nil
}

func eventRec(seq int, order string, version int64) stypes.Record {
	s := func(v string) stypes.AttributeValue { return &stypes.AttributeValueMemberS{Value: v} }
	sk := eventSK(version)
	return stypes.Record{EventName: stypes.OperationTypeInsert, Dynamodb: &stypes.StreamRecord{
		SequenceNumber: aws.String(strconv.Itoa(seq)),
		Keys:           map[string]stypes.AttributeValue{attrPK: s(orderPK("s1", order)), attrSK: s(sk)},
		NewImage: map[string]stypes.AttributeValue{
			attrPK: s(orderPK("s1", order)), attrSK: s(sk),
			attrShopID: s("s1"), attrOrderID: s(order), attrEventID: s(fmt.Sprintf("%s-e%d", order, version)),
			attrEventType: s(string(care.OrderPaid)), attrVersion: &stypes.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)},
			attrAt: s(t0.Format("2006-01-02T15:04:05.999999999Z07:00")),
		},
	}}
}

// stateRec is the record of an order's STATE item: not a change.
func stateRec(seq int, order string) stypes.Record {
	r := eventRec(seq, order, 1)
	r.EventName = stypes.OperationTypeModify
	r.Dynamodb.Keys[attrSK] = &stypes.AttributeValueMemberS{Value: skState}
	return r
}

func TestFeedShardLineage(t *testing.T) {
	newFake := func() *fakeStreams {
		// Parent 100 split into children 2000 and 2001 (numerically after
		// 100 though "100" > "2000" as strings); listed children first.
		return &fakeStreams{shards: []*fakeShard{
			{id: "child-b", parent: "parent", start: "2001", recs: []stypes.Record{eventRec(2003, "o3", 1)}},
			{id: "child-a", parent: "parent", start: "2000", recs: []stypes.Record{eventRec(2002, "o1", 3), stateRec(2004, "o1"), eventRec(2005, "o2", 2)}},
			{id: "parent", start: "100", closed: true, recs: []stypes.Record{
				eventRec(101, "o1", 1), stateRec(102, "o1"), eventRec(103, "o2", 1), eventRec(104, "o1", 2), stateRec(105, "o1")}},
		}}
	}
	// Parent first, then the children oldest first.
	wantAll := []string{"o1-e1", "o2-e1", "o1-e2", "o1-e3", "o2-e2", "o3-e1"}

	for _, limit := range []int{1, 2, 4, 100} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			fs := newFake()
			s := New(tableDB{}, fs, "t", clock.Real{})
			var got []care.Change
			cursor := ""
			for range 50 {
				page, next, err := s.ReadFeed(t.Context(), cursor, limit)
				if err != nil {
					t.Fatalf("ReadFeed: %v", err)
				}
				if len(page) == 0 {
					if next != cursor {
						t.Errorf("empty page moved the cursor")
					}
					break
				}
				got = append(got, page...)
				cursor = next
			}
			if diff := cmp.Diff(wantAll, ids(got)); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if got[0] != (care.Change{ShopID: "s1", OrderID: "o1", EventID: "o1-e1", Type: care.OrderPaid, Version: 1, At: t0}) {
				t.Errorf("first change = %+v", got[0])
			}
		})
	}

	t.Run("parent trimmed, child continues", func(t *testing.T) {
		fs := newFake()
		s := New(tableDB{}, fs, "t", clock.Real{})
		_, end, err := s.ReadFeed(t.Context(), "", 100)
		if err != nil {
			t.Fatal(err)
		}
		fs.shards = fs.shards[:2] // the parent ages out of the stream
		page, next, err := s.ReadFeed(t.Context(), end, 100)
		if err != nil || len(page) != 0 || next != end {
			t.Fatalf("ReadFeed(end) after trim = %v, same cursor %v, %v", ids(page), next == end, err)
		}
		fs.shard("child-b").recs = append(fs.shard("child-b").recs, eventRec(2010, "o3", 2))
		page, _, err = s.ReadFeed(t.Context(), end, 100)
		if err != nil || cmp.Diff([]string{"o3-e2"}, ids(page)) != "" {
			t.Errorf("ReadFeed = %v, %v; want [o3-e2]", ids(page), err)
		}
	})

	t.Run("position trimmed inside a shard", func(t *testing.T) {
		fs := newFake()
		s := New(tableDB{}, fs, "t", clock.Real{})
		_, end, err := s.ReadFeed(t.Context(), "", 100)
		if err != nil {
			t.Fatal(err)
		}
		// The records up to the cursor's position in child-a age out.
		a := fs.shard("child-a")
		a.recs = []stypes.Record{eventRec(2011, "o2", 3)}
		page, _, err := s.ReadFeed(t.Context(), end, 100)
		if err != nil || cmp.Diff([]string{"o2-e3"}, ids(page)) != "" {
			t.Errorf("ReadFeed = %v, %v; want [o2-e3] read from the shard's trim horizon", ids(page), err)
		}
	})

	t.Run("empty stretch before the records", func(t *testing.T) {
		fs := &fakeStreams{shards: []*fakeShard{{id: "s1", start: "1", stretch: maxEmptyPages - 1, recs: []stypes.Record{eventRec(5, "o1", 1)}}}}
		s := New(tableDB{}, fs, "t", clock.Real{})
		page, _, err := s.ReadFeed(t.Context(), "", 100)
		if err != nil || cmp.Diff([]string{"o1-e1"}, ids(page)) != "" {
			t.Errorf("ReadFeed = %v, %v; want [o1-e1] past %d empty pages", ids(page), err, maxEmptyPages-1)
		}
	})

	t.Run("child waits for an unfinished parent", func(t *testing.T) {
		fs := newFake()
		fs.shard("parent").closed = false // still open: its children must not be read yet
		s := New(tableDB{}, fs, "t", clock.Real{})
		page, _, err := s.ReadFeed(t.Context(), "", 100)
		if err != nil || cmp.Diff([]string{"o1-e1", "o2-e1", "o1-e2"}, ids(page)) != "" {
			t.Errorf("ReadFeed = %v, %v; want the parent's changes only", ids(page), err)
		}
	})
}

// TestFeedShardCache: ReadFeed describes the stream once and again only when
// a shard it reads ends, a shard is gone, or a cursor names a shard it does
// not know.
func TestFeedShardCache(t *testing.T) {
	fs := &fakeStreams{shards: []*fakeShard{{id: "s1", start: "10", recs: []stypes.Record{eventRec(11, "o1", 1)}}}}
	read := func(s *Store, cursor string) ([]string, string) {
		t.Helper()
		page, next, err := s.ReadFeed(t.Context(), cursor, 100)
		if err != nil {
			t.Fatalf("ReadFeed: %v", err)
		}
		return ids(page), next
	}
	a := New(tableDB{}, fs, "t", clock.Real{})
	b := New(tableDB{}, fs, "t", clock.Real{}) // its cache will predate the split
	got, end := read(a, "")
	read(b, "")
	if cmp.Diff([]string{"o1-e1"}, got) != "" || fs.describes != 2 {
		t.Fatalf("first reads = %v with %d DescribeStream, want [o1-e1] with 2 (one per reader)", got, fs.describes)
	}
	for range 3 {
		if got, _ := read(a, end); len(got) != 0 {
			t.Fatalf("re-read = %v, want nothing", got)
		}
	}
	if fs.describes != 2 {
		t.Errorf("%d DescribeStream calls after idle reads, want 2 (cached)", fs.describes)
	}

	// s1 closes after one more record; its child s2 opens.
	fs.shards[0].recs = append(fs.shards[0].recs, eventRec(12, "o1", 2))
	fs.shards[0].closed = true
	fs.shards = append(fs.shards, &fakeShard{id: "s2", parent: "s1", start: "20", recs: []stypes.Record{eventRec(21, "o1", 3)}})
	got, end2 := read(a, end)
	if diff := cmp.Diff([]string{"o1-e2", "o1-e3"}, got); diff != "" {
		t.Errorf("after the split (-want +got):\n%s", diff)
	}
	if fs.describes != 3 {
		t.Errorf("%d DescribeStream calls after the split, want 3 (s1 ended: one refresh)", fs.describes)
	}

	// b's cached list lacks s2, which a's cursor names: b refreshes.
	got, next := read(b, end2)
	if len(got) != 0 || next != end2 || fs.describes != 4 {
		t.Errorf("stale reader = %v, cursor moved %v, %d DescribeStream; want nothing, unmoved, 4", got, next != end2, fs.describes)
	}
}

func ids(cs []care.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.EventID)
	}
	return out
}
