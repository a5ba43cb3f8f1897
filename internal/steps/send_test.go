package steps_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/caretest"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
	unpaidchase "github.com/ordercare/ordercare/workflows/unpaid_chase"
)

// webhookChannel makes the template's message steps send on "webhook", so a
// fake channel sees every send.
func webhookChannel(body map[string]any) { body["channel"] = "webhook" }

// chaseFixture is an unpaid online order (pay deadline in 72 h) with a
// running unpaid_chase run whose messages go to ch.
func chaseFixture(t *testing.T, edit func(map[string]any)) (*fixture, steps.RunRef, *caretest.Channel) {
	f := newFixture(t)
	v := f.template(care.UnpaidChase, func(b map[string]any) {
		webhookChannel(b)
		if edit != nil {
			edit(b)
		}
	})
	f.createOrder(orderSpec{id: "TB-1001", total: "129.00", deadline: 72 * time.Hour})
	ch := &caretest.Channel{}
	f.h.Channels["webhook"] = ch
	return f, f.run("TB-1001", care.UnpaidChase, v), ch
}

func TestPendingEntryIsSentAgainWithItsID(t *testing.T) {
	f, ref, ch := chaseFixture(t, nil)
	// A previous attempt reserved the entry, then died before the channel answered.
	reserved := care.Message{ID: key(ref, "nudge"), ShopID: shopID, OrderID: ref.Order, Workflow: ref.Workflow, Step: "nudge",
		TemplateVersion: ref.Version, Channel: "webhook", Locale: "zh-CN", Text: "reserved text", Status: care.MessagePending, At: f.clk.Now()}
	if _, created, err := f.db.ReserveMessage(f.ctx, reserved); err != nil || !created {
		t.Fatalf("ReserveMessage: created %v, %v", created, err)
	}
	f.clk.Advance(10 * time.Minute)
	out := f.chase(steps.State{Run: ref, Step: "nudge"})

	sent := ch.Sent()
	if len(sent) != 1 {
		t.Fatalf("channel called %d times, want 1", len(sent))
	}
	if got := sent[0].Message; got.ID != reserved.ID || got.Text != reserved.Text {
		t.Errorf("channel got message %s %q, want the reserved entry %s %q", got.ID, got.Text, reserved.ID, reserved.Text)
	}
	m, _ := f.entry(ref, "nudge")
	if m.Status != care.MessageSent || m.SentAt == nil || !m.SentAt.Equal(f.clk.Now()) {
		t.Errorf("entry after retry: status %s, sent_at %v; want sent at %v", m.Status, m.SentAt, f.clk.Now())
	}
	if out.Step != "ships_today" || out.Kind != steps.KindMessage {
		t.Errorf("next state: step %q kind %q, want ships_today message", out.Step, out.Kind)
	}

	// The Step state is replayed (a retry after an ambiguous timeout): no second send.
	f.clk.Advance(time.Minute)
	f.chase(steps.State{Run: ref, Step: "nudge"})
	if n := len(ch.Sent()); n != 1 {
		t.Errorf("replaying a sent step called the channel again: %d calls", n)
	}
	if again, _ := f.entry(ref, "nudge"); again.Status != care.MessageSent || !again.SentAt.Equal(*m.SentAt) {
		t.Errorf("replay changed the sent entry: %+v", again)
	}
}

func TestTransientChannelErrorThenRetry(t *testing.T) {
	f, ref, ch := chaseFixture(t, nil)
	ch.SendFunc = func(steps.Envelope) error { return errors.New("connection reset by peer") }
	st := steps.State{Run: ref, Step: "nudge"}

	_, err := f.handle(unpaidchase.ActionChase, st, "")
	var te *steps.TransientError
	if !errors.As(err, &te) {
		t.Fatalf("Handle error = %v (%T), want *steps.TransientError", err, err)
	}
	if name := reflect.TypeOf(err).Elem().Name(); name != "TransientError" {
		t.Errorf("Lambda-visible error type %q, want TransientError", name)
	}
	if m, ok := f.entry(ref, "nudge"); !ok || m.Status != care.MessagePending {
		t.Fatalf("entry after a transient failure: %+v (found %v), want pending", m, ok)
	}

	// The state machine retries the Task: the same entry goes out, once.
	ch.SendFunc = nil
	f.chase(st)
	sent := ch.Sent()
	if len(sent) != 2 || sent[0].Message.ID != sent[1].Message.ID || sent[1].Message.ID != key(ref, "nudge") {
		t.Fatalf("channel calls %d; ids %v; want 2 with the entry's id %s", len(sent), ids(sent), key(ref, "nudge"))
	}
	if m, _ := f.entry(ref, "nudge"); m.Status != care.MessageSent {
		t.Errorf("entry after the retry: %s, want sent", m.Status)
	}
	if sent[1].Event != "message" {
		t.Errorf("delivery event %q, want message", sent[1].Event)
	}
}

