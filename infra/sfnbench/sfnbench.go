// Package sfnbench benchmarks the local Step Functions engine
// (infra/sfnlocal): executions per second of a definition through the
// engine's Go API or its HTTP API, executions parked on timers and the lag
// when many come due at once, and one large inline Map. care sfn bench
// runs it; scripts/sfn-bench.sh compares it with AWS's Step Functions Local.
package sfnbench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/ordercare/ordercare/infra/sfnhttp"
	"github.com/ordercare/ordercare/infra/sfnlocal"
	"github.com/ordercare/ordercare/internal/clock"
)

// Options say which benchmark to run and how (the flags of care sfn bench).
type Options struct {
	Definition  string        // ASL file of the throughput benchmark
	Executions  int           // how many executions of Definition
	Concurrency int           // concurrent StartExecution callers
	Mode        string        // engine (the Go API) or api (the HTTP API through the AWS SDK)
	Parked      int           // > 0: the parked-executions benchmark with this many
	Due         int           // with Parked: executions coming due at once
	DueMargin   time.Duration // with Parked: slack added to the estimated creation time of the due ones
	MapItems    int           // > 0: the Map benchmark over this many items
}

// Run runs the benchmark o selects (Parked, else MapItems, else the
// throughput of Definition) on a fresh durable engine in a temporary
// directory, with progress to progress, and returns its figures (a value
// that marshals to one JSON line).
func Run(ctx context.Context, o Options, progress io.Writer) (any, error) {
	switch {
	case o.Parked > 0:
		return benchParked(ctx, o, progress)
	case o.MapItems > 0:
		return benchMap(ctx, o, progress)
	}
	return benchRun(ctx, o, progress)
}

// benchResult is the line `care sfn bench` prints, the same shape as
// scripts/sfn-bench/run.cjs.
type benchResult struct {
	Executions           int     `json:"executions"`
	Seconds              float64 `json:"seconds"`
	PerSecond            float64 `json:"per_second"`
	TransitionsPerSecond float64 `json:"transitions_per_second"`
}

// benchEngine is a fresh durable engine in a temporary directory that
// reports closed executions.
type benchEngine struct {
	*sfnlocal.Engine
	dir    string
	mu     sync.Mutex
	onDone func(arn, status string)
}

func openBenchEngine(ctx context.Context, logw io.Writer) (*benchEngine, error) {
	dir, err := os.MkdirTemp("", "care-sfn-bench-")
	if err != nil {
		return nil, err
	}
	b := &benchEngine{dir: dir}
	eng, err := sfnlocal.Open(ctx, sfnlocal.Config{
		Path:   filepath.Join(dir, "sfn.db"),
		Clock:  clock.Real{},
		Logger: slog.New(slog.NewTextHandler(logw, nil)),
		OnExecutionClosed: func(arn, status string) {
			b.mu.Lock()
			f := b.onDone
			b.mu.Unlock()
			if f != nil {
				f(arn, status)
			}
		},
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("open engine: %w", err)
	}
	b.Engine = eng
	return b, nil
}

// watch makes f receive every execution that closes from now on.
func (b *benchEngine) watch(f func(arn, status string)) {
	b.mu.Lock()
	b.onDone = f
	b.mu.Unlock()
}

// close closes the engine and removes its directory.
func (b *benchEngine) close() error {
	err := b.Engine.Close()
	if rmErr := os.RemoveAll(b.dir); err == nil {
		err = rmErr
	}
	return err
}

// dbBytes is the size of the engine's files on disk.
func (b *benchEngine) dbBytes() int64 {
	var n int64
	entries, _ := os.ReadDir(b.dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			n += info.Size()
		}
	}
	return n
}

// counter counts closed executions and closes done after want of them.
type counter struct {
	want   int64
	n      atomic.Int64
	failed atomic.Int64
	last   atomic.Value // string: a failed execution's status and ARN
	done   chan struct{}
}

func newCounter(want int) *counter { return &counter{want: int64(want), done: make(chan struct{})} }

func (c *counter) closed(arn, status string) {
	if status != sfnlocal.StatusSucceeded {
		c.failed.Add(1)
		c.last.Store(status + " " + arn)
	}
	if c.n.Add(1) == c.want {
		close(c.done)
	}
}

func (c *counter) wait(ctx context.Context) error {
	select {
	case <-c.done:
	case <-ctx.Done():
		return fmt.Errorf("%d of %d executions closed: %w", c.n.Load(), c.want, ctx.Err())
	}
	if f := c.failed.Load(); f > 0 {
		return fmt.Errorf("%d executions did not succeed, e.g. %v", f, c.last.Load())
	}
	return nil
}

