package router_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/ordercare/ordercare/infra/caretest"
	"github.com/ordercare/ordercare/infra/sqlitestore"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/router"
	"github.com/ordercare/ordercare/internal/steps"
	"github.com/ordercare/ordercare/workflows"
)

// The tests below run the Router against the real embedded store on a
// virtual clock, with a func-field fake of the Step Functions API and an
// injected Backoff that only records, so throttling paths run without
// waiting.

// start is 09:00 in Shanghai on Double 11.
var start = time.Date(2026, 11, 11, 1, 0, 0, 0, time.UTC)

const (
	shopID = "tea"
	phone  = "+8613912345678"
	email  = "xiaoyan@example.com"
)

var stateMachines = map[care.Workflow]string{
	care.UnpaidChase: "arn:aws:states:ap-east-1:123456789012:stateMachine:ordercare-unpaid_chase",
	care.CODConfirm:  "arn:aws:states:ap-east-1:123456789012:stateMachine:ordercare-cod_confirm",
	"preship_check":  "arn:aws:states:ap-east-1:123456789012:stateMachine:ordercare-preship_check",
}

// executionArn is the ARN of the execution name of a workflow's state machine.
func executionArn(wf care.Workflow, order string) string {
	return fmt.Sprintf("arn:aws:states:ap-east-1:123456789012:execution:ordercare-%s:%s", wf, steps.ExecutionName(wf, shopID, order))
}

// fakeSFN records every call. Each func field (nil: the default) answers one
// API: by default StartExecution refuses a name it started before with
// ExecutionAlreadyExists, as Step Functions does for a running execution
// started with different input, and the other calls succeed.
type fakeSFN struct {
	start   func(in *sfn.StartExecutionInput) error
	stop    func(in *sfn.StopExecutionInput) error
	success func(in *sfn.SendTaskSuccessInput) error

	mu        sync.Mutex
	started   map[string]bool
	starts    []*sfn.StartExecutionInput
	stops     []*sfn.StopExecutionInput
	successes []*sfn.SendTaskSuccessInput
}

func (f *fakeSFN) StartExecution(_ context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	f.mu.Lock()
	f.starts = append(f.starts, in)
	fn := f.start
	f.mu.Unlock()
	if fn != nil {
		if err := fn(in); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.started[*in.Name] {
		return nil, &sfntypes.ExecutionAlreadyExists{Message: aws.String("Execution Already Exists: " + *in.Name)}
	}
	if f.started == nil {
		f.started = map[string]bool{}
	}
	f.started[*in.Name] = true
	return &sfn.StartExecutionOutput{ExecutionArn: aws.String(*in.StateMachineArn + ":" + *in.Name), StartDate: aws.Time(start)}, nil
}

func (f *fakeSFN) StopExecution(_ context.Context, in *sfn.StopExecutionInput, _ ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error) {
	f.mu.Lock()
	f.stops = append(f.stops, in)
	fn := f.stop
	f.mu.Unlock()
	if fn != nil {
		if err := fn(in); err != nil {
			return nil, err
		}
	}
	return &sfn.StopExecutionOutput{StopDate: aws.Time(start)}, nil
}

func (f *fakeSFN) SendTaskSuccess(_ context.Context, in *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	f.mu.Lock()
	f.successes = append(f.successes, in)
	fn := f.success
	f.mu.Unlock()
	if fn != nil {
		if err := fn(in); err != nil {
			return nil, err
		}
	}
	return &sfn.SendTaskSuccessOutput{}, nil
}

func (f *fakeSFN) Starts() []*sfn.StartExecutionInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*sfn.StartExecutionInput(nil), f.starts...)
}

func (f *fakeSFN) Stops() []*sfn.StopExecutionInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*sfn.StopExecutionInput(nil), f.stops...)
}

func (f *fakeSFN) Successes() []*sfn.SendTaskSuccessInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*sfn.SendTaskSuccessInput(nil), f.successes...)
}

func throttling() error {
	return &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded", Fault: smithy.FaultClient}
}

type fixture struct {
	t       *testing.T
	ctx     context.Context
	db      *sqlitestore.DB
	clk     *clock.Virtual
	sfn     *fakeSFN
	r       *router.Router
	mu      sync.Mutex
	backoff []int // n of every Backoff call
	n       int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewVirtual(start, nil)
	db := caretest.Store(t, clk)
	caretest.Shop(t, db, caretest.TeaShop(shopID, start))
	f := &fixture{t: t, ctx: ctx, db: db, clk: clk, sfn: &fakeSFN{}}
	f.r = &router.Router{Store: db, SFN: f.sfn, Clock: clk, StateMachinePrefix: "arn:aws:states:ap-east-1:123456789012:stateMachine:ordercare-", Workflows: workflows.All(),
		Backoff: func(ctx context.Context, n int) error {
			f.mu.Lock()
			f.backoff = append(f.backoff, n)
			f.mu.Unlock()
			return nil
		}}
	return f
}

func (f *fixture) Backoffs() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.backoff...)
}

