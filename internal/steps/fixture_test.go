package steps_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/caretest"
	"github.com/ordercare/ordercare/infra/sqlitestore"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/steps"
	"github.com/ordercare/ordercare/workflows"
	unpaidchase "github.com/ordercare/ordercare/workflows/unpaid_chase"
)

// The tests below drive Handler.Handle against the real embedded store on
// a virtual clock, with hand-written fakes for the Resumer and the
// channels. They aim at the edges the end-to-end tests
// (infra/localruntime) cannot reach deterministically: retries after a
// crash between reserve and send, transient channel failures, races
// between a reply and the wait that expects it.

// start is 09:00 in Shanghai on Double 11.
var start = time.Date(2026, 11, 11, 1, 0, 0, 0, time.UTC)

const (
	shopID    = "tea"
	phone     = "+8613912345678"
	buyerName = "陈晓燕"
)

type fixture struct {
	t   *testing.T
	ctx context.Context
	db  *sqlitestore.DB
	clk *clock.Virtual
	res *caretest.Resumer
	h   *steps.Handler
	n   int // events ingested, for ids
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewVirtual(start, nil)
	db := caretest.Store(t, clk)
	caretest.Shop(t, db, caretest.TeaShop(shopID, start))
	res := &caretest.Resumer{}
	return &fixture{t: t, ctx: ctx, db: db, clk: clk, res: res,
		h: &steps.Handler{Store: db, Clock: clk, Resumer: res, Channels: map[string]steps.Channel{}, Workflows: workflows.All()}}
}

// template pins the default template of wf and, with edit, stores an
// edited copy as the next version. It returns the version to run.
func (f *fixture) template(wf care.Workflow, edit func(map[string]any)) int {
	f.t.Helper()
	tpl, err := steps.PinTemplate(f.ctx, f.db, workflows.All(), shopID, wf, f.clk.Now())
	if err != nil {
		f.t.Fatalf("PinTemplate: %v", err)
	}
	if edit == nil {
		return tpl.Version
	}
	var body map[string]any
	if err := json.Unmarshal(tpl.Body, &body); err != nil {
		f.t.Fatal(err)
	}
	edit(body)
	b, _ := json.Marshal(body)
	next := care.Template{ShopID: shopID, Workflow: wf, Version: tpl.Version + 1, Body: b, CreatedAt: f.clk.Now()}
	if err := f.db.PutTemplate(f.ctx, next); err != nil {
		f.t.Fatalf("PutTemplate: %v", err)
	}
	return next.Version
}

// orderSpec is an order.created to ingest.
type orderSpec struct {
	id       string
	total    care.Decimal
	cod      bool
	deadline time.Duration // pay_deadline after placement; 0 = none
	email    string        // the buyer's address; "" = none
}

func (f *fixture) createOrder(o orderSpec) {
	f.t.Helper()
	placed := f.clk.Now()
	ord := care.Order{ID: o.id, PlacedAt: &placed, Total: o.total, Currency: "CNY", PaymentMethod: care.PayOnline,
		Buyer: &care.Buyer{Name: buyerName, Phone: phone, Locale: "zh-CN", Timezone: "Asia/Shanghai"},
		Items: []care.Item{{SKU: "LJ-250", Title: "明前龙井 250g", Quantity: 1, Price: o.total}}}
	ord.Buyer.Email = o.email
	if o.cod {
		ord.PaymentMethod, ord.CODFee = care.PayCOD, "8.00"
	}
	if o.deadline > 0 {
		d := placed.Add(o.deadline)
		ord.PayDeadline = &d
	}
	f.ingest(care.Event{Type: care.OrderCreated, Order: ord})
}

