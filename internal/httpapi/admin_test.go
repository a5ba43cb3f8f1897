package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/httpapi"
	"github.com/ordercare/ordercare/workflows"
)

// logLines returns the JSON log lines whose msg is msg.
func (e *env) logLines(msg string) []map[string]any {
	e.t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			e.t.Fatalf("log line is not JSON: %q", line)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

type fakeDevClock struct{ now time.Time }

func (f *fakeDevClock) Now() time.Time                                 { return f.now }
func (f *fakeDevClock) AdvanceTo(_ context.Context, t time.Time) error { f.now = t; return nil }

func TestAuthSchemeAndRoles(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	ops := shop.Keys[care.RoleOps]
	srv, err := httpapi.New(httpapi.Config{Store: e.store, Clock: e.clock, AdminToken: adminToken, DevClock: &fakeDevClock{}, Workflows: workflows.All()})
	if err != nil {
		t.Fatal(err)
	}
	dev := httptest.NewServer(srv)
	defer dev.Close()
	tests := []struct {
		name, url, path, auth string
		want                  int
	}{
		{"lower-case bearer", e.url, "/v1/orders", "bearer " + ops, 200},
		{"upper-case BEARER", e.url, "/v1/orders", "BEARER " + ops, 200},
		{"admin lower-case", e.url, "/v1/shops", "bearer " + adminToken, 200},
		{"other scheme", e.url, "/v1/orders", "Basic " + ops, 401},
		{"scheme only", e.url, "/v1/orders", "Bearer", 401},
		{"unknown key", e.url, "/v1/orders", "Bearer ock_ops_nope", 401},
		{"no header", e.url, "/v1/shops", "", 401},
		{"ops key lists shops", e.url, "/v1/shops", "Bearer " + ops, 403},
		{"ops key creates a shop", e.url, "/v1/shops", "Bearer " + ops, 403},
		{"ops key reissues a key", e.url, "/v1/shops/tea/keys/agent", "Bearer " + ops, 403},
		{"invalid key reissues a key", e.url, "/v1/shops/tea/keys/agent", "Bearer nope", 401},
		{"ops key reads the dev clock", dev.URL, "/v1/dev/clock", "Bearer " + ops, 403},
		{"bad token reads the dev clock", dev.URL, "/v1/dev/clock", "Bearer nope-nope-nope", 401},
		{"admin reads the dev clock", dev.URL, "/v1/dev/clock", "Bearer " + adminToken, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method, body := "GET", []byte(nil)
			if strings.HasPrefix(tc.name, "ops key creates") || strings.Contains(tc.path, "/keys/") {
				method, body = "POST", []byte(`{"name":"x","timezone":"UTC","locale":"en","currency":"USD"}`)
			}
			r := (&env{t: t, url: tc.url}).do(method, tc.path, "", body, map[string]string{"Authorization": tc.auth})
			if r.Status != tc.want {
				t.Errorf("%s %s with %q: %d %s, want %d", method, tc.path, strings.Fields(tc.auth + " x")[0], r.Status, r.Body, tc.want)
			}
		})
	}
}

func TestListShopsAndReissueKey(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"tea", "coffee", "milk"} {
		e.createShop(id)
	}
	var ids []string
	for cursor, pages := "", 0; pages == 0 || cursor != ""; pages++ {
		var page httpapi.ShopsPage
		r := e.do("GET", "/v1/shops?limit=2&cursor="+cursor, adminToken, nil, nil)
		r.json(t, &page)
		if r.Status != 200 || pages > 2 {
			t.Fatalf("list shops: %d %s", r.Status, r.Body)
		}
		for _, s := range page.Shops {
			ids = append(ids, s.ID)
		}
		cursor = page.Next
	}
	if diff := cmp.Diff([]string{"coffee", "milk", "tea"}, ids); diff != "" {
		t.Errorf("shops (-want +got):\n%s", diff)
	}

	tea := e.createShop("tea2")
	oldOps, agent := tea.Keys[care.RoleOps], tea.Keys[care.RoleAgent]
	var nk httpapi.NewKeyResponse
	r := e.do("POST", "/v1/shops/tea2/keys/ops", adminToken, nil, nil)
	r.json(t, &nk)
	if r.Status != 201 || nk.ShopID != "tea2" || nk.Role != care.RoleOps || !strings.HasPrefix(nk.Key, "ock_ops_") {
		t.Fatalf("reissue: %d %s", r.Status, r.Body)
	}
	for _, c := range []struct {
		name, key string
		want      int
	}{{"old ops key", oldOps, 401}, {"new ops key", nk.Key, 200}, {"agent key", agent, 200}} {
		if r := e.do("GET", "/v1/shops/tea2", c.key, nil, nil); r.Status != c.want {
			t.Errorf("%s after reissue: %d, want %d", c.name, r.Status, c.want)
		}
	}
	for _, c := range []struct {
		path  string
		want  int
		field string
	}{{"/v1/shops/nope/keys/ops", 404, ""}, {"/v1/shops/tea2/keys/admin", 400, "role"}} {
		if r := e.do("POST", c.path, adminToken, nil, nil); r.Status != c.want || (c.field != "" && errField(t, r) != c.field) {
			t.Errorf("POST %s: %d %s, want %d", c.path, r.Status, r.Body, c.want)
		}
	}
	if len(e.logLines("key reissued")) != 1 {
		t.Errorf("want one 'key reissued' log line: %s", e.logs)
	}
}

