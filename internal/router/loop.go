package router

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// Cursors keeps the loop's position in the feed.
type Cursors interface {
	Cursor(ctx context.Context, name string) (string, error)
	PutCursor(ctx context.Context, name, cursor string) error
}

// Loop feeds the embedded store's change feed to a Router: the local
// runtime's counterpart of the DynamoDB Streams trigger on AWS. It keeps
// its cursor in the store, advancing it only past handled changes, so a
// crash replays (Handle is idempotent) and a failing change is retried,
// never skipped. Wake (optional) signals new changes; Poll bounds the wait
// without one (default 1 s).
type Loop struct {
	Router  *Router
	Feed    care.Feed
	Cursors Cursors
	Wake    <-chan struct{}
	Poll    time.Duration
	Logger  *slog.Logger

	mu sync.Mutex // one drain at a time: changes are handled in feed order
}

const cursorName = "router"

// Drain handles every change in the feed now and returns how many it
// handled; it stops at the first change that fails (returning the error).
func (l *Loop) Drain(ctx context.Context) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cursor, err := l.Cursors.Cursor(ctx, cursorName)
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		changes, next, err := l.Feed.ReadFeed(ctx, cursor, 500)
		if err != nil || len(changes) == 0 {
			return n, err
		}
		for _, c := range changes {
			if err := l.Router.Handle(ctx, c); err != nil {
				// The cursor stays before this batch: the next drain handles
				// its changes again (Handle is idempotent) and retries this one.
				return n, err
			}
			n++
		}
		if err := l.Cursors.PutCursor(ctx, cursorName, next); err != nil {
			return n, err
		}
		cursor = next
	}
}

// Run drains whenever woken or polled until ctx ends.
func (l *Loop) Run(ctx context.Context) {
	poll := l.Poll
	if poll <= 0 {
		poll = time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if _, err := l.Drain(ctx); err != nil && ctx.Err() == nil && l.Logger != nil {
			l.Logger.WarnContext(ctx, "router: change not handled; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-l.Wake:
		case <-t.C:
		}
	}
}
