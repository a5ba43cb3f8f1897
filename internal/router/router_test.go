package router_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/queue"
	"github.com/ordercare/ordercare/internal/router"
	"github.com/ordercare/ordercare/internal/steps"
	codconfirm "github.com/ordercare/ordercare/workflows/cod_confirm"
)

func TestStartOnCreated(t *testing.T) {
	tests := []struct {
		name      string
		pay       care.PaymentMethod
		before    care.EventType // applied before order.created is handled ("" = none)
		with      func(*care.Order)
		wantWF    care.Workflow // "" = nothing starts
		wantInput map[string]any
		wantClear bool // no execution: a preship_check run ended clear at once
	}{
		// The first reminder is due (placed 10 min ago): the execution starts with it.
		{name: "online unpaid", pay: care.PayOnline, wantWF: care.UnpaidChase, wantInput: map[string]any{
			"run":  map[string]any{"shop": shopID, "order": "TB-1", "workflow": "unpaid_chase", "version": 1.0},
			"step": "nudge", "kind": "message"}},
		{name: "cash on delivery", pay: care.PayCOD, wantWF: care.CODConfirm, wantInput: map[string]any{
			"run":  map[string]any{"shop": shopID, "order": "TB-1", "workflow": "cod_confirm", "version": 1.0},
			"step": "ask", "timeout": 7200.0, // the default reply_timeout, 2h
			"at": "2026-11-11T01:00:00Z"}}, // at once: 09:00 in the buyer's zone is outside quiet hours
		// A paid order is checked before it ships (preship_check), not chased.
		// No rule flags it: the router ends the check at once, no execution.
		{name: "paid before handled", pay: care.PayOnline, before: care.OrderPaid, wantClear: true},
		{name: "cancelled before handled", pay: care.PayCOD, before: care.OrderCancelled},
		// A Shopify orders/create with financial_status paid: one order.created carrying paid_at.
		{name: "created already paid", pay: care.PayOnline, with: func(o *care.Order) { t := start; o.PaidAt = &t }, wantClear: true},
		{name: "test order, unpaid", pay: care.PayOnline, with: func(o *care.Order) { o.Test = true }},
		{name: "test order, cash on delivery", pay: care.PayCOD, with: func(o *care.Order) { o.Test = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var with []func(*care.Order)
			if tt.with != nil {
				with = append(with, tt.with)
			}
			c := f.created("TB-1", "129.00", tt.pay, with...)
			if tt.before != "" {
				f.mark(tt.before, "TB-1")
			}
			f.handle(c)
			starts := f.sfn.Starts()
			if tt.wantClear {
				r := f.getRun("TB-1", "preship_check")
				if len(starts) != 0 || r.Status != care.RunSucceeded || r.Outcome != "clear" || r.Execution != "" {
					t.Errorf("%d starts, run %+v; want none, and the check ended clear", len(starts), r)
				}
				return
			}
			if tt.wantWF == "" {
				if len(starts) != 0 || len(f.runs("TB-1")) != 0 {
					t.Errorf("started %d executions, stored runs %+v; want none", len(starts), f.runs("TB-1"))
				}
				return
			}
			if len(starts) != 1 {
				t.Fatalf("StartExecution called %d times, want 1", len(starts))
			}
			s := starts[0]
			name := steps.ExecutionName(tt.wantWF, shopID, "TB-1")
			if aws.ToString(s.Name) != name || aws.ToString(s.StateMachineArn) != stateMachines[tt.wantWF] {
				t.Errorf("StartExecution(%s, %s), want (%s, %s)", aws.ToString(s.StateMachineArn), aws.ToString(s.Name), stateMachines[tt.wantWF], name)
			}
			if diff := cmp.Diff(tt.wantInput, input(t, s)); diff != "" {
				t.Errorf("execution input (-want +got):\n%s", diff)
			}
			r := f.getRun("TB-1", tt.wantWF)
			if r.Status != care.RunRunning || r.Execution != name || r.TemplateVersion != 1 || !r.StartedAt.Equal(start) {
				t.Errorf("run %+v, want running %s v1 started %v", r, name, start)
			}
			if tmpl, err := f.db.GetTemplate(f.ctx, shopID, tt.wantWF, 0); err != nil || tmpl.Version != 1 {
				t.Errorf("pinned template: v%d, %v; want the default stored as v1", tmpl.Version, err)
			}
		})
	}
}

