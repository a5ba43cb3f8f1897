package localruntime_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/ordercare/ordercare/infra/dynamostore"
	"github.com/ordercare/ordercare/infra/localruntime"
	"github.com/ordercare/ordercare/infra/sfnlocal"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
)

var _ localruntime.Store = (*dynamostore.Store)(nil)

// Who a DynamoDB call is charged to: a workflow (its step function's
// calls, and the router's reads and writes of its run items), the router's
// shared work (an order's event: the order, the shop, its ledger, the list
// of due runs), or the HTTP API (ingest, agents' actions and the
// benchmark's own reads: not priced).
const (
	meterShared = care.Workflow("(router, shared)")
	meterAPI    = care.Workflow("(api)")
	// meterFixed is what does not grow with orders: the scan for due runs
	// (on AWS once a minute over 8 shards, whatever the volume; locally at
	// every start), the shop's templates (written once per shop and
	// workflow, then read from the step function's cache) and the daily
	// retention sweep.
	meterFixed = care.Workflow("(fixed)")
)

// units are DynamoDB request units: on-demand read and write request units
// as DynamoDB reports them (ConsumedCapacity, table and indexes).
type units struct{ read, write float64 }

// meteredDB asks DynamoDB for the capacity each call consumes
// (ReturnConsumedCapacity INDEXES: the table's and each index's) and adds
// it up by who it is charged to.
type meteredDB struct {
	dynamostore.DynamoDB
	mu sync.Mutex
	by map[care.Workflow]units
}

type apiKey struct{}

// markAPI marks the requests h serves, so their DynamoDB calls are charged
// to meterAPI.
func markAPI(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), apiKey{}, true)))
	})
}

// chargedTo is who a call with ctx on the item with sort key sk is charged
// to: the API's requests; a step function's calls by the workflow whose
// execution invoked it (its state machine's name); the router's calls on a
// run item by the run's workflow (sort key RUN#<workflow>[#subject]); the
// router's other calls are shared.
func chargedTo(ctx context.Context, sk string) care.Workflow {
	if ctx.Value(apiKey{}) != nil {
		return meterAPI
	}
	if strings.HasPrefix(sk, "TPL#") || sk == dueScan || inStack("localruntime.(*Runtime).sweepTexts", "dynamostore.(*Store).DueRuns") {
		return meterFixed
	}
	if arn := sfnlocal.ExecutionARN(ctx); arn != "" {
		// arn:aws:states:<region>:<account>:execution:<state machine>:<name>
		if parts := strings.Split(arn, ":"); len(parts) >= 8 {
			return care.Workflow(parts[6])
		}
	}
	if wf, ok := strings.CutPrefix(sk, "RUN#"); ok {
		wf, _, _ = strings.Cut(wf, "#")
		return care.Workflow(wf)
	}
	return meterShared
}

// inStack says whether the call comes from one of funcs: the runtime's
// daily retention sweep (every shop's ledger, once a day), the list of due
// runs (the runs it reads from the table; locally read at every settle,
// on AWS once a minute): not per order.
func inStack(funcs ...string) bool {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	for {
		f, more := frames.Next()
		for _, fn := range funcs {
			if strings.Contains(f.Function, fn) {
				return true
			}
		}
		if !more {
			return false
		}
	}
}

// dueScan stands for the sort key of a query of the due runs (GSI2 DUE#n).
const dueScan = "(due scan)"

func skOf(item map[string]types.AttributeValue) string {
	if v, ok := item["SK"].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// traceDDB (COST_DDB_TRACE=1 make cost) prints every call's units, whom
// they are charged to and the store method that made the call: where the
// units go.
var traceDDB = os.Getenv("COST_DDB_TRACE") != ""

func (m *meteredDB) add(who care.Workflow, read bool, cs ...types.ConsumedCapacity) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if traceDDB {
		for _, c := range cs {
			idx := ""
			for k, v := range c.GlobalSecondaryIndexes {
				idx += fmt.Sprintf(" %s=%.1f", k, aws.ToFloat64(v.CapacityUnits))
			}
			t := 0.0
			if c.Table != nil {
				t = aws.ToFloat64(c.Table.CapacityUnits)
			}
			pcs := make([]uintptr, 20)
			n := runtime.Callers(3, pcs)
			frames := runtime.CallersFrames(pcs[:n])
			method := "?"
			for {
				f, more := frames.Next()
				if i := strings.Index(f.Function, "dynamostore.(*Store)."); i >= 0 {
					if name := f.Function[i+len("dynamostore.(*Store)."):]; name[0] >= 'A' && name[0] <= 'Z' {
						method = name
						break
					}
				}
				if !more {
					break
				}
			}
			fmt.Printf("DDBTRACE %s %s read=%v total=%.1f table=%.1f%s\n", who, method, read, aws.ToFloat64(c.CapacityUnits), t, idx)
		}
	}
	u := m.by[who]
	for _, c := range cs {
		if read {
			u.read += aws.ToFloat64(c.CapacityUnits)
		} else {
			u.write += aws.ToFloat64(c.CapacityUnits)
		}
	}
	m.by[who] = u
}

