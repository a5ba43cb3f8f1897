package sfnhttp_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// BenchmarkStartExecution measures StartExecution through the SDK client,
// the HTTP handler and the durable engine (executions finish asynchronously).
func BenchmarkStartExecution(b *testing.B) {
	e := newEnv(b)
	machine := e.createMachine(b, "bench", passDefinition)
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := e.client.StartExecution(b.Context(), &sfn.StartExecutionInput{
				StateMachineArn: aws.String(machine), Name: aws.String(fmt.Sprintf("b-%d", i)),
				Input: aws.String(fmt.Sprintf(`{"orderId":"o%d","amount":%d}`, i, i%200)),
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
