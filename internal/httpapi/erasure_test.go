package httpapi_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/erasure"
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

func TestRetentionPolicy(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	for _, tc := range []struct {
		name, body, token string
		want              int
	}{
		{"30 days", `{"message_text_days":30}`, shop.Keys[care.RoleOps], 200},
		{"too long", `{"message_text_days":4000}`, shop.Keys[care.RoleOps], 400},
		{"agent", `{"message_text_days":30}`, shop.Keys[care.RoleAgent], 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := e.do("PUT", "/v1/shops/tea/retention", tc.token, []byte(tc.body), nil); r.Status != tc.want {
				t.Errorf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
		})
	}
	src, err := e.store.GetSource(context.Background(), "tea", erasure.RetentionSource)
	if r, err2 := erasure.RetentionOf(src); err != nil || err2 != nil || r.MessageTextDays != 30 {
		t.Errorf("stored policy %+v, %v %v", r, err, err2)
	}
}