func TestStartIsIdempotent(t *testing.T) {
	f := newFixture(t)
	c := f.created("TB-1", "129.00", care.PayOnline)
	f.handle(c)
	// A newer template version must not change the version a replay starts with.
	v1, _ := f.db.GetTemplate(f.ctx, shopID, care.UnpaidChase, 1)
	if err := f.db.PutTemplate(f.ctx, care.Template{ShopID: shopID, Workflow: care.UnpaidChase, Version: 2, Body: v1.Body, CreatedAt: start}); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(time.Minute)
	f.handle(c) // a redelivery: the fake answers ExecutionAlreadyExists

	starts := f.sfn.Starts()
	if len(starts) != 2 {
		t.Fatalf("StartExecution called %d times, want 2 (the second refused as a duplicate)", len(starts))
	}
	if aws.ToString(starts[0].Name) != aws.ToString(starts[1].Name) || aws.ToString(starts[0].Input) != aws.ToString(starts[1].Input) {
		t.Errorf("the replay started %s %s, first %s %s", aws.ToString(starts[1].Name), aws.ToString(starts[1].Input),
			aws.ToString(starts[0].Name), aws.ToString(starts[0].Input))
	}
	rs := f.runs("TB-1")
	if len(rs) != 1 || rs[0].TemplateVersion != 1 || !rs[0].StartedAt.Equal(start) {
		t.Errorf("runs after a replay: %+v; want the first one only", rs)
	}

	// Once the run ended, a replay of order.created starts nothing (the
	// payment starts the order's preship_check, once).
	f.handle(f.mark(care.OrderPaid, "TB-1"))
	f.handle(c)
	chase := 0
	for _, s := range f.sfn.Starts() {
		if aws.ToString(s.Name) == aws.ToString(starts[0].Name) {
			chase++
		}
	}
	if chase != 2 {
		t.Errorf("replay after the run stopped called StartExecution for the chase: %d calls, want 2", chase)
	}
}

