package quiet

import (
	"testing"
	"time"
)

func TestNext(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	sh, _ := time.LoadLocation("Asia/Shanghai")
	tests := []struct {
		name            string
		region, channel string
		marketing       bool
		at              time.Time
		want            time.Time // zero: no window
	}{
		{"us sms at 22:30 waits for 08:00", "US", "sms", false, time.Date(2026, 12, 6, 22, 30, 0, 0, ny), time.Date(2026, 12, 7, 8, 0, 0, 0, ny)},
		{"us sms at 07:59 waits a minute", "US", "sms", false, time.Date(2026, 12, 6, 7, 59, 0, 0, ny), time.Date(2026, 12, 6, 8, 0, 0, 0, ny)},
		{"us sms at 20:59 goes", "US", "sms", false, time.Date(2026, 12, 6, 20, 59, 0, 0, ny), time.Date(2026, 12, 6, 20, 59, 0, 0, ny)},
		{"us email has no window", "US", "email", true, time.Date(2026, 12, 6, 23, 0, 0, 0, ny), time.Time{}},
		{"cn marketing at 21:00 waits", "CN", "sms", true, time.Date(2026, 12, 6, 21, 0, 0, 0, sh), time.Date(2026, 12, 7, 8, 0, 0, 0, sh)},
		{"cn marketing email at 02:00 waits", "CN", "email", true, time.Date(2026, 12, 6, 2, 0, 0, 0, sh), time.Date(2026, 12, 6, 8, 0, 0, 0, sh)},
		{"cn transactional at 23:00 has no window", "CN", "sms", false, time.Date(2026, 12, 6, 23, 0, 0, 0, sh), time.Time{}},
		{"other market", "DE", "sms", true, time.Date(2026, 12, 6, 23, 0, 0, 0, sh), time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, ok := Allowed(tc.region, tc.channel, tc.marketing)
			if ok != !tc.want.IsZero() {
				t.Fatalf("Allowed = %v, %v", w, ok)
			}
			if !ok {
				return
			}
			if got := Next(tc.at, tc.at.Location(), w); !got.Equal(tc.want) {
				t.Errorf("Next = %v, want %v", got, tc.want)
			}
		})
	}
}
