package httpapi_test

import (
	"strings"
	"testing"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/httpapi"
	"github.com/ordercare/ordercare/internal/sms"
)

func TestWorkflowsAndPreview(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	ops := shop.Keys[care.RoleOps]

	r := e.do("GET", "/v1/workflows", ops, nil, nil)
	var wfs httpapi.WorkflowsPage
	r.json(t, &wfs)
	if r.Status != 200 || len(wfs.Workflows) == 0 || wfs.Workflows[0].Workflow != care.UnpaidChase || wfs.Workflows[0].LiveVersion != 0 {
		t.Fatalf("GET /v1/workflows = %d %s", r.Status, r.Body)
	}

	r = e.do("POST", "/v1/templates/unpaid_chase/preview", ops, []byte(`{}`), nil)
	var p httpapi.Preview
	r.json(t, &p)
	if r.Status != 200 || !p.Sample || len(p.Scripts) == 0 {
		t.Fatalf("preview = %d %s", r.Status, r.Body)
	}
	var zh, en string
	segments := 0
	for _, s := range p.Scripts {
		if s.Error != "" {
			t.Errorf("script %s %s %s: %s", s.Step, s.Field, s.Locale, s.Error)
		}
		segments += s.Segments
		if s.Step == "nudge" && s.Locale == "zh-CN" {
			zh = s.Text
			// Chinese text is UCS-2 on SMS; each message script says what it costs.
			if s.Encoding != sms.UCS2 || s.Segments < 1 || s.Characters != len([]rune(s.Text)) {
				t.Errorf("nudge zh-CN as SMS: %s, %d segments, %d characters", s.Encoding, s.Segments, s.Characters)
			}
		}
		if s.Step == "nudge" && s.Locale == "en" {
			en = s.Text
		}
	}
	if p.Segments != segments || segments == 0 {
		t.Errorf("preview segments %d, scripts sum to %d", p.Segments, segments)
	}
	if !strings.Contains(zh, "龙井 250g×2") || !strings.Contains(en, "Hi 王芳") || !strings.Contains(en, "688.00 CNY") {
		t.Errorf("nudge previews: zh %q, en %q", zh, en)
	}

	bad := `{"template":{"workflow":"unpaid_chase","default_locale":"zh-CN","channel":"outbox","contact_budget":3,"steps":[{"id":"nudge","action":"message","after":"-10m","script":{"zh-CN":"x"}}]}}`
	for _, tc := range []struct {
		name, body string
		status     int
		field      string
	}{
		{"template error at its field", bad, 400, "template.steps[0].after"},
		{"unknown order", `{"order_id":"nope"}`, 404, "order_id"},
		{"unknown field", `{"order":"x"}`, 400, "order"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/v1/templates/unpaid_chase/preview", ops, []byte(tc.body), nil)
			if r.Status != tc.status || errField(t, r) != tc.field {
				t.Errorf("preview = %d %s; want %d field %q", r.Status, r.Body, tc.status, tc.field)
			}
		})
	}
	if r := e.do("POST", "/v1/templates/unpaid_chase/preview", shop.Keys[care.RoleAgent], []byte(`{}`), nil); r.Status != 403 {
		t.Errorf("agent preview = %d; want 403", r.Status)
	}
}

func TestListSources(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	other := e.createShop("coffee")
	ops := shop.Keys[care.RoleOps]
	r := e.do("GET", "/v1/shops/tea/sources", ops, nil, nil)
	var p httpapi.SourcesPage
	r.json(t, &p)
	if r.Status != 200 || len(p.Sources) != len(care.Sources) || !p.Sources[0].Connected || p.Sources[0].Webhook != "/webhooks/tea/standard" || p.Sources[1].Connected || p.Channel != nil {
		t.Errorf("sources = %d %s", r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), "whsec_") {
		t.Errorf("sources leak a secret: %s", r.Body)
	}
	if r := e.do("GET", "/v1/shops/tea/sources", other.Keys[care.RoleOps], nil, nil); r.Status != 404 {
		t.Errorf("other shop's sources = %d; want 404", r.Status)
	}
	if r := e.do("GET", "/v1/shops/tea/sources", shop.Keys[care.RoleAgent], nil, nil); r.Status != 403 {
		t.Errorf("agent reads sources = %d; want 403", r.Status)
	}
}

// TestPreviewRefusal: a marketing step sent by SMS previews, in zh-CN, the
// text China requires (with 回T退订) and the segments of that text, as the
// sms channel sends and the ledger records it; en, and a step not sent by
// SMS, are previewed as rendered.
func TestPreviewRefusal(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	ops := shop.Keys[care.RoleOps]
	body := `{"template":{"workflow":"unpaid_chase","default_locale":"zh-CN","channel":"outbox","contact_budget":3,"params":{"pay_window":"72h"},"steps":[` +
		`{"id":"nudge","action":"message","after":"10m","channels":["sms"],"class":"marketing","script":{"zh-CN":"亲，记得付款哦","en":"Please pay"}},` +
		`{"id":"coupon","action":"message","after":"6h","channels":["email"],"class":"marketing","script":{"zh-CN":"亲，优惠券","en":"A coupon"}}]}}`
	r := e.do("POST", "/v1/templates/unpaid_chase/preview", ops, []byte(body), nil)
	var p httpapi.Preview
	r.json(t, &p)
	if r.Status != 200 {
		t.Fatalf("preview = %d %s", r.Status, r.Body)
	}
	want := map[string]string{"nudge zh-CN": "亲，记得付款哦 " + sms.RefusalCN, "nudge en": "Please pay", "coupon zh-CN": "亲，优惠券", "coupon en": "A coupon"}
	for _, s := range p.Scripts {
		k := s.Step + " " + s.Locale
		if s.Text != want[k] {
			t.Errorf("%s: %q, want %q", k, s.Text, want[k])
		}
		if c := sms.Segments(s.Text); s.Segments != c.Segments || s.Characters != len([]rune(s.Text)) {
			t.Errorf("%s: %d segments, %d characters; its text is %d segments", k, s.Segments, s.Characters, c.Segments)
		}
	}
}
