package router

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ordercare/ordercare/internal/care"
)

// ChangeHandler handles one feed change; *Router implements it.
type ChangeHandler interface {
	Handle(ctx context.Context, c care.Change) error
}

var _ ChangeHandler = (*Router)(nil)

// StreamHandler is the router on AWS: the handler of a Lambda function
// whose event source is the table's DynamoDB stream, configured with
// FunctionResponseTypes [ReportBatchItemFailures]. It is the counterpart of
// Loop, which reads the embedded store's feed locally.
//
// Router and Decode are required; Logger and Reserve are optional. Decode
// turns a stream record into a change; ok false means the record is not a
// feed entry (an order's state, a dedupe item, a task…) and is skipped. It
// is safe for concurrent use when Router and Decode are (Lambda calls it for
// one batch of one shard at a time).
type StreamHandler struct {
	Router ChangeHandler
	Decode func(events.DynamoDBEventRecord) (care.Change, bool, error)
	Logger *slog.Logger
	// Reserve is how long before the invocation's deadline Handle stops:
	// the change in progress is cancelled and reported with the rest, so
	// the handled records stay checkpointed instead of Lambda timing out
	// and retrying the whole batch. Zero runs until the deadline.
	Reserve time.Duration
}

// Handle routes the batch's records in order. On the first record that
// cannot be decoded or handled it stops and reports that record's sequence
// number as the one batch item failure: Lambda then checkpoints before it and
// retries from it, so no later record of the shard overtakes a failed one
// (changes of one order stay in feed order) and records already handled
// are not retried (Router.Handle is idempotent either way). The error
// result is always nil: a failure is reported per record, never for the
// whole batch.
func (h *StreamHandler) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
	if deadline, ok := ctx.Deadline(); ok && h.Reserve > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-h.Reserve))
		defer cancel()
	}
	for _, rec := range ev.Records {
		err := ctx.Err() // out of time: hand the rest back rather than be cut off mid-batch
		if err == nil {
			err = h.record(ctx, rec)
		}
		if err != nil {
			if h.Logger != nil {
				h.Logger.WarnContext(ctx, "router: stream record not handled; Lambda retries from it",
					"sequence_number", rec.Change.SequenceNumber, "event_id", rec.EventID, "err", err)
			}
			resp.BatchItemFailures = append(resp.BatchItemFailures,
				events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
			return resp, nil
		}
	}
	return resp, nil
}

func (h *StreamHandler) record(ctx context.Context, rec events.DynamoDBEventRecord) error {
	c, ok, err := h.Decode(rec)
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if !ok {
		return nil
	}
	if err := h.Router.Handle(ctx, c); err != nil {
		return fmt.Errorf("route %s %s of order %s: %w", c.Type, c.EventID, c.OrderID, err)
	}
	return nil
}
