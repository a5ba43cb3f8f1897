package steps_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/infra/caretest"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
	codconfirm "github.com/ordercare/ordercare/workflows/cod_confirm"
)

// bigOrder is an unpaid order large enough for unpaid_chase's call step
// (min_total 500), with its running run.
func bigOrder(t *testing.T) (*fixture, steps.RunRef) {
	f := newFixture(t)
	v := f.template(care.UnpaidChase, nil)
	f.createOrder(orderSpec{id: "TB-2002", total: "880.00", deadline: 72 * time.Hour})
	return f, f.run("TB-2002", care.UnpaidChase, v)
}

func TestEscalatePaidOrderResumesAtOnce(t *testing.T) {
	f, ref := bigOrder(t)
	f.mark(care.OrderPaid, ref.Order)
	f.mustHandle(steps.ActionEscalate, steps.State{Run: ref, Step: "call"}, "tok-1")

	if ts := f.tasks(ref.Order); len(ts) != 0 {
		t.Errorf("a task was raised for a paid order: %+v", ts)
	}
	want := []caretest.ResumeCall{{Token: "tok-1", Output: `{"skipped":"paid"}`}}
	if diff := cmp.Diff(want, f.res.Calls()); diff != "" {
		t.Errorf("ResumeTask calls (-want +got):\n%s", diff)
	}
}

func TestEscalateRetriedKeepsOneTaskWithLatestToken(t *testing.T) {
	f, ref := bigOrder(t)
	st := steps.State{Run: ref, Step: "call"}
	f.mustHandle(steps.ActionEscalate, st, "tok-1")
	f.clk.Advance(time.Minute)
	f.mustHandle(steps.ActionEscalate, st, "tok-2") // the Task state was retried with a new token

	ts := f.tasks(ref.Order)
	if len(ts) != 1 {
		t.Fatalf("%d tasks after a retried escalate, want 1", len(ts))
	}
	task := ts[0]
	if task.ID != key(ref, "call") || task.Token != "tok-2" || task.Status != care.TaskOpen {
		t.Errorf("task %s token %q status %s; want %s tok-2 open", task.ID, task.Token, task.Status, key(ref, "call"))
	}
	if !task.CreatedAt.Equal(start) {
		t.Errorf("the retry re-created the task: created_at %v, want %v", task.CreatedAt, start)
	}
	if r := f.getRun(ref); r.Step != "call" || r.NextAt != nil {
		t.Errorf("run at step %q next_at %v, want call and none", r.Step, r.NextAt)
	}
	if calls := f.res.Calls(); len(calls) != 0 {
		t.Errorf("escalate resumed the run by itself: %+v", calls)
	}

	// Once the agent finished, a late retry does not take the token over.
	task.Status, task.Outcome, task.Agent = care.TaskDone, "will_pay", "agent-7"
	if _, err := f.db.UpdateTask(f.ctx, task); err != nil {
		t.Fatal(err)
	}
	f.mustHandle(steps.ActionEscalate, st, "tok-3")
	if got, _ := f.db.GetTask(f.ctx, shopID, task.ID); got.Token != "tok-2" || got.Status != care.TaskDone {
		t.Errorf("done task after a late retry: token %q status %s, want tok-2 done", got.Token, got.Status)
	}
}

// codOrder is a cash-on-delivery order with its running cod_confirm run.
func codOrder(t *testing.T) (*fixture, steps.RunRef) {
	f := newFixture(t)
	v := f.template(care.CODConfirm, nil)
	f.createOrder(orderSpec{id: "TB-3003", total: "199.00", cod: true})
	return f, f.run("TB-3003", care.CODConfirm, v)
}

