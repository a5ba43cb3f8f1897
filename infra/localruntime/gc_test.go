package localruntime_test

import (
	"os"
	"runtime/debug"
	"testing"

	"github.com/ordercare/ordercare/infra/localruntime"
)

// TestTuneGC: the runtime's collector target is GCPercent, put back by
// the func TuneGC returns, and left alone when GOGC is set.
func TestTuneGC(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		t.Setenv("GOGC", "") // restored after the test
		os.Unsetenv("GOGC")
		before := debug.SetGCPercent(100)
		defer debug.SetGCPercent(before)
		restore := localruntime.TuneGC()
		if got := debug.SetGCPercent(localruntime.GCPercent); got != localruntime.GCPercent {
			t.Fatalf("after TuneGC the target is %d, want %d", got, localruntime.GCPercent)
		}
		restore()
		if got := debug.SetGCPercent(100); got != 100 {
			t.Fatalf("after restore the target is %d, want the 100 it found", got)
		}
	})
	t.Run("GOGC set", func(t *testing.T) {
		t.Setenv("GOGC", "150")
		before := debug.SetGCPercent(150)
		defer debug.SetGCPercent(before)
		localruntime.TuneGC()()
		if got := debug.SetGCPercent(150); got != 150 {
			t.Fatalf("with GOGC=150 set, TuneGC moved the target to %d", got)
		}
	})
}
