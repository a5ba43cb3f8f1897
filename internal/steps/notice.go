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
	_, err := h.send(ctx, e, stepID, ch, "notice", locale, builtin(zh))
	return err
}
