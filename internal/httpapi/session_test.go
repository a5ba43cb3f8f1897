package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/httpapi"
	"github.com/ordercare/ordercare/internal/queue"
)

// signIn posts a session request and returns the cookie and the view.
func (e *env) signIn(body string) (response, string, httpapi.SessionView) {
	e.t.Helper()
	r := e.do("POST", "/v1/session", "", []byte(body), nil)
	var v httpapi.SessionView
	cookie := ""
	if r.Status == 200 {
		r.json(e.t, &v)
		for _, c := range (&http.Response{Header: r.Header}).Cookies() {
			if c.Name == httpapi.SessionCookie {
				cookie = c.Name + "=" + c.Value
				if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.MaxAge != int(httpapi.SessionTTL/time.Second) || c.Path != "/" {
					e.t.Errorf("session cookie attributes: %+v", c)
				}
			}
		}
	}
	return r, cookie, v
}

func TestAgentsAndSessions(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	other := e.createShop("coffee")
	ops, agentKey := shop.Keys[care.RoleOps], shop.Keys[care.RoleAgent]

	// Ops add agents; agents and the other shop may not.
	r := e.do("POST", "/v1/agents", ops, []byte(`{"id":"li-na","name":"李娜"}`), nil)
	if r.Status != 201 {
		t.Fatalf("create agent: %d %s", r.Status, r.Body)
	}
	var li httpapi.AgentKeyView
	r.json(t, &li)
	if !strings.HasPrefix(li.Key, care.AgentKeyPrefix) || li.Agent.Name != "李娜" || !li.Agent.Active {
		t.Fatalf("created agent = %+v", li)
	}
	r = e.do("POST", "/v1/agents", ops, []byte(`{"id":"tom","name":"Tom"}`), nil)
	var tom httpapi.AgentKeyView
	r.json(t, &tom)
	for _, tc := range []struct {
		name, method, path, token, body string
		status                          int
		field                           string
	}{
		{"duplicate id", "POST", "/v1/agents", ops, `{"id":"tom","name":"T2"}`, 409, "id"},
		{"bad id", "POST", "/v1/agents", ops, `{"id":"Tom Smith","name":"T2"}`, 400, "id"},
		{"no name", "POST", "/v1/agents", ops, `{"id":"ann","name":" "}`, 400, "name"},
		{"unknown field", "POST", "/v1/agents", ops, `{"id":"ann","name":"Ann","role":"ops"}`, 400, "role"},
		{"agent key may not add", "POST", "/v1/agents", agentKey, `{"id":"ann","name":"Ann"}`, 403, ""},
		{"personal key may not add", "POST", "/v1/agents", li.Key, `{"id":"ann","name":"Ann"}`, 403, ""},
		{"other shop's ops cannot see", "PATCH", "/v1/agents/tom", other.Keys[care.RoleOps], `{"active":false}`, 404, ""},
		{"empty patch", "PATCH", "/v1/agents/tom", ops, `{}`, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.token, []byte(tc.body), nil)
			if r.Status != tc.status || (tc.field != "" && errField(t, r) != tc.field) {
				t.Errorf("%s %s = %d %s; want %d field %q", tc.method, tc.path, r.Status, r.Body, tc.status, tc.field)
			}
		})
	}
	r = e.do("PATCH", "/v1/agents/tom", ops, []byte(`{"name":"Tom Lee"}`), nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"Tom Lee"`) {
		t.Errorf("rename: %d %s", r.Status, r.Body)
	}
	r = e.do("GET", "/v1/agents", ops, nil, nil)
	var page httpapi.AgentsPage
	r.json(t, &page)
	if len(page.Agents) != 2 || page.Agents[0].ID != "li-na" || page.Agents[1].Name != "Tom Lee" || strings.Contains(string(r.Body), "hash") {
		t.Errorf("list agents = %s", r.Body)
	}

	// Sign-in errors are precise.
	for _, tc := range []struct {
		name, body string
		status     int
		field      string
	}{
		{"no key", `{}`, 400, "key"},
		{"unknown key", `{"key":"ock_nope"}`, 401, "key"},
		{"admin token", fmt.Sprintf(`{"key":%q}`, adminToken), 403, "key"},
		{"shared key without name", fmt.Sprintf(`{"key":%q}`, agentKey), 400, "agent"},
		{"shared key as a personal agent", fmt.Sprintf(`{"key":%q,"agent":"tom"}`, agentKey), 403, "agent"},
		{"personal key with a name", fmt.Sprintf(`{"key":%q,"agent":"tom"}`, li.Key), 400, "agent"},
	} {
		t.Run("signin "+tc.name, func(t *testing.T) {
			r, _, _ := e.signIn(tc.body)
			if r.Status != tc.status || errField(t, r) != tc.field {
				t.Errorf("sign in = %d %s; want %d field %q", r.Status, r.Body, tc.status, tc.field)
			}
		})
	}

	e.task("tea", "t1", "D1", 2, time.Hour)
	_, liCookie, liView := e.signIn(fmt.Sprintf(`{"key":%q}`, li.Key))
	if liView.Agent != "li-na" || liView.AgentName != "李娜" || liView.Role != care.RoleAgent || liView.CSRF == "" || liView.Timezone != "Asia/Shanghai" {
		t.Fatalf("li's session = %+v", liView)
	}
	_, tomCookie, tomView := e.signIn(fmt.Sprintf(`{"key":%q}`, tom.Key))
	withCookie := func(cookie, csrf string) map[string]string {
		h := map[string]string{"Cookie": cookie}
		if csrf != "" {
			h[httpapi.CSRFHeader] = csrf
		}
		return h
	}
	// A session reads without CSRF; the buyer's contact is hidden until claimed.
	r = e.do("GET", "/v1/tasks", "", nil, withCookie(liCookie, ""))
	if r.Status != 200 || strings.Contains(string(r.Body), "+8613800138000") || !strings.Contains(string(r.Body), `"t1"`) {
		t.Errorf("li's queue: %d %s", r.Status, r.Body)
	}
	// State-changing requests need the CSRF token and a same-origin Origin.
	for _, h := range []map[string]string{
		withCookie(liCookie, ""),
		withCookie(liCookie, "wrong"),
		withCookie(liCookie, tomView.CSRF),
		{"Cookie": liCookie, httpapi.CSRFHeader: liView.CSRF, "Origin": "https://evil.example"},
	} {
		if r := e.do("POST", "/v1/tasks/t1/claim", "", []byte(`{}`), h); r.Status != 403 || !strings.Contains(string(r.Body), `"csrf"`) {
			t.Errorf("claim with %v = %d %s; want 403 csrf", h, r.Status, r.Body)
		}
	}
	// One agent cannot act as another.
	if r := e.do("POST", "/v1/tasks/t1/claim", "", []byte(`{"agent":"tom"}`), withCookie(liCookie, liView.CSRF)); r.Status != 403 || errField(t, r) != "agent" {
		t.Errorf("li claims as tom = %d %s; want 403 agent", r.Status, r.Body)
	}
	if r := e.do("POST", "/v1/tasks/t1/claim", tom.Key, []byte(`{"agent":"li-na"}`), nil); r.Status != 403 {
		t.Errorf("tom's key claims as li = %d %s; want 403", r.Status, r.Body)
	}
	r = e.do("POST", "/v1/tasks/t1/claim", "", []byte(`{}`), withCookie(liCookie, liView.CSRF))
	if r.Status != 200 || !strings.Contains(string(r.Body), `"agent":"li-na"`) || !strings.Contains(string(r.Body), "+8613800138000") {
		t.Fatalf("li claims = %d %s", r.Status, r.Body)
	}
	// Tom is refused and does not see the phone.
	r = e.do("POST", "/v1/tasks/t1/claim", "", []byte(`{}`), withCookie(tomCookie, tomView.CSRF))
	if r.Status != 409 {
		t.Errorf("tom claims li's task = %d %s; want 409", r.Status, r.Body)
	}
	r = e.do("GET", "/v1/tasks/t1", "", nil, withCookie(tomCookie, ""))
	if r.Status != 200 || strings.Contains(string(r.Body), "+8613800138000") || strings.Contains(string(r.Body), "王芳") {
		t.Errorf("tom reads li's task: %d %s", r.Status, r.Body)
	}
	r = e.do("POST", "/v1/tasks/t1/complete", "", []byte(`{"outcome":"will_pay"}`), withCookie(liCookie, liView.CSRF))
	if r.Status != 200 || !strings.Contains(string(r.Body), `"agent":"li-na"`) {
		t.Errorf("li completes = %d %s", r.Status, r.Body)
	}
	// Another shop's data is not visible through this session.
	e.task("coffee", "c1", "C1", 2, time.Hour)
	if r := e.do("GET", "/v1/tasks/c1", "", nil, withCookie(liCookie, "")); r.Status != 404 {
		t.Errorf("li reads coffee's task = %d; want 404", r.Status)
	}
	if r := e.do("GET", "/v1/tasks", "", nil, withCookie(liCookie, "")); strings.Contains(string(r.Body), `"c1"`) {
		t.Errorf("li's queue shows coffee's task: %s", r.Body)
	}
	// A tampered cookie is refused.
	if r := e.do("GET", "/v1/tasks", "", nil, withCookie(liCookie+"x", "")); r.Status != 401 {
		t.Errorf("tampered cookie = %d; want 401", r.Status)
	}

	// Shared agent key: first sign-in with a name, attributed to it.
	_, sharedCookie, sharedView := e.signIn(fmt.Sprintf(`{"key":%q,"agent":"demo"}`, agentKey))
	if !sharedView.Shared || sharedView.Agent != "demo" {
		t.Errorf("shared session = %+v", sharedView)
	}
	e.task("tea", "t2", "D2", 2, time.Hour)
	if r := e.do("POST", "/v1/tasks/t2/claim", "", []byte(`{}`), withCookie(sharedCookie, sharedView.CSRF)); r.Status != 200 || !strings.Contains(string(r.Body), `"agent":"demo"`) {
		t.Errorf("shared claim = %d %s", r.Status, r.Body)
	}
	// The shared key still works for the API as before.
	if r := e.do("POST", "/v1/tasks/t2/notes", agentKey, []byte(`{"agent":"demo","text":"called"}`), nil); r.Status != 200 {
		t.Errorf("shared key note = %d %s", r.Status, r.Body)
	}

	// Deactivating ends the agent's key and sessions at once.
	if r := e.do("PATCH", "/v1/agents/li-na", ops, []byte(`{"active":false}`), nil); r.Status != 200 {
		t.Fatalf("deactivate: %d %s", r.Status, r.Body)
	}
	if r := e.do("GET", "/v1/tasks", "", nil, withCookie(liCookie, "")); r.Status != 401 {
		t.Errorf("deactivated session = %d; want 401", r.Status)
	}
	if r := e.do("GET", "/v1/tasks", li.Key, nil, nil); r.Status != 401 {
		t.Errorf("deactivated key = %d; want 401", r.Status)
	}
	// A new key for tom ends his old key and session.
	if r := e.do("POST", "/v1/agents/tom/key", ops, nil, nil); r.Status != 200 {
		t.Fatalf("reissue: %d %s", r.Status, r.Body)
	}
	if r := e.do("GET", "/v1/tasks", "", nil, withCookie(tomCookie, "")); r.Status != 401 {
		t.Errorf("session after reissue = %d; want 401", r.Status)
	}
	// Sessions expire with the server's clock.
	_, opsCookie, opsView := e.signIn(fmt.Sprintf(`{"key":%q}`, ops))
	if r := e.do("GET", "/v1/session", "", nil, withCookie(opsCookie, "")); r.Status != 200 || !strings.Contains(string(r.Body), opsView.CSRF) {
		t.Errorf("GET /v1/session = %d %s", r.Status, r.Body)
	}
	e.advance(httpapi.SessionTTL)
	if r := e.do("GET", "/v1/agents", "", nil, withCookie(opsCookie, "")); r.Status != 401 {
		t.Errorf("expired session = %d; want 401", r.Status)
	}
	if r := e.do("DELETE", "/v1/session", "", nil, withCookie(opsCookie, "")); r.Status != 204 || !strings.Contains(r.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("sign out = %d %v", r.Status, r.Header)
	}
	if strings.Contains(e.logs.String(), "oca_") {
		t.Errorf("a personal key reached the log")
	}
}

// TestTaskLocalized: ?locale= renders the step's reason and script in the
// agent's language for the order; the buyer's name stays hidden from an
// agent who does not hold the task.
func TestTaskLocalized(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	ops := shop.Keys[care.RoleOps]
	if r := e.sendStandard(shop, "d1", event("e1", "order.created", "")); r.Status != 202 {
		t.Fatalf("order: %d %s", r.Status, r.Body)
	}
	e.task("tea", "t1", "1001", 2, time.Hour)
	var li httpapi.AgentKeyView
	e.do("POST", "/v1/agents", ops, []byte(`{"id":"li-na","name":"李娜"}`), nil).json(t, &li)

	var d httpapi.TaskDetail
	r := e.do("GET", "/v1/tasks/t1?locale=en", ops, nil, nil)
	r.json(t, &d)
	if r.Status != 200 || d.Localized == nil || d.Localized.Locale != "en" || !strings.Contains(d.Localized.Reason, "1001") ||
		!strings.Contains(d.Localized.Script, "王芳") || d.Task.Reason != "large order unpaid" {
		t.Fatalf("localized for ops = %d %s", r.Status, r.Body)
	}
	r = e.do("GET", "/v1/tasks/t1?locale=en", li.Key, nil, nil)
	if strings.Contains(string(r.Body), "王芳") || !strings.Contains(string(r.Body), "***") {
		t.Errorf("a non-holder sees the buyer's name: %s", r.Body)
	}
	if r := e.do("GET", "/v1/tasks/t1?locale="+strings.Repeat("x", 40), ops, nil, nil); r.Status != 400 || errField(t, r) != "locale" {
		t.Errorf("a bad locale = %d %s; want 400 locale", r.Status, r.Body)
	}
	if r := e.do("GET", "/v1/tasks/t1", ops, nil, nil); strings.Contains(string(r.Body), `"localized"`) {
		t.Errorf("localized without ?locale=: %s", r.Body)
	}

	// The order's buyer contact: hidden from an agent until they hold a task of it.
	if r := e.do("GET", "/v1/orders/1001", li.Key, nil, nil); r.Status != 200 || strings.Contains(string(r.Body), "+8613800138000") || strings.Contains(string(r.Body), "王芳") {
		t.Errorf("a non-holder reads the order: %d %s", r.Status, r.Body)
	}
	if r := e.do("GET", "/v1/orders/1001", shop.Keys[care.RoleAgent], nil, nil); !strings.Contains(string(r.Body), "+8613800138000") {
		t.Errorf("the shared agent key by bearer (unchanged API) lost the contact: %s", r.Body)
	}
	if r := e.do("POST", "/v1/tasks/t1/claim", li.Key, []byte(`{}`), nil); r.Status != 200 {
		t.Fatalf("claim: %d %s", r.Status, r.Body)
	}
	if r := e.do("GET", "/v1/orders/1001", li.Key, nil, nil); !strings.Contains(string(r.Body), "+8613800138000") {
		t.Errorf("the holder cannot read the buyer's phone: %s", r.Body)
	}
	e.advance(queue.DefaultLease + time.Minute)
	if r := e.do("GET", "/v1/orders/1001", li.Key, nil, nil); strings.Contains(string(r.Body), "+8613800138000") {
		t.Errorf("the phone is still shown after the lease expired: %s", r.Body)
	}
}
