package email

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/email/smtptest"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/channelcfg"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/consent"
	"github.com/ordercare/ordercare/internal/steps"
)

type sources map[string]care.Source

func (s sources) GetSource(_ context.Context, shopID, name string) (care.Source, error) {
	if src, ok := s[shopID+"/"+name]; ok {
		return src, nil
	}
	return care.Source{}, care.ErrNotFound
}

var t0 = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

func envelope(to, class string) steps.Envelope {
	o := care.OrderState{}
	o.Order.ID = "o-1"
	o.Order.Buyer = &care.Buyer{Name: "Li", Email: to}
	return steps.Envelope{Event: "message", Shop: care.Shop{ID: "tea", Name: "Tea House"}, Order: o,
		Message: care.Message{ID: "unpaid_chase-abc.remind1", ShopID: "tea", OrderID: "o-1", Locale: "zh-CN", Class: class,
			Text: "您好 Li，订单 o-1 还未付款。\n\n点击付款 <a> & more"}}
}

// parsed is a received message taken apart.
type parsed struct {
	Header     mail.Header
	Text, HTML string
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("read message: %v", err)
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	p := parsed{Header: m.Header}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(part)
		switch ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); ct {
		case "text/plain":
			p.Text = string(b)
		case "text/html":
			p.HTML = string(b)
		}
	}
	return p
}

func TestSMTPChannel(t *testing.T) {
	srv := smtptest.Start(t)
	signer := consent.Signer{Key: bytes.Repeat([]byte("u"), 32)}
	settings := func(sec string, port int, pass string) channelcfg.Email {
		return channelcfg.Email{Transport: channelcfg.TransportSMTP, Host: srv.Host, Port: port, Security: sec, Username: srv.User, Password: pass,
			From: "care@tea.example", FromName: "Tea House Care"}
	}
	srv.Refuse("gone@buyer.example", 550)
	srv.Refuse("full@buyer.example", 452)
	cases := []struct {
		name     string
		settings channelcfg.Email
		to       string
		class    string
		wantErr  error // nil, care.ErrRejected, or errTransient
		bounce   bool
	}{
		{name: "starttls", settings: settings(channelcfg.StartTLS, srv.Port, srv.Pass), to: "li@buyer.example"},
		{name: "implicit tls", settings: settings(channelcfg.TLS, srv.TLSPort, srv.Pass), to: "li@buyer.example"},
		{name: "marketing", settings: settings(channelcfg.StartTLS, srv.Port, srv.Pass), to: "li@buyer.example", class: "marketing"},
		{name: "wrong password", settings: settings(channelcfg.StartTLS, srv.Port, "wrong-Pa55"), to: "li@buyer.example", wantErr: care.ErrRejected},
		{name: "hard bounce", settings: settings(channelcfg.StartTLS, srv.Port, srv.Pass), to: "gone@buyer.example", wantErr: care.ErrRejected, bounce: true},
		{name: "mailbox full", settings: settings(channelcfg.StartTLS, srv.Port, srv.Pass), to: "full@buyer.example", wantErr: errTransient},
		{name: "no address", settings: settings(channelcfg.StartTLS, srv.Port, srv.Pass), to: "", wantErr: care.ErrRejected},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(srv.Mails())
			ch := &Channel{Sources: sources{"tea/" + channelcfg.EmailSource: tc.settings.Source("tea", t0)}, Clock: clock.NewVirtual(t0, nil),
				SMTP: &SMTP{RootCAs: srv.Roots, Timeout: 10 * time.Second},
				Unsubscribe: func(u consent.Unsubscribe) string {
					return "https://care.example/unsubscribe/" + signer.Token(u)
				}}
			rep, err := ch.SendReport(context.Background(), envelope(tc.to, tc.class))
			if err != nil && strings.Contains(err.Error(), srv.Pass) || err != nil && strings.Contains(err.Error(), "wrong-Pa55") {
				t.Fatalf("error quotes the password: %v", err)
			}
			var be *BounceError
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("SendReport: %v", err)
			case tc.wantErr == errTransient && (err == nil || errors.Is(err, care.ErrRejected)):
				t.Fatalf("err = %v, want transient", err)
			case tc.wantErr == care.ErrRejected && !errors.Is(err, care.ErrRejected):
				t.Fatalf("err = %v, want rejected", err)
			case errors.As(err, &be) != tc.bounce:
				t.Fatalf("err = %v, bounce %v", err, tc.bounce)
			}
			got := srv.Mails()[before:]
			if tc.wantErr != nil {
				if len(got) != 0 {
					t.Fatalf("%d mails accepted", len(got))
				}
				return
			}
			if len(got) != 1 || got[0].To != tc.to || got[0].From != "care@tea.example" || !got[0].TLS || !got[0].Authed {
				t.Fatalf("received %+v", got)
			}
			p := parse(t, got[0].Data)
			if rep.ProviderID != p.Header.Get("Message-ID") || rep.ProviderID != MessageID("unpaid_chase-abc.remind1", "care@tea.example") {
				t.Errorf("provider id %q, Message-ID %q", rep.ProviderID, p.Header.Get("Message-ID"))
			}
			from, _ := p.Header.AddressList("From")
			subject, _ := new(mime.WordDecoder).DecodeHeader(p.Header.Get("Subject"))
			if len(from) != 1 || from[0].Name != "Tea House Care" || subject != "Tea House: 您好 Li，订单 o-1 还未付款。" {
				t.Errorf("From %v, Subject %q", from, subject)
			}
			if want := "您好 Li，订单 o-1 还未付款。\r\n\r\n点击付款 <a> & more"; p.Text != want {
				t.Errorf("text part %q, want %q", p.Text, want)
			}
			if !strings.Contains(p.HTML, "<p>点击付款 &lt;a&gt; &amp; more</p>") {
				t.Errorf("html part %q", p.HTML)
			}
			lu, post := p.Header.Get("List-Unsubscribe"), p.Header.Get("List-Unsubscribe-Post")
			if tc.class != "marketing" {
				if lu != "" || post != "" {
					t.Errorf("transactional mail has List-Unsubscribe %q", lu)
				}
				return
			}
			tok, ok := strings.CutPrefix(strings.Trim(lu, "<>"), "https://care.example/unsubscribe/")
			u, err := signer.Parse(tok)
			if !ok || err != nil || post != "List-Unsubscribe=One-Click" {
				t.Fatalf("List-Unsubscribe %q, Post %q: %v", lu, post, err)
			}
			if u != (consent.Unsubscribe{Shop: "tea", Contact: care.ContactKey(tc.to), Scope: consent.ScopeMarketing}) {
				t.Errorf("token names %+v", u)
			}
			if !strings.Contains(p.HTML, tok) {
				t.Errorf("the HTML part has no visible unsubscribe link")
			}
		})
	}
}

