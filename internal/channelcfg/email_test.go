package channelcfg

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

var t0 = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

func TestEmail(t *testing.T) {
	good := Email{Transport: TransportSMTP, Host: "smtp.tea.example", Port: 587, Security: StartTLS, Username: "u", Password: "p&=x",
		From: "care@tea.example", FromName: "Tea & Co"}
	back, err := EmailOf(good.Source("tea", t0))
	if err != nil || back != good {
		t.Fatalf("round trip = %+v, %v", back, err)
	}
	if src := good.Source("tea", t0); strings.Contains(src.URL, "p&=x") {
		t.Errorf("the password is in the URL %q", src.URL)
	}
	for _, tc := range []struct {
		name  string
		edit  func(s *Email)
		field string
	}{
		{"no from", func(s *Email) { s.From = "" }, "from"},
		{"named from", func(s *Email) { s.From = "Tea <care@tea.example>" }, "from"},
		{"bad transport", func(s *Email) { s.Transport = "pigeon" }, "transport"},
		{"no host", func(s *Email) { s.Host = "" }, "host"},
		{"bad port", func(s *Email) { s.Port = 70000 }, "port"},
		{"bad security", func(s *Email) { s.Security = "ssl3" }, "security"},
		{"plain to a remote host", func(s *Email) { s.Security = Plain }, "security"},
		{"password without user", func(s *Email) { s.Username = "" }, "username"},
		{"ses with a host", func(s *Email) { s.Transport = TransportSES }, "transport"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := good
			tc.edit(&s)
			var fe *care.FieldError
			if err := s.Validate(); !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("Validate = %v, want field %s", err, tc.field)
			}
		})
	}
}
