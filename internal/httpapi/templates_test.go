package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/httpapi"
)

// TestTemplateRoundTrip: what GET answers, PUT takes back verbatim, edited
// or not; the version travels in headers, and If-Match stops a lost update.
func TestTemplateRoundTrip(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	ops := shop.Keys[care.RoleOps]

	// GET, PUT the same bytes: version 1.
	r := e.do("GET", "/v1/templates/unpaid_chase", ops, nil, nil)
	if r.Status != 200 {
		t.Fatalf("GET: %d %s", r.Status, r.Body)
	}
	put := e.do("PUT", "/v1/templates/unpaid_chase", ops, r.Body, map[string]string{"If-Match": r.Header.Get("ETag")})
	if put.Status != 201 || put.Header.Get("ETag") != `"1"` || put.Header.Get("Location") != "/v1/templates/unpaid_chase/versions/1" {
		t.Fatalf("PUT of GET's body: %d %v %s", put.Status, put.Header, put.Body)
	}

	// GET, edit, PUT: version 2, and GET answers the edit.
	r = e.do("GET", "/v1/templates/unpaid_chase", ops, nil, nil)
	edited := bytes.Replace(r.Body, []byte(`"contact_budget": 3`), []byte(`"contact_budget": 2`), 1)
	if bytes.Equal(edited, r.Body) {
		t.Fatalf("GET body has no contact_budget 3: %s", r.Body)
	}
	if put := e.do("PUT", "/v1/templates/unpaid_chase", ops, edited, map[string]string{"If-Match": r.Header.Get("ETag")}); put.Status != 201 {
		t.Fatalf("PUT edited: %d %s", put.Status, put.Body)
	}
	r2 := e.do("GET", "/v1/templates/unpaid_chase", ops, nil, nil)
	if r2.Header.Get("ETag") != `"2"` || !jsonEqual(t, edited, r2.Body) {
		t.Errorf("after edit: %v %s", r2.Header, r2.Body)
	}

	// A stale If-Match: 412, nothing stored.
	stale := e.do("PUT", "/v1/templates/unpaid_chase", ops, edited, map[string]string{"If-Match": `"1"`})
	if stale.Status != 412 || !strings.Contains(string(stale.Body), "the latest version is 2, not 1") {
		t.Errorf("stale If-Match: %d %s", stale.Status, stale.Body)
	}
	if r := e.do("GET", "/v1/templates/unpaid_chase", ops, nil, nil); r.Header.Get("ETag") != `"2"` {
		t.Errorf("a refused PUT stored a version: %v", r.Header)
	}

	// The envelope GET used to answer is refused with a reason that says what to send.
	env, _ := json.Marshal(map[string]any{"workflow": "unpaid_chase", "version": 2, "body": json.RawMessage(r2.Body)})
	bad := e.do("PUT", "/v1/templates/unpaid_chase", ops, env, nil)
	if bad.Status != 400 || errField(t, bad) != "body" || !strings.Contains(string(bad.Body), "send the template document itself") {
		t.Errorf("envelope: %d %s", bad.Status, bad.Body)
	}
}

