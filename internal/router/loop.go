package router

import (
	"context"
	"errors"
	"hash/fnv"
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
// crash replays (Handle is idempotent) and a failing change is retried.
// Wake (optional) signals new changes; Poll bounds the wait without one
// (default 1 s).
//
// As on AWS (where a batch goes to the dead-letter queue after its
// retries), a change that keeps failing does not block every shop forever:
// after MaxFailures failed drains in a row, Run handles the stuck batch one
// change at a time, hands each change that still fails to DeadLetter, and
// moves on.
type Loop struct {
	Router      ChangeHandler
	Feed        care.Feed
	Cursors     Cursors
	Wake        <-chan struct{}
	Poll        time.Duration
	Logger      *slog.Logger
	Workers     int                                                 // orders handled at once; 0 means 8
	MaxFailures int                                                 // failed drains in a row before isolating; 0 means 30
	DeadLetter  func(ctx context.Context, c care.Change, err error) // nil only logs

	mu       sync.Mutex // one drain at a time: changes are handled in feed order
	failures int        // failed drains in a row (Run)
}

const cursorName = "router"

// defaultWorkers is how many orders a drain handles at once unless
// Loop.Workers says otherwise.
const defaultWorkers = 8

// Drain handles every change in the feed now and returns how many it
// handled in batches that completed. Changes of different orders are handled concurrently (Workers);
// the cursor moves past a batch only when all of it was handled, so a
// failing change stops the drain (returning its error) and is retried with
// its batch next time (Handle is idempotent).
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
		if err := l.handle(ctx, changes); err != nil {
			return n, err
		}
		n += len(changes)
		if err := l.Cursors.PutCursor(ctx, cursorName, next); err != nil {
			return n, err
		}
		cursor = next
	}
}

// handle runs a batch on the workers, each order's changes on one worker
// in order, and returns the first error.
func (l *Loop) handle(ctx context.Context, changes []care.Change) error {
	workers := l.Workers
	if workers <= 0 {
		workers = defaultWorkers
	}
	lanes := make([][]care.Change, workers)
	for _, c := range changes {
		h := fnv.New32a()
		h.Write([]byte(c.ShopID + "\x00" + c.OrderID))
		i := int(h.Sum32() % uint32(workers))
		lanes[i] = append(lanes[i], c)
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i, lane := range lanes {
		if len(lane) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, c := range lane {
				if errs[i] = l.Router.Handle(ctx, c); errs[i] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Isolate handles the next batch of the feed one change at a time, gives
// every change that fails to DeadLetter (and the log), and moves the cursor
// past the batch. It returns how many changes it dead-lettered.
func (l *Loop) Isolate(ctx context.Context) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cursor, err := l.Cursors.Cursor(ctx, cursorName)
	if err != nil {
		return 0, err
	}
	changes, next, err := l.Feed.ReadFeed(ctx, cursor, 500)
	if err != nil || len(changes) == 0 {
		return 0, err
	}
	dead := 0
	for _, c := range changes {
		if err := l.Router.Handle(ctx, c); err != nil {
			if ctx.Err() != nil {
				return dead, ctx.Err()
			}
			dead++
			if l.Logger != nil {
				l.Logger.ErrorContext(ctx, "router: change dead-lettered after repeated failures", "shop", c.ShopID,
					"event", c.EventID, "type", c.Type, "err", err)
			}
			if l.DeadLetter != nil {
				l.DeadLetter(ctx, c, err)
			}
		}
	}
	return dead, l.Cursors.PutCursor(ctx, cursorName, next)
}

// Run drains whenever woken or polled until ctx ends.
func (l *Loop) Run(ctx context.Context) {
	poll := l.Poll
	if poll <= 0 {
		poll = time.Second
	}
	maxFailures := l.MaxFailures
	if maxFailures <= 0 {
		maxFailures = 30
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if _, err := l.Drain(ctx); err != nil && ctx.Err() == nil {
			if l.failures++; l.failures >= maxFailures {
				l.failures = 0
				_, _ = l.Isolate(ctx)
			} else if l.Logger != nil {
				l.Logger.WarnContext(ctx, "router: change not handled; will retry", "err", err, "failures", l.failures)
			}
		} else {
			l.failures = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-l.Wake:
		case <-t.C:
		}
	}
}
