// Package channelcfg holds a shop's settings of the outbound channels that
// need them (email: the SMTP server or SES sender identity; sms: the sender
// id), how they are validated, and how they are stored as a care.Source.
// Secrets in them (an SMTP password) are never logged or echoed.
package channelcfg

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// EmailSource is the care.Source name a shop's email settings are stored
// under (like care.ChannelWebhook): URL holds the transport, server and
// sender identity, AppKey the SMTP user name, Secret the SMTP password.
const EmailSource = "channel.email"

// Security of an SMTP connection.
const (
	StartTLS = "starttls" // plain connection upgraded by STARTTLS (port 587)
	TLS      = "tls"      // implicit TLS (port 465)
	Plain    = "none"     // no TLS: only to a loopback server (tests, a local relay)
)

// Transports.
const (
	TransportSMTP = "smtp"
	TransportSES  = "ses"
)

// Email is a shop's email channel.
type Email struct {
	Transport string `json:"transport"`          // "smtp" (local) or "ses" (AWS)
	Host      string `json:"host,omitempty"`     // smtp
	Port      int    `json:"port,omitempty"`     // smtp
	Security  string `json:"security,omitempty"` // smtp: starttls, tls or none
	Username  string `json:"username,omitempty"` // smtp: AUTH PLAIN user ("" = no AUTH)
	Password  string `json:"password,omitempty"` // smtp: secret, never echoed or logged
	From      string `json:"from"`               // the shop's sender address (a verified SES identity on AWS)
	FromName  string `json:"from_name,omitempty"`
	// ConfigurationSet (ses) names the SES configuration set whose event
	// destination publishes delivery, bounce and complaint events.
	ConfigurationSet string `json:"configuration_set,omitempty"`
}

// Validate checks s: a known transport, a sender address, and for SMTP a
// host, a port in 1..65535, a known security (none only to a loopback
// host) and a password only with a user name. Errors are care.Invalid.
func (s Email) Validate() error {
	if a, err := mail.ParseAddress(s.From); err != nil || a.Address != s.From || len(s.From) > 254 {
		return care.Invalid("from", "a bare email address such as care@shop.example")
	}
	if len(s.FromName) > 100 {
		return care.Invalid("from_name", "at most 100 characters")
	}
	switch s.Transport {
	case TransportSES:
		if s.Host != "" || s.Port != 0 || s.Username != "" || s.Password != "" || s.Security != "" {
			return care.Invalid("transport", "ses takes no host, port, security or credentials (the role's own are used)")
		}
		return nil
	case TransportSMTP:
	default:
		return care.Invalid("transport", "smtp or ses")
	}
	if s.Host == "" || len(s.Host) > 253 {
		return care.Invalid("host", "the SMTP server's host name")
	}
	if s.Port < 1 || s.Port > 65535 {
		return care.Invalid("port", "1..65535")
	}
	switch s.Security {
	case StartTLS, TLS:
	case Plain:
		if ip := net.ParseIP(s.Host); s.Host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return care.Invalid("security", "none only to a loopback server; use starttls or tls")
		}
	default:
		return care.Invalid("security", "starttls, tls or none")
	}
	if s.Password != "" && s.Username == "" {
		return care.Invalid("username", "required with a password")
	}
	return nil
}

// Source returns s as the shop's stored channel (see EmailSource).
func (s Email) Source(shopID string, at time.Time) care.Source {
	q := url.Values{}
	q.Set("from", s.From)
	if s.FromName != "" {
		q.Set("name", s.FromName)
	}
	if s.ConfigurationSet != "" {
		q.Set("configuration_set", s.ConfigurationSet)
	}
	u := url.URL{Scheme: s.Transport, RawQuery: q.Encode()}
	if s.Transport == TransportSMTP {
		u.Host = net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
		q.Set("security", s.Security)
		u.RawQuery = q.Encode()
	}
	return care.Source{ShopID: shopID, Name: EmailSource, URL: u.String(), AppKey: s.Username, Secret: s.Password, UpdatedAt: at}
}

// EmailOf reads a stored channel back (the inverse of Source).
func EmailOf(src care.Source) (Email, error) {
	u, err := url.Parse(src.URL)
	if err != nil {
		return Email{}, fmt.Errorf("email settings: unreadable URL")
	}
	q := u.Query()
	s := Email{Transport: u.Scheme, From: q.Get("from"), FromName: q.Get("name"), ConfigurationSet: q.Get("configuration_set"),
		Username: src.AppKey, Password: src.Secret}
	if s.Transport == TransportSMTP {
		s.Host = u.Hostname()
		s.Port, _ = strconv.Atoi(u.Port())
		s.Security = q.Get("security")
	}
	return s, s.Validate()
}

// Public is s without its password, for answers.
func (s Email) Public() Email {
	s.Password = ""
	return s
}
