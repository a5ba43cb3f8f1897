package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/channelcfg"
)

// SMTP delivers through the shop's SMTP server with emersion/go-smtp's
// client: STARTTLS (required, never downgraded) or implicit TLS, AUTH
// PLAIN when the shop gave a user name (only over TLS, or to loopback with
// security none). RootCAs, when set, replaces the system roots (tests).
// Timeout bounds one delivery (default 30 s).
type SMTP struct {
	RootCAs *tls.Config // only its RootCAs is used
	Timeout time.Duration
}

var _ Transport = (*SMTP)(nil)

// Deliver sends d. The provider id is the Message-ID. Errors: a 5xx answer
// is a *care.RejectError (a refused recipient at RCPT is a *BounceError);
// a refused login is a *care.RejectError; a 4xx answer, a network or TLS
// failure is returned as it is (transient). No credential reaches an error.
func (t *SMTP) Deliver(ctx context.Context, d Delivery) (string, error) {
	s := d.Settings
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	cfg := &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
	if t.RootCAs != nil {
		cfg.RootCAs = t.RootCAs.RootCAs
	}
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("smtp: dial %s: %w", addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	var c *smtp.Client
	switch s.Security {
	case channelcfg.TLS:
		c = smtp.NewClient(tls.Client(conn, cfg))
	case channelcfg.StartTLS:
		if c, err = smtp.NewClientStartTLS(conn, cfg); err != nil {
			conn.Close()
			return "", smtpError("starttls", err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	if s.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", s.Username, s.Password)); err != nil {
			var se *smtp.SMTPError
			if errors.As(err, &se) && se.Code >= 500 {
				return "", &care.RejectError{Reason: fmt.Sprintf("the shop's SMTP server refused the login (%d)", se.Code)}
			}
			return "", smtpError("auth", err)
		}
	}
	if err := c.Mail(s.From, nil); err != nil {
		return "", smtpError("mail from", err)
	}
	if err := c.Rcpt(d.To, nil); err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code >= 550 && se.Code <= 553 {
			return "", &BounceError{Reason: fmt.Sprintf("the SMTP server refused the recipient (%d %d.%d.%d)", se.Code,
				se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])}
		}
		return "", smtpError("rcpt to", err)
	}
	w, err := c.Data()
	if err != nil {
		return "", smtpError("data", err)
	}
	if _, err := w.Write(d.Raw); err != nil {
		return "", smtpError("data", err)
	}
	if err := w.Close(); err != nil {
		return "", smtpError("data", err)
	}
	_ = c.Quit()
	return MessageID(d.LedgerID, s.From), nil
}

// BounceError is a hard bounce: the provider refused the address itself,
// so it is suppressed for the shop. It matches care.ErrRejected.
type BounceError struct{ Reason string }

func (e *BounceError) Error() string { return "bounced: " + e.Reason }

// Is makes errors.Is(err, care.ErrRejected) true.
func (e *BounceError) Is(target error) bool { return target == care.ErrRejected }

// Undeliverable marks the error as an address refused for good (the
// kernel's steps.Undeliverable).
func (e *BounceError) Undeliverable() bool { return true }

// smtpError classifies a server answer: 5xx permanent, the rest transient.
// The server's text is left out (it may quote the address).
func smtpError(stage string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		if se.Code >= 500 {
			return &care.RejectError{Reason: fmt.Sprintf("the shop's SMTP server refused %s (%d)", stage, se.Code)}
		}
		return fmt.Errorf("smtp %s: the server answered %d", stage, se.Code)
	}
	return fmt.Errorf("smtp %s: %w", stage, err)
}
