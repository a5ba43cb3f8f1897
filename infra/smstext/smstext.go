// Package smstext is what every SMS channel does the same way before it
// calls its provider: who can get a text (the buyer's number, checked),
// the text as it goes out (the refusal instruction a market requires), its
// segments and its class. An SMS channel embeds Buyer and calls Prepare.
package smstext

import (
	"context"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/sms"
	"github.com/ordercare/ordercare/internal/steps"
)

// Buyer gives an SMS channel the steps.Reacher, steps.Finisher and
// steps.PaidMedia methods.
type Buyer struct{}

// Paid reports that every send costs money (steps.PaidMedia).
func (Buyer) Paid() bool { return true }

// Unreachable says why the order's buyer cannot get a text ("" when they
// can), as sms.Check says (national numbers read in the shop's locale's
// region). Notices to the shop never go by SMS.
func (Buyer) Unreachable(_ context.Context, d steps.Envelope) string {
	if d.Event == "notice" {
		return "notice_not_sms"
	}
	_, reason := Number(d)
	return reason
}

// Finish returns the text as it goes to the buyer's number (steps.Finisher):
// a marketing text to a Chinese number carries the refusal instruction
// (sms.WithRefusal), so the ledger entry holds it and its segments count it.
func (Buyer) Finish(d steps.Envelope) string {
	n, _ := Number(d)
	return sms.WithRefusal(d.Message.Text, n.Region, Marketing(d))
}

// Number is the buyer's number, checked (sms.Check), and why it cannot
// take a text ("" when it can).
func Number(d steps.Envelope) (sms.Number, string) {
	phone := ""
	if b := d.Order.Order.Buyer; b != nil {
		phone = b.Phone
	}
	return sms.Check(phone, sms.RegionOf(d.Shop.Locale))
}

// Marketing says whether d's message is of the marketing class.
func Marketing(d steps.Envelope) bool { return d.Message.Class == "marketing" }

// Prepare is what a channel's send starts with: the buyer's number and the
// finished text with its segments, or a *care.RejectError (field
// buyer.phone) when the buyer cannot get a text.
func (b Buyer) Prepare(ctx context.Context, d steps.Envelope) (sms.Number, string, sms.Count, error) {
	if r := b.Unreachable(ctx, d); r != "" {
		return sms.Number{}, "", sms.Count{}, &care.RejectError{Reason: "the buyer cannot get a text: " + r, Field: "buyer.phone"}
	}
	n, _ := Number(d)
	text := b.Finish(d) // the kernel already finished it; finishing again changes nothing
	return n, text, sms.Segments(text), nil
}
