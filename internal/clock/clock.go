// Package clock is the only source of time in ordercare. Everything that reads
// the time or waits for a moment takes a Clock, so tests and the local runtime
// can run on virtual time.
package clock

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"
)

// Clock tells the time and wakes waiters at a moment.
type Clock interface {
	// Now returns the current time (UTC for Virtual).
	Now() time.Time
	// At returns a channel that is closed once Now() >= t, and a stop function
	// that releases the wait early. Stop is safe to call more than once.
	At(t time.Time) (<-chan struct{}, func())
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// At waits on a real timer.
func (Real) At(t time.Time) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	tm := time.AfterFunc(time.Until(t), func() { close(ch) })
	return ch, func() { tm.Stop() }
}

// ErrBackwards is returned when a virtual clock is asked to move back in time.
var ErrBackwards = errors.New("clock: virtual time never moves backwards")

// Virtual is a clock moved only by its caller. It is safe for concurrent use.
type Virtual struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*waiter
	onSet   func(time.Time) error
}

type waiter struct {
	at   time.Time
	ch   chan struct{}
	done bool
}

// NewVirtual returns a virtual clock at start. onSet, when not nil, is called
// with the new time before every move is made visible (the runtime uses it to
// persist virtual time); if it fails the move is refused.
func NewVirtual(start time.Time, onSet func(time.Time) error) *Virtual {
	return &Virtual{now: start.UTC(), onSet: onSet}
}

// Now returns the virtual time.
func (v *Virtual) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.now
}

// At returns a channel closed once the virtual time reaches t.
func (v *Virtual) At(t time.Time) (<-chan struct{}, func()) {
	v.mu.Lock()
	defer v.mu.Unlock()
	w := &waiter{at: t, ch: make(chan struct{})}
	if !t.After(v.now) {
		w.done = true
		close(w.ch)
		return w.ch, func() {}
	}
	v.waiters = append(v.waiters, w)
	return w.ch, func() {
		v.mu.Lock()
		defer v.mu.Unlock()
		for i, x := range v.waiters {
			if x == w {
				v.waiters = append(v.waiters[:i], v.waiters[i+1:]...)
				break
			}
		}
	}
}

// Advance moves the clock forward by d (d >= 0) and returns the new time.
func (v *Virtual) Advance(d time.Duration) (time.Time, error) {
	if d < 0 {
		return v.Now(), ErrBackwards
	}
	v.mu.Lock()
	t := v.now.Add(d)
	v.mu.Unlock()
	return t, v.Set(t)
}

// Set moves the clock to t. Moving backwards returns ErrBackwards; setting the
// current time is a no-op. Waiters due at or before t are released in time order.
func (v *Virtual) Set(t time.Time) error {
	t = t.UTC()
	v.mu.Lock()
	defer v.mu.Unlock()
	if t.Before(v.now) {
		return ErrBackwards
	}
	if t.Equal(v.now) {
		return nil
	}
	if v.onSet != nil {
		if err := v.onSet(t); err != nil {
			return err
		}
	}
	v.now = t
	sort.SliceStable(v.waiters, func(i, j int) bool { return v.waiters[i].at.Before(v.waiters[j].at) })
	keep := v.waiters[:0]
	for _, w := range v.waiters {
		if !w.at.After(t) {
			w.done = true
			close(w.ch)
			continue
		}
		keep = append(keep, w)
	}
	v.waiters = keep
	return nil
}

// AdvanceTo is Set for callers that move a whole runtime's time (see
// httpapi.DevClock): a bare Virtual has nothing to wait for after moving.
func (v *Virtual) AdvanceTo(_ context.Context, t time.Time) error { return v.Set(t) }
