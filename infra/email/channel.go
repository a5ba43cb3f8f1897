// Package email is the "email" channel: a message rendered as text and HTML
// parts from the template's script, sent through the SMTP server a shop
// configures (the local runtime) or Amazon SES v2 (AWS), with the shop's
// sender identity and, for marketing, RFC 8058 one-click unsubscribe.
package email

import (
	"context"
	"errors"
	"net/mail"
	"strings"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/channelcfg"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/consent"
	"github.com/ordercare/ordercare/internal/steps"
)

// Sources reads the shop's channel settings (channelcfg.EmailSource).
type Sources interface {
	GetSource(ctx context.Context, shopID, name string) (care.Source, error)
}

// Delivery is one composed message for a Transport.
type Delivery struct {
	Shop     string
	OrderID  string
	LedgerID string
	Settings channelcfg.Email
	To       string
	Raw      []byte // RFC 5322, CRLF
}

// Transport hands a composed message to a provider and returns the
// provider's id of it. Errors: a *care.RejectError when the provider
// refused for good (the message is marked failed; Bounce says whether the
// address itself was refused); any other error may pass on retry.
type Transport interface {
	Deliver(ctx context.Context, d Delivery) (providerID string, err error)
}

// Channel is the email channel. Sources and Clock are required; SMTP and
// SES serve shops whose settings name them (a shop whose transport is nil
// here is refused: care.ErrNotFound). Unsubscribe, when set, is how a
// marketing message's one-click URL is made; without it marketing email is
// refused. It is safe for concurrent use.
type Channel struct {
	Sources     Sources
	Clock       clock.Clock
	SMTP        Transport
	SES         Transport
	Unsubscribe func(u consent.Unsubscribe) string
}

var (
	_ steps.Reporter = (*Channel)(nil)
	_ steps.Reacher  = (*Channel)(nil)
)

// ReasonNoEmail is Unreachable's reason for a buyer without an address.
const ReasonNoEmail = "no_email"

// Unreachable says why the order's buyer cannot get an email ("" when they
// can): no address, or the address does not parse.
func (c *Channel) Unreachable(_ context.Context, d steps.Envelope) string {
	a := Address(d.Order)
	if a == "" {
		return ReasonNoEmail
	}
	if p, err := mail.ParseAddress(a); err != nil || p.Address != a {
		return "invalid_email"
	}
	return ""
}

// Reasons a message is refused before any provider is called.
var (
	ErrNoAddress = &care.RejectError{Reason: "the buyer has no email address", Field: "buyer.email"}
	ErrNotice    = &care.RejectError{Reason: "notices to the shop go through the webhook channel"}
)

// Send sends d (see SendReport).
func (c *Channel) Send(ctx context.Context, d steps.Envelope) error {
	_, err := c.SendReport(ctx, d)
	return err
}

// SendReport composes d.Message for the buyer's address and hands it to the
// shop's transport. Errors: care.ErrNotFound when the shop has no email
// settings or its transport is not available here; care.ErrRejected when
// the buyer has no address, d is a notice, a marketing message cannot carry
// its unsubscribe link, or the provider refused; anything else is
// transient and the caller retries with the same message id.
func (c *Channel) SendReport(ctx context.Context, d steps.Envelope) (steps.Report, error) {
	if d.Event == "notice" {
		return steps.Report{}, ErrNotice
	}
	to := Address(d.Order)
	if to == "" {
		return steps.Report{}, ErrNoAddress
	}
	src, err := c.Sources.GetSource(ctx, d.Shop.ID, channelcfg.EmailSource)
	if err != nil {
		return steps.Report{}, err
	}
	s, err := channelcfg.EmailOf(src)
	if err != nil {
		return steps.Report{}, &care.RejectError{Reason: "the shop's email settings are unusable"}
	}
	tr := c.SMTP
	if s.Transport == channelcfg.TransportSES {
		tr = c.SES
	}
	if tr == nil {
		return steps.Report{}, errors.Join(care.ErrNotFound, errors.New("email transport "+s.Transport+" is not available on this runtime"))
	}
	m := d.Message
	name := s.FromName
	if name == "" {
		name = d.Shop.Name
	}
	mail := Mail{From: s.From, FromName: name, To: to, Subject: Subject(d.Shop.Name, m.Text), Text: m.Text, ID: m.ID,
		Date: c.Clock.Now(), Lang: m.Locale}
	if m.Class == "marketing" {
		if c.Unsubscribe == nil {
			return steps.Report{}, &care.RejectError{Reason: "marketing email needs the unsubscribe endpoint, which this runtime does not serve"}
		}
		mail.Unsubscribe = c.Unsubscribe(consent.Unsubscribe{Shop: d.Shop.ID, Contact: care.ContactKey(to), Scope: consent.ScopeMarketing})
	}
	id, err := tr.Deliver(ctx, Delivery{Shop: d.Shop.ID, OrderID: m.OrderID, LedgerID: m.ID, Settings: s, To: to, Raw: mail.Bytes()})
	if err != nil {
		return steps.Report{}, err
	}
	return steps.Report{ProviderID: id}, nil
}

// Address is the order's buyer's email address ("" when none).
func Address(o care.OrderState) string {
	if b := o.Order.Buyer; b != nil {
		return strings.TrimSpace(b.Email)
	}
	return ""
}
