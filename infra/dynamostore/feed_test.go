package dynamostore

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
)

// TestFeedCursor checks ReadFeed's stream cursor on DynamoDB Local: paging
// at every limit gives the same changes, a cursor at the end stays put, new
// events continue after it, and foreign or broken cursors are ErrInvalid.
func TestFeedCursor(t *testing.T) {
	clk := clock.NewVirtual(t0, nil)
	s := newStore(t, clk)
	c := t.Context()
	shop := mustShop(t, s)

	var want []care.Change
	// ingest stamps the delivery with the virtual clock, or leaves
	// ReceivedAt zero on odd versions so that the store's clock stands in.
	ingest := func(ev care.Event) {
		t.Helper()
		d := deliv(shop)
		d.ReceivedAt = clk.Now()
		if len(want)%2 == 1 {
			d.ReceivedAt = time.Time{}
		}
		res, err := s.Ingest(c, d, ev, care.Apply)
		if err != nil {
			t.Fatalf("Ingest: %v", err)
		}
		want = append(want, care.Change{ShopID: shop, OrderID: ev.Order.ID, EventID: ev.ID, Type: ev.Type,
			Version: res.Order.Version, At: clk.Now()})
		if _, err := clk.Advance(time.Second); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		for k := range 4 {
			id := fmt.Sprintf("order-%d", k)
			if i == 0 {
				ingest(createdEv(id))
			} else {
				ingest(paidEv(id, time.Duration(i)*time.Minute))
			}
		}
	}

	all, end, err := s.ReadFeed(c, "", 1000)
	if err != nil {
		t.Fatalf("ReadFeed: %v", err)
	}
	// Compare per order: the contract orders changes within an order only.
	byOrder := func(cs []care.Change) map[string][]care.Change {
		m := map[string][]care.Change{}
		for _, ch := range cs {
			m[ch.OrderID] = append(m[ch.OrderID], ch)
		}
		return m
	}
	if diff := cmp.Diff(byOrder(want), byOrder(all)); diff != "" {
		t.Fatalf("ReadFeed(\"\") per order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Logf("DynamoDB Local gives another global order than ingestion's (-ingest +feed):\n%s", diff)
	}
	shards := describeShards(t, s)
	t.Logf("stream has %d shard(s) for %d changes", len(shards), len(all))

	for _, limit := range []int{1, 2, 5, 11} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			var got []care.Change
			cursor := ""
			for range 100 {
				page, next, err := s.ReadFeed(c, cursor, limit)
				if err != nil {
					t.Fatalf("ReadFeed: %v", err)
				}
				if len(page) > limit {
					t.Fatalf("%d changes for limit %d", len(page), limit)
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
			if diff := cmp.Diff(all, got); diff != "" {
				t.Errorf("paged read differs (-one read +paged):\n%s", diff)
			}
		})
	}

	t.Run("end stays put", func(t *testing.T) {
		page, next, err := s.ReadFeed(c, end, 1000)
		if err != nil || len(page) != 0 || next != end {
			t.Errorf("ReadFeed(end) = %d changes, same cursor %v, %v; want none, true", len(page), next == end, err)
		}
	})
	t.Run("continues after end", func(t *testing.T) {
		before := len(want)
		ingest(paidEv("order-9", 0))
		ingest(paidEv("order-1", time.Hour))
		page, next, err := s.ReadFeed(c, end, 1000)
		if err != nil {
			t.Fatalf("ReadFeed: %v", err)
		}
		if diff := cmp.Diff(byOrder(want[before:]), byOrder(page)); diff != "" {
			t.Errorf("changes after end (-want +got):\n%s", diff)
		}
		if page, _, _ := s.ReadFeed(c, next, 1000); len(page) != 0 {
			t.Errorf("ReadFeed(new end) = %d changes, want none", len(page))
		}
	})
	t.Run("duplicates and rejections add nothing", func(t *testing.T) {
		_, end, err := s.ReadFeed(c, end, 1000)
		if err != nil {
			t.Fatal(err)
		}
		ev := paidEv("order-2", time.Hour)
		d := deliv(shop)
		for range 2 {
			if _, err := s.Ingest(c, d, ev, care.Apply); err != nil {
				t.Fatalf("Ingest: %v", err)
			}
		}
		reject := func(*care.OrderState, care.Event, time.Time) (care.OrderState, error) {
			return care.OrderState{}, &care.RejectError{Reason: "no"}
		}
		if _, err := s.Ingest(c, deliv(shop), paidEv("order-3", time.Hour), reject); !errors.Is(err, care.ErrRejected) {
			t.Fatalf("Ingest(reject) = %v", err)
		}
		page, _, err := s.ReadFeed(c, end, 1000)
		if err != nil || len(page) != 1 || page[0].EventID != ev.ID {
			t.Errorf("ReadFeed = %+v, %v; want the one applied event", page, err)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		other := newStore(t, clk)
		if _, err := other.Ingest(c, deliv(mustShop(t, other)), createdEv("o"), care.Apply); err != nil {
			t.Fatal(err)
		}
		_, foreign, err := other.ReadFeed(c, "", 10)
		if err != nil || foreign == "" {
			t.Fatalf("other store's ReadFeed: %q, %v", foreign, err)
		}
		for _, cur := range []string{"garbage", "f1.%%%", "f1.e30", foreign} {
			if _, _, err := s.ReadFeed(c, cur, 10); !errors.Is(err, care.ErrInvalid) {
				t.Errorf("ReadFeed(%q) = %v, want ErrInvalid", cur, err)
			}
		}
		for _, limit := range []int{0, -1, 1001} {
			if _, _, err := s.ReadFeed(c, "", limit); !errors.Is(err, care.ErrInvalid) {
				t.Errorf("ReadFeed(limit %d) = %v, want ErrInvalid", limit, err)
			}
		}
	})
}

func describeShards(t *testing.T, s *Store) []string {
	t.Helper()
	arn, err := s.streamARN(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.streams.DescribeStream(t.Context(), &dynamodbstreams.DescribeStreamInput{StreamArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, sh := range out.StreamDescription.Shards {
		ids = append(ids, fmt.Sprintf("%s(parent %s, seq %s..%s)", aws.ToString(sh.ShardId), aws.ToString(sh.ParentShardId),
			aws.ToString(sh.SequenceNumberRange.StartingSequenceNumber), aws.ToString(sh.SequenceNumberRange.EndingSequenceNumber)))
	}
	t.Logf("shards: %v", ids)
	return ids
}
