package localruntime

import (
	"os"
	"runtime/debug"
)

// GCPercent is the garbage collector's target (GOGC) that care serve runs
// with unless its environment sets GOGC: 200, twice Go's default. With
// 100,000 parcels in flight the runtime keeps 50-60 MiB live and a surge
// allocates fast: at 100, the first second of 10,000 stalls due at once
// ran five collections, 0.22-0.24 s of its 1.8 s of CPU; at 200, two, 0.10
// s (BenchmarkStallTimers). It costs about 50 MB of resident memory there
// (325 MB instead of 275 MB).
const GCPercent = 200

// TuneGC sets the collector's target to GCPercent, unless the environment
// sets GOGC (the operator's choice stays), and returns a func that puts
// back the target it found.
func TuneGC() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	old := debug.SetGCPercent(GCPercent)
	return func() { debug.SetGCPercent(old) }
}
