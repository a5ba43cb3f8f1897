package consent

import (
	"testing"
	"time"
)

func TestOptOutScope(t *testing.T) {
	for text, want := range map[string]string{
		"STOP": ScopeAll, "stop.": ScopeAll, "Quit": ScopeAll, "END": ScopeAll, "revoke": ScopeAll, "OPT OUT": ScopeAll,
		"opt-out": ScopeAll, "CANCEL": ScopeAll, "Unsubscribe!": ScopeAll, "ＳＴＯＰ": ScopeAll, "stop all": ScopeAll,
		"退订": ScopeAll, "TD": ScopeAll, "t": ScopeAll, "退订，谢谢": ScopeAll, "全部退订": ScopeAll,
		"退订营销短信": ScopeMarketing, "退订广告": ScopeMarketing, "STOP PROMO": ScopeMarketing, "unsubscribe marketing": ScopeMarketing,
		"cancel my order": "", "the end": "", "好的": "", "1": "", "": "", "stop by the shop": "", "t shirt": "",
	} {
		if got := OptOutScope(text); got != want {
			t.Errorf("OptOutScope(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestDecide(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	rec := func(ch, state string, h int) Record {
		return Record{ShopID: "tea", Contact: "c", Channel: ch, State: state, At: t0.Add(time.Duration(h) * time.Hour)}
	}
	tests := []struct {
		name                string
		records             []Record
		channel             string
		marketing, required bool
		want                string
	}{
		{"nothing known, transactional", nil, "sms", false, true, ""},
		{"nothing known, marketing needing consent", nil, "sms", true, true, ReasonNoConsent},
		{"nothing known, marketing without need", nil, "email", true, false, ""},
		{"granted", []Record{rec("sms", Granted, 0)}, "sms", true, true, ""},
		{"granted on another channel", []Record{rec("email", Granted, 0)}, "sms", true, true, ReasonNoConsent},
		{"opted out of marketing: transactional goes", []Record{rec("sms", OptedOutMarketing, 0)}, "sms", false, true, ""},
		{"opted out of marketing", []Record{rec("sms", Granted, 0), rec(AllChannels, OptedOutMarketing, 1)}, "sms", true, true, ReasonOptedOutMarketing},
		{"opted out of all", []Record{rec(AllChannels, OptedOutAll, 0)}, "email", false, false, ReasonOptedOut},
		{"opted out of sms only", []Record{rec("sms", OptedOutAll, 0)}, "email", false, false, ""},
		{"granted again after an opt-out", []Record{rec("sms", OptedOutAll, 0), rec(AllChannels, Granted, 2)}, "sms", true, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decide(tc.records, tc.channel, tc.marketing, tc.required); got != tc.want {
				t.Errorf("Decide = %q, want %q", got, tc.want)
			}
		})
	}
}
