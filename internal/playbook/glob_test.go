package playbook

import (
	"regexp"
	"strings"
	"testing"
)

// TestMatchGlob: the cases templates use, and the same answers as the
// regular expression the workflows used before (^ and $ around the
// pattern's parts joined by .*).
func TestMatchGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"FRESH-*", "fresh-mango", true},
		{"FRESH-*", " Fresh-Mango ", true},
		{"FRESH-*", "tea-fresh-1", false},
		{"*-ICE", "cream-ice", true},
		{"*-ICE", "cream-ice-2", false},
		{"TEA-1", "tea-1", true},
		{"TEA-1", "tea-10", false},
		{"85*", "850000", true},
		{"*拉萨*", "西藏自治区拉萨市", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "acb", false},
		{"ab*ba", "aba", false},
		{"*", "anything", true},
		{"*", "", false},
		{"", "", false},
		{"", "x", false},
		{"**", "x", true},
	} {
		if got := MatchGlob(tc.pattern, tc.s); got != tc.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
		if s := strings.ToLower(strings.TrimSpace(tc.s)); s != "" {
			parts := strings.Split(strings.ToLower(strings.TrimSpace(tc.pattern)), "*")
			for i := range parts {
				parts[i] = regexp.QuoteMeta(parts[i])
			}
			if re := regexp.MustCompile("^" + strings.Join(parts, ".*") + "$").MatchString(s); re != tc.want {
				t.Errorf("the former regular expression says %v for (%q, %q)", re, tc.pattern, tc.s)
			}
		}
	}
}
