package steps

import (
	"context"
	"errors"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/consent"
)

// StepOptOutConfirm is the Step of an opt-out confirmation's ledger entry.
const StepOptOutConfirm = "optout_confirm"

// ConfirmOptOut sends the buyer of an order the one confirmation of their
// opt-out of scope, on channel (the one the reply came on; the outbox when
// that channel is not registered here or cannot reach them). At most one
// confirmation ever goes to a contact at a shop: the ledger id is derived
// from the shop and the contact, reserved before the channel is called, so
// a repeated opt-out or a retry finds it. The buyer's opt-out does not stop
// it (it is the answer to that opt-out). Errors are as a send's.
func (h *Handler) ConfirmOptOut(ctx context.Context, shopID, orderID string, wf care.Workflow, channel, scope string) error {
	shop, err := h.Store.GetShop(ctx, shopID)
	if err != nil {
		return err
	}
	o, err := h.Store.GetOrder(ctx, shopID, orderID)
	if err != nil {
		return err
	}
	b := o.Order.Buyer
	if b == nil {
		return nil
	}
	contact := b.Phone
	if channel == "email" || contact == "" {
		contact = b.Email
	}
	if contact == "" {
		return nil
	}
	c := h.Channels[channel]
	env := Envelope{Event: "message", Shop: shop, Order: o}
	if r, ok := c.(Reacher); c == nil || ok && r.Unreachable(ctx, env) != "" {
		channel, c = ChannelOutbox, nil
	}
	locale := b.Locale
	if locale == "" {
		locale = shop.Locale
	}
	now := h.Clock.Now().UTC()
	m := care.Message{ID: "optout." + care.ContactKey(contact)[:32], ShopID: shopID, OrderID: orderID, Workflow: wf,
		Step: StepOptOutConfirm, Channel: channel, Kind: care.KindConfirmation, Locale: locale,
		Text: consent.Confirmation(locale, shop.Name, scope), Status: care.MessagePending, At: now}
	if f, ok := c.(Finisher); ok {
		m.Text = f.Finish(Envelope{Event: env.Event, Shop: shop, Order: o, Message: m})
	}
	m, _, err = h.Store.ReserveMessage(ctx, m)
	if err != nil || m.Status != care.MessagePending {
		return err
	}
	m.Status = care.MessageSent
	if p, ok := c.(PaidMedia); ok && p.Paid() {
		if m.Attempts > 0 { // an earlier call's outcome is unknown: never again
			m.Status, m.Reason = care.MessageFailed, ReasonOutcomeUnknown
			return h.Store.UpdateMessage(ctx, m)
		}
		m.Attempts++
		if err := h.Store.UpdateMessage(ctx, withStatus(m, care.MessagePending)); err != nil {
			return err
		}
	}
	if c != nil {
		env.Message = m
		var err error
		if r, ok := c.(Reporter); ok {
			var rep Report
			rep, err = r.SendReport(ctx, env)
			m.ProviderID, m.Segments, m.Encoding = rep.ProviderID, rep.Segments, rep.Encoding
		} else {
			err = c.Send(ctx, env)
		}
		switch {
		case errors.Is(err, care.ErrRejected) || errors.Is(err, care.ErrNotFound):
			m.Status, m.Reason = care.MessageFailed, ReasonRejected
		case err != nil:
			return err // the entry stays pending; the next opt-out reply retries it
		}
	}
	if m.Status == care.MessageSent {
		m.SentAt = &now
	}
	return h.Store.UpdateMessage(ctx, m)
}

func withStatus(m care.Message, st care.MessageStatus) care.Message {
	m.Status = st
	return m
}
