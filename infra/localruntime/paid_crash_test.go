package localruntime_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/localruntime"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
)

// provider is a paid SMS provider: it counts every text it takes. While
// hang is set, a call is taken and then never answered (the runtime dies
// waiting).
type provider struct {
	mu      sync.Mutex
	texts   map[string]int // by ledger id
	hang    bool
	entered chan struct{}
}

type paidSMS struct{ p *provider }

func (c paidSMS) Paid() bool                                         { return true }
func (c paidSMS) Unreachable(context.Context, steps.Envelope) string { return "" }
func (c paidSMS) Send(ctx context.Context, d steps.Envelope) error {
	c.p.mu.Lock()
	c.p.texts[d.Message.ID]++
	hang := c.p.hang
	c.p.mu.Unlock()
	if hang {
		c.p.entered <- struct{}{}
		<-ctx.Done() // the text went out; the answer never comes back
		return ctx.Err()
	}
	return nil
}

// TestCrashDuringPaidSend kills the runtime while a paid channel has taken
// a text and not answered, then opens it again on the same data: the step
// runs again, finds the attempt with an unknown outcome, and marks the
// entry for review instead of sending again. No text is sent twice.
func TestCrashDuringPaidSend(t *testing.T) {
	p := &provider{texts: map[string]int{}, hang: true, entered: make(chan struct{}, 4)}
	dir := t.TempDir()
	rt, err := localruntime.Open(t.Context(), localruntime.Options{DataDir: dir, Clock: localruntime.ClockVirtual, Start: start, SMS: paidSMS{p}})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, rt: rt, api: httptest.NewServer(rt.API)}
	h.shop = h.newShop("crash")
	h.editSteps(care.UnpaidChase, func(st map[string]any) { st["channels"] = []any{"sms"} })
	if st := h.webhook(h.shop, "", order("P1", "129.90", false, 72*time.Hour, h.now().Add(-10*time.Minute))); st != 202 {
		t.Fatalf("order.created: %d", st)
	}
	select {
	case <-p.entered:
	case <-time.After(20 * time.Second): // a safety bound: the run starts at once
		t.Fatal("the paid channel was never called")
	}
	h.api.Close()
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}

	p.mu.Lock()
	p.hang = false
	p.mu.Unlock()
	rt, err = localruntime.Open(t.Context(), localruntime.Options{DataDir: dir, Clock: localruntime.ClockVirtual, SMS: paidSMS{p}})
	if err != nil {
		t.Fatal(err)
	}
	h = &harness{t: t, rt: rt, api: httptest.NewServer(rt.API), shop: h.shop}
	t.Cleanup(func() {
		h.api.Close()
		rt.Close()
	})
	h.advance("1h")
	var nudge care.Message
	for _, m := range h.messages("P1") {
		if m.Step == "nudge" {
			nudge = m
		}
	}
	if nudge.Status != care.MessageFailed || nudge.Reason != steps.ReasonOutcomeUnknown || nudge.Attempts != 1 {
		t.Fatalf("nudge after the restart: %+v; want failed outcome_unknown", nudge)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, n := range p.texts {
		if n != 1 {
			t.Errorf("%s sent %d times", id, n)
		}
	}
	if p.texts[nudge.ID] != 1 {
		t.Errorf("the provider took the nudge %d times, want 1", p.texts[nudge.ID])
	}
	var rep struct {
		Workflows []struct {
			Review int `json:"review"`
		} `json:"workflows"`
	}
	h.must("GET", "/v1/metrics?workflow=unpaid_chase", h.ops(), nil, 200, &rep)
	if len(rep.Workflows) != 1 || rep.Workflows[0].Review != 1 {
		t.Errorf("metrics review count: %+v, want 1", rep)
	}
}
