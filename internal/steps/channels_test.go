package steps_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/caretest"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/consent"
	"github.com/ordercare/ordercare/internal/steps"
	unpaidchase "github.com/ordercare/ordercare/workflows/unpaid_chase"
)

// media is a fake channel that may be unable to reach the buyer, and may
// be paid.
type media struct {
	caretest.Channel
	unreachable string
	paid        bool
}

func (c *media) Unreachable(context.Context, steps.Envelope) string { return c.unreachable }
func (c *media) Paid() bool                                         { return c.paid }

// nudgeOn makes the nudge step send on channels, in that order.
func nudgeOn(channels ...string) func(map[string]any) {
	return func(b map[string]any) {
		for _, s := range b["steps"].([]any) {
			if st := s.(map[string]any); st["id"] == "nudge" {
				list := make([]any, len(channels))
				for i, c := range channels {
					list[i] = c
				}
				st["channels"] = list
			}
		}
	}
}

// TestChannelOrder: a step's channels are tried in order; the first that
// can reach the buyer sends, and when none can, the step is skipped with
// the reason, nothing reserved as pending and nothing sent.
func TestChannelOrder(t *testing.T) {
	tests := []struct {
		name       string
		channels   []string
		sms, email string // Unreachable reasons
		noWebhook  bool   // "webhook" not registered on this runtime
		want       string // the channel used, "" for a skip
		reason     string
	}{
		{name: "first reachable", channels: []string{"sms", "email"}, want: "sms"},
		{name: "invalid phone falls back to email", channels: []string{"sms", "email"}, sms: "invalid_phone", want: "email"},
		{name: "im, else sms", channels: []string{"webhook", "sms", "email"}, noWebhook: true, want: "sms"},
		{name: "nobody reachable", channels: []string{"sms", "email"}, sms: "invalid_phone", email: "no_email", reason: "no_email"},
		{name: "sms alone, invalid", channels: []string{"sms"}, sms: "invalid_phone", reason: "invalid_phone"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, ref, web := chaseFixture(t, nudgeOn(tc.channels...))
			chans := map[string]*media{"sms": {unreachable: tc.sms}, "email": {unreachable: tc.email}}
			f.h.Channels["sms"], f.h.Channels["email"] = chans["sms"], chans["email"]
			if tc.noWebhook {
				delete(f.h.Channels, "webhook")
			}
			f.clk.Advance(10 * time.Minute)
			f.chase(steps.State{Run: ref, Step: "nudge"})
			m, _ := f.entry(ref, "nudge")
			calls := map[string]int{"sms": len(chans["sms"].Sent()), "email": len(chans["email"].Sent()), "webhook": len(web.Sent())}
			if tc.want == "" {
				if m.Status != care.MessageSkipped || m.Reason != tc.reason || calls["sms"]+calls["email"]+calls["webhook"] != 0 {
					t.Fatalf("entry %s %q, calls %v; want skipped %q and no call", m.Status, m.Reason, calls, tc.reason)
				}
				return
			}
			if m.Status != care.MessageSent || m.Channel != tc.want || calls[tc.want] != 1 {
				t.Fatalf("entry %s on %q, calls %v; want sent on %s", m.Status, m.Channel, calls, tc.want)
			}
		})
	}
}

// TestPaidChannelUnknownOutcome: a paid channel whose call timed out (the
// text may have gone) is never called again for that entry: the retry
// ends it failed with outcome_unknown. A call that certainly sent nothing
// (NotSentError) may be repeated.
func TestPaidChannelUnknownOutcome(t *testing.T) {
	for _, tc := range []struct {
		name   string
		first  error
		calls  int
		status care.MessageStatus
		reason string
	}{
		{"timeout: unknown", context.DeadlineExceeded, 1, care.MessageFailed, steps.ReasonOutcomeUnknown},
		{"throttled: sent on retry", &steps.NotSentError{Err: errors.New("Throttling")}, 2, care.MessageSent, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ref, _ := chaseFixture(t, nudgeOn("sms"))
			sms := &media{paid: true}
			n := 0
			sms.SendFunc = func(steps.Envelope) error {
				n++
				if n == 1 {
					return tc.first
				}
				return nil
			}
			f.h.Channels["sms"] = sms
			f.clk.Advance(10 * time.Minute)
			st := steps.State{Run: ref, Step: "nudge"}
			if _, err := f.handle(unpaidchase.ActionChase, st, ""); err == nil {
				t.Fatal("the first call's failure was not returned")
			}
			if m, _ := f.entry(ref, "nudge"); m.Status != care.MessagePending {
				t.Fatalf("after the failed call: %s", m.Status)
			}
			f.clk.Advance(time.Minute) // the state machine's retry
			f.chase(st)
			m, _ := f.entry(ref, "nudge")
			if len(sms.Sent()) != tc.calls || m.Status != tc.status || m.Reason != tc.reason {
				t.Fatalf("calls %d, entry %s %q; want %d, %s %q", len(sms.Sent()), m.Status, m.Reason, tc.calls, tc.status, tc.reason)
			}
		})
	}
}

