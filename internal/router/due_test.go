package router_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/router"
)

type dueFunc func(ctx context.Context, limit int) (int, error)

func (f dueFunc) StartDue(ctx context.Context, limit int) (int, error) { return f(ctx, limit) }

// TestDueHandler: batches until one comes back short; an error stops it.
func TestDueHandler(t *testing.T) {
	left := 7
	calls := 0
	h := &router.DueHandler{Batch: 3, Router: dueFunc(func(_ context.Context, limit int) (int, error) {
		calls++
		n := min(left, limit)
		left -= n
		return n, nil
	})}
	if n, err := h.Handle(t.Context()); n != 7 || err != nil || calls != 3 {
		t.Errorf("Handle = %d, %v after %d calls; want 7, nil after 3", n, err, calls)
	}
	boom := errors.New("boom")
	h.Router = dueFunc(func(context.Context, int) (int, error) { return 3, boom })
	if _, err := h.Handle(t.Context()); !errors.Is(err, boom) {
		t.Errorf("Handle = %v, want boom", err)
	}
}

// TestLambdaHandler: the router function tells a stream batch from the
// scheduled rule's event (the shapes Lambda delivers), and refuses others.
func TestLambdaHandler(t *testing.T) {
	var changes, dues int
	stream := &router.StreamHandler{
		Router: changeFunc(func(context.Context, care.Change) error { changes++; return nil }),
		Decode: func(events.DynamoDBEventRecord) (care.Change, bool, error) {
			return care.Change{OrderID: "A"}, true, nil
		},
	}
	due := &router.DueHandler{Router: dueFunc(func(context.Context, int) (int, error) { dues++; return 0, nil })}
	h := router.LambdaHandler(stream, due)
	streamEvent := `{"Records":[{"eventID":"1","eventName":"INSERT","eventSource":"aws:dynamodb","dynamodb":{"SequenceNumber":"100"}}]}`
	// As EventBridge delivers a rate(1 minute) rule's event.
	scheduled := `{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.events",
		"account":"123456789012","time":"2026-12-06T07:31:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/due"],"detail":{}}`
	if _, err := h(t.Context(), json.RawMessage(streamEvent)); err != nil || changes != 1 || dues != 0 {
		t.Errorf("stream: %v, %d changes, %d due calls", err, changes, dues)
	}
	if _, err := h(t.Context(), json.RawMessage(scheduled)); err != nil || dues != 1 {
		t.Errorf("scheduled: %v, %d due calls", err, dues)
	}
	for _, bad := range []string{`{"source":"aws.s3","detail-type":"Object Created"}`, `[1]`} {
		if _, err := h(t.Context(), json.RawMessage(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

type changeFunc func(ctx context.Context, c care.Change) error

func (f changeFunc) Handle(ctx context.Context, c care.Change) error { return f(ctx, c) }
