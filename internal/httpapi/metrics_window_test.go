package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// TestMetricsWindowErrors: an empty or reversed window is reported on the
// parameter the caller gave: from (or since) when to was left to default to
// the server's now, to when both were given.
func TestMetricsWindowErrors(t *testing.T) {
	e := newEnv(t)
	ops := e.createShop("tea").Keys[care.RoleOps]
	now := e.clock.Now().UTC()
	future := now.Add(time.Hour).Format(time.RFC3339)
	past := now.Add(-time.Hour).Format(time.RFC3339)
	for _, tc := range []struct {
		name, query, field, reason string
	}{
		{"from after now", "from=" + future, "from", now.Format(time.RFC3339)},
		{"since after now", "since=" + future, "since", "defaults to the server's now"},
		{"from equal to now", "from=" + now.Format(time.RFC3339), "from", "must be before to"},
		{"both given, reversed", "from=" + future + "&to=" + past, "to", "must be after from"},
		{"both given, empty", "from=" + past + "&to=" + past, "to", "must be after from"},
	} {
		for _, path := range []string{"/v1/metrics", "/v1/messages"} {
			t.Run(tc.name+" "+path, func(t *testing.T) {
				r := e.do("GET", path+"?"+tc.query, ops, nil, nil)
				if r.Status != 400 {
					t.Fatalf("status %d, want 400: %s", r.Status, r.Body)
				}
				if f := errField(t, r); f != tc.field || !strings.Contains(string(r.Body), tc.reason) {
					t.Errorf("error %s, want field %q with …%s…", r.Body, tc.field, tc.reason)
				}
			})
		}
	}
}
