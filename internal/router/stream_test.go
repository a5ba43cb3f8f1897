package router_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/router"
)

// changeHandlerFunc is a func-field fake of the router.
type changeHandlerFunc func(ctx context.Context, c care.Change) error

func (f changeHandlerFunc) Handle(ctx context.Context, c care.Change) error { return f(ctx, c) }

// streamDecode is a fake decoder: the record's EventID is "<kind>:<event id>",
// kind "feed" (a change), "skip" (not a feed entry) or "bad" (undecodable).
func streamDecode(rec events.DynamoDBEventRecord) (care.Change, bool, error) {
	kind, id, _ := strings.Cut(rec.EventID, ":")
	switch kind {
	case "feed":
		return care.Change{ShopID: "s", OrderID: "o", EventID: id, Type: care.OrderPaid}, true, nil
	case "skip":
		return care.Change{}, false, nil
	}
	return care.Change{}, false, errors.New("undecodable")
}

func streamBatch(ids ...string) events.DynamoDBEvent {
	var ev events.DynamoDBEvent
	for i, id := range ids {
		ev.Records = append(ev.Records, events.DynamoDBEventRecord{EventID: id,
			Change: events.DynamoDBStreamRecord{SequenceNumber: fmt.Sprintf("10%02d", i)}})
	}
	return ev
}

func TestStreamHandler(t *testing.T) {
	tests := []struct {
		name    string
		records []string
		fail    map[string]bool // event ids the router fails
		handled []string        // event ids routed, in order
		failed  []string        // sequence numbers reported
	}{
		{name: "empty batch"},
		{name: "all handled", records: []string{"feed:a", "skip:", "feed:b"}, handled: []string{"a", "b"}},
		{name: "only other items", records: []string{"skip:", "skip:"}},
		{name: "router fails: stop there", records: []string{"feed:a", "feed:b", "skip:", "feed:c"},
			fail: map[string]bool{"b": true}, handled: []string{"a", "b"}, failed: []string{"1001"}},
		{name: "first record fails", records: []string{"feed:a", "feed:b"},
			fail: map[string]bool{"a": true}, handled: []string{"a"}, failed: []string{"1000"}},
		{name: "undecodable record: stop there", records: []string{"feed:a", "bad:", "feed:b"},
			handled: []string{"a"}, failed: []string{"1001"}},
		{name: "later failures are not reached", records: []string{"skip:", "feed:a", "feed:b"},
			fail: map[string]bool{"a": true, "b": true}, handled: []string{"a"}, failed: []string{"1001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var handled []string
			h := &router.StreamHandler{Decode: streamDecode, Router: changeHandlerFunc(func(_ context.Context, c care.Change) error {
				handled = append(handled, c.EventID)
				if tt.fail[c.EventID] {
					return errors.New("throttled")
				}
				return nil
			})}
			resp, err := h.Handle(context.Background(), streamBatch(tt.records...))
			if err != nil {
				t.Fatalf("Handle returned %v; failures must be reported per record", err)
			}
			var failed []string
			for _, f := range resp.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			if diff := cmp.Diff(tt.handled, handled); diff != "" {
				t.Errorf("routed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.failed, failed); diff != "" {
				t.Errorf("batch item failures (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStreamHandlerCancelled: with the invocation's time up, the unhandled
// records are handed back from the first one not started.
func TestStreamHandlerCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var handled []string
	h := &router.StreamHandler{Decode: streamDecode, Router: changeHandlerFunc(func(_ context.Context, c care.Change) error {
		handled = append(handled, c.EventID)
		cancel()
		return nil
	})}
	resp, err := h.Handle(ctx, streamBatch("feed:a", "feed:b"))
	if err != nil {
		t.Fatal(err)
	}
	want := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: "1001"}}}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a"}, handled); diff != "" {
		t.Fatalf("routed (-want +got):\n%s", diff)
	}
}

// TestStreamHandlerJSON: through the Lambda JSON path, the response has the
// shape Lambda reads for partial batch failures.
func TestStreamHandlerJSON(t *testing.T) {
	h := &router.StreamHandler{Decode: streamDecode, Router: changeHandlerFunc(func(context.Context, care.Change) error {
		return errors.New("down")
	})}
	in, err := json.Marshal(streamBatch("skip:", "feed:a"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := lambda.NewHandler(h.Handle).Invoke(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), `{"batchItemFailures":[{"itemIdentifier":"1001"}]}`; got != want {
		t.Fatalf("response %s, want %s", got, want)
	}
	h.Router = changeHandlerFunc(func(context.Context, care.Change) error { return nil })
	if out, err = lambda.NewHandler(h.Handle).Invoke(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), `{"batchItemFailures":[]}`; got != want {
		t.Fatalf("response %s, want %s", got, want)
	}
}

// TestStreamHandlerReserve: with less than Reserve left before the
// invocation's deadline, nothing more is routed and the batch is handed
// back from its first unhandled record.
func TestStreamHandlerReserve(t *testing.T) {
	tests := []struct {
		name    string
		reserve time.Duration
		handled []string
		failed  []string
	}{
		{name: "within the reserve", reserve: 2 * time.Hour, failed: []string{"1000"}},
		{name: "no reserve", handled: []string{"a", "b"}},
		{name: "time left", reserve: time.Second, handled: []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(time.Hour))
			defer cancel()
			var handled []string
			h := &router.StreamHandler{Decode: streamDecode, Reserve: tt.reserve, Router: changeHandlerFunc(func(ctx context.Context, c care.Change) error {
				handled = append(handled, c.EventID)
				return ctx.Err()
			})}
			resp, err := h.Handle(ctx, streamBatch("feed:a", "feed:b"))
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, f := range resp.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			if diff := cmp.Diff(tt.handled, handled); diff != "" {
				t.Errorf("routed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.failed, failed); diff != "" {
				t.Errorf("batch item failures (-want +got):\n%s", diff)
			}
		})
	}
}