// TestConsentPerChannel: the buyer's statements (stored in the embedded
// store) decide per channel and class: marketing needs consent on SMS, an
// opt-out of marketing leaves transactional messages, an opt-out of all
// stops everything, and a refused channel falls back to the next.
func TestConsentPerChannel(t *testing.T) {
	tests := []struct {
		name       string
		marketing  bool
		statements []consent.Record // Contact "phone" or "email" is replaced by its key
		want       string           // channel used, "" for a skip
		reason     string
	}{
		{name: "transactional, nothing recorded", want: "sms"},
		{name: "marketing without consent", marketing: true, reason: consent.ReasonNoConsent},
		{name: "marketing with sms consent", marketing: true, want: "sms",
			statements: []consent.Record{{Contact: "phone", Channel: "sms", State: consent.Granted}}},
		{name: "marketing, email consent only", marketing: true, want: "email",
			statements: []consent.Record{{Contact: "email", Channel: "email", State: consent.Granted}}},
		{name: "opted out of marketing: transactional goes", want: "sms",
			statements: []consent.Record{{Contact: "phone", Channel: consent.AllChannels, State: consent.OptedOutMarketing}}},
		{name: "opted out of sms: email instead", want: "email",
			statements: []consent.Record{{Contact: "phone", Channel: "sms", State: consent.OptedOutAll}}},
		{name: "opted out of all", reason: consent.ReasonOptedOut,
			statements: []consent.Record{{Contact: "phone", Channel: consent.AllChannels, State: consent.OptedOutAll},
				{Contact: "email", Channel: consent.AllChannels, State: consent.OptedOutAll}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			v := f.template(care.UnpaidChase, func(b map[string]any) {
				nudgeOn("sms", "email")(b)
				if tc.marketing {
					for _, s := range b["steps"].([]any) {
						if st := s.(map[string]any); st["id"] == "nudge" {
							st["class"] = "marketing"
						}
					}
				}
			})
			f.createOrder(orderSpec{id: "TB-1001", total: "129.00", deadline: 72 * time.Hour, email: "chen@example.com"})
			ref := f.run("TB-1001", care.UnpaidChase, v)
			f.h.Consents = f.db
			chans := map[string]*media{"sms": {}, "email": {}}
			f.h.Channels["sms"], f.h.Channels["email"] = chans["sms"], chans["email"]
			for _, r := range tc.statements {
				r.ShopID, r.Source, r.At = shopID, consent.SourceAPI, f.clk.Now()
				r.Contact = care.ContactKey(map[string]string{"phone": phone, "email": "chen@example.com"}[r.Contact])
				if err := f.db.PutConsent(f.ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			f.clk.Advance(10 * time.Minute)
			f.chase(steps.State{Run: ref, Step: "nudge"})
			m, _ := f.entry(ref, "nudge")
			if tc.want == "" {
				if m.Status != care.MessageSkipped || m.Reason != tc.reason {
					t.Fatalf("entry %s %q, want skipped %q", m.Status, m.Reason, tc.reason)
				}
				return
			}
			if m.Status != care.MessageSent || m.Channel != tc.want || len(chans[tc.want].Sent()) != 1 {
				t.Fatalf("entry %s on %q (%q); want sent on %s", m.Status, m.Channel, m.Reason, tc.want)
			}
			if tc.marketing && m.Class != "marketing" {
				t.Errorf("entry class %q", m.Class)
			}
		})
	}
}

type bounce struct{}

func (bounce) Error() string        { return "bounced: 550 5.1.1" }
func (bounce) Is(target error) bool { return target == care.ErrRejected }
func (bounce) Undeliverable() bool  { return true }

// TestHardBounceSuppresses: a channel refusing the address itself ends the
// entry failed with receipt bounced and suppresses the address on that
// channel for the shop, and on no other channel.
func TestHardBounceSuppresses(t *testing.T) {
	f := newFixture(t)
	v := f.template(care.UnpaidChase, func(b map[string]any) {
		for _, s := range b["steps"].([]any) {
			if st := s.(map[string]any); st["action"] == "message" {
				st["channels"] = []any{"email", "sms"}
			}
		}
	})
	f.createOrder(orderSpec{id: "TB-1001", total: "129.00", deadline: 72 * time.Hour, email: "chen@example.com"})
	ref := f.run("TB-1001", care.UnpaidChase, v)
	f.h.Consents = f.db
	email, sms := &media{}, &media{}
	email.SendFunc = func(steps.Envelope) error { return bounce{} }
	f.h.Channels["email"], f.h.Channels["sms"] = email, sms
	f.clk.Advance(10 * time.Minute)
	f.chase(steps.State{Run: ref, Step: "nudge"})
	m, _ := f.entry(ref, "nudge")
	if m.Status != care.MessageFailed || m.Receipt != care.ReceiptBounced || m.Channel != "email" {
		t.Fatalf("entry %s on %s, receipt %q; want failed on email, bounced", m.Status, m.Channel, m.Receipt)
	}
	recs, _ := f.db.ListConsents(f.ctx, shopID, care.ContactKey("chen@example.com"))
	if consent.Decide(recs, "email", false, false) != consent.ReasonOptedOut || consent.Decide(recs, "sms", false, false) != "" {
		t.Fatalf("statements after the bounce: %+v", recs)
	}
}

// TestMarketQuietHours: in China a marketing reminder woken at 21:30 the
// buyer's time waits for 08:00 (deferred, not dropped); a transactional one
// goes.
func TestMarketQuietHours(t *testing.T) {
	for _, tc := range []struct {
		name      string
		marketing bool
		deferred  bool
	}{
		{"marketing waits for the morning", true, true},
		{"transactional goes", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ref, _ := chaseFixture(t, func(b map[string]any) {
				delete(b, "quiet_hours")
				if tc.marketing {
					for _, s := range b["steps"].([]any) {
						if st := s.(map[string]any); st["action"] == "message" {
							st["class"] = "marketing"
						}
					}
				}
			})
			f.clk.Set(time.Date(2026, 11, 11, 21, 30, 0, 0, shanghai(t)))
			out := f.chase(steps.State{Run: ref, Step: "nudge"})
			m, found := f.entry(ref, "nudge")
			if !tc.deferred {
				if !found || m.Status != care.MessageSent {
					t.Fatalf("nudge %+v, want sent", m)
				}
				return
			}
			want := time.Date(2026, 11, 12, 8, 0, 0, 0, shanghai(t))
			if found || out.Step != "nudge" || out.At == nil || !out.At.Equal(want) {
				t.Fatalf("state %+v (entry found %v), want nudge deferred to %v", out, found, want)
			}
		})
	}
}

func shanghai(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestMessageAt: the time every workflow that times its own messages asks
// (shipping notices, stall and pre-ship messages, revise asks) keeps the
// market's sending hours too, not only the template's quiet hours: China
// marketing waits for 08:00 in the buyer's zone.
func TestMessageAt(t *testing.T) {
	f, ref, _ := chaseFixture(t, func(b map[string]any) {
		delete(b, "quiet_hours")
		for _, s := range b["steps"].([]any) {
			if st := s.(map[string]any); st["action"] == "message" {
				st["class"] = "marketing"
			}
		}
	})
	f.clk.Set(time.Date(2026, 11, 11, 21, 30, 0, 0, shanghai(t)))
	e, err := f.h.Load(f.ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.MessageAt(e.Now), time.Date(2026, 11, 12, 8, 0, 0, 0, shanghai(t)); !got.Equal(want) {
		t.Errorf("MessageAt(21:30) = %v, want %v", got, want)
	}
	noon := time.Date(2026, 11, 12, 12, 0, 0, 0, shanghai(t))
	if got := e.MessageAt(noon); !got.Equal(noon) {
		t.Errorf("MessageAt(12:00) = %v, want 12:00 (no message sent yet, inside the hours)", got)
	}
}
