package localruntime_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/ordercare/ordercare/infra/email/smtptest"
	"github.com/ordercare/ordercare/infra/localruntime"
	"github.com/ordercare/ordercare/infra/mototest"
	"github.com/ordercare/ordercare/infra/snssms"
	"github.com/ordercare/ordercare/internal/care"
)

// channelHarness is newHarness with the real channels: an SMTP server the
// test starts (the shop's), and SNS as moto_server emulates it.
func channelHarness(t *testing.T) (*harness, *smtptest.Server) {
	t.Helper()
	smtpSrv := smtptest.Start(t)
	moto := mototest.Start(t)
	smsCh := &snssms.Channel{Client: sns.NewFromConfig(mototest.Config(), func(o *sns.Options) { o.BaseEndpoint = aws.String(moto) })}
	rt, err := localruntime.Open(t.Context(), localruntime.Options{DataDir: t.TempDir(), Clock: localruntime.ClockVirtual, Start: start,
		PublicURL: "https://care.example", SMTPRoots: smtpSrv.Roots, SMS: smsCh})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, rt: rt, api: httptest.NewServer(rt.API)}
	sfnSrv := httptest.NewServer(rt.SFN)
	t.Cleanup(func() {
		h.api.Close()
		sfnSrv.Close()
		rt.Close()
	})
	h.sfn = sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(sfnSrv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(rt.SFNCredentials.AccessKeyID, rt.SFNCredentials.SecretAccessKey, "")})
	h.shop = h.newShop("tea")
	h.must("PUT", "/v1/shops/tea/channels/email", h.ops(), map[string]any{"transport": "smtp", "host": smtpSrv.Host, "port": smtpSrv.Port,
		"security": "starttls", "username": smtpSrv.User, "password": smtpSrv.Pass, "from": "care@tea.example", "from_name": "茶屋"}, 200, nil)
	return h, smtpSrv
}

// editSteps stores a new version of wf's template with every message step edited.
func (h *harness) editSteps(wf care.Workflow, edit func(step map[string]any)) {
	h.t.Helper()
	_, body := h.call("GET", "/v1/templates/"+string(wf), h.ops(), nil)
	var tpl map[string]any
	if err := json.Unmarshal(body, &tpl); err != nil {
		h.t.Fatalf("template %s: %v: %s", wf, err, body)
	}
	for _, s := range tpl["steps"].([]any) {
		if st := s.(map[string]any); st["action"] == "message" {
			edit(st)
		}
	}
	h.must("PUT", "/v1/templates/"+string(wf), h.ops(), tpl, 201, nil)
}

func withBuyer(ev map[string]any, phone, email string) map[string]any {
	b := ev["order"].(map[string]any)["buyer"].(map[string]any)
	b["phone"], b["email"] = phone, email
	if phone == "" {
		delete(b, "phone")
	}
	return ev
}

