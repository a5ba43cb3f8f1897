package httpapi_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/httpapi"
)

func TestServiceHoursAPI(t *testing.T) {
	e := newEnv(t)
	shop, rival := e.createShop("tea"), e.createShop("rival")
	ops, agent := shop.Keys[care.RoleOps], shop.Keys[care.RoleAgent]
	const path = "/v1/shops/tea/service-hours"
	get := func(token string) httpapi.ServiceHoursResponse {
		t.Helper()
		r := e.do("GET", path, token, nil, nil)
		if r.Status != 200 {
			t.Fatalf("GET: %d %s", r.Status, r.Body)
		}
		var got httpapi.ServiceHoursResponse
		r.json(t, &got)
		return got
	}
	if got := get(agent); !got.Default || got.Timezone != "Asia/Shanghai" || len(got.Hours.Sun) != 1 || got.Hours.Sun[0] != (care.Period{From: "09:00", To: "21:00"}) {
		t.Errorf("default hours: %+v", got)
	}

	tests := []struct {
		name   string
		token  string
		path   string
		body   string
		status int
		field  string
	}{
		{"agent may not set", agent, path, `{"mon":[{"from":"09:00","to":"18:00"}]}`, 403, ""},
		{"another shop's", rival.Keys[care.RoleOps], path, `{"mon":[{"from":"09:00","to":"18:00"}]}`, 404, ""},
		{"unknown day", ops, path, `{"monday":[{"from":"09:00","to":"18:00"}]}`, 400, "monday"},
		{"bad time", ops, path, `{"mon":[{"from":"9am","to":"18:00"}]}`, 400, "mon[0].from"},
		{"end before start", ops, path, `{"tue":[{"from":"18:00","to":"09:00"}]}`, 400, "tue[0].to"},
		{"overlap", ops, path, `{"wed":[{"from":"09:00","to":"13:00"},{"from":"12:00","to":"18:00"}]}`, 400, "wed[1].from"},
		{"closed all week", ops, path, `{}`, 400, "mon"},
		{"not JSON", ops, path, `mon 9-18`, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("PUT", tt.path, tt.token, []byte(tt.body), nil)
			if r.Status != tt.status {
				t.Fatalf("%d %s, want %d", r.Status, r.Body, tt.status)
			}
			if tt.field != "" && errField(t, r) != tt.field {
				t.Errorf("field %q in %s, want %q", errField(t, r), r.Body, tt.field)
			}
		})
	}
	if got := get(ops); !got.Default {
		t.Errorf("a refused PUT changed the hours: %+v", got)
	}

	week := `{"mon":[{"from":"09:00","to":"12:00"},{"from":"13:00","to":"18:00"}],"tue":[{"from":"09:00","to":"18:00"}],"sat":[{"from":"10:00","to":"24:00"}]}`
	if r := e.do("PUT", path, ops, []byte(week), nil); r.Status != 200 {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	want := httpapi.ServiceHoursResponse{ShopID: "tea", Timezone: "Asia/Shanghai", Hours: care.ServiceHours{
		Mon: []care.Period{{From: "09:00", To: "12:00"}, {From: "13:00", To: "18:00"}}, Tue: []care.Period{{From: "09:00", To: "18:00"}},
		Wed: []care.Period{}, Thu: []care.Period{}, Fri: []care.Period{}, Sat: []care.Period{{From: "10:00", To: "24:00"}}, Sun: []care.Period{}}}
	if diff := cmp.Diff(want, get(agent)); diff != "" {
		t.Errorf("after PUT (-want +got):\n%s", diff)
	}
	if s, err := e.store.GetShop(t.Context(), "tea"); err != nil || s.Name != "Tea tea" || s.ServiceHours == nil {
		t.Errorf("stored shop %+v, %v", s, err)
	}
	// The admin token names the shop in the path; DELETE returns to the default.
	if r := e.do("DELETE", path, adminToken, nil, nil); r.Status != 200 {
		t.Fatalf("DELETE: %d %s", r.Status, r.Body)
	}
	if got := get(ops); !got.Default {
		t.Errorf("after DELETE: %+v, want the default", got)
	}
}
