package sfnlocal

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
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
	callers := 64 * runtime.GOMAXPROCS(0)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
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
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el, "executions/s")
	b.ReportMetric(float64(4*b.N)/el, "transitions/s")
}