func TestCODAskReplyAndWaitInEitherOrder(t *testing.T) {
	const answer = `{"answer":"yes","event_id":"evt-reply-1"}`
	t.Run("reply delivered first", func(t *testing.T) {
		f, ref := codOrder(t)
		if _, found, err := f.db.Deliver(f.ctx, shopID, ref.Order, codconfirm.AwaitKey, json.RawMessage(answer)); err != nil || found {
			t.Fatalf("Deliver before the wait: found %v, %v", found, err)
		}
		f.mustHandle(codconfirm.ActionAsk, steps.State{Run: ref, Step: "ask"}, "tok-ask")
		want := []caretest.ResumeCall{{Token: "tok-ask", Output: answer}}
		if diff := cmp.Diff(want, f.res.Calls()); diff != "" {
			t.Errorf("ResumeTask calls (-want +got):\n%s", diff)
		}
		if m, _ := f.entry(ref, "ask"); m.Status != care.MessageSent {
			t.Errorf("ask entry %s, want sent", m.Status)
		}
	})
	t.Run("wait registered first", func(t *testing.T) {
		f, ref := codOrder(t)
		f.mustHandle(codconfirm.ActionAsk, steps.State{Run: ref, Step: "ask"}, "tok-ask")
		if calls := f.res.Calls(); len(calls) != 0 {
			t.Fatalf("resumed without a reply: %+v", calls)
		}
		if r := f.getRun(ref); r.Step != "ask" {
			t.Errorf("run step %q, want ask", r.Step)
		}
		token, found, err := f.db.Deliver(f.ctx, shopID, ref.Order, codconfirm.AwaitKey, json.RawMessage(answer))
		if err != nil || !found || token != "tok-ask" {
			t.Errorf("Deliver after the wait = %q, %v, %v; want tok-ask, true", token, found, err)
		}
	})
	t.Run("retried ask sends once and waits on the new token", func(t *testing.T) {
		f, ref := codOrder(t)
		f.mustHandle(codconfirm.ActionAsk, steps.State{Run: ref, Step: "ask"}, "tok-1")
		first, _ := f.entry(ref, "ask")
		f.clk.Advance(time.Minute)
		f.mustHandle(codconfirm.ActionAsk, steps.State{Run: ref, Step: "ask"}, "tok-2")
		if again, _ := f.entry(ref, "ask"); !again.SentAt.Equal(*first.SentAt) {
			t.Errorf("the retry sent the ask again: sent_at %v, first %v", again.SentAt, first.SentAt)
		}
		if token, found, _ := f.db.Deliver(f.ctx, shopID, ref.Order, codconfirm.AwaitKey, json.RawMessage(answer)); !found || token != "tok-2" {
			t.Errorf("Deliver hands %q (found %v), want the live token tok-2", token, found)
		}
	})
	t.Run("buyer opted out", func(t *testing.T) {
		f, ref := codOrder(t)
		if err := f.db.OptOut(f.ctx, shopID, care.ContactKey(phone), f.clk.Now()); err != nil {
			t.Fatal(err)
		}
		f.mustHandle(codconfirm.ActionAsk, steps.State{Run: ref, Step: "ask"}, "tok-ask")
		want := []caretest.ResumeCall{{Token: "tok-ask", Output: `{"skipped":"opted_out"}`}}
		if diff := cmp.Diff(want, f.res.Calls()); diff != "" {
			t.Errorf("ResumeTask calls (-want +got):\n%s", diff)
		}
		if _, found, _ := f.db.Deliver(f.ctx, shopID, ref.Order, codconfirm.AwaitKey, json.RawMessage(answer)); found {
			t.Errorf("a token was registered although the run was resumed at once")
		}
	})
}

func TestCODDecide(t *testing.T) {
	callTimeout := int((72 * time.Hour) / time.Second)
	tests := []struct {
		name        string
		reply       string
		cancelled   bool
		wantKind    string
		wantOutcome string
	}{
		{"yes", `{"answer":"yes","event_id":"e1"}`, false, steps.KindDone, "cod_confirmed"},
		{"no", `{"answer":"no","event_id":"e1"}`, false, steps.KindCall, ""},
		{"unclear", `{"answer":"unclear","event_id":"e1"}`, false, steps.KindCall, ""},
		{"timeout", `{"Error":"States.Timeout","Cause":"wait timed out"}`, false, steps.KindCall, ""},
		{"ask not sent", `{"skipped":"opted_out"}`, false, steps.KindCall, ""},
		{"cancelled order", `{"answer":"no","event_id":"e1"}`, true, steps.KindDone, ""},
		{"yes to a cancelled order", `{"answer":"yes","event_id":"e1"}`, true, steps.KindDone, ""},
		{"cancelled before the ask", `{"skipped":"cancelled"}`, false, steps.KindDone, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ref := codOrder(t)
			if tt.cancelled {
				f.mark(care.OrderCancelled, ref.Order)
			}
			out := f.mustHandle(codconfirm.ActionDecide, steps.State{Run: ref, Step: "ask", Reply: json.RawMessage(tt.reply)}, "")
			if out.Kind != tt.wantKind {
				t.Fatalf("kind %q, want %q", out.Kind, tt.wantKind)
			}
			r := f.getRun(ref)
			switch tt.wantKind {
			case steps.KindCall:
				if out.Step != "call" || out.Timeout != callTimeout || string(out.Reply) != tt.reply {
					t.Errorf("call state: step %q timeout %d reply %s; want call %d %s", out.Step, out.Timeout, out.Reply, callTimeout, tt.reply)
				}
				if r.Status != care.RunRunning {
					t.Errorf("run %s before the call, want running", r.Status)
				}
			case steps.KindDone:
				if r.Status != care.RunSucceeded || r.Outcome != tt.wantOutcome {
					t.Errorf("run %s outcome %q, want succeeded %q", r.Status, r.Outcome, tt.wantOutcome)
				}
				if (r.OutcomeAt != nil) != (tt.wantOutcome != "") {
					t.Errorf("outcome_at %v with outcome %q", r.OutcomeAt, r.Outcome)
				}
			}
		})
	}
}

