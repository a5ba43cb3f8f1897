package sms

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSegments(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Count
	}{
		{"empty", "", Count{GSM7, 0, 0}},
		{"short ascii", "Your order 1001 shipped.", Count{GSM7, 24, 1}},
		{"160 gsm", strings.Repeat("a", 160), Count{GSM7, 160, 1}},
		{"161 gsm", strings.Repeat("a", 161), Count{GSM7, 161, 2}},
		{"306 gsm is two parts", strings.Repeat("a", 306), Count{GSM7, 306, 2}},
		{"307 gsm is three", strings.Repeat("a", 307), Count{GSM7, 307, 3}},
		{"extension counts two", "€" + strings.Repeat("a", 158), Count{GSM7, 160, 1}},
		{"extension pushes over", "€" + strings.Repeat("a", 159), Count{GSM7, 161, 2}},
		{"escape not split", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 10), Count{GSM7, 164, 2}},
		{"escape at the seam", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152), Count{GSM7, 306, 3}},
		{"gsm accents", "Café à Zürich", Count{GSM7, 13, 1}},
		{"one chinese char is ucs-2", "您好", Count{UCS2, 2, 1}},
		{"70 ucs-2", strings.Repeat("好", 70), Count{UCS2, 70, 1}},
		{"71 ucs-2", strings.Repeat("好", 71), Count{UCS2, 71, 2}},
		{"134 ucs-2", strings.Repeat("好", 134), Count{UCS2, 134, 2}},
		{"135 ucs-2", strings.Repeat("好", 135), Count{UCS2, 135, 3}},
		{"emoji is two units", "ok 👍", Count{UCS2, 5, 1}},
		{"surrogate not split", strings.Repeat("好", 66) + "👍" + "好", Count{UCS2, 69, 1}},
		{"surrogate at the seam", strings.Repeat("好", 66) + "👍" + strings.Repeat("好", 10), Count{UCS2, 78, 2}},
		{"ascii with a curly quote", "It’s here", Count{UCS2, 9, 1}},
		{"chinese order text", "【茶屋】您的订单1001已发货，拒收请回复R", Count{UCS2, 22, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Segments(tc.text)); diff != "" {
				t.Errorf("Segments (-want +got):\n%s", diff)
			}
		})
	}
}