// TestTemplateVersions lists versions newest first, page by page, and reads
// any of them.
func TestTemplateVersions(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	ops, agent := shop.Keys[care.RoleOps], shop.Keys[care.RoleAgent]

	var empty httpapi.TemplateVersions
	e.do("GET", "/v1/templates/unpaid_chase/versions", agent, nil, nil).json(t, &empty)
	if diff := cmp.Diff(httpapi.TemplateVersions{Workflow: care.UnpaidChase, Versions: []httpapi.TemplateVersion{}}, empty); diff != "" {
		t.Errorf("no versions (-want +got):\n%s", diff)
	}

	var compact bytes.Buffer
	if err := json.Compact(&compact, e.do("GET", "/v1/templates/unpaid_chase", ops, nil, nil).Body); err != nil {
		t.Fatal(err)
	}
	def := compact.Bytes()
	bodies := map[int][]byte{}
	created := map[int]time.Time{}
	for v := 1; v <= 5; v++ {
		b := bytes.Replace(def, []byte(`"contact_budget":3`), fmt.Appendf(nil, `"contact_budget":%d`, v), 1)
		if v != 3 && bytes.Equal(b, def) {
			t.Fatalf("no contact_budget 3 in %s", def)
		}
		if v == 4 {
			b = bytes.Replace(b, []byte(`"workflow":"unpaid_chase",`), []byte(`"workflow":"unpaid_chase","enabled":false,`), 1)
		}
		if r := e.do("PUT", "/v1/templates/unpaid_chase", ops, b, nil); r.Status != 201 {
			t.Fatalf("PUT %d: %d %s", v, r.Status, r.Body)
		}
		bodies[v], created[v] = b, e.clock.Now().UTC()
		e.clock.Advance(time.Minute)
	}

	var pages [][]int
	next := "/v1/templates/unpaid_chase/versions?limit=2"
	for next != "" && len(pages) < 10 {
		var page httpapi.TemplateVersions
		r := e.do("GET", next, agent, nil, nil)
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %s", next, r.Status, r.Body)
		}
		r.json(t, &page)
		if page.Latest != 5 {
			t.Errorf("latest %d, want 5", page.Latest)
		}
		var vs []int
		for _, v := range page.Versions {
			vs = append(vs, v.Version)
			if !v.CreatedAt.Equal(created[v.Version]) || v.Enabled != (v.Version != 4) || v.Workflow != care.UnpaidChase {
				t.Errorf("version %+v, created %s", v, created[v.Version])
			}
		}
		pages = append(pages, vs)
		next = page.Next
	}
	if diff := cmp.Diff([][]int{{5, 4}, {3, 2}, {1}}, pages); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}

	for v := 1; v <= 5; v++ {
		r := e.do("GET", fmt.Sprintf("/v1/templates/unpaid_chase/versions/%d", v), agent, nil, nil)
		if r.Status != 200 || r.Header.Get("ETag") != fmt.Sprintf(`"%d"`, v) || !jsonEqual(t, bodies[v], r.Body) {
			t.Errorf("version %d: %d %v %s", v, r.Status, r.Header, r.Body)
		}
	}
	bad := []struct {
		path   string
		status int
		field  string
	}{
		{"/v1/templates/unpaid_chase/versions/6", 404, ""},
		{"/v1/templates/unpaid_chase/versions/0", 400, "version"},
		{"/v1/templates/unpaid_chase/versions/x", 400, "version"},
		{"/v1/templates/cod_confirm/versions/1", 404, ""},
		{"/v1/templates/review_ask/versions", 404, ""},
		{"/v1/templates/unpaid_chase/versions?limit=0", 400, "limit"},
		{"/v1/templates/unpaid_chase/versions?limit=101", 400, "limit"},
		{"/v1/templates/unpaid_chase/versions?before=-1", 400, "before"},
	}
	for _, tc := range bad {
		r := e.do("GET", tc.path, ops, nil, nil)
		if r.Status != tc.status || (tc.field != "" && errField(t, r) != tc.field) {
			t.Errorf("GET %s: %d %s, want %d %s", tc.path, r.Status, r.Body, tc.status, tc.field)
		}
	}
	// Another shop sees none of them.
	rival := e.createShop("rival")
	if r := e.do("GET", "/v1/templates/unpaid_chase/versions/1", rival.Keys[care.RoleOps], nil, nil); r.Status != 404 {
		t.Errorf("rival reads tea's version: %d", r.Status)
	}
}

// TestTemplatePutRefusesUnboundedAndBrokenScripts: the loop that took the
// server 5.8 s and 613 MiB is refused at once, as is broken Liquid, each
// naming the script and what is wrong.
func TestTemplatePutRefusesUnboundedAndBrokenScripts(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	ops := shop.Keys[care.RoleOps]
	def := e.do("GET", "/v1/templates/unpaid_chase", ops, nil, nil).Body
	withScript := func(src string) []byte {
		var d map[string]any
		_ = json.Unmarshal(def, &d)
		d["steps"].([]any)[0].(map[string]any)["script"].(map[string]any)["zh-CN"] = src
		b, _ := json.Marshal(d)
		return b
	}
	tests := []struct{ name, src, reason string }{
		{"loop", `{% for i in (1..4000000) %}xxxxxxxxxx{% endfor %}`, "at line 1, column 1: the loop over (1..4000000) runs more than 10000 iterations"},
		{"loop from a variable", `{% assign n = 4000000 %}{% for i in (1..n) %}xxxxxxxxxx{% endfor %}`, "rendering exceeded 2000 characters"},
		{"nested loops", `{% for i in (1..2000) %}{% for j in (1..2000) %}x{% endfor %}{% endfor %}`, "rendering exceeded 2000 characters"},
		{"broken output", `亲，{{ order.total }`, "Liquid syntax error at line 1, column 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			r := e.do("PUT", "/v1/templates/unpaid_chase", ops, withScript(tt.src), nil)
			took := time.Since(start)
			if r.Status != 400 || errField(t, r) != "steps[0].script.zh-CN" || !strings.Contains(string(r.Body), tt.reason) {
				t.Errorf("PUT: %d %s, want 400 steps[0].script.zh-CN …%s…", r.Status, r.Body, tt.reason)
			}
			if took > 2*time.Second {
				t.Errorf("answered after %s", took)
			}
			t.Logf("refused in %s: %s", took, bytes.TrimSpace(r.Body))
		})
	}
	if r := e.do("GET", "/v1/templates/unpaid_chase/versions", ops, nil, nil); !strings.Contains(string(r.Body), `"latest":0`) {
		t.Errorf("a refused template was stored: %s", r.Body)
	}
}