func TestCODOutcome(t *testing.T) {
	t.Run("declined to the outbox", func(t *testing.T) {
		f, ref := codOrder(t)
		hook := &caretest.Channel{}
		f.h.Channels["webhook"] = hook // registered, but the shop set no webhook: the outbox gets the notice
		out := f.mustHandle(codconfirm.ActionOutcome, steps.State{Run: ref, Step: "call",
			Outcome: json.RawMessage(`{"outcome":"declined","agent":"agent-7"}`)}, "")
		if out.Kind != steps.KindDone {
			t.Errorf("kind %q, want done", out.Kind)
		}
		m, ok := f.entry(ref, "declined")
		if !ok || m.Status != care.MessageSent || m.Channel != steps.ChannelOutbox || m.Text == "" {
			t.Errorf("declined notice: %+v (found %v), want sent to the outbox with text", m, ok)
		}
		if n := len(hook.Sent()); n != 0 {
			t.Errorf("webhook channel called %d times", n)
		}
		if r := f.getRun(ref); r.Outcome != "cod_declined" || r.Status != care.RunSucceeded {
			t.Errorf("run %s outcome %q, want succeeded cod_declined", r.Status, r.Outcome)
		}
	})
	t.Run("declined to the shop's webhook", func(t *testing.T) {
		f, ref := codOrder(t)
		hook := &caretest.Channel{}
		f.h.Channels["webhook"] = hook
		if err := f.db.PutSource(f.ctx, care.Source{ShopID: shopID, Name: care.ChannelWebhook, URL: "https://shop.example/hook",
			Secret: "whsec_dGVzdA==", UpdatedAt: f.clk.Now()}); err != nil {
			t.Fatal(err)
		}
		f.mustHandle(codconfirm.ActionOutcome, steps.State{Run: ref, Step: "call", Outcome: json.RawMessage(`{"outcome":"declined"}`)}, "")
		sent := hook.Sent()
		if len(sent) != 1 || sent[0].Event != "notice" || sent[0].Message.ID != key(ref, "declined") {
			t.Fatalf("webhook deliveries %+v, want one notice %s", sent, key(ref, "declined"))
		}
		if m, _ := f.entry(ref, "declined"); m.Status != care.MessageSent || m.Channel != "webhook" {
			t.Errorf("declined notice %s on %q, want sent on webhook", m.Status, m.Channel)
		}
	})
	t.Run("call timed out", func(t *testing.T) {
		f, ref := codOrder(t)
		f.mustHandle(steps.ActionEscalate, steps.State{Run: ref, Step: "call", Reply: json.RawMessage(`{"Error":"States.Timeout"}`)}, "tok-call")
		f.clk.Advance(72 * time.Hour)
		out := f.mustHandle(codconfirm.ActionOutcome, steps.State{Run: ref, Step: "call",
			Outcome: json.RawMessage(`{"Error":"States.Timeout","Cause":"task timed out"}`)}, "")
		if out.Kind != steps.KindDone {
			t.Errorf("kind %q, want done", out.Kind)
		}
		task, err := f.db.GetTask(f.ctx, shopID, key(ref, "call"))
		if err != nil {
			t.Fatal(err)
		}
		if task.Status != care.TaskCancelled || task.OutcomeNote != "expired" || task.DoneAt == nil {
			t.Errorf("task %s note %q done_at %v, want cancelled expired", task.Status, task.OutcomeNote, task.DoneAt)
		}
		if r := f.getRun(ref); r.Outcome != codconfirm.OutcomeExpired {
			t.Errorf("run outcome %q, want %s: nobody called, so the buyer was not found unreachable", r.Outcome, codconfirm.OutcomeExpired)
		}
		if _, ok := f.entry(ref, "declined"); ok {
			t.Errorf("a declined notice was sent for an expired call")
		}
		if m, ok := f.entry(ref, codconfirm.NoticeExpired); !ok || m.Status != care.MessageSent || !strings.Contains(m.Text, "TB-3003") {
			t.Errorf("expired notice %+v (found %v), want sent naming the order", m, ok)
		}
	})
	t.Run("unreachable to the shop's webhook", func(t *testing.T) {
		f, ref := codOrder(t)
		hook := &caretest.Channel{}
		f.h.Channels["webhook"] = hook
		if err := f.db.PutSource(f.ctx, care.Source{ShopID: shopID, Name: care.ChannelWebhook, URL: "https://shop.example/hook",
			Secret: "whsec_dGVzdA==", UpdatedAt: f.clk.Now()}); err != nil {
			t.Fatal(err)
		}
		st := steps.State{Run: ref, Step: "call", Outcome: json.RawMessage(`{"outcome":"unreachable","agent":"a"}`)}
		f.mustHandle(codconfirm.ActionOutcome, st, "")
		f.mustHandle(codconfirm.ActionOutcome, st, "") // a retried Record sends nothing twice
		sent := hook.Sent()
		if len(sent) != 1 || sent[0].Event != "notice" || sent[0].Message.ID != key(ref, codconfirm.NoticeUnreachable) ||
			sent[0].Message.Step != codconfirm.NoticeUnreachable || !strings.Contains(sent[0].Message.Text, "207.00") {
			t.Fatalf("webhook deliveries %+v, want one unreachable notice with the COD total", sent)
		}
		if r := f.getRun(ref); r.Outcome != codconfirm.OutcomeUnreachable {
			t.Errorf("run outcome %q, want %s", r.Outcome, codconfirm.OutcomeUnreachable)
		}
	})
	t.Run("confirmed without a confirmed step in the template", func(t *testing.T) {
		f := newFixture(t)
		v := f.template(care.CODConfirm, func(m map[string]any) {
			var kept []any
			for _, s := range m["steps"].([]any) {
				if s.(map[string]any)["id"] != "confirmed" {
					kept = append(kept, s)
				}
			}
			m["steps"] = kept
		})
		f.createOrder(orderSpec{id: "TB-3004", total: "88.00", cod: true})
		ref := f.run("TB-3004", care.CODConfirm, v)
		f.mustHandle(codconfirm.ActionOutcome, steps.State{Run: ref, Step: "call", Outcome: json.RawMessage(`{"outcome":"confirmed","agent":"a"}`)}, "")
		if m, ok := f.entry(ref, codconfirm.NoticeConfirmed); !ok || m.Status != care.MessageSent || !strings.Contains(m.Text, "TB-3004") {
			t.Errorf("confirmed notice %+v (found %v), want the built-in one sent", m, ok)
		}
	})
	t.Run("call skipped: order cancelled", func(t *testing.T) {
		f, ref := codOrder(t)
		f.mark(care.OrderCancelled, ref.Order)
		call := steps.State{Run: ref, Step: "call", Kind: steps.KindCall, Reply: json.RawMessage(`{"answer":"no"}`)}
		f.mustHandle(steps.ActionEscalate, call, "tok-call")
		want := []caretest.ResumeCall{{Token: "tok-call", Output: `{"skipped":"cancelled"}`}}
		if diff := cmp.Diff(want, f.res.Calls()); diff != "" {
			t.Fatalf("ResumeTask calls (-want +got):\n%s", diff)
		}
		call.Outcome = json.RawMessage(want[0].Output)
		out := f.mustHandle(codconfirm.ActionOutcome, call, "")
		if r := f.getRun(ref); out.Kind != steps.KindDone || r.Status != care.RunSucceeded || r.Outcome != "" {
			t.Errorf("kind %q, run %s outcome %q; want done, succeeded without outcome", out.Kind, r.Status, r.Outcome)
		}
		if ts := f.tasks(ref.Order); len(ts) != 0 {
			t.Errorf("a task was raised for a cancelled order: %+v", ts)
		}
	})
	t.Run("agent outcome confirmed", func(t *testing.T) {
		f, ref := codOrder(t)
		f.mustHandle(codconfirm.ActionOutcome, steps.State{Run: ref, Step: "call", Outcome: json.RawMessage(`{"outcome":"confirmed","agent":"a"}`)}, "")
		if r := f.getRun(ref); r.Outcome != "cod_confirmed" {
			t.Errorf("run outcome %q, want cod_confirmed", r.Outcome)
		}
	})
}
