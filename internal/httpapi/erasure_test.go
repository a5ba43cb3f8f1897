package httpapi_test

import (
	"net/url"
	"testing"

	"github.com/ordercare/ordercare/internal/care"
)

func TestEraseBuyerRequests(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	for _, tc := range []struct {
		name, id, token string
		want            int
	}{
		{"by phone", url.PathEscape("+8613800138000"), shop.Keys[care.RoleOps], 200},
		{"by email", url.PathEscape("jon@example.com"), shop.Keys[care.RoleOps], 200},
		{"not a contact", "13800138000", shop.Keys[care.RoleOps], 400},
		{"agent", url.PathEscape("+8613800138000"), shop.Keys[care.RoleAgent], 403},
		{"no key", url.PathEscape("+8613800138000"), "", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := e.do("DELETE", "/v1/buyers/"+tc.id, tc.token, nil, nil); r.Status != tc.want {
				t.Errorf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
		})
	}
}
