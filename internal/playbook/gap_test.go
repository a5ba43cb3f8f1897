package playbook

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
)

// bunchedChase is an unpaid_chase template whose cut-off reminder and coupon
// reminder both fall at 15:00 for an order placed at 09:00 (cut-off 16:00,
// one hour before it; coupon six hours after the order). gap is the
// template's min_gap field ("" leaves it out).
func bunchedChase(t *testing.T, gap string) *Template {
	t.Helper()
	g := ""
	if gap != "" {
		g = `"min_gap":"` + gap + `",`
	}
	body := `{"workflow":"unpaid_chase","default_locale":"en","channel":"outbox","cutoff":"16:00",
		"quiet_hours":{"from":"22:00","to":"08:00"},"pay_window":"72h","contact_budget":5,` + g + `
		"steps":[
		{"id":"nudge","action":"message","after":"10m","script":{"en":"unpaid"}},
		{"id":"ships_today","action":"message","after":"30m","before_cutoff":"1h","script":{"en":"ships today"}},
		{"id":"coupon","action":"message","after":"6h","coupon":"SAVE5","script":{"en":"{{ step.coupon }}"}},
		{"id":"notice","action":"notify_shop","after":"6h","script":{"en":"still unpaid"}},
		{"id":"last","action":"message","after":"6h","script":{"en":"last call"}}]}`
	return mustParse(t, care.UnpaidChase, []byte(body))
}

