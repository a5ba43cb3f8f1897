package clock

import (
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)

func fired(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestVirtualWakesWaitersInOrder(t *testing.T) {
	v := NewVirtual(t0, nil)
	early, _ := v.At(t0.Add(time.Minute))
	late, _ := v.At(t0.Add(time.Hour))
	stopped, stop := v.At(t0.Add(time.Second))
	stop()
	if past, _ := v.At(t0); !fired(past) {
		t.Fatal("a wait for now or the past must fire at once")
	}
	if _, err := v.Advance(30 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if !fired(early) || fired(late) || fired(stopped) {
		t.Fatalf("after 30m: early %v late %v stopped %v", fired(early), fired(late), fired(stopped))
	}
	if err := v.Set(t0.Add(time.Hour)); err != nil || !fired(late) {
		t.Fatalf("set to the due time: %v, late fired %v", err, fired(late))
	}
	if got := v.Now(); !got.Equal(t0.Add(time.Hour)) {
		t.Errorf("Now = %s", got)
	}
}

func TestVirtualNeverMovesBack(t *testing.T) {
	v := NewVirtual(t0, nil)
	if err := v.Set(t0.Add(-time.Second)); !errors.Is(err, ErrBackwards) {
		t.Errorf("Set backwards: %v", err)
	}
	if _, err := v.Advance(-time.Second); !errors.Is(err, ErrBackwards) {
		t.Errorf("Advance negative: %v", err)
	}
	if !v.Now().Equal(t0) {
		t.Errorf("clock moved: %s", v.Now())
	}
}

func TestVirtualRefusesMoveWhenPersistFails(t *testing.T) {
	var saved []time.Time
	fail := false
	v := NewVirtual(t0, func(t time.Time) error {
		if fail {
			return errors.New("disk full")
		}
		saved = append(saved, t)
		return nil
	})
	w, _ := v.At(t0.Add(time.Minute))
	fail = true
	if _, err := v.Advance(time.Hour); err == nil || fired(w) || !v.Now().Equal(t0) {
		t.Fatalf("a failed save must refuse the move: err %v, fired %v, now %s", err, fired(w), v.Now())
	}
	fail = false
	if _, err := v.Advance(time.Hour); err != nil || !fired(w) || len(saved) != 1 || !saved[0].Equal(t0.Add(time.Hour)) {
		t.Fatalf("advance: %v fired %v saved %v", err, fired(w), saved)
	}
}