func TestPaidStopsChase(t *testing.T) {
	tests := []struct {
		name        string
		sent        bool
		stopErr     error
		wantOutcome string
		wantValue   care.Decimal
		wantSent    int
		with        func(*care.Order)
	}{
		{name: "after a message", sent: true, wantOutcome: "paid", wantValue: "129.00", wantSent: 1},
		// The shop counts GMV in CNY: an order in another currency adds no value,
		// unless the buyer was shown the shop's currency.
		{name: "order in another currency", sent: true, wantOutcome: "paid", wantValue: "", wantSent: 1,
			with: func(o *care.Order) { o.Currency = "USD" }},
		{name: "presented in the shop's currency", sent: true, wantOutcome: "paid", wantValue: "931.00", wantSent: 1,
			with: func(o *care.Order) { o.Currency, o.PresentmentTotal, o.PresentmentCurrency = "USD", "931.00", "CNY" }},
		{name: "before any message"},
		{name: "execution already gone", sent: true, wantOutcome: "paid", wantValue: "129.00", wantSent: 1,
			stopErr: &sfntypes.ExecutionDoesNotExist{Message: aws.String("gone")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var with []func(*care.Order)
			if tt.with != nil {
				with = append(with, tt.with)
			}
			f.handle(f.created("TB-1", "129.00", care.PayOnline, with...))
			f.created("TB-2", "99.00", care.PayOnline)
			f.sfn.stop = func(*sfn.StopExecutionInput) error { return tt.stopErr }
			f.sent("TB-1", care.UnpaidChase, "coupon", care.MessageSkipped)
			f.sent("TB-1", care.UnpaidChase, "ships_today", care.MessageFailed)
			if tt.sent {
				f.sent("TB-1", care.UnpaidChase, "nudge", care.MessageSent)
			}
			chaseTask := f.task("TB-1", care.UnpaidChase, "call")
			otherWF := f.task("TB-1", care.CODConfirm, "call")
			otherOrder := f.task("TB-2", care.UnpaidChase, "call")

			f.clk.Advance(3 * time.Hour)
			paid := f.mark(care.OrderPaid, "TB-1")
			f.handle(paid)

			stops := f.sfn.Stops()
			if len(stops) != 1 || aws.ToString(stops[0].ExecutionArn) != executionArn(care.UnpaidChase, "TB-1") {
				t.Fatalf("StopExecution calls %v, want one of %s", arns(stops), executionArn(care.UnpaidChase, "TB-1"))
			}
			if task := f.getTask(chaseTask); task.Status != care.TaskCancelled || task.OutcomeNote != steps.ReasonPaid {
				t.Errorf("chase task %s/%q, want cancelled/paid", task.Status, task.OutcomeNote)
			}
			for _, id := range []string{otherWF, otherOrder} {
				if task := f.getTask(id); task.Status != care.TaskOpen {
					t.Errorf("task %s of another workflow or order is %s, want open", id, task.Status)
				}
			}
			r := f.getRun("TB-1", care.UnpaidChase)
			if r.Status != care.RunStopped || r.Outcome != tt.wantOutcome || r.Value != tt.wantValue || r.Sent != tt.wantSent {
				t.Errorf("run %s outcome %q value %q sent %d; want stopped %q %q %d", r.Status, r.Outcome, r.Value, r.Sent,
					tt.wantOutcome, tt.wantValue, tt.wantSent)
			}
			if tt.wantOutcome != "" && (r.OutcomeAt == nil || !r.OutcomeAt.Equal(f.clk.Now())) {
				t.Errorf("outcome_at %v, want the payment's time %v", r.OutcomeAt, f.clk.Now())
			}

			// A redelivered order.paid stops nothing more and keeps the outcome.
			f.handle(paid)
			if n := len(f.sfn.Stops()); n != 1 {
				t.Errorf("redelivery called StopExecution again: %d calls", n)
			}
			if again := f.getRun("TB-1", care.UnpaidChase); again.Outcome != r.Outcome || again.Status != r.Status {
				t.Errorf("redelivery changed the run: %+v", again)
			}
		})
	}
}