func TestPlanMinGap(t *testing.T) {
	sh := mustLoad(t, "Asia/Shanghai")
	at := func(d, h, mi, s int) time.Time { return time.Date(2026, 11, 23+d, h, mi, s, 0, sh) }
	ptr := func(t time.Time) *time.Time { return &t }
	placed := at(0, 9, 0, 0)
	def := bunchedChase(t, "")
	cases := []struct {
		name  string
		tpl   *Template
		after string
		in    Timing
		want  *Next
		skips []Skip
	}{
		{name: "without a last message the coupon is due with the cut-off reminder", tpl: def, after: "ships_today",
			in:   Timing{PlacedAt: placed, Now: at(0, 15, 0, 0), ShopLoc: sh},
			want: &Next{"coupon", at(0, 15, 0, 0)}},
		{name: "the coupon waits the default 30 minutes after the cut-off reminder", tpl: def, after: "ships_today",
			in:   Timing{PlacedAt: placed, Now: at(0, 15, 0, 0), ShopLoc: sh, LastSent: at(0, 15, 0, 0)},
			want: &Next{"coupon", at(0, 15, 30, 0)}},
		{name: "the template's own gap", tpl: bunchedChase(t, "45m"), after: "ships_today",
			in:   Timing{PlacedAt: placed, Now: at(0, 15, 0, 0), ShopLoc: sh, LastSent: at(0, 15, 0, 0)},
			want: &Next{"coupon", at(0, 15, 45, 0)}},
		{name: "a fractional send time rounds the gap up to a whole second", tpl: def, after: "ships_today",
			in:   Timing{PlacedAt: placed, Now: at(0, 15, 0, 0), ShopLoc: sh, LastSent: at(0, 15, 0, 0).Add(300 * time.Millisecond)},
			want: &Next{"coupon", at(0, 15, 30, 1)}},
		{name: "a step already later than the gap is not moved", tpl: def, after: "ships_today",
			in:   Timing{PlacedAt: placed, Now: at(0, 15, 0, 0), ShopLoc: sh, LastSent: at(0, 14, 0, 0)},
			want: &Next{"coupon", at(0, 15, 0, 0)}},
		{name: "a notice to the shop keeps no gap", tpl: def, after: "coupon",
			in:   Timing{PlacedAt: placed, Now: at(0, 15, 30, 0), ShopLoc: sh, LastSent: at(0, 15, 30, 0)},
			want: &Next{"notice", at(0, 15, 30, 0)}},
		{name: "the cut-off reminder moved by the gap still fits before the cut-off", tpl: def, after: "nudge",
			in:   Timing{PlacedAt: at(0, 14, 25, 0), Now: at(0, 14, 35, 0), ShopLoc: sh, LastSent: at(0, 14, 35, 0)},
			want: &Next{"ships_today", at(0, 15, 5, 0)}},
		{name: "moved past its cut-off by the gap: skipped min_gap", tpl: bunchedChase(t, "90m"), after: "nudge",
			in:    Timing{PlacedAt: at(0, 14, 25, 0), Now: at(0, 14, 35, 0), ShopLoc: sh, LastSent: at(0, 14, 35, 0)},
			want:  &Next{"coupon", at(0, 20, 25, 0)},
			skips: []Skip{{"ships_today", SkipMinGap}}},
		{name: "moved past the pay deadline by the gap: skipped min_gap", tpl: def, after: "ships_today",
			in: Timing{PlacedAt: placed, Now: at(0, 15, 0, 0), ShopLoc: sh, LastSent: at(0, 15, 0, 0),
				Deadline: ptr(at(0, 15, 20, 0))},
			want:  &Next{"notice", at(0, 15, 0, 0)}, // the shop is not the buyer
			skips: []Skip{{"coupon", SkipMinGap}}},
		{name: "past its deadline anyway: the reason stays deadline_passed", tpl: def, after: "ships_today",
			in: Timing{PlacedAt: placed, Now: at(0, 15, 0, 0), ShopLoc: sh, LastSent: at(0, 15, 0, 0),
				Deadline: ptr(at(0, 14, 0, 0))},
			skips: []Skip{{"coupon", SkipDeadlinePassed}, {"notice", SkipDeadlinePassed}, {"last", SkipDeadlinePassed}}},
		{name: "a gap ending in quiet hours moves to the morning", tpl: def, after: "ships_today",
			in:   Timing{PlacedAt: at(0, 15, 50, 0), Now: at(0, 21, 50, 0), ShopLoc: sh, LastSent: at(0, 21, 45, 0)},
			want: &Next{"coupon", at(1, 8, 0, 0)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			next, skips := tc.tpl.Plan(tc.after, tc.in)
			if d := cmp.Diff(tc.want, next, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
				t.Errorf("next (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.skips, skips); d != "" {
				t.Errorf("skipped (-want +got):\n%s", d)
			}
		})
	}
}

// TestPlanNeverBunches walks a whole chase for orders placed through a day
// and a half, each step planned right after the one before was sent, and
// checks that no two messages are closer than the gap.
func TestPlanNeverBunches(t *testing.T) {
	sh := mustLoad(t, "Asia/Shanghai")
	for _, tpl := range []*Template{bunchedChase(t, ""), bunchedChase(t, "2h")} {
		for m := 0; m < 36*60; m += 7 {
			placed := time.Date(2026, 11, 23, 0, m, 0, 0, sh)
			var last time.Time
			after, now := "", placed
			for {
				next, _ := tpl.Plan(after, Timing{PlacedAt: placed, Now: now, ShopLoc: sh, LastSent: last})
				if next == nil {
					break
				}
				st, _, _ := tpl.Step(next.Step)
				if st.Action == ActionMessage {
					if !last.IsZero() && next.At.Sub(last) < tpl.Gap() {
						t.Fatalf("gap %s, order placed %s: %s at %s only %s after the last message",
							tpl.Gap(), placed, next.Step, next.At, next.At.Sub(last))
					}
					last = next.At
				}
				after, now = next.Step, next.At
			}
		}
	}
}

func TestParseMinGap(t *testing.T) {
	for _, tc := range []struct {
		gap    string
		want   time.Duration
		reason string // "" when valid
	}{
		{gap: "", want: DefaultMinGap},
		{gap: "1m", want: time.Minute},
		{gap: "24h", want: 24 * time.Hour},
		{gap: "0s", reason: "outside 1m0s..24h0m0s"},
		{gap: "59s", reason: "outside"},
		{gap: "25h", reason: "outside"},
		{gap: "-5m", reason: "negative"},
		{gap: "soon", reason: "duration"},
	} {
		t.Run(tc.gap, func(t *testing.T) {
			g := ""
			if tc.gap != "" {
				g = `"min_gap":"` + tc.gap + `",`
			}
			body := `{"workflow":"unpaid_chase","default_locale":"en","channel":"outbox","pay_window":"72h","contact_budget":3,` +
				g + `"steps":[{"id":"s","action":"message","script":{"en":"hi"}}]}`
			tpl, err := Parse(care.UnpaidChase, []byte(body))
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if tpl.Gap() != tc.want {
					t.Errorf("Gap() = %s, want %s", tpl.Gap(), tc.want)
				}
				return
			}
			var fe *care.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse error = %v, want a *care.FieldError", err)
			}
			if fe.Field != "min_gap" || !strings.Contains(fe.Reason, tc.reason) {
				t.Errorf("Parse error = {%q, %q}, want {min_gap, …%q…}", fe.Field, fe.Reason, tc.reason)
			}
		})
	}
}
