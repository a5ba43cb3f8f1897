package playbook

import "strings"

// MatchGlob reports whether s matches pattern, the way templates write SKU,
// region and postcode patterns: both trimmed and compared case-insensitively,
// * in pattern standing for any run of characters (none included). An empty s
// matches nothing.
func MatchGlob(pattern, s string) bool {
	p := strings.ToLower(strings.TrimSpace(pattern))
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return false
	}
	parts := strings.Split(p, "*")
	if len(parts) == 1 {
		return p == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, last)
}
