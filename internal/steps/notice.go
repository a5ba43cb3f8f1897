package steps

import (
	"context"
	"errors"
	"strings"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

// EndWithNotice tells the shop the run's outcome (NotifyShop), then ends
// the run with it (Done).
func (h *Handler) EndWithNotice(ctx context.Context, e *Env, notice, outcome string, builtin func(zh bool) string) (State, error) {
	if err := h.NotifyShop(ctx, e, notice, builtin); err != nil {
		return State{}, err
	}
	return h.Done(ctx, e, outcome)
}

// NotifyShop sends a notice to the shop: through its webhook channel when
// one is configured, else to the outbox. The text is the template's step of
// that id when it has one, else builtin's in the shop's language (zh: a
// Chinese shop); a nil builtin makes a missing step an *InputError.
func (h *Handler) NotifyShop(ctx context.Context, e *Env, stepID string, builtin func(zh bool) string) error {
	ch := ChannelOutbox
	if h.Channels[playbook.ChannelWebhook] != nil {
		if _, err := h.Store.GetSource(ctx, e.Ref.Shop, care.ChannelWebhook); err == nil {
			ch = playbook.ChannelWebhook
		} else if !errors.Is(err, care.ErrNotFound) {
			return err
		}
	}
	if step, _, ok := e.Tpl.Step(stepID); ok {
		_, err := h.deliver(ctx, e, step, ch, "notice")
		return err
	}
	if builtin == nil {
		return &InputError{"the pinned template has no " + stepID + " step"}
	}
	zh := strings.HasPrefix(e.Shop.Locale, "zh")
	locale := "en"
	if zh {
		locale = "zh-CN"
	}
	return h.sendNotice(ctx, e, stepID, ch, locale, builtin(zh))
}

// sendNotice delivers a notice whose text is already made, effectively once
// as deliver does: the ledger entry is reserved before the channel is
// called, and a retry finds it (ended: nothing to do; pending: sent again
// with the same id, which channels dedupe).
func (h *Handler) sendNotice(ctx context.Context, e *Env, stepID, channel, locale, text string) error {
	m := e.entry(stepID, channel)
	m.Locale, m.Text, m.Status, m.Kind = locale, text, care.MessagePending, care.KindNotice
	m, _, err := h.Store.ReserveMessage(ctx, m)
	if err != nil || m.Status != care.MessagePending {
		return err
	}
	status, reason := care.MessageSent, ""
	if channel != ChannelOutbox {
		err := h.Channels[channel].Send(ctx, Envelope{Event: "notice", Shop: e.Shop, Order: e.Order, Message: m})
		switch {
		case errors.Is(err, care.ErrNotFound):
			status, reason = care.MessageFailed, ReasonNoChannel
		case errors.Is(err, care.ErrRejected):
			status, reason = care.MessageFailed, ReasonRejected
		case err != nil:
			return err // transient: the state machine retries; the entry stays pending
		}
	}
	m.Status, m.Reason = status, reason
	if status == care.MessageSent {
		t := h.Clock.Now().UTC()
		m.SentAt = &t
	}
	e.noteMessage(m)
	return h.Store.UpdateMessage(ctx, m)
}