// starter starts one execution.
type starter func(ctx context.Context, name, input string) error

// startAll starts executions 0..n-1 from c goroutines.
func startAll(ctx context.Context, n, c int, name func(int) string, input func(int) string, start starter) error {
	var next atomic.Int64
	errs := make(chan error, c)
	var wg sync.WaitGroup
	for range min(c, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := start(ctx, name(i), input(i)); err != nil {
					errs <- fmt.Errorf("start %s: %w", name(i), err)
					next.Store(int64(n))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func benchInput(i int) string { return fmt.Sprintf(`{"orderId":"o-%d","amount":%d}`, i, i%200) }
func benchName(i int) string  { return "bench-" + strconv.Itoa(i) }

// benchRun runs --executions of --definition in --mode engine or api.
func benchRun(ctx context.Context, o Options, stderr io.Writer) (*benchResult, error) {
	def, err := os.ReadFile(o.Definition)
	if err != nil {
		return nil, err
	}
	eng, err := openBenchEngine(ctx, stderr)
	if err != nil {
		return nil, err
	}
	defer eng.close()

	var api sfnhttp.API = eng.Engine
	if o.Mode == "api" {
		url, stop, err := serveAPI(eng.Engine)
		if err != nil {
			return nil, err
		}
		defer stop()
		api = sdkAPI{newSFNClient(url, o.Concurrency)}
	}
	created, err := api.CreateStateMachine(ctx, &sfnlocal.CreateStateMachineInput{
		Name: "bench", Definition: string(def), RoleArn: "arn:aws:iam::111111111111:role/care-bench",
	})
	if err != nil {
		return nil, fmt.Errorf("create state machine: %w", err)
	}
	machine := created.StateMachineArn

	cnt := newCounter(o.Executions)
	eng.watch(cnt.closed)
	begin := time.Now()
	err = startAll(ctx, o.Executions, o.Concurrency, benchName, benchInput, func(ctx context.Context, name, input string) error {
		_, err := api.StartExecution(ctx, &sfnlocal.StartExecutionInput{StateMachineArn: machine, Name: name, Input: input})
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := cnt.wait(ctx); err != nil {
		return nil, err
	}
	secs := time.Since(begin).Seconds()

	// Transitions per execution: the states entered by a sample of the
	// executions (both Choice branches of the bench definition).
	samples := []int{0}
	if o.Executions > 101 {
		samples = append(samples, 101)
	}
	var entered int
	for _, i := range samples {
		n, err := statesEntered(ctx, api, executionArn(machine, benchName(i)))
		if err != nil {
			return nil, err
		}
		entered += n
	}
	perExec := float64(entered) / float64(len(samples))
	perSec := float64(o.Executions) / secs
	return &benchResult{
		Executions:           o.Executions,
		Seconds:              round(secs, 3),
		PerSecond:            round(perSec, 0),
		TransitionsPerSecond: round(perSec*perExec, 0),
	}, nil
}

// executionArn is the ARN of execution name of state machine machine.
func executionArn(machine, name string) string {
	return strings.Replace(machine, ":stateMachine:", ":execution:", 1) + ":" + name
}

// statesEntered counts the states an execution entered (what Step
// Functions bills as state transitions), from its history.
func statesEntered(ctx context.Context, api sfnhttp.API, arn string) (int, error) {
	noData := false
	in := &sfnlocal.GetExecutionHistoryInput{ExecutionArn: arn, MaxResults: 1000, IncludeExecutionData: &noData}
	n := 0
	for {
		out, err := api.GetExecutionHistory(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("history of %s: %w", arn, err)
		}
		for _, ev := range out.Events {
			if strings.HasSuffix(ev.Type, "StateEntered") {
				n++
			}
		}
		if out.NextToken == "" {
			return n, nil
		}
		in.NextToken = out.NextToken
	}
}

func round(v float64, places int) float64 {
	p, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', places, 64), 64)
	return p
}

// serveAPI serves api's Step Functions HTTP API on a loopback port.
func serveAPI(api sfnhttp.API) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{
		Handler:           sfnhttp.NewHandler(api, slog.New(slog.NewTextHandler(os.Stderr, nil))),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// newSFNClient is the SDK client for a local endpoint, with a connection
// per concurrent caller and no retries (a bench should see every error).
func newSFNClient(url string, conns int) *sfn.Client {
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = conns
		tr.MaxIdleConnsPerHost = conns
	})
	return sfn.New(sfn.Options{
		BaseEndpoint: aws.String(url),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDBENCH", "bench", ""),
		HTTPClient:   hc,
		Retryer:      aws.NopRetryer{},
	})
}

// sdkAPI implements the operations the bench calls (create, start,
// history) through the SDK client; the others return errNotInBench.
type sdkAPI struct{ c *sfn.Client }

var _ sfnhttp.API = sdkAPI{}

func (s sdkAPI) CreateStateMachine(ctx context.Context, in *sfnlocal.CreateStateMachineInput) (*sfnlocal.CreateStateMachineOutput, error) {
	out, err := s.c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(in.Name), Definition: aws.String(in.Definition), RoleArn: aws.String(in.RoleArn),
	})
	if err != nil {
		return nil, err
	}
	return &sfnlocal.CreateStateMachineOutput{StateMachineArn: aws.ToString(out.StateMachineArn), CreationDate: sfnlocal.TS(aws.ToTime(out.CreationDate))}, nil
}

func (s sdkAPI) StartExecution(ctx context.Context, in *sfnlocal.StartExecutionInput) (*sfnlocal.StartExecutionOutput, error) {
	out, err := s.c.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(in.StateMachineArn), Name: aws.String(in.Name), Input: aws.String(in.Input),
	})
	if err != nil {
		return nil, err
	}
	return &sfnlocal.StartExecutionOutput{ExecutionArn: aws.ToString(out.ExecutionArn), StartDate: sfnlocal.TS(aws.ToTime(out.StartDate))}, nil
}

