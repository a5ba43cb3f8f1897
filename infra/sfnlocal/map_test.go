package sfnlocal

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"
)

func TestMapConcurrencyAndErrors(t *testing.T) {
	h := newHarness(t, "", true, map[string]any{
		"echo": func(ctx context.Context, in int) (int, error) { return in * 10, nil },
		"verbatim": func(ctx context.Context, in struct{}) (string, error) {
			return "", messages.InvokeResponse_Error{Type: "Custom.Type", Message: "m"}
		},
		"panics": func(ctx context.Context, in struct{}) (string, error) { panic("boom") },
	})
	sm := h.create("m", `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":2,
		"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:echo","End":true}}},"End":true}}}`)
	arn := h.start(sm, "x", `[1,2,3,4,5,6]`)
	d := h.wait(arn)
	if d.Status != StatusSucceeded {
		t.Fatalf("status %s %s", d.Status, deref(d.Cause))
	}
	jsonEq(t, `[10,20,30,40,50,60]`, deref(d.Output))
	running, max := 0, 0
	for _, ev := range h.history(arn) {
		switch ev.Type {
		case EvMapIterationStarted:
			running++
			if running > max {
				max = running
			}
		case EvMapIterationSucceeded:
			running--
		}
	}
	if max != 2 {
		t.Errorf("at most %d iterations ran at once, want 2", max)
	}

	for _, tc := range []struct{ fn, errName string }{{"verbatim", "Custom.Type"}, {"panics", "string"}} {
		sm := h.create("e"+tc.fn, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:`+tc.fn+`","End":true}}}`)
		d := h.wait(h.start(sm, "x", "{}"))
		if d.Status != StatusFailed || deref(d.Error) != tc.errName {
			t.Errorf("%s: %s %s %s", tc.fn, d.Status, deref(d.Error), deref(d.Cause))
		}
	}
}

// TestLargeMap runs a Map whose iterations exceed one round's step budget,
// so the execution is committed mid-way and continued in later rounds.
func TestLargeMap(t *testing.T) {
	h := newHarness(t, "", true, nil)
	sm := h.create("big", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
		"ResultSelector":{"n.$":"States.ArrayLength($)"},"End":true}}}`)
	const n = 12000
	items := make([]byte, 0, 3*n)
	items = append(items, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			items = append(items, ',')
		}
		items = append(items, '1')
	}
	items = append(items, ']')
	d := h.wait(h.start(sm, "x", string(items)))
	if d.Status != StatusSucceeded {
		t.Fatalf("status %s", d.Status)
	}
	jsonEq(t, `{"n":12000}`, deref(d.Output))
	if got := len(h.historyAll(d.ExecutionArn)); got != 3+4*n+3 {
		t.Errorf("%d events, want %d", got, 3+4*n+3)
	}
}
