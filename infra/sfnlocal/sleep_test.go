package sfnlocal

import (
	"context"
	"testing"
	"time"
)

func TestSleepSkipIdle(t *testing.T) {
	h := newHarness(t, "", true, map[string]any{
		"nap": func(ctx context.Context, in struct {
			S int `json:"s"`
		}) (string, error) {
			if err := Sleep(ctx, time.Duration(in.S)*time.Second); err != nil {
				return "", err
			}
			return "rested", nil
		},
	})
	sm := h.create("nap", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:nap","TimeoutSeconds":30,"End":true}}}`)
	ok := h.start(sm, "short", `{"s":10}`)
	if d := h.wait(ok); d.Status != StatusSucceeded || deref(d.Output) != `"rested"` {
		t.Errorf("10 s nap: %s %s", d.Status, deref(d.Output))
	}
	late := h.start(sm, "long", `{"s":60}`)
	if d := h.wait(late); d.Status != StatusFailed || deref(d.Error) != "States.Timeout" {
		t.Errorf("60 s nap with a 30 s timeout: %s %s", d.Status, deref(d.Error))
	}
}