func (s sdkAPI) GetExecutionHistory(ctx context.Context, in *sfnlocal.GetExecutionHistoryInput) (*sfnlocal.GetExecutionHistoryOutput, error) {
	req := &sfn.GetExecutionHistoryInput{
		ExecutionArn: aws.String(in.ExecutionArn), MaxResults: int32(in.MaxResults),
		IncludeExecutionData: in.IncludeExecutionData,
	}
	if in.NextToken != "" {
		req.NextToken = aws.String(in.NextToken)
	}
	out, err := s.c.GetExecutionHistory(ctx, req)
	if err != nil {
		return nil, err
	}
	res := &sfnlocal.GetExecutionHistoryOutput{NextToken: aws.ToString(out.NextToken)}
	for _, ev := range out.Events {
		res.Events = append(res.Events, sfnlocal.HistoryEvent{Type: string(ev.Type), ID: ev.Id, PreviousEventID: ev.PreviousEventId})
	}
	return res, nil
}

func (sdkAPI) UpdateStateMachine(context.Context, *sfnlocal.UpdateStateMachineInput) (*sfnlocal.UpdateStateMachineOutput, error) {
	return nil, errNotInBench
}
func (sdkAPI) DescribeStateMachine(context.Context, *sfnlocal.DescribeStateMachineInput) (*sfnlocal.DescribeStateMachineOutput, error) {
	return nil, errNotInBench
}
func (sdkAPI) ListStateMachines(context.Context, *sfnlocal.ListStateMachinesInput) (*sfnlocal.ListStateMachinesOutput, error) {
	return nil, errNotInBench
}
func (sdkAPI) DeleteStateMachine(context.Context, *sfnlocal.DeleteStateMachineInput) (*sfnlocal.DeleteStateMachineOutput, error) {
	return nil, errNotInBench
}
func (sdkAPI) ValidateStateMachineDefinition(context.Context, *sfnlocal.ValidateStateMachineDefinitionInput) (*sfnlocal.ValidateStateMachineDefinitionOutput, error) {
	return nil, errNotInBench
}
func (sdkAPI) StopExecution(context.Context, *sfnlocal.StopExecutionInput) (*sfnlocal.StopExecutionOutput, error) {
	return nil, errNotInBench
}
func (sdkAPI) DescribeExecution(context.Context, *sfnlocal.DescribeExecutionInput) (*sfnlocal.DescribeExecutionOutput, error) {
	return nil, errNotInBench
}
func (sdkAPI) ListExecutions(context.Context, *sfnlocal.ListExecutionsInput) (*sfnlocal.ListExecutionsOutput, error) {
	return nil, errNotInBench
}
func (sdkAPI) SendTaskSuccess(context.Context, *sfnlocal.SendTaskSuccessInput) (*sfnlocal.SendTaskSuccessOutput, error) {
	return nil, errNotInBench
}
func (sdkAPI) SendTaskFailure(context.Context, *sfnlocal.SendTaskFailureInput) (*sfnlocal.SendTaskFailureOutput, error) {
	return nil, errNotInBench
}
func (sdkAPI) SendTaskHeartbeat(context.Context, *sfnlocal.SendTaskHeartbeatInput) (*sfnlocal.SendTaskHeartbeatOutput, error) {
	return nil, errNotInBench
}