// ingest records ev (id and time filled in when empty) and returns its feed change.
func (f *fixture) ingest(ev care.Event) care.Change {
	f.t.Helper()
	f.n++
	if ev.ID == "" {
		ev.ID = fmt.Sprintf("evt-%s-%s-%d", ev.Type, ev.Order.ID, f.n)
	}
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = f.clk.Now()
	}
	if err := ev.Validate(); err != nil {
		f.t.Fatalf("test event %s: %v", ev.ID, err)
	}
	d := care.Delivery{ShopID: shopID, Source: care.SourceStandard, DeliveryID: ev.ID, ReceivedAt: f.clk.Now()}
	res, err := f.db.Ingest(f.ctx, d, ev, care.Apply)
	if err != nil {
		f.t.Fatalf("Ingest %s: %v", ev.ID, err)
	}
	return care.Change{ShopID: shopID, OrderID: ev.Order.ID, EventID: ev.ID, Type: ev.Type, Version: res.Order.Version, At: f.clk.Now()}
}

// placedAgo is how long before now fixture orders were placed.
const placedAgo = 10 * time.Minute

// created ingests the order.created of an order placed placedAgo before
// now: an unpaid order's first reminder (10 min after placing, by the
// default template) is due, so its chase starts at once rather than being
// scheduled (TestScheduledChase covers that).
func (f *fixture) created(id string, total care.Decimal, pay care.PaymentMethod, with ...func(*care.Order)) care.Change {
	f.t.Helper()
	placed := f.clk.Now().Add(-placedAgo)
	deadline := placed.Add(72 * time.Hour)
	o := care.Order{ID: id, PlacedAt: &placed, Total: total, Currency: "CNY", PaymentMethod: pay, PayDeadline: &deadline,
		Buyer: &care.Buyer{Name: "陈晓燕", Phone: phone, Email: email, Locale: "zh-CN", Timezone: "Asia/Shanghai"},
		Items: []care.Item{{SKU: "LJ-250", Title: "明前龙井 250g", Quantity: 1, Price: total}}}
	if pay == care.PayCOD {
		o.CODFee, o.PayDeadline = "8.00", nil
	}
	for _, w := range with {
		w(&o)
	}
	return f.ingest(care.Event{Type: care.OrderCreated, Order: o})
}

func (f *fixture) mark(typ care.EventType, orderID string) care.Change {
	f.t.Helper()
	return f.ingest(care.Event{Type: typ, Order: care.Order{ID: orderID}})
}

func (f *fixture) reply(orderID, text string) care.Change {
	f.t.Helper()
	return f.ingest(care.Event{Type: care.BuyerReplied, Order: care.Order{ID: orderID}, Reply: &care.Reply{Text: text, Channel: "sms"}})
}

func (f *fixture) handle(c care.Change) {
	f.t.Helper()
	if err := f.r.Handle(f.ctx, c); err != nil {
		f.t.Fatalf("Handle %s of %s: %v", c.Type, c.OrderID, err)
	}
}

func (f *fixture) runs(orderID string) []care.Run {
	f.t.Helper()
	rs, err := f.db.ListOrderRuns(f.ctx, shopID, orderID)
	if err != nil {
		f.t.Fatalf("ListOrderRuns: %v", err)
	}
	return rs
}

func (f *fixture) getRun(orderID string, wf care.Workflow) care.Run {
	f.t.Helper()
	r, err := f.db.GetRun(f.ctx, shopID, orderID, wf, "")
	if err != nil {
		f.t.Fatalf("GetRun %s/%s: %v", orderID, wf, err)
	}
	return r
}

// task stores an open agent task of a step of (order, wf).
func (f *fixture) task(orderID string, wf care.Workflow, step string) string {
	f.t.Helper()
	id := steps.ExecutionName(wf, shopID, orderID) + "." + step
	now := f.clk.Now()
	if _, _, err := f.db.CreateTask(f.ctx, care.Task{ID: id, ShopID: shopID, OrderID: orderID, Workflow: wf, Step: step,
		Reason: "r", Script: "s", Tag: care.TagVIP, Priority: 2, Outcomes: []string{"will_pay"}, Status: care.TaskOpen,
		CreatedAt: now, DueAt: now.Add(2 * time.Hour), Token: "tok-" + step}); err != nil {
		f.t.Fatalf("CreateTask: %v", err)
	}
	return id
}

func (f *fixture) getTask(id string) care.Task {
	f.t.Helper()
	t, err := f.db.GetTask(f.ctx, shopID, id)
	if err != nil {
		f.t.Fatalf("GetTask: %v", err)
	}
	return t
}

// sent stores a ledger entry of (order, wf) with the given status.
func (f *fixture) sent(orderID string, wf care.Workflow, step string, st care.MessageStatus) {
	f.t.Helper()
	m := care.Message{ID: steps.ExecutionName(wf, shopID, orderID) + "." + step, ShopID: shopID, OrderID: orderID,
		Workflow: wf, Step: step, TemplateVersion: 1, Channel: "outbox", Status: st, At: f.clk.Now()}
	if st == care.MessageSent {
		m.Text, m.SentAt = "text", &m.At
	}
	if _, _, err := f.db.ReserveMessage(f.ctx, m); err != nil {
		f.t.Fatalf("ReserveMessage: %v", err)
	}
}

// input decodes an execution input as JSON values.
func input(t *testing.T, in *sfn.StartExecutionInput) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(in.Input)), &m); err != nil {
		t.Fatalf("execution input %q: %v", aws.ToString(in.Input), err)
	}
	return m
}