// TestEmailFallbackAndUnsubscribe: a marketing chase listing the shop's IM
// bridge, then email: the shop has no webhook, so the reminder goes by
// email through the shop's SMTP server (STARTTLS, AUTH), with text and
// HTML parts and a one-click unsubscribe; the buyer's click (the RFC 8058
// POST) stops the next marketing reminder, which is skipped with its reason.
func TestEmailFallbackAndUnsubscribe(t *testing.T) {
	h, smtpSrv := channelHarness(t)
	h.editSteps(care.UnpaidChase, func(st map[string]any) {
		st["channels"] = []any{"webhook", "email"}
		st["class"] = "marketing"
	})
	h.must("POST", "/v1/shops/tea/consents", h.agent(), map[string]any{"contact": "chen@example.com", "channel": "email", "state": "granted", "source": "checkout"}, 200, nil)
	h.webhook(h.shop, "", withBuyer(order("E1", "129.90", false, 72*time.Hour, start), "", "chen@example.com"))
	h.advance("10m")
	ms := h.wantLedger("E1", "nudge:sent")
	if ms[0].Channel != "email" || ms[0].ProviderID == "" || ms[0].Class != "marketing" {
		t.Fatalf("nudge: %+v", ms[0])
	}
	got := smtpSrv.Mails()
	if len(got) != 1 || got[0].To != "chen@example.com" || !got[0].TLS || !got[0].Authed {
		t.Fatalf("the SMTP server got %d mails: %+v", len(got), got)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	link := strings.Trim(msg.Header.Get("List-Unsubscribe"), "<>")
	if !strings.HasPrefix(link, "https://care.example/unsubscribe/") || msg.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" ||
		msg.Header.Get("Message-ID") != ms[0].ProviderID {
		t.Fatalf("headers: List-Unsubscribe %q, Message-ID %q", link, msg.Header.Get("Message-ID"))
	}
	// The buyer's mail client posts the one-click form to the link.
	u, _ := url.Parse(link)
	res, err := http.Post(h.api.URL+u.EscapedPath(), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("one-click unsubscribe: %d", res.StatusCode)
	}
	h.advance("24h")
	if n := len(smtpSrv.Mails()); n != 1 {
		t.Errorf("%d mails after the unsubscribe, want still 1", n)
	}
	refused := 0
	for _, m := range h.messages("E1") {
		if m.Step != "nudge" && m.Status == care.MessageSent {
			t.Errorf("%s sent after the unsubscribe: %+v", m.Step, m)
		}
		if m.Status == care.MessageSkipped && m.Reason == "opted_out_marketing" {
			refused++
		}
	}
	if refused == 0 {
		t.Errorf("no later reminder was skipped as opted_out_marketing: %v", h.messages("E1"))
	}
}

// TestCODAskBySMS: the COD ask goes by SMS (SNS as moto emulates it) to a
// valid Chinese mobile, with its segments on the ledger entry; an order
// whose number is not a valid one is skipped with the reason and nothing
// is sent.
func TestCODAskBySMS(t *testing.T) {
	h, _ := channelHarness(t)
	h.editSteps(care.CODConfirm, func(st map[string]any) { st["channels"] = []any{"sms"} })
	h.webhook(h.shop, "", order("S1", "129.00", true, 0, start))
	h.webhook(h.shop, "", withBuyer(order("S2", "129.00", true, 0, start), "+86139123", ""))
	h.advance("1h")
	var ask care.Message
	for _, m := range h.messages("S1") {
		if m.Step == "ask" {
			ask = m
		}
	}
	if ask.Status != care.MessageSent || ask.Channel != "sms" || ask.ProviderID == "" || ask.Segments < 1 || ask.Encoding != "UCS-2" {
		t.Fatalf("S1 ask: %+v", ask)
	}
	t.Logf("COD ask by SMS: %d segment(s), %s, %d characters", ask.Segments, ask.Encoding, len([]rune(ask.Text)))
	var ask2 care.Message
	for _, m := range h.messages("S2") {
		if m.Step == "ask" {
			ask2 = m
		}
	}
	if ask2.Status != care.MessageSkipped || ask2.Reason != "invalid_phone" {
		t.Errorf("S2 ask: %s %q, want skipped invalid_phone", ask2.Status, ask2.Reason)
	}
}

// TestStopBySMSReply: reminders by SMS (moto's SNS) to a buyer who agreed
// to marketing texts. "退订营销" stops the marketing coupon and lets the
// transactional reminders through; "STOP" stops everything. The reply,
// sent twice, gets one confirmation, by SMS.
func TestStopBySMSReply(t *testing.T) {
	for _, tc := range []struct {
		reply string
		want  []string // the ledger after the reply, by step
	}{
		{"退订营销", []string{"coupon:skipped:opted_out_marketing", "nudge:sent", "ships_today:sent"}},
		{"STOP", []string{"coupon:skipped:opted_out", "nudge:sent", "ships_today:skipped:opted_out"}},
	} {
		t.Run(tc.reply, func(t *testing.T) {
			h, _ := channelHarness(t)
			h.editSteps(care.UnpaidChase, func(st map[string]any) {
				st["channels"] = []any{"sms"}
				if st["id"] == "coupon" {
					st["class"] = "marketing"
				}
			})
			h.must("POST", "/v1/shops/tea/consents", h.agent(), map[string]any{"contact": "+8613912345678", "channel": "sms", "state": "granted", "source": "checkout"}, 200, nil)
			// Placed at 09:00 Shanghai: the 6 h coupon falls inside China's marketing hours.
			h.webhook(h.shop, "", order("T1", "129.90", false, 72*time.Hour, start))
			h.advance("10m")
			h.wantLedger("T1", "nudge:sent")
			h.webhook(h.shop, "", event("buyer.replied", "T1", h.now(), map[string]any{"reply": map[string]string{"text": tc.reply, "channel": "sms"}}))
			h.advance("1m")
			h.webhook(h.shop, "", event("buyer.replied", "T1", h.now(), map[string]any{"reply": map[string]string{"text": tc.reply, "channel": "sms"}}))
			h.advance("8h")
			var got []string
			confirmations := 0
			for _, m := range h.messages("T1") {
				if m.Kind == care.KindConfirmation {
					confirmations++
					if m.Channel != "sms" || m.Status != care.MessageSent || m.ProviderID == "" || m.Segments == 0 {
						t.Errorf("confirmation %+v, want sent by sms", m)
					}
					continue
				}
				if m.Step == "call" {
					continue
				}
				s := m.Step + ":" + string(m.Status)
				if m.Reason != "" {
					s += ":" + m.Reason
				}
				got = append(got, s)
			}
			if confirmations != 1 {
				t.Errorf("%d confirmations after two opt-out replies, want 1", confirmations)
			}
			sort.Strings(got)
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("ledger %v, want %v", got, tc.want)
			}
		})
	}
}
