package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/channelcfg"
	"github.com/ordercare/ordercare/internal/consent"
)

var unsubscribeSigner = consent.Signer{Key: bytes.Repeat([]byte("unsubscribe-key!"), 2)}

func TestEmailChannel(t *testing.T) {
	e := newEnv(t)
	shop, rival := e.createShop("tea"), e.createShop("rival")
	ops := shop.Keys[care.RoleOps]
	const pass = "smtp-Pa55word"
	smtp := func(edit string) []byte {
		return fmt.Appendf(nil, `{"transport":"smtp","host":"smtp.tea.example","port":587,"security":"starttls","username":"care","password":%q,"from":"care@tea.example"%s}`, pass, edit)
	}
	tests := []struct {
		name, token string
		body        []byte
		want        int
		field       string
	}{
		{"smtp", ops, smtp(""), 200, ""},
		{"ses", ops, []byte(`{"transport":"ses","from":"care@tea.example","configuration_set":"care-events"}`), 200, ""},
		{"no from", ops, []byte(`{"transport":"ses"}`), 400, "from"},
		{"plain to a remote server", ops, bytes.Replace(smtp(""), []byte("starttls"), []byte("none"), 1), 400, "security"},
		{"unknown field", ops, smtp(`,"dkim":true`), 400, "dkim"},
		{"agent", shop.Keys[care.RoleAgent], smtp(""), 403, ""},
		{"another shop", rival.Keys[care.RoleOps], smtp(""), 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("PUT", "/v1/shops/tea/channels/email", tc.token, tc.body, nil)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			if strings.Contains(string(r.Body), pass) {
				t.Errorf("the password was echoed: %s", r.Body)
			}
			if tc.field != "" {
				if f := errField(t, r); f != tc.field {
					t.Errorf("field %q, want %q: %s", f, tc.field, r.Body)
				}
			}
		})
	}
	// The last good PUT (ses) is what is stored and read back.
	r := e.do("GET", "/v1/shops/tea/channels/email", ops, nil, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"configuration_set":"care-events"`) || strings.Contains(string(r.Body), "password\":\"") {
		t.Fatalf("GET: %d %s", r.Status, r.Body)
	}
	src, err := e.store.GetSource(context.Background(), "tea", channelcfg.EmailSource)
	if set, err2 := channelcfg.EmailOf(src); err != nil || err2 != nil || set.Transport != "ses" {
		t.Fatalf("stored: %+v %v %v", set, err, err2)
	}
	if r := e.do("GET", "/v1/shops/rival/channels/email", rival.Keys[care.RoleOps], nil, nil); r.Status != 404 {
		t.Errorf("rival's channel: %d", r.Status)
	}
}

// TestUnsubscribe: the one-click POST (RFC 8058) opts the token's contact
// out of the shop's messages; a GET only shows the button; a token
// ordercare did not sign, or a body other than the one-click form, changes
// nothing.
func TestUnsubscribe(t *testing.T) {
	e := newEnv(t)
	e.createShop("tea")
	ctx := context.Background()
	contact := care.ContactKey("jon@example.com")
	tok := unsubscribeSigner.Token(consent.Unsubscribe{Shop: "tea", Contact: contact, Scope: consent.ScopeMarketing})
	forged := consent.Signer{Key: bytes.Repeat([]byte("f"), 32)}.Token(consent.Unsubscribe{Shop: "tea", Contact: contact, Scope: consent.ScopeMarketing})
	post := func(tok, body string) int {
		res, err := http.Post(e.url+"/unsubscribe/"+url.PathEscape(tok), "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	optedOut := func() bool { // out of marketing email, and of nothing else
		recs, err := e.store.ListConsents(ctx, "tea", contact)
		if err != nil {
			t.Fatal(err)
		}
		if all, _ := e.store.OptedOut(ctx, "tea", contact); all {
			t.Fatalf("a marketing unsubscribe stopped every message")
		}
		return len(recs) == 1 && recs[0].Channel == "email" && recs[0].State == consent.OptedOutMarketing && recs[0].Source == consent.SourceUnsubscribe
	}
	if r := e.do("GET", "/unsubscribe/"+tok, "", nil, nil); r.Status != 200 || !strings.Contains(string(r.Body), `method="post"`) || optedOut() {
		t.Fatalf("GET: %d %s (opted out %v)", r.Status, r.Body, optedOut())
	}
	for _, tc := range []struct {
		name, tok, body string
		want            int
	}{
		{"forged token", forged, "List-Unsubscribe=One-Click", 404},
		{"not one-click", tok, "List-Unsubscribe=Maybe", 400},
	} {
		if got := post(tc.tok, tc.body); got != tc.want || optedOut() {
			t.Fatalf("%s: status %d, want %d (opted out %v)", tc.name, got, tc.want, optedOut())
		}
	}
	for i := range 2 { // idempotent
		if got := post(tok, "List-Unsubscribe=One-Click"); got != 200 || !optedOut() {
			t.Fatalf("one-click #%d: status %d, opted out %v", i+1, got, optedOut())
		}
	}
}

func TestConsentAPI(t *testing.T) {
	e := newEnv(t)
	shop, rival := e.createShop("tea"), e.createShop("rival")
	body := func(contact, channel, state string) []byte {
		return fmt.Appendf(nil, `{"contact":%q,"channel":%q,"state":%q}`, contact, channel, state)
	}
	for _, tc := range []struct {
		name, token string
		body        []byte
		want        int
		field       string
	}{
		{"agent records sms consent", shop.Keys[care.RoleAgent], body("+8613800138000", "sms", "granted"), 200, ""},
		{"ops records an opt-out of all", shop.Keys[care.RoleOps], body("jon@example.com", "*", "opted_out_all"), 200, ""},
		{"bad contact", shop.Keys[care.RoleOps], body("13800138000", "sms", "granted"), 400, "contact"},
		{"bad channel", shop.Keys[care.RoleOps], body("+8613800138000", "fax", "granted"), 400, "channel"},
		{"bad state", shop.Keys[care.RoleOps], body("+8613800138000", "sms", "yes"), 400, "state"},
		{"another shop", rival.Keys[care.RoleOps], body("+8613800138000", "sms", "granted"), 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/v1/shops/tea/consents", tc.token, tc.body, nil)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			if strings.Contains(string(r.Body), "13800138000") || strings.Contains(string(r.Body), "jon@") && r.Status == 200 {
				t.Errorf("the contact was echoed: %s", r.Body)
			}
			if tc.field != "" {
				if f := errField(t, r); f != tc.field {
					t.Errorf("field %q, want %q", f, tc.field)
				}
			}
		})
	}
	ctx := context.Background()
	if recs, _ := e.store.ListConsents(ctx, "tea", care.ContactKey("+8613800138000")); len(recs) != 1 || recs[0].State != "granted" || recs[0].Source != "api" {
		t.Errorf("sms consent: %+v", recs)
	}
	if all, _ := e.store.OptedOut(ctx, "tea", care.ContactKey("jon@example.com")); !all {
		t.Errorf("an opt-out of all on every channel did not stop every message")
	}
}
