package playbook

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// tinyChase is a one-step unpaid_chase template for custom timing cases.
func tinyChase(t *testing.T, extra, stepExtra string) *Template {
	t.Helper()
	body := `{"workflow":"unpaid_chase","default_locale":"en","channel":"outbox","pay_window":"72h","contact_budget":3,` +
		extra + `"steps":[{"id":"s","action":"message",` + stepExtra + `"script":{"en":"hi"}}]}`
	return mustParse(t, care.UnpaidChase, []byte(body))
}

func TestPlan(t *testing.T) {
	sh := mustLoad(t, "Asia/Shanghai")
	ny := mustLoad(t, "America/New_York")
	b, _ := defaultTemplate(care.UnpaidChase)
	chase := mustParse(t, care.UnpaidChase, b)
	b, _ = defaultTemplate(care.CODConfirm)
	cod := mustParse(t, care.CODConfirm, b)

	at := func(loc *time.Location, y int, mo time.Month, d, h, mi int) time.Time {
		return time.Date(y, mo, d, h, mi, 0, 0, loc)
	}
	ptr := func(t time.Time) *time.Time { return &t }
	placed := at(sh, 2026, 11, 23, 10, 0) // a Monday morning in Hangzhou

	cases := []struct {
		name  string
		tpl   *Template
		after string
		in    Timing
		want  *Next
		skips []Skip
	}{
		{name: "first nudge 10 minutes after the order", tpl: chase,
			in:   Timing{PlacedAt: placed, Now: placed, Total: "129.90", ShopLoc: sh},
			want: &Next{"nudge", at(sh, 2026, 11, 23, 10, 10)}},
		{name: "a late start sends now", tpl: chase,
			in:   Timing{PlacedAt: placed, Now: placed.Add(time.Hour), Total: "129.90", ShopLoc: sh},
			want: &Next{"nudge", placed.Add(time.Hour)}},
		{name: "ships today: an hour before today's cut-off", tpl: chase, after: "nudge",
			in:   Timing{PlacedAt: placed, Now: placed.Add(10 * time.Minute), Total: "129.90", ShopLoc: sh},
			want: &Next{"ships_today", at(sh, 2026, 11, 23, 15, 0)}},
		{name: "ships today: cut-off tomorrow for an afternoon order", tpl: chase, after: "nudge",
			in:   Timing{PlacedAt: at(sh, 2026, 11, 23, 15, 30), Now: at(sh, 2026, 11, 23, 15, 40), Total: "129.90", ShopLoc: sh},
			want: &Next{"ships_today", at(sh, 2026, 11, 24, 15, 0)}},
		{name: "ships today: order placed exactly when the slot opens", tpl: chase, after: "nudge",
			in:   Timing{PlacedAt: at(sh, 2026, 11, 23, 14, 30), Now: at(sh, 2026, 11, 23, 14, 40), Total: "129.90", ShopLoc: sh},
			want: &Next{"ships_today", at(sh, 2026, 11, 23, 15, 0)}},
		{name: "ships today: late but before the cut-off sends now", tpl: chase, after: "nudge",
			in:   Timing{PlacedAt: placed, Now: at(sh, 2026, 11, 23, 15, 30), Total: "129.90", ShopLoc: sh},
			want: &Next{"ships_today", at(sh, 2026, 11, 23, 15, 30)}},
		{name: "ships today: resumed after the cut-off is skipped", tpl: chase, after: "nudge",
			in:    Timing{PlacedAt: placed, Now: at(sh, 2026, 11, 23, 16, 30), Total: "129.90", ShopLoc: sh},
			want:  &Next{"coupon", at(sh, 2026, 11, 23, 16, 30)},
			skips: []Skip{{"ships_today", SkipCutoffPassed}}},
		{name: "coupon six hours after the order", tpl: chase, after: "ships_today",
			in:   Timing{PlacedAt: placed, Now: at(sh, 2026, 11, 23, 15, 0), Total: "129.90", ShopLoc: sh},
			want: &Next{"coupon", at(sh, 2026, 11, 23, 16, 0)}},
		{name: "small order: no call", tpl: chase, after: "coupon",
			in:    Timing{PlacedAt: placed, Now: at(sh, 2026, 11, 23, 16, 0), Total: "129.90", ShopLoc: sh},
			skips: []Skip{{"call", SkipBelowThreshold}}},
		{name: "unknown total: no call", tpl: chase, after: "coupon",
			in:    Timing{PlacedAt: placed, Now: at(sh, 2026, 11, 23, 16, 0), ShopLoc: sh},
			skips: []Skip{{"call", SkipBelowThreshold}}},
		{name: "total only in another currency: no call, and says why", tpl: chase, after: "coupon",
			in:    Timing{PlacedAt: placed, Now: at(sh, 2026, 11, 23, 16, 0), ShopLoc: sh, OtherCurrency: true},
			skips: []Skip{{"call", SkipOtherCurrency}}},
		{name: "large order: call at 22:00 moves to 08:00", tpl: chase, after: "coupon",
			in:   Timing{PlacedAt: placed, Now: at(sh, 2026, 11, 23, 16, 0), Total: "500.00", ShopLoc: sh},
			want: &Next{"call", at(sh, 2026, 11, 24, 8, 0)}},
		{name: "large morning order: call at 13:00", tpl: chase, after: "coupon",
			in:   Timing{PlacedAt: at(sh, 2026, 11, 23, 1, 0), Now: at(sh, 2026, 11, 23, 8, 0), Total: "1288", ShopLoc: sh},
			want: &Next{"call", at(sh, 2026, 11, 23, 13, 0)}},
		{name: "call within before_deadline of the pay deadline is skipped", tpl: chase, after: "coupon",
			in: Timing{PlacedAt: at(sh, 2026, 11, 23, 1, 0), Now: at(sh, 2026, 11, 23, 8, 0), Total: "1288", ShopLoc: sh,
				Deadline: ptr(at(sh, 2026, 11, 23, 13, 30))},
			skips: []Skip{{"call", SkipDeadlinePassed}}},
		{name: "call exactly before_deadline before the deadline runs", tpl: chase, after: "coupon",
			in: Timing{PlacedAt: at(sh, 2026, 11, 23, 1, 0), Now: at(sh, 2026, 11, 23, 8, 0), Total: "1288", ShopLoc: sh,
				Deadline: ptr(at(sh, 2026, 11, 23, 14, 0))},
			want: &Next{"call", at(sh, 2026, 11, 23, 13, 0)}},
		{name: "deadline before the first step (live stream, 5 minutes)", tpl: chase,
			in: Timing{PlacedAt: placed, Now: placed, Total: "129.90", ShopLoc: sh, Deadline: ptr(placed.Add(5 * time.Minute))},
			skips: []Skip{{"nudge", SkipDeadlinePassed}, {"ships_today", SkipDeadlinePassed},
				{"coupon", SkipDeadlinePassed}, {"call", SkipBelowThreshold}}},
		{name: "deadline exactly at the step is passed", tpl: chase,
			in:    Timing{PlacedAt: placed, Now: placed, Total: "129.90", ShopLoc: sh, Deadline: ptr(placed.Add(10 * time.Minute))},
			want:  nil,
			skips: []Skip{{"nudge", SkipDeadlinePassed}, {"ships_today", SkipDeadlinePassed}, {"coupon", SkipDeadlinePassed}, {"call", SkipBelowThreshold}}},
		{name: "a 30-minute window still gets the nudge", tpl: chase,
			in:   Timing{PlacedAt: placed, Now: placed, Total: "129.90", ShopLoc: sh, Deadline: ptr(placed.Add(30 * time.Minute))},
			want: &Next{"nudge", at(sh, 2026, 11, 23, 10, 10)}},
		{name: "deadline reached", tpl: chase, after: "ships_today",
			in:    Timing{PlacedAt: placed, Now: placed.Add(72 * time.Hour), Total: "900", ShopLoc: sh, Deadline: ptr(placed.Add(72 * time.Hour))},
			skips: []Skip{{"coupon", SkipDeadlinePassed}, {"call", SkipDeadlinePassed}}},
		{name: "quiet hours: 22:05 moves to 08:00 next day", tpl: chase,
			in:   Timing{PlacedAt: at(sh, 2026, 11, 23, 21, 55), Now: at(sh, 2026, 11, 23, 21, 55), Total: "1", ShopLoc: sh},
			want: &Next{"nudge", at(sh, 2026, 11, 24, 8, 0)}},
		{name: "quiet hours after midnight: 01:10 moves to 08:00 same day", tpl: chase,
			in:   Timing{PlacedAt: at(sh, 2026, 11, 23, 1, 0), Now: at(sh, 2026, 11, 23, 1, 0), Total: "1", ShopLoc: sh},
			want: &Next{"nudge", at(sh, 2026, 11, 23, 8, 0)}},
		{name: "quiet hours end is outside: 07:59 moves, 08:00 stays", tpl: chase,
			in:   Timing{PlacedAt: at(sh, 2026, 11, 23, 7, 50), Now: at(sh, 2026, 11, 23, 7, 50), Total: "1", ShopLoc: sh},
			want: &Next{"nudge", at(sh, 2026, 11, 23, 8, 0)}},
		{name: "21:59 is not quiet", tpl: chase,
			in:   Timing{PlacedAt: at(sh, 2026, 11, 23, 21, 49), Now: at(sh, 2026, 11, 23, 21, 49), Total: "1", ShopLoc: sh},
			want: &Next{"nudge", at(sh, 2026, 11, 23, 21, 59)}},
		{name: "Now inside quiet hours is moved too", tpl: chase,
			in:   Timing{PlacedAt: at(sh, 2026, 11, 23, 20, 0), Now: at(sh, 2026, 11, 23, 23, 0), Total: "1", ShopLoc: sh},
			want: &Next{"nudge", at(sh, 2026, 11, 24, 8, 0)}},
		{name: "buyer's zone: daytime in Shanghai, night in New York", tpl: chase,
			in:   Timing{PlacedAt: at(sh, 2026, 11, 23, 11, 0), Now: at(sh, 2026, 11, 23, 11, 0), Total: "1", ShopLoc: sh, BuyerLoc: ny},
			want: &Next{"nudge", at(ny, 2026, 11, 23, 8, 0)}},
		{name: "buyer's zone: night in Shanghai, daytime in New York", tpl: chase,
			in:   Timing{PlacedAt: at(sh, 2026, 11, 23, 23, 0), Now: at(sh, 2026, 11, 23, 23, 0), Total: "1", ShopLoc: sh, BuyerLoc: ny},
			want: &Next{"nudge", at(sh, 2026, 11, 23, 23, 10)}},
		{name: "New York cut-off across the end of DST", tpl: chase, after: "nudge",
			in:   Timing{PlacedAt: at(ny, 2026, 10, 31, 17, 0), Now: at(ny, 2026, 10, 31, 17, 10), Total: "1", ShopLoc: ny},
			want: &Next{"ships_today", time.Date(2026, 11, 1, 20, 0, 0, 0, time.UTC)}}, // 15:00 EST
		{name: "New York quiet hours across the start of DST", tpl: chase,
			in:   Timing{PlacedAt: at(ny, 2026, 3, 7, 23, 30), Now: at(ny, 2026, 3, 7, 23, 30), Total: "1", ShopLoc: ny},
			want: &Next{"nudge", time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)}}, // 08:00 EDT
		{name: "quiet hours push a before_cutoff step past its cut-off",
			tpl:   tinyChase(t, `"cutoff":"08:00","quiet_hours":{"from":"22:00","to":"08:00"},`, `"before_cutoff":"1h",`),
			in:    Timing{PlacedAt: at(sh, 2026, 11, 23, 23, 0), Now: at(sh, 2026, 11, 23, 23, 0), ShopLoc: sh},
			skips: []Skip{{"s", SkipCutoffPassed}}},
		{name: "before_cutoff longer than a day",
			tpl:  tinyChase(t, `"cutoff":"16:00",`, `"after":"1h","before_cutoff":"30h",`),
			in:   Timing{PlacedAt: at(sh, 2026, 11, 23, 9, 0), Now: at(sh, 2026, 11, 23, 9, 0), ShopLoc: sh},
			want: &Next{"s", at(sh, 2026, 11, 23, 10, 0)}}, // C = tomorrow 16:00
		{name: "quiet hours within a day (12:00-14:00)",
			tpl:  tinyChase(t, `"quiet_hours":{"from":"12:00","to":"14:00"},`, `"after":"2h30m",`),
			in:   Timing{PlacedAt: at(sh, 2026, 11, 23, 10, 0), Now: at(sh, 2026, 11, 23, 10, 0), ShopLoc: sh},
			want: &Next{"s", at(sh, 2026, 11, 23, 14, 0)}},
		{name: "no zones given means UTC",
			tpl:  tinyChase(t, `"quiet_hours":{"from":"22:00","to":"08:00"},`, `"after":"1h",`),
			in:   Timing{PlacedAt: time.Date(2026, 11, 23, 22, 0, 0, 0, time.UTC), Now: time.Date(2026, 11, 23, 22, 0, 0, 0, time.UTC)},
			want: &Next{"s", time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)}},
		{name: "after the last step", tpl: chase, after: "call",
			in: Timing{PlacedAt: placed, Now: placed, Total: "900", ShopLoc: sh}},
		{name: "unknown step", tpl: chase, after: "remind",
			in: Timing{PlacedAt: placed, Now: placed, Total: "900", ShopLoc: sh}},
		{name: "cod: ask at once", tpl: cod,
			in:   Timing{PlacedAt: placed, Now: placed.Add(time.Second), Total: "129.90", ShopLoc: sh},
			want: &Next{"ask", placed.Add(time.Second)}},
		{name: "cod: a night order is asked at 08:00, no pay deadline", tpl: cod,
			in:   Timing{PlacedAt: at(sh, 2026, 11, 23, 23, 0), Now: at(sh, 2026, 11, 23, 23, 0), ShopLoc: sh},
			want: &Next{"ask", at(sh, 2026, 11, 24, 8, 0)}},
		{name: "cod: the call after the reply timeout, days later", tpl: cod, after: "ask",
			in:   Timing{PlacedAt: placed, Now: placed.Add(100 * time.Hour), ShopLoc: sh},
			want: &Next{"call", placed.Add(100 * time.Hour)}},
		{name: "cod: the shop is told at night (no quiet hours for the shop)", tpl: cod, after: "call",
			in:   Timing{PlacedAt: placed, Now: at(sh, 2026, 11, 23, 23, 30), ShopLoc: sh},
			want: &Next{"confirmed", at(sh, 2026, 11, 23, 23, 30)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			next, skips := tc.tpl.Plan(tc.after, tc.in)
			if d := cmp.Diff(tc.want, next, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
				t.Errorf("next (-want +got):\n%s", d)
				if next != nil {
					t.Logf("got %s (Shanghai %s)", next.At.UTC(), next.At.In(sh))
				}
			}
			if d := cmp.Diff(tc.skips, skips); d != "" {
				t.Errorf("skipped (-want +got):\n%s", d)
			}
		})
	}
}

func TestInQuietHours(t *testing.T) {
	sh := mustLoad(t, "Asia/Shanghai")
	b, _ := defaultTemplate(care.UnpaidChase)
	chase := mustParse(t, care.UnpaidChase, b)
	for h, want := range map[int]bool{0: true, 7: true, 8: false, 12: false, 21: false, 22: true, 23: true} {
		if got := chase.InQuietHours(time.Date(2026, 11, 23, h, 30, 0, 0, sh), sh); got != want {
			t.Errorf("%02d:30 quiet = %v", h, got)
		}
	}
	none := tinyChase(t, "", "")
	if none.InQuietHours(time.Date(2026, 11, 23, 3, 0, 0, 0, sh), sh) {
		t.Error("no quiet hours, yet quiet")
	}
}