var errNotInBench = errors.New("care sfn bench: operation not used by the bench")

// parkedDefinition waits until $.due, then succeeds.
const parkedDefinition = `{"StartAt":"Park","States":{"Park":{"Type":"Wait","TimestampPath":"$.due","Next":"Done"},"Done":{"Type":"Succeed"}}}`

// parkedResult is the line `care sfn bench --parked` prints.
type parkedResult struct {
	Parked          int     `json:"parked"`
	CreateSeconds   float64 `json:"create_seconds"`
	CreatePerSecond float64 `json:"create_per_second"`
	RSSMiB          float64 `json:"rss_mib"`
	HWMMiB          float64 `json:"hwm_mib"`
	HeapMiB         float64 `json:"heap_mib"`
	DBMiB           float64 `json:"db_mib"`
	Due             int     `json:"due"`
	DueCreateSecs   float64 `json:"due_create_seconds"`
	DueInPast       bool    `json:"due_in_past,omitempty"` // the due set was created after its due time: lags include creation
	LagP50Ms        float64 `json:"lag_p50_ms"`
	LagP99Ms        float64 `json:"lag_p99_ms"`
	LagMaxMs        float64 `json:"lag_max_ms"`
}

// benchParked parks --parked executions 30 days out, measures memory, then
// makes --due executions come due at one moment and measures the lag from
// that moment to each one's completion.
func benchParked(ctx context.Context, o Options, stderr io.Writer) (*parkedResult, error) {
	eng, err := openBenchEngine(ctx, stderr)
	if err != nil {
		return nil, err
	}
	defer eng.close()
	created, err := eng.CreateStateMachine(ctx, &sfnlocal.CreateStateMachineInput{
		Name: "parked", Definition: parkedDefinition, RoleArn: "arn:aws:iam::111111111111:role/care-bench",
	})
	if err != nil {
		return nil, fmt.Errorf("create state machine: %w", err)
	}
	machine := created.StateMachineArn
	start := func(ctx context.Context, name, input string) error {
		_, err := eng.StartExecution(ctx, &sfnlocal.StartExecutionInput{StateMachineArn: machine, Name: name, Input: input})
		return err
	}

	far := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	farInput := `{"due":"` + far + `"}`
	begin := time.Now()
	var done atomic.Int64
	go reportProgress(ctx, stderr, "parked", &done, o.Parked)
	err = startAll(ctx, o.Parked, o.Concurrency, func(i int) string { return "parked-" + strconv.Itoa(i) },
		func(int) string { return farInput }, func(ctx context.Context, name, input string) error {
			err := start(ctx, name, input)
			done.Add(1)
			return err
		})
	if err != nil {
		return nil, err
	}
	createSecs := time.Since(begin).Seconds()
	rate := float64(o.Parked) / createSecs
	res := &parkedResult{
		Parked:          o.Parked,
		CreateSeconds:   round(createSecs, 3),
		CreatePerSecond: round(rate, 0),
		Due:             o.Due,
	}
	res.RSSMiB, res.HWMMiB = procMemMiB()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.HeapMiB = round(float64(ms.HeapInuse)/(1<<20), 1)
	res.DBMiB = round(float64(eng.dbBytes())/(1<<20), 1)
	if o.Due == 0 {
		return res, nil
	}

	// The due set: all due at one moment, after the time it takes to create
	// them (estimated from the parked rate) plus a margin.
	estimate := time.Duration(float64(o.Due) / rate * 1.5 * float64(time.Second))
	dueAt := time.Now().Add(estimate + o.DueMargin).UTC().Truncate(time.Second).Add(time.Second)
	dueInput := `{"due":"` + dueAt.Format(time.RFC3339) + `"}`
	var (
		mu   sync.Mutex
		lags []time.Duration
	)
	cnt := newCounter(o.Due)
	eng.watch(func(arn, status string) {
		if !strings.Contains(arn, ":due-") {
			return
		}
		lag := time.Since(dueAt)
		mu.Lock()
		lags = append(lags, lag)
		mu.Unlock()
		cnt.closed(arn, status)
	})
	begin = time.Now()
	err = startAll(ctx, o.Due, o.Concurrency, func(i int) string { return "due-" + strconv.Itoa(i) },
		func(int) string { return dueInput }, start)
	if err != nil {
		return nil, err
	}
	res.DueCreateSecs = round(time.Since(begin).Seconds(), 3)
	res.DueInPast = time.Now().After(dueAt)
	if err := cnt.wait(ctx); err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lags)
	pct := func(p float64) float64 {
		i := int(p * float64(len(lags)-1))
		return round(float64(lags[i])/float64(time.Millisecond), 1)
	}
	res.LagP50Ms, res.LagP99Ms, res.LagMaxMs = pct(0.50), pct(0.99), pct(1)
	return res, nil
}

