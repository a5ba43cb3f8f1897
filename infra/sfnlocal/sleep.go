package sfnlocal

import (
	"context"
	"time"
)

type engineKey struct{}

// Sleep pauses a Lambda handler invoked by an Engine for d on the engine's
// clock, and returns early with ctx.Err() when ctx ends. While it sleeps the
// invocation does not count as engine work, so with SkipIdle a virtual
// clock is advanced (to the next timer or sleeper due) instead of waiting
// for the handler. Outside an engine invocation it sleeps on the wall clock.
func Sleep(ctx context.Context, d time.Duration) error {
	e, _ := ctx.Value(engineKey{}).(*Engine)
	if e == nil {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	due := e.clk.Now().Add(d)
	ch, stop := e.clk.At(due)
	defer stop()
	e.sched.addSleeper(due.UnixMilli())
	e.busyDone(1)
	defer func() {
		e.busy.Add(1)
		e.sched.removeSleeper(due.UnixMilli())
	}()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WaitUntil blocks until the engine's clock reaches t, or ctx ends (its
// error), for work outside the engine that keeps its own schedule on the
// engine's clock (the local runtime's scheduled runs). With SkipIdle the
// wait counts as a timer: an idle engine moves the virtual clock to t
// rather than past it. On a nil error the engine counts as busy (WaitIdle
// waits, the clock does not skip on) until the caller calls release, once.
func (e *Engine) WaitUntil(ctx context.Context, t time.Time) (release func(), err error) {
	due := t.UnixMilli()
	ch, stop := e.clk.At(t)
	defer stop()
	e.sched.addSleeper(due)
	e.sched.poke()
	select {
	case <-ch:
		e.busy.Add(1)
		e.sched.removeSleeper(due)
		return func() { e.busyDone(1) }, nil
	case <-ctx.Done():
		e.sched.removeSleeper(due)
		return nil, ctx.Err()
	}
}
