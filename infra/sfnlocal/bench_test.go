package sfnlocal

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/clock"
)

// BenchmarkShortExecutions runs the Pass(intrinsic) → Choice → Pass →
// Succeed definition end to end on the durable engine (real clock, SQLite
// file in a temp dir), with many concurrent StartExecution callers, and
// reports executions/s and state transitions/s until every execution has
// closed.
func BenchmarkShortExecutions(b *testing.B) {
	var done atomic.Int64
	all := make(chan struct{})
	target := int64(b.N)
	e, err := Open(context.Background(), Config{
		Path:  filepath.Join(b.TempDir(), "bench.db"),
		Clock: clock.Real{},
		OnExecutionClosed: func(arn, status string) {
			if done.Add(1) == target {
				close(all)
			}
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	sm, err := e.CreateStateMachine(context.Background(), &CreateStateMachineInput{Name: "bench", Definition: benchDef, RoleArn: "arn:aws:iam::111111111111:role/r"})
	if err != nil {
		b.Fatal(err)
	}
	callers := 512 * runtime.GOMAXPROCS(0)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	begin := time.Now()
	for c := 0; c < callers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > target {
					return
				}
				_, err := e.StartExecution(context.Background(), &StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: fmt.Sprintf("e%d", i), Input: fmt.Sprintf(`{"n":%d}`, i%20)})
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	<-all
	el := time.Since(begin).Seconds()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el, "executions/s")
	b.ReportMetric(float64(4*b.N)/el, "transitions/s")
	b.ReportMetric(float64(e.batched.Load())/float64(e.batches.Load()), "execs/commit")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/exec")
}