// reportProgress writes how many of total are done every 10 s until they
// all are or ctx ends.
func reportProgress(ctx context.Context, w io.Writer, what string, done *atomic.Int64, total int) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n := done.Load()
			fmt.Fprintf(w, "care sfn bench: %d/%d %s\n", n, total, what)
			if n >= int64(total) {
				return
			}
		}
	}
}

// procMemMiB reads this process's resident set size and its peak from
// /proc/self/status (0 where unavailable).
func procMemMiB() (rss, hwm float64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v) // "123456 kB"
		if len(fields) == 0 {
			continue
		}
		kb, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			rss = round(kb/1024, 1)
		case "VmHWM":
			hwm = round(kb/1024, 1)
		}
	}
	return rss, hwm
}

// mapDefinition runs one inline Map over $.items, one Pass per item.
const mapDefinition = `{
  "StartAt": "Fan",
  "States": {
    "Fan": {
      "Type": "Map",
      "ItemsPath": "$.items",
      "ItemProcessor": {
        "ProcessorConfig": {"Mode": "INLINE"},
        "StartAt": "Tag",
        "States": {"Tag": {"Type": "Pass", "Parameters": {"id.$": "$.id", "key.$": "States.Format('item-{}', $.id)"}, "End": true}}
      },
      "ResultSelector": {"count.$": "States.ArrayLength($)"},
      "End": true
    }
  }
}`

// mapResult is the line `care sfn bench --map` prints.
type mapResult struct {
	Items                int     `json:"items"`
	Seconds              float64 `json:"seconds"`
	Transitions          int     `json:"transitions"`
	TransitionsPerSecond float64 `json:"transitions_per_second"`
}

// benchMap runs one execution of a Map over --map items.
func benchMap(ctx context.Context, o Options, stderr io.Writer) (*mapResult, error) {
	eng, err := openBenchEngine(ctx, stderr)
	if err != nil {
		return nil, err
	}
	defer eng.close()
	created, err := eng.CreateStateMachine(ctx, &sfnlocal.CreateStateMachineInput{
		Name: "map", Definition: mapDefinition, RoleArn: "arn:aws:iam::111111111111:role/care-bench",
	})
	if err != nil {
		return nil, fmt.Errorf("create state machine: %w", err)
	}
	var sb strings.Builder
	sb.WriteString(`{"items":[`)
	for i := range o.MapItems {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"id":%d}`, i)
	}
	sb.WriteString(`]}`)

	var status atomic.Value
	cnt := newCounter(1)
	eng.watch(func(arn, st string) { status.Store(st); cnt.closed(arn, st) })
	begin := time.Now()
	out, err := eng.StartExecution(ctx, &sfnlocal.StartExecutionInput{StateMachineArn: created.StateMachineArn, Name: "map", Input: sb.String()})
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	if err := cnt.wait(ctx); err != nil {
		desc, derr := eng.DescribeExecution(ctx, &sfnlocal.DescribeExecutionInput{ExecutionArn: out.ExecutionArn})
		if derr == nil && desc.Error != nil {
			return nil, fmt.Errorf("%w: %s: %.300s", err, *desc.Error, aws.ToString(desc.Cause))
		}
		return nil, err
	}
	secs := time.Since(begin).Seconds()
	n, err := statesEntered(ctx, eng.Engine, out.ExecutionArn)
	if err != nil {
		return nil, err
	}
	return &mapResult{
		Items:                o.MapItems,
		Seconds:              round(secs, 3),
		Transitions:          n,
		TransitionsPerSecond: round(float64(n)/secs, 0),
	}, nil
}