func one(c *types.ConsumedCapacity) []types.ConsumedCapacity {
	if c == nil {
		return nil
	}
	return []types.ConsumedCapacity{*c}
}

func (m *meteredDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.DynamoDB.GetItem(ctx, in, o...)
	if err == nil {
		m.add(chargedTo(ctx, skOf(in.Key)), true, one(out.ConsumedCapacity)...)
	}
	return out, err
}

func (m *meteredDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.DynamoDB.PutItem(ctx, in, o...)
	if out != nil {
		m.add(chargedTo(ctx, skOf(in.Item)), false, one(out.ConsumedCapacity)...)
	} else if err != nil { // a failed condition still consumes a write
		m.add(chargedTo(ctx, skOf(in.Item)), false, types.ConsumedCapacity{CapacityUnits: aws.Float64(1)})
	}
	return out, err
}

func (m *meteredDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.DynamoDB.DeleteItem(ctx, in, o...)
	if err == nil {
		m.add(chargedTo(ctx, skOf(in.Key)), false, one(out.ConsumedCapacity)...)
	}
	return out, err
}

func (m *meteredDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.DynamoDB.Query(ctx, in, o...)
	if err == nil {
		sk := ""
		if pk, ok := in.ExpressionAttributeValues[":pk"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(pk.Value, "DUE#") {
			sk = dueScan
		} else if p, ok := in.ExpressionAttributeValues[":prefix"].(*types.AttributeValueMemberS); ok {
			sk = p.Value
		}
		m.add(chargedTo(ctx, sk), true, one(out.ConsumedCapacity)...)
	}
	return out, err
}

func (m *meteredDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.DynamoDB.BatchGetItem(ctx, in, o...)
	if err == nil {
		sk := ""
		for _, ka := range in.RequestItems { // charged by its first key: the items of one index query
			if len(ka.Keys) > 0 {
				sk = skOf(ka.Keys[0])
			}
		}
		m.add(chargedTo(ctx, sk), true, out.ConsumedCapacity...)
	}
	return out, err
}

func (m *meteredDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.DynamoDB.TransactWriteItems(ctx, in, o...)
	if err == nil {
		sk := ""
		for _, it := range in.TransactItems { // charged by its run item, if it writes one
			switch {
			case it.Put != nil:
				sk = skOf(it.Put.Item)
			case it.Update != nil:
				sk = skOf(it.Update.Key)
			}
			if strings.HasPrefix(sk, "RUN#") {
				break
			}
		}
		m.add(chargedTo(ctx, sk), false, out.ConsumedCapacity...)
	}
	return out, err
}

// dynamoRuntime opens the local runtime on a new table of the DynamoDB
// Local at DYNAMODB_ENDPOINT, metered; ok false when none is set.
func dynamoOptions(tb testing.TB) (*meteredDB, localruntime.Options, bool) {
	tb.Helper()
	ep := os.Getenv("DYNAMODB_ENDPOINT")
	if ep == "" {
		return nil, localruntime.Options{}, false
	}
	db, st := dynamostore.LocalClients(ep)
	table := "ordercare-cost-" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	if err := dynamostore.CreateTable(tb.Context(), db, table); err != nil {
		tb.Fatalf("CreateTable: %v", err)
	}
	tb.Cleanup(func() { _ = dynamostore.DeleteTable(context.Background(), db, table) })
	m := &meteredDB{DynamoDB: db, by: map[care.Workflow]units{}}
	return m, localruntime.Options{Store: dynamostore.New(m, st, table, clock.Real{})}, true
}

// snapshot is a copy of the units so far.
func (m *meteredDB) snapshot() map[care.Workflow]units {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.by)
}