// ingest records ev (id and time filled in when empty) at the clock's time.
func (f *fixture) ingest(ev care.Event) care.Event {
	f.t.Helper()
	f.n++
	if ev.ID == "" {
		ev.ID = "evt-" + string(ev.Type) + "-" + ev.Order.ID + "-" + itoa(f.n)
	}
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = f.clk.Now()
	}
	if err := ev.Validate(); err != nil {
		f.t.Fatalf("test event %s: %v", ev.ID, err)
	}
	d := care.Delivery{ShopID: shopID, Source: care.SourceStandard, DeliveryID: ev.ID, ReceivedAt: f.clk.Now()}
	if _, err := f.db.Ingest(f.ctx, d, ev, care.Apply); err != nil {
		f.t.Fatalf("Ingest %s: %v", ev.ID, err)
	}
	return ev
}

func (f *fixture) mark(typ care.EventType, orderID string) {
	f.t.Helper()
	f.ingest(care.Event{Type: typ, Order: care.Order{ID: orderID}})
}

// run stores the running run of (order, wf) as the router would and returns its ref.
func (f *fixture) run(orderID string, wf care.Workflow, version int) steps.RunRef {
	f.t.Helper()
	ref := steps.RunRef{Shop: shopID, Order: orderID, Workflow: wf, Version: version}
	now := f.clk.Now()
	if _, _, err := f.db.CreateRun(f.ctx, care.Run{ShopID: shopID, OrderID: orderID, Workflow: wf, Execution: ref.Execution(),
		TemplateVersion: version, Status: care.RunRunning, StartedAt: now, UpdatedAt: now}); err != nil {
		f.t.Fatalf("CreateRun: %v", err)
	}
	return ref
}

func (f *fixture) getRun(ref steps.RunRef) care.Run {
	f.t.Helper()
	r, err := f.db.GetRun(f.ctx, ref.Shop, ref.Order, ref.Workflow, ref.Subject)
	if err != nil {
		f.t.Fatalf("GetRun: %v", err)
	}
	return r
}

// entry returns the ledger entry of ref's step, or false.
func (f *fixture) entry(ref steps.RunRef, step string) (care.Message, bool) {
	f.t.Helper()
	msgs, err := f.db.ListOrderMessages(f.ctx, ref.Shop, ref.Order)
	if err != nil {
		f.t.Fatalf("ListOrderMessages: %v", err)
	}
	for _, m := range msgs {
		if m.ID == key(ref, step) {
			return m, true
		}
	}
	return care.Message{}, false
}

func (f *fixture) tasks(orderID string) []care.Task {
	f.t.Helper()
	ts, err := f.db.ListTasks(f.ctx, shopID, care.TaskFilter{OrderID: orderID})
	if err != nil {
		f.t.Fatalf("ListTasks: %v", err)
	}
	return ts
}

func (f *fixture) handle(action string, st steps.State, token string) (steps.State, error) {
	return f.h.Handle(f.ctx, steps.Input{Action: action, State: st, Token: token})
}

// mustHandle runs an action that must succeed.
func (f *fixture) mustHandle(action string, st steps.State, token string) steps.State {
	f.t.Helper()
	out, err := f.handle(action, st, token)
	if err != nil {
		f.t.Fatalf("Handle(%s, step %q): %v", action, st.Step, err)
	}
	return out
}

// chase runs unpaid_chase's Step on in and returns the state the run goes
// on with. The chase rests its run after each step (steps.Handler.Rest,
// RestCall), so that is the input its next execution gets from the router
// (Router.startDue): the rested step with its kind and timeout, at the
// run's next_at, in the run's next generation; the Task's own output when
// the run did not rest (it ended).
func (f *fixture) chase(in steps.State) steps.State {
	f.t.Helper()
	out := f.mustHandle(unpaidchase.ActionChase, in, "")
	r := f.getRun(in.Run)
	if out.Kind != steps.KindDone || r.Status != care.RunScheduled {
		return out
	}
	ref := in.Run
	ref.Gen = r.Gen
	next := steps.State{Run: ref, Step: r.Step, Kind: steps.KindMessage, At: r.NextAt}
	if r.NextKind == steps.KindCall {
		next.Kind, next.Timeout = steps.KindCall, r.NextTimeout
	}
	return next
}

// key is the ledger and task id of a step of a run (deterministic per
// execution and step, as the package documents).
func key(ref steps.RunRef, step string) string { return ref.Execution() + "." + step }

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
