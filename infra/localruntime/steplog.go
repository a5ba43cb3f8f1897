package localruntime

import (
	"context"
	"log/slog"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
)

// logSends wraps the step handler the engine invokes so that every ledger
// entry a step writes is logged once, at the edge (the handler, a domain
// package, does not log): "message sent", "message skipped" (with the
// reason) or "message failed", with ids only, never the text, a name or a
// phone number. It compares the order's ledger before and after the
// invocation; a ledger it cannot read is not logged (the step's own result
// stands).
func logSends(h func(context.Context, steps.Input) (steps.State, error), msgs care.Messages, log *slog.Logger) func(context.Context, steps.Input) (steps.State, error) {
	return func(ctx context.Context, in steps.Input) (steps.State, error) {
		ref := in.State.Run
		before, berr := msgs.ListOrderMessages(ctx, ref.Shop, ref.Order)
		out, err := h(ctx, in)
		if berr != nil {
			return out, err
		}
		after, aerr := msgs.ListOrderMessages(ctx, ref.Shop, ref.Order)
		if aerr != nil {
			return out, err
		}
		seen := make(map[string]care.MessageStatus, len(before))
		for _, m := range before {
			seen[m.ID] = m.Status
		}
		for _, m := range after {
			if old, ok := seen[m.ID]; (ok && old == m.Status) || m.Status == care.MessagePending {
				continue
			}
			attrs := []any{"id", m.ID, "shop", m.ShopID, "order", m.OrderID, "workflow", string(m.Workflow),
				"step", m.Step, "channel", m.Channel, "template_version", m.TemplateVersion}
			switch m.Status {
			case care.MessageSent:
				log.InfoContext(ctx, "message sent", attrs...)
			case care.MessageSkipped:
				log.InfoContext(ctx, "message skipped", append(attrs, "reason", m.Reason)...)
			case care.MessageFailed:
				log.WarnContext(ctx, "message failed", append(attrs, "reason", m.Reason)...)
			}
		}
		return out, err
	}
}
