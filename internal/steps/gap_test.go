package steps_test

import (
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/caretest"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
)

// bunchedSteps makes the template's steps a nudge, a cut-off reminder an
// hour before the 16:00 cut-off and a coupon six hours after the order: for
// an order placed at 09:00 (the fixture's start) both reminders fall at
// 15:00. Messages go to the webhook channel so a fake sees every send.
func bunchedSteps(b map[string]any) {
	webhookChannel(b)
	b["cutoff"] = "16:00"
	b["quiet_hours"] = map[string]any{"from": "22:00", "to": "08:00"}
	b["contact_budget"] = 5
	msg := func(id, after string, extra map[string]any) map[string]any {
		s := map[string]any{"id": id, "action": "message", "after": after, "script": map[string]any{"zh-CN": id, "en": id}}
		for k, v := range extra {
			s[k] = v
		}
		return s
	}
	b["steps"] = []any{
		msg("nudge", "10m", nil),
		msg("ships_today", "30m", map[string]any{"before_cutoff": "1h"}),
		msg("coupon", "6h", map[string]any{"coupon": "SAVE5"}),
	}
}

// sentElsewhere records a message another workflow of the order sent the
// buyer (or a notice it sent the shop) at the clock's time.
func (f *fixture) sentElsewhere(order, id string, kind care.MessageKind) {
	f.t.Helper()
	now := f.clk.Now()
	m := care.Message{ID: id, ShopID: shopID, OrderID: order, Workflow: care.CODConfirm, Step: "ask", TemplateVersion: 1,
		Channel: "outbox", Kind: kind, Status: care.MessageSent, At: now, SentAt: &now}
	if _, _, err := f.db.ReserveMessage(f.ctx, m); err != nil {
		f.t.Fatalf("ReserveMessage: %v", err)
	}
}

func TestMinGapBetweenMessages(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 11, 11, h, m, 0, 0, mustZone(t, "Asia/Shanghai")) }
	wantState := func(t *testing.T, f *fixture, ref steps.RunRef, out steps.State, step string, next time.Time) {
		t.Helper()
		if out.Step != step || out.Kind != steps.KindMessage || out.At == nil || !out.At.Equal(next) {
			t.Fatalf("next state: step %q kind %q at %v, want %s message at %s", out.Step, out.Kind, out.At, step, next.UTC())
		}
		if r := f.getRun(ref); r.Step != step || r.NextAt == nil || !r.NextAt.Equal(next) {
			t.Errorf("run: step %q next_at %v, want %s at %s", r.Step, r.NextAt, step, next.UTC())
		}
	}

	t.Run("the planner keeps the gap between the cut-off and coupon reminders", func(t *testing.T) {
		f := newFixture(t)
		v := f.template(care.UnpaidChase, bunchedSteps)
		f.createOrder(orderSpec{id: "TB-1", total: "129.00", deadline: 72 * time.Hour})
		ch := &caretest.Channel{}
		f.h.Channels["webhook"] = ch
		ref := f.run("TB-1", care.UnpaidChase, v)

		out := f.chase(steps.State{Run: ref})
		wantState(t, f, ref, out, "nudge", at(9, 10))
		f.clk.Set(at(9, 10))
		out = f.chase(out)
		wantState(t, f, ref, out, "ships_today", at(15, 0))
		f.clk.Set(at(15, 0))
		out = f.chase(out)
		wantState(t, f, ref, out, "coupon", at(15, 0).Add(playbook.DefaultMinGap)) // not 15:00 with it

		// Meanwhile another workflow messaged the buyer at 15:20 and told the
		// shop something at 15:25 (a notice keeps no gap).
		f.clk.Set(at(15, 20))
		f.sentElsewhere("TB-1", "other.ask", care.KindMessage)
		f.clk.Set(at(15, 25))
		f.sentElsewhere("TB-1", "other.confirmed", care.KindNotice)

		f.clk.Set(at(15, 30))
		out = f.chase(out)
		wantState(t, f, ref, out, "coupon", at(15, 50)) // deferred at send time
		if m, ok := f.entry(ref, "coupon"); ok {
			t.Errorf("a deferred step left a ledger entry: %+v", m)
		}
		if n := len(ch.Sent()); n != 2 {
			t.Errorf("channel called %d times by 15:30, want 2", n)
		}

		f.clk.Set(at(15, 50))
		out = f.chase(out)
		if out.Kind != steps.KindDone {
			t.Errorf("after the coupon: kind %q, want done", out.Kind)
		}
		sent := ch.Sent()
		if len(sent) != 3 || sent[2].Message.Step != "coupon" {
			t.Fatalf("sends %d, want the coupon third", len(sent))
		}
		if m, _ := f.entry(ref, "coupon"); m.Status != care.MessageSent || m.SentAt == nil || !m.SentAt.Equal(at(15, 50)) {
			t.Errorf("coupon entry %s sent at %v, want sent at 15:50", m.Status, m.SentAt)
		}
		for i, d := range sent {
			if d.Message.Kind != care.KindMessage {
				t.Errorf("send %d (%s) has kind %q, want message", i, d.Message.Step, d.Message.Kind)
			}
		}
	})

	t.Run("a deferral past the pay deadline skips the step with reason min_gap", func(t *testing.T) {
		f := newFixture(t)
		v := f.template(care.UnpaidChase, bunchedSteps)
		f.createOrder(orderSpec{id: "TB-2", total: "129.00", deadline: 6*time.Hour + 40*time.Minute}) // closes 15:40
		ch := &caretest.Channel{}
		f.h.Channels["webhook"] = ch
		ref := f.run("TB-2", care.UnpaidChase, v)

		f.clk.Set(at(15, 20))
		f.sentElsewhere("TB-2", "other.ask", care.KindMessage)
		f.clk.Set(at(15, 30))
		out := f.chase(steps.State{Run: ref, Step: "coupon", Kind: steps.KindMessage})
		if out.Kind != steps.KindDone {
			t.Errorf("next kind %q, want done", out.Kind)
		}
		m, ok := f.entry(ref, "coupon")
		if !ok || m.Status != care.MessageSkipped || m.Reason != playbook.SkipMinGap || m.Kind != care.KindMessage {
			t.Errorf("coupon entry %s/%q kind %q (found %v), want a skipped message, reason min_gap", m.Status, m.Reason, m.Kind, ok)
		}
		if n := len(ch.Sent()); n != 0 {
			t.Errorf("channel called %d times, want 0", n)
		}
	})

	t.Run("a message to be skipped anyway is skipped now, not deferred", func(t *testing.T) {
		f := newFixture(t)
		v := f.template(care.UnpaidChase, func(b map[string]any) { bunchedSteps(b); b["contact_budget"] = 1 })
		f.createOrder(orderSpec{id: "TB-3", total: "129.00", deadline: 72 * time.Hour})
		f.h.Channels["webhook"] = &caretest.Channel{}
		ref := f.run("TB-3", care.UnpaidChase, v)
		f.clk.Set(at(9, 10))
		f.chase(steps.State{Run: ref, Step: "nudge"})
		f.chase(steps.State{Run: ref, Step: "ships_today"})
		if m, _ := f.entry(ref, "ships_today"); m.Status != care.MessageSkipped || m.Reason != steps.ReasonBudgetSpent {
			t.Errorf("ships_today entry %s/%q, want skipped/budget_spent", m.Status, m.Reason)
		}
	})
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
