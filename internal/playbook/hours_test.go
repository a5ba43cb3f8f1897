package playbook

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestPlanHours: Timing.Hours (the market's sending hours, which
// steps.Timing sets) defers a message step after the template's quiet
// hours, never a notice to the shop; a before_cutoff step it would push
// past its cut-off is skipped as the template's own quiet hours would.
func TestPlanHours(t *testing.T) {
	sh := mustLoad(t, "Asia/Shanghai")
	at := func(d, h, mi int) time.Time { return time.Date(2026, 11, 23+d, h, mi, 0, 0, sh) }
	// The market's hours in this test: nothing before 14:00 or from 20:00 on.
	var asked []bool
	hours := func(t time.Time, channels []string, marketing bool) time.Time {
		asked = append(asked, marketing)
		l := t.In(sh)
		switch {
		case l.Hour() < 14:
			return time.Date(l.Year(), l.Month(), l.Day(), 14, 0, 0, 0, sh)
		case l.Hour() >= 20:
			return time.Date(l.Year(), l.Month(), l.Day()+1, 14, 0, 0, 0, sh)
		}
		return t
	}
	tpl := bunchedChase(t, "")
	placed := at(0, 9, 0)
	for _, tc := range []struct {
		name  string
		after string
		now   time.Time
		want  *Next
		skips []Skip
	}{
		{"the nudge at 09:10 waits for 14:00", "", at(0, 9, 0), &Next{"nudge", at(0, 14, 0)}, nil},
		{"the cut-off reminder, inside the hours, keeps its 15:00", "nudge", at(0, 14, 0), &Next{"ships_today", at(0, 15, 0)}, nil},
		{"the notice to the shop is not deferred", "coupon", at(0, 15, 0), &Next{"notice", at(0, 15, 0)}, nil},
		{"at 21:00 the last call waits for tomorrow 14:00", "notice", at(0, 21, 0), &Next{"last", at(1, 14, 0)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next, skips := tpl.Plan(tc.after, Timing{PlacedAt: placed, Now: tc.now, ShopLoc: sh, Hours: hours})
			if diff := cmp.Diff(tc.want, next); diff != "" {
				t.Errorf("next (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.skips, skips); diff != "" {
				t.Errorf("skips (-want +got):\n%s", diff)
			}
		})
	}
	// Deferred past its cut-off (hours open only at 17:00), the cut-off
	// reminder is skipped and the plan moves on.
	next, skips := tpl.Plan("nudge", Timing{PlacedAt: placed, Now: at(0, 9, 30), ShopLoc: sh, Hours: func(t time.Time, _ []string, _ bool) time.Time {
		if t.Before(at(0, 17, 0)) {
			return at(0, 17, 0)
		}
		return t
	}})
	if len(skips) == 0 || skips[0] != (Skip{"ships_today", SkipCutoffPassed}) || next == nil || next.Step != "coupon" {
		t.Errorf("next %+v, skips %+v; want ships_today skipped cutoff_passed, then the coupon", next, skips)
	}
	if len(asked) == 0 {
		t.Error("Plan never asked the hours")
	}
}