func TestCancelledStopsEveryWorkflow(t *testing.T) {
	f := newFixture(t)
	f.handle(f.created("TB-1", "129.00", care.PayOnline))
	// A second running run of the order (a COD confirmation) and a task of each.
	now := f.clk.Now()
	if _, _, err := f.db.CreateRun(f.ctx, care.Run{ShopID: shopID, OrderID: "TB-1", Workflow: care.CODConfirm,
		Execution: steps.ExecutionName(care.CODConfirm, shopID, "TB-1"), TemplateVersion: 1, Status: care.RunRunning,
		StartedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	f.sent("TB-1", care.UnpaidChase, "nudge", care.MessageSent)
	tasks := []string{f.task("TB-1", care.UnpaidChase, "call"), f.task("TB-1", care.CODConfirm, "call")}

	f.handle(f.mark(care.OrderCancelled, "TB-1"))

	want := []string{executionArn(care.UnpaidChase, "TB-1"), executionArn(care.CODConfirm, "TB-1")}
	if diff := cmp.Diff(want, arns(f.sfn.Stops())); diff != "" {
		t.Errorf("StopExecution calls (-want +got):\n%s", diff)
	}
	for _, wf := range []care.Workflow{care.UnpaidChase, care.CODConfirm} {
		if r := f.getRun("TB-1", wf); r.Status != care.RunStopped || r.Outcome != "" {
			t.Errorf("%s run %s outcome %q, want stopped without outcome", wf, r.Status, r.Outcome)
		}
	}
	for _, id := range tasks {
		if task := f.getTask(id); task.Status != care.TaskCancelled || task.OutcomeNote != steps.ReasonCancelled {
			t.Errorf("task %s %s/%q, want cancelled/cancelled", id, task.Status, task.OutcomeNote)
		}
	}
}

func arns(in []*sfn.StopExecutionInput) []string {
	var out []string
	for _, s := range in {
		out = append(out, aws.ToString(s.ExecutionArn))
	}
	return out
}

func TestThrottledStart(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no", Fault: smithy.FaultClient}
	tests := []struct {
		name        string
		fail        int   // calls that fail before one succeeds
		err         error // how they fail
		wantErr     bool
		wantCalls   int
		wantBackoff []int
	}{
		{"throttled three times", 3, throttling(), false, 4, []int{1, 2, 3}},
		{"always throttled", 1000, throttling(), true, router.Attempts, []int{1, 2, 3, 4, 5, 6, 7}},
		{"service unavailable once", 1, &smithy.GenericAPIError{Code: "ServiceUnavailable", Fault: smithy.FaultServer}, false, 2, []int{1}},
		{"not a throttle", 1000, denied, true, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			calls := 0
			f.sfn.start = func(*sfn.StartExecutionInput) error {
				calls++
				if calls <= tt.fail {
					return tt.err
				}
				return nil
			}
			err := f.r.Handle(f.ctx, f.created("TB-1", "129.00", care.PayOnline))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Handle = %v, want error %v", err, tt.wantErr)
			}
			var ae smithy.APIError
			if tt.wantErr && (!errors.As(err, &ae) || ae.ErrorCode() != tt.err.(smithy.APIError).ErrorCode()) {
				t.Errorf("Handle error %v does not carry the API error %v", err, tt.err)
			}
			if n := len(f.sfn.Starts()); n != tt.wantCalls {
				t.Errorf("StartExecution called %d times, want %d", n, tt.wantCalls)
			}
			if diff := cmp.Diff(tt.wantBackoff, f.Backoffs()); diff != "" {
				t.Errorf("Backoff calls (-want +got):\n%s", diff)
			}
		})
	}
}

// A Backoff that fails (the context ended) ends the retries at once with
// the API error.
func TestBackoffCancelled(t *testing.T) {
	f := newFixture(t)
	f.sfn.start = func(*sfn.StartExecutionInput) error { return throttling() }
	f.r.Backoff = func(ctx context.Context, n int) error { return context.Canceled }
	err := f.r.Handle(f.ctx, f.created("TB-1", "129.00", care.PayOnline))
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" {
		t.Errorf("Handle = %v, want the throttling error", err)
	}
	if n := len(f.sfn.Starts()); n != 1 {
		t.Errorf("StartExecution called %d times, want 1", n)
	}
}