func ids(ds []steps.Envelope) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Message.ID)
	}
	return out
}

func TestChannelOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		register   bool // a webhook channel exists
		err        error
		wantStatus care.MessageStatus
		wantReason string
		wantCalls  int
	}{
		{"sent", true, nil, care.MessageSent, "", 1},
		{"rejected", true, fmt.Errorf("receiver answered 410: %w", care.ErrRejected), care.MessageFailed, steps.ReasonRejected, 1},
		{"receiver not configured", true, fmt.Errorf("no webhook url: %w", care.ErrNotFound), care.MessageFailed, steps.ReasonNoChannel, 1},
		{"unknown channel", false, nil, care.MessageFailed, steps.ReasonNoChannel, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ref, ch := chaseFixture(t, nil)
			ch.SendFunc = func(steps.Envelope) error { return tt.err }
			if !tt.register {
				delete(f.h.Channels, "webhook")
			}
			out, err := f.handle(unpaidchase.ActionChase, steps.State{Run: ref, Step: "nudge"}, "")
			if err != nil {
				t.Fatalf("Handle: %v (a permanent channel failure is recorded, not returned)", err)
			}
			m, _ := f.entry(ref, "nudge")
			if m.Status != tt.wantStatus || m.Reason != tt.wantReason {
				t.Errorf("entry %s/%q, want %s/%q", m.Status, m.Reason, tt.wantStatus, tt.wantReason)
			}
			if n := len(ch.Sent()); n != tt.wantCalls {
				t.Errorf("channel called %d times, want %d", n, tt.wantCalls)
			}
			if r := f.getRun(ref); out.Kind != steps.KindDone || r.Step != "ships_today" || r.Status != care.RunScheduled {
				t.Errorf("the run must go on after a failed send: it rests at step %q (%s)", r.Step, r.Status)
			}
			// A failed entry is an end state: replaying the step does not try again.
			f.chase(steps.State{Run: ref, Step: "nudge"})
			if n := len(ch.Sent()); n != tt.wantCalls {
				t.Errorf("replay called the channel: %d calls, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestSkipAtSendTime(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(map[string]any)
		prepare   func(f *fixture, ref steps.RunRef)
		step      string
		reason    string
		wantKind  string
		wantCalls int // sends the channel saw, prepare's included
	}{
		{name: "paid", step: "nudge", reason: steps.ReasonPaid, wantKind: steps.KindDone,
			prepare: func(f *fixture, ref steps.RunRef) { f.mark(care.OrderPaid, ref.Order) }},
		{name: "cancelled", step: "nudge", reason: steps.ReasonCancelled, wantKind: steps.KindDone,
			prepare: func(f *fixture, ref steps.RunRef) { f.mark(care.OrderCancelled, ref.Order) }},
		{name: "opted out", step: "nudge", reason: steps.ReasonOptedOut, wantKind: steps.KindMessage,
			prepare: func(f *fixture, ref steps.RunRef) {
				if err := f.db.OptOut(f.ctx, shopID, care.ContactKey(phone), f.clk.Now()); err != nil {
					f.t.Fatal(err)
				}
			}},
		{name: "budget spent", step: "ships_today", reason: steps.ReasonBudgetSpent, wantKind: steps.KindMessage, wantCalls: 1,
			edit: func(b map[string]any) { b["contact_budget"] = 1 },
			prepare: func(f *fixture, ref steps.RunRef) {
				f.chase(steps.State{Run: ref, Step: "nudge"})
			}},
		{name: "deadline passed", step: "coupon", reason: steps.ReasonDeadline, wantKind: steps.KindDone,
			prepare: func(f *fixture, ref steps.RunRef) { f.clk.Advance(72 * time.Hour) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ref, ch := chaseFixture(t, tt.edit)
			tt.prepare(f, ref)
			out := f.chase(steps.State{Run: ref, Step: tt.step})
			m, ok := f.entry(ref, tt.step)
			if !ok || m.Status != care.MessageSkipped || m.Reason != tt.reason {
				t.Errorf("entry of %s: %s/%q (found %v), want skipped/%q", tt.step, m.Status, m.Reason, ok, tt.reason)
			}
			if m.Text != "" {
				t.Errorf("a skipped entry carries text %q", m.Text)
			}
			if n := len(ch.Sent()); n != tt.wantCalls {
				t.Errorf("channel called %d times, want %d", n, tt.wantCalls)
			}
			if out.Kind != tt.wantKind {
				t.Errorf("next kind %q, want %q", out.Kind, tt.wantKind)
			}
			if tt.wantKind == steps.KindDone {
				if r := f.getRun(ref); r.Status != care.RunSucceeded || r.Outcome != "" {
					t.Errorf("run after %s: %s outcome %q, want succeeded without outcome", tt.name, r.Status, r.Outcome)
				}
			}
		})
	}
}

// A send that died after reserving leaves a pending entry; when the retry
// finds the reason gone (here: paid) it does not send, and the entry ends
// skipped with the reason instead of staying pending forever.
func TestPendingEntryEndsSkippedWhenReasonGoes(t *testing.T) {
	f, ref, ch := chaseFixture(t, nil)
	ch.SendFunc = func(steps.Envelope) error { return errors.New("timeout awaiting response headers") }
	if _, err := f.handle(unpaidchase.ActionChase, steps.State{Run: ref, Step: "nudge"}, ""); err == nil {
		t.Fatal("the first attempt should fail transiently")
	}
	f.mark(care.OrderPaid, ref.Order)
	ch.SendFunc = nil
	out := f.chase(steps.State{Run: ref, Step: "nudge"})
	if out.Kind != steps.KindDone {
		t.Errorf("kind %q, want done", out.Kind)
	}
	if n := len(ch.Sent()); n != 1 {
		t.Errorf("channel called %d times, want 1 (no resend for a paid order)", n)
	}
	if m, _ := f.entry(ref, "nudge"); m.Status != care.MessageSkipped || m.Reason != steps.ReasonPaid {
		t.Errorf("ledger entry %s is %s/%s after the run ended, want skipped/%s", m.ID, m.Status, m.Reason, steps.ReasonPaid)
	}
}

// TestFailedRunResolvesPendingEntry: a run that fails with an entry still
// reserved (its send cut short, then every retry failed) ends that entry
// failed with reason run_failed instead of leaving it pending for ever; the
// other runs' entries are untouched.
func TestFailedRunResolvesPendingEntry(t *testing.T) {
	f, ref, _ := chaseFixture(t, nil)
	reserved := care.Message{ID: key(ref, "nudge"), ShopID: shopID, OrderID: ref.Order, Workflow: ref.Workflow, Step: "nudge",
		TemplateVersion: ref.Version, Channel: "webhook", Locale: "zh-CN", Text: "reserved text", Status: care.MessagePending, At: f.clk.Now()}
	other := reserved
	other.ID, other.Workflow = "cod_confirm-000000000000000000000000.ask", care.CODConfirm
	for _, m := range []care.Message{reserved, other} {
		if _, created, err := f.db.ReserveMessage(f.ctx, m); err != nil || !created {
			t.Fatalf("ReserveMessage %s: created %v, %v", m.ID, created, err)
		}
	}
	f.mustHandle(steps.ActionFailed, steps.State{Run: ref, Step: "nudge",
		Error: &steps.StepError{Error: "Lambda.ResourceNotFoundException"}}, "")
	m, _ := f.entry(ref, "nudge")
	if m.Status != care.MessageFailed || m.Reason != steps.ReasonRunFailed {
		t.Errorf("entry after the run failed: %s %q, want failed %q", m.Status, m.Reason, steps.ReasonRunFailed)
	}
	if r := f.getRun(ref); r.Status != care.RunFailed {
		t.Errorf("run status %s, want failed", r.Status)
	}
	ms, err := f.db.ListOrderMessages(f.ctx, shopID, ref.Order)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.ID == other.ID && m.Status != care.MessagePending {
			t.Errorf("another run's entry changed: %+v", m)
		}
	}
}
