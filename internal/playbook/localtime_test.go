package playbook_test

import (
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/playbook"
)

// TestLocalTime: a time is written as the locale writes it, in the time's
// own zone.
func TestLocalTime(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 14, 12, 5, 0, 0, time.UTC).In(sh)
	for locale, want := range map[string]string{
		"zh-CN": "11月14日 20:05", "zh_Hans": "11月14日 20:05", "en": "Sat, Nov 14, 8:05 PM", "en-US": "Sat, Nov 14, 8:05 PM",
		"en-GB": "Sat 14 Nov, 20:05", "fr-FR": "2026-11-14 20:05", "": "2026-11-14 20:05",
	} {
		if got := playbook.LocalTime(at, locale); got != want {
			t.Errorf("LocalTime(%q) = %q, want %q", locale, got, want)
		}
	}
}