func TestLoopKeepsFailingChange(t *testing.T) {
	f := newFixture(t)
	loop := &router.Loop{Router: f.r, Feed: f.db, Cursors: f.db}
	f.created("TB-1", "129.00", care.PayOnline)
	f.created("TB-2", "99.00", care.PayOnline)
	bad := steps.ExecutionName(care.UnpaidChase, shopID, "TB-2")
	throttle := true
	f.sfn.start = func(in *sfn.StartExecutionInput) error {
		if throttle && aws.ToString(in.Name) == bad {
			return throttling()
		}
		return nil
	}

	// The batch holding both fails as a whole (TB-1 is handled again next time).
	if n, err := loop.Drain(f.ctx); err == nil || n != 0 {
		t.Fatalf("Drain with TB-2 throttled = %d, %v; want 0 and an error", n, err)
	}
	// The stored cursor must not pass TB-2's change.
	cur, err := f.db.Cursor(f.ctx, "router")
	if err != nil {
		t.Fatal(err)
	}
	rest, _, err := f.db.ReadFeed(f.ctx, cur, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !hasOrder(rest, "TB-2") {
		t.Fatalf("after a failed Drain the feed from the stored cursor %q lacks TB-2's change: %+v", cur, rest)
	}
	if _, err := f.db.GetRun(f.ctx, shopID, "TB-2", care.UnpaidChase, ""); err != nil {
		t.Fatalf("the run of TB-2 was not recorded before its start failed: %v", err)
	}

	throttle = false
	if n, err := loop.Drain(f.ctx); err != nil || n < 1 {
		t.Fatalf("second Drain = %d, %v; want TB-2 handled", n, err)
	}
	if !startedOK(f.sfn, bad) {
		t.Errorf("TB-2's execution was not started on the next Drain")
	}
	if n, err := loop.Drain(f.ctx); err != nil || n != 0 {
		t.Errorf("third Drain = %d, %v; want nothing left", n, err)
	}
}

func hasOrder(cs []care.Change, order string) bool {
	for _, c := range cs {
		if c.OrderID == order {
			return true
		}
	}
	return false
}

func startedOK(f *fakeSFN, name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.started[name]
}

func TestReply(t *testing.T) {
	tests := []struct {
		name       string
		text       string
		wantAnswer string
		wantOptOut bool
	}{
		{"yes", "是的", "yes", false},
		{"no", "不要了", "no", false},
		{"unclear", "明天再说吧", "unclear", false},
		{"opt out", "退订", "stop", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.handle(f.created("TB-1", "199.00", care.PayCOD))
			if _, found, err := f.db.Await(f.ctx, shopID, "TB-1", codconfirm.AwaitKey, "tok-ask"); err != nil || found {
				t.Fatalf("Await: found %v, %v", found, err)
			}
			c := f.reply("TB-1", tt.text)
			f.handle(c)

			got := f.sfn.Successes()
			if len(got) != 1 || aws.ToString(got[0].TaskToken) != "tok-ask" {
				t.Fatalf("SendTaskSuccess calls %d (token %v), want one with tok-ask", len(got), tokens(got))
			}
			var out map[string]any
			if err := json.Unmarshal([]byte(aws.ToString(got[0].Output)), &out); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[string]any{"answer": tt.wantAnswer, "event_id": c.EventID}, out); diff != "" {
				t.Errorf("task output (-want +got):\n%s", diff)
			}
			for _, contact := range []string{phone, email} {
				if out, err := f.db.OptedOut(f.ctx, shopID, care.ContactKey(contact)); err != nil || out != tt.wantOptOut {
					t.Errorf("OptedOut(%s) = %v, %v; want %v", contactKind(contact), out, err, tt.wantOptOut)
				}
			}
		})
	}
}

func contactKind(c string) string {
	if c == phone {
		return "phone"
	}
	return "email"
}

func tokens(in []*sfn.SendTaskSuccessInput) []string {
	var out []string
	for _, s := range in {
		out = append(out, aws.ToString(s.TaskToken))
	}
	return out
}

func TestReplyBeforeWait(t *testing.T) {
	f := newFixture(t)
	f.handle(f.created("TB-1", "199.00", care.PayCOD))
	c := f.reply("TB-1", "好的")
	f.handle(c)
	if got := f.sfn.Successes(); len(got) != 0 {
		t.Fatalf("SendTaskSuccess without a registered token: %v", tokens(got))
	}
	answer, found, err := f.db.Await(f.ctx, shopID, "TB-1", codconfirm.AwaitKey, "tok-ask")
	if err != nil || !found {
		t.Fatalf("Await after the reply: found %v, %v; want the kept answer", found, err)
	}
	var a steps.Answer
	if err := json.Unmarshal(answer, &a); err != nil || a.Answer != "yes" || a.EventID != c.EventID {
		t.Errorf("kept answer %s, want yes for %s", answer, c.EventID)
	}
}

// A reply to an order without a running cod_confirm run resumes nothing,
// but an opt-out still counts.
func TestReplyWithoutCODRun(t *testing.T) {
	f := newFixture(t)
	f.handle(f.created("TB-1", "129.00", care.PayOnline))
	f.handle(f.reply("TB-1", "TD"))
	if got := f.sfn.Successes(); len(got) != 0 {
		t.Errorf("SendTaskSuccess for an order without a COD run: %v", tokens(got))
	}
	if out, _ := f.db.OptedOut(f.ctx, shopID, care.ContactKey(phone)); !out {
		t.Errorf("TD was not recorded as an opt-out")
	}
	if _, found, _ := f.db.Deliver(f.ctx, shopID, "TB-1", codconfirm.AwaitKey, json.RawMessage(`{}`)); found {
		t.Errorf("a token was registered for an order without a COD run")
	}
}