func TestListOrders(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	ops := shop.Keys[care.RoleOps]
	for i, id := range []string{"A1", "A2", "A3", "A4"} {
		body := fmt.Appendf(nil, `{"id":"e-%s","type":"order.created","occurred_at":"2026-11-11T00:00:00Z","order":{"id":%q,
			"placed_at":"2026-11-11T00:00:00Z","total":"10.00","currency":"CNY","payment_method":"online",
			"buyer":{"name":"王芳","phone":"+8613800138000","locale":"zh-CN","timezone":"Asia/Shanghai"},
			"items":[{"sku":"TEA-1","title":"龙井","quantity":1,"price":"10.00"}]}}`, id, id)
		if r := e.sendStandard(shop, "d-"+id, body); r.Status != 202 {
			t.Fatalf("order %s: %d %s", id, r.Status, r.Body)
		}
		e.advance(time.Minute)
		if i%2 == 1 { // A2 and A4 are paid a minute later
			paid := fmt.Appendf(nil, `{"id":"p-%s","type":"order.paid","occurred_at":"2026-11-11T00:01:00Z","order":{"id":%q}}`, id, id)
			if r := e.sendStandard(shop, "dp-"+id, paid); r.Status != 202 {
				t.Fatalf("paid %s: %d %s", id, r.Status, r.Body)
			}
			e.advance(time.Minute)
		}
	}
	list := func(query string) []string {
		t.Helper()
		var ids []string
		for cursor, pages := "", 0; pages == 0 || cursor != ""; pages++ {
			var page httpapi.OrdersPage
			r := e.do("GET", "/v1/orders?limit=2&"+query+"&cursor="+cursor, ops, nil, nil)
			r.json(t, &page)
			if r.Status != 200 || pages > 3 {
				t.Fatalf("list orders %s: %d %s", query, r.Status, r.Body)
			}
			for _, o := range page.Orders {
				ids = append(ids, o.Order.ID+":"+string(o.Status))
			}
			cursor = page.Next
		}
		return ids
	}
	if diff := cmp.Diff([]string{"A4:paid", "A3:created", "A2:paid", "A1:created"}, list("")); diff != "" {
		t.Errorf("orders (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"A4:paid", "A2:paid"}, list("status=paid")); diff != "" {
		t.Errorf("paid orders (-want +got):\n%s", diff)
	}
	rival := e.createShop("rival")
	if got := (func() int {
		var page httpapi.OrdersPage
		e.do("GET", "/v1/orders", rival.Keys[care.RoleAgent], nil, nil).json(t, &page)
		return len(page.Orders)
	})(); got != 0 {
		t.Errorf("another shop sees %d orders", got)
	}
	for _, c := range []struct{ path, field string }{
		{"/v1/orders?status=lost", "status"}, {"/v1/orders?limit=0", "limit"}, {"/v1/orders?cursor=zzz", "cursor"},
	} {
		if r := e.do("GET", c.path, ops, nil, nil); r.Status != 400 || errField(t, r) != c.field {
			t.Errorf("GET %s: %d %s, want 400 on %s", c.path, r.Status, r.Body, c.field)
		}
	}
}

func TestListRecentRuns(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	ctx := context.Background()
	now := e.clock.Now()
	for i, r := range []struct {
		order string
		wf    care.Workflow
		st    care.RunStatus
	}{{"1", care.UnpaidChase, care.RunSucceeded}, {"2", care.CODConfirm, care.RunRunning}, {"3", care.UnpaidChase, care.RunRunning}} {
		run := care.Run{ShopID: "tea", OrderID: r.order, Workflow: r.wf, Execution: "x-" + r.order, TemplateVersion: 1,
			Status: r.st, StartedAt: now.Add(time.Duration(i) * time.Minute), UpdatedAt: now}
		if _, _, err := e.store.CreateRun(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{"3", "2", "1"}},
		{"workflow=unpaid_chase", []string{"3", "1"}},
		{"status=running", []string{"3", "2"}},
		{"workflow=unpaid_chase&status=succeeded", []string{"1"}},
		{"workflow=cod_confirm&status=failed", nil},
	} {
		var got []string
		for cursor, pages := "", 0; pages == 0 || cursor != ""; pages++ {
			var page httpapi.RunsPage
			r := e.do("GET", "/v1/runs?limit=1&"+c.query+"&cursor="+cursor, shop.Keys[care.RoleAgent], nil, nil)
			r.json(t, &page)
			if r.Status != 200 || pages > 4 {
				t.Fatalf("runs %s: %d %s", c.query, r.Status, r.Body)
			}
			for _, run := range page.Runs {
				got = append(got, run.OrderID)
			}
			cursor = page.Next
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("runs %q (-want +got):\n%s", c.query, diff)
		}
	}
}

// TestWebhookTimeAndLogs: /healthz says the server's clock, a stale
// timestamp's 401 says it too, and each delivery logs one JSON line with ids
// and no personal data (checkLogs).
func TestWebhookTimeAndLogs(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	e.advance(34 * time.Hour) // the virtual clock runs ahead of the wall clock
	now := e.clock.Now()
	var h httpapi.Health
	e.do("GET", "/healthz", "", nil, nil).json(t, &h)
	if h.Status != "ok" || !h.Now.Equal(now) || h.Unix != now.Unix() {
		t.Errorf("healthz = %+v, want now %s", h, now)
	}

	body := event("evt_1", "order.created", "")
	stale := e.do("POST", "/webhooks/tea/standard", "", body, signStandard(shop.WebhookSecret, "msg_1", now.Add(-34*time.Hour), body))
	want := fmt.Sprintf("the server's clock reads %s, Unix %d", now.Format(time.RFC3339), now.Unix())
	if stale.Status != 401 || !strings.Contains(string(stale.Body), want) || !strings.Contains(string(stale.Body), "tolerance") {
		t.Errorf("stale delivery: %d %s, want 401 saying %q", stale.Status, stale.Body, want)
	}
	// A wrong signature is no matter of time: its 401 does not name the clock.
	forged := e.do("POST", "/webhooks/tea/standard", "", body, signStandard("whsec_"+strings.Repeat("A", 32), "msg_1", now, body))
	if forged.Status != 401 || strings.Contains(string(forged.Body), "clock") {
		t.Fatalf("forged delivery: %d %s, want 401 not naming the clock", forged.Status, forged.Body)
	}
	signed := e.do("POST", "/webhooks/tea/standard", "", body, signStandard(shop.WebhookSecret, "msg_1", time.Unix(h.Unix, 0), body))
	if signed.Status != 202 {
		t.Fatalf("delivery signed with /healthz's time: %d %s", signed.Status, signed.Body)
	}
	e.sendStandard(shop, "msg_1", body) // a duplicate

	got := e.logLines("webhook received")
	if len(got) != 2 {
		t.Fatalf("want 2 'webhook received' lines, got %d: %s", len(got), e.logs)
	}
	l := got[0]
	if l["shop"] != "tea" || l["source"] != "standard" || l["accepted"] != 1.0 ||
		fmt.Sprint(l["event_ids"]) != "[evt_1]" || fmt.Sprint(l["order_ids"]) != "[1001]" || fmt.Sprint(l["delivery_ids"]) != "[msg_1]" {
		t.Errorf("webhook received line: %v", l)
	}
	if got[1]["duplicates"] != 1.0 {
		t.Errorf("duplicate line: %v", got[1])
	}
	refused := e.logLines("webhook refused")
	if len(refused) != 2 || refused[0]["status"] != 401.0 || !strings.Contains(fmt.Sprint(refused[0]["reason"]), "tolerance") ||
		refused[1]["status"] != 401.0 {
		t.Errorf("want two 'webhook refused' lines with status 401 (stale, forged): %v", refused)
	}
}