var errTransient = errors.New("transient")

func TestChannelRefusals(t *testing.T) {
	ok := channelcfg.Email{Transport: channelcfg.TransportSMTP, Host: "127.0.0.1", Port: 25, Security: channelcfg.Plain, From: "care@tea.example"}
	ses := channelcfg.Email{Transport: channelcfg.TransportSES, From: "care@tea.example"}
	notice := envelope("li@buyer.example", "")
	notice.Event = "notice"
	for _, tc := range []struct {
		name string
		ch   *Channel
		d    steps.Envelope
		want error
	}{
		{"not configured", &Channel{Sources: sources{}, Clock: clock.NewVirtual(t0, nil), SMTP: &SMTP{}}, envelope("li@buyer.example", ""), care.ErrNotFound},
		{"ses not on this runtime", &Channel{Sources: sources{"tea/" + channelcfg.EmailSource: ses.Source("tea", t0)}, Clock: clock.NewVirtual(t0, nil), SMTP: &SMTP{}},
			envelope("li@buyer.example", ""), care.ErrNotFound},
		{"notice", &Channel{Sources: sources{"tea/" + channelcfg.EmailSource: ok.Source("tea", t0)}, Clock: clock.NewVirtual(t0, nil), SMTP: &SMTP{}}, notice, care.ErrRejected},
		{"marketing without unsubscribe", &Channel{Sources: sources{"tea/" + channelcfg.EmailSource: ok.Source("tea", t0)}, Clock: clock.NewVirtual(t0, nil), SMTP: &SMTP{}},
			envelope("li@buyer.example", "marketing"), care.ErrRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.ch.Send(context.Background(), tc.d); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