// TestTemplatePutValidatesParams: PUT checks the template's params with
// its workflow (steps.ParamsParser), naming the field under params, and
// accepts a document of the old shape (the workflow's fields at the top
// level), as stored versions of that shape are read.
func TestTemplatePutValidatesParams(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	ops := shop.Keys[care.RoleOps]
	def := e.do("GET", "/v1/templates/unpaid_chase", ops, nil, nil).Body
	with := func(mutate func(d map[string]any)) []byte {
		var d map[string]any
		if err := json.Unmarshal(def, &d); err != nil {
			t.Fatal(err)
		}
		mutate(d)
		b, _ := json.Marshal(d)
		return b
	}
	tests := []struct {
		name          string
		body          []byte
		status        int
		field, reason string
	}{
		{"zero pay window", with(func(d map[string]any) { d["params"] = map[string]any{"pay_window": "0"} }), 400, "params.pay_window", "positive"},
		{"another workflow's field", with(func(d map[string]any) { d["params"].(map[string]any)["reply_timeout"] = "2h" }), 400, "params.reply_timeout", "unknown field"},
		{"no params", with(func(d map[string]any) { delete(d, "params") }), 400, "params", "required"},
		{"old shape", with(func(d map[string]any) { delete(d, "params"); d["pay_window"] = "48h" }), 201, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("PUT", "/v1/templates/unpaid_chase", ops, tt.body, nil)
			if r.Status != tt.status || (tt.field != "" && (errField(t, r) != tt.field || !strings.Contains(string(r.Body), tt.reason))) {
				t.Errorf("PUT: %d %s, want %d %s …%s…", r.Status, r.Body, tt.status, tt.field, tt.reason)
			}
		})
	}
}

// TestTemplatePutRefusesReviewIncentives: a template that pays for a good
// review, asks for five stars or gates the ask on satisfaction is refused
// 422 with the script's path and the rule (with its source) it breaks, and
// nothing is stored; the honest version of the same edit is stored.
func TestTemplatePutRefusesReviewIncentives(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	ops := shop.Keys[care.RoleOps]
	def := e.do("GET", "/v1/templates/unpaid_chase", ops, nil, nil).Body
	withScript := func(locale, src string) []byte {
		var d map[string]any
		_ = json.Unmarshal(def, &d)
		d["steps"].([]any)[0].(map[string]any)["script"].(map[string]any)[locale] = src
		b, _ := json.Marshal(d)
		return b
	}
	tests := []struct{ name, locale, src, field, reason string }{
		{"好评返现", "zh-CN", "亲，付款后五星好评返现5元哦～", "steps[0].script.zh-CN", "SAMR 网络反不正当竞争暂行规定 (2024) art. 9(5)"},
		{"5-star for a coupon", "en", "Leave a 5-star review and get 10% off!", "steps[0].script.en", "FTC 16 CFR 465.4"},
		{"rate us 5", "en", "Please rate us 5 stars.", "steps[0].script.en", "positive-review ask"},
		{"gated", "zh-CN", "不满意请先联系客服，再评价哦", "steps[0].script.zh-CN", "Trustpilot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("PUT", "/v1/templates/unpaid_chase", ops, withScript(tt.locale, tt.src), nil)
			if r.Status != 422 || errField(t, r) != tt.field || !strings.Contains(string(r.Body), tt.reason) || !strings.Contains(string(r.Body), `"code":"rejected"`) {
				t.Errorf("PUT: %d %s, want 422 rejected %s …%s…", r.Status, r.Body, tt.field, tt.reason)
			}
		})
	}
	if r := e.do("GET", "/v1/templates/unpaid_chase/versions", ops, nil, nil); !strings.Contains(string(r.Body), `"latest":0`) {
		t.Errorf("a refused template was stored: %s", r.Body)
	}
	if r := e.do("GET", "/v1/templates/unpaid_chase", ops, nil, nil); !bytes.Equal(r.Body, def) {
		t.Errorf("GET after refusals changed:\n%s\nwant\n%s", r.Body, def)
	}
	honest := withScript("en", "Thanks for your order! We'd love your honest review once it arrives.")
	if r := e.do("PUT", "/v1/templates/unpaid_chase", ops, honest, nil); r.Status != 201 {
		t.Errorf("honest PUT: %d %s, want 201", r.Status, r.Body)
	}
}