func TestResumeTask(t *testing.T) {
	tests := []struct {
		name      string
		errs      []error // answers of successive calls; then success
		wantErr   bool
		wantCalls int
	}{
		{"ok", nil, false, 1},
		{"timed out", []error{&sfntypes.TaskTimedOut{Message: aws.String("timed out")}}, false, 1},
		{"does not exist", []error{&sfntypes.TaskDoesNotExist{Message: aws.String("gone")}}, false, 1},
		{"invalid token", []error{&sfntypes.InvalidToken{Message: aws.String("bad")}}, false, 1},
		{"closed, as a generic error", []error{&smithy.GenericAPIError{Code: "TaskTimedOut"}}, false, 1},
		{"throttled then closed", []error{throttling(), &sfntypes.TaskDoesNotExist{}}, false, 2},
		{"throttled twice", []error{throttling(), throttling()}, false, 3},
		{"denied", []error{&smithy.GenericAPIError{Code: "AccessDeniedException"}}, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			i := 0
			f.sfn.success = func(*sfn.SendTaskSuccessInput) error {
				defer func() { i++ }()
				if i < len(tt.errs) {
					return tt.errs[i]
				}
				return nil
			}
			err := f.r.ResumeTask(f.ctx, "tok-1", []byte(`{"outcome":"will_pay"}`))
			if (err != nil) != tt.wantErr {
				t.Errorf("ResumeTask = %v, want error %v", err, tt.wantErr)
			}
			got := f.sfn.Successes()
			if len(got) != tt.wantCalls {
				t.Fatalf("SendTaskSuccess called %d times, want %d", len(got), tt.wantCalls)
			}
			if aws.ToString(got[0].TaskToken) != "tok-1" || aws.ToString(got[0].Output) != `{"outcome":"will_pay"}` {
				t.Errorf("SendTaskSuccess(%q, %q)", aws.ToString(got[0].TaskToken), aws.ToString(got[0].Output))
			}
		})
	}
}

// The Router is the Resumer of the step handlers and of the agent queue.
var _ queue.Resumer = (*router.Router)(nil)

// handlerFunc adapts a function to router.ChangeHandler.
type handlerFunc func(ctx context.Context, c care.Change) error

func (f handlerFunc) Handle(ctx context.Context, c care.Change) error { return f(ctx, c) }

// TestIsolateDeadLettersOnlyTheFailingChange: a change that keeps failing
// is handed to DeadLetter; the changes around it are handled, and the
// cursor moves past the batch, so other orders are not blocked forever.
func TestIsolateDeadLettersOnlyTheFailingChange(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{"D-1", "D-2", "D-3"} {
		f.created(id, "10.00", care.PayOnline)
	}
	var handled, dead []string
	var mu sync.Mutex // Drain handles orders concurrently
	loop := &router.Loop{Feed: f.db, Cursors: f.db, Router: handlerFunc(func(_ context.Context, c care.Change) error {
		if c.OrderID == "D-2" {
			return errors.New("always fails")
		}
		mu.Lock()
		defer mu.Unlock()
		handled = append(handled, c.OrderID)
		return nil
	}), DeadLetter: func(_ context.Context, c care.Change, err error) { dead = append(dead, c.OrderID) }}
	if _, err := loop.Drain(f.ctx); err == nil {
		t.Fatal("Drain succeeded with a failing change")
	}
	handled = nil
	if n, err := loop.Isolate(f.ctx); n != 1 || err != nil {
		t.Fatalf("Isolate = %d, %v; want 1 dead letter", n, err)
	}
	if len(dead) != 1 || dead[0] != "D-2" || len(handled) != 2 {
		t.Errorf("dead %v, handled %v; want D-2 dead and D-1, D-3 handled", dead, handled)
	}
	if n, err := loop.Drain(f.ctx); n != 0 || err != nil {
		t.Errorf("Drain after Isolate = %d, %v; want nothing left", n, err)
	}
}
