package router

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// DueStarter starts the scheduled runs that are due; *Router implements it.
type DueStarter interface {
	StartDue(ctx context.Context, limit int) (int, error)
}

var _ DueStarter = (*Router)(nil)

// DueHandler is the router's other duty on AWS: an EventBridge rule
// invokes it every minute and it starts every scheduled run due
// (Router.StartDue), batch after batch, until none is left or Reserve
// before the invocation's deadline (the rest wait for the next minute).
// A run is therefore started up to a minute after its time on AWS; the
// local runtime starts each at its time.
type DueHandler struct {
	Router  DueStarter
	Batch   int           // runs per StartDue call; 0 means 100
	Reserve time.Duration // stop this long before the deadline
	Logger  *slog.Logger  // nil discards
}

// Handle starts the runs due and returns how many it looked at. A run that
// fails to start is logged and left scheduled (it is due again next time),
// and the error is returned after the others were started.
func (h *DueHandler) Handle(ctx context.Context) (int, error) {
	if deadline, ok := ctx.Deadline(); ok && h.Reserve > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-h.Reserve))
		defer cancel()
	}
	batch := h.Batch
	if batch <= 0 {
		batch = 100
	}
	total := 0
	for ctx.Err() == nil {
		n, err := h.Router.StartDue(ctx, batch)
		total += n
		if err != nil {
			if h.Logger != nil {
				h.Logger.ErrorContext(ctx, "router: scheduled runs not started", "error", err.Error())
			}
			return total, err
		}
		if n < batch {
			break
		}
	}
	return total, nil
}

// LambdaHandler is the router function's handler: a DynamoDB stream batch
// goes to stream, an EventBridge scheduled event to due. Anything else is
// refused with an error naming what arrived.
func LambdaHandler(stream *StreamHandler, due *DueHandler) func(ctx context.Context, raw json.RawMessage) (any, error) {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var probe struct {
			Records    []json.RawMessage `json:"Records"`
			DetailType string            `json:"detail-type"`
			Source     string            `json:"source"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return nil, fmt.Errorf("router: event is not a JSON object: %w", err)
		}
		switch {
		case probe.Records != nil:
			var ev events.DynamoDBEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, fmt.Errorf("router: DynamoDB stream event: %w", err)
			}
			return stream.Handle(ctx, ev)
		case probe.DetailType == "Scheduled Event" && probe.Source == "aws.events":
			n, err := due.Handle(ctx)
			return map[string]int{"due": n}, err
		}
		return nil, fmt.Errorf("router: unknown event (source %q, detail-type %q)", probe.Source, probe.DetailType)
	}
}
