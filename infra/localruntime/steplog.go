package localruntime

import (
	"context"
	"log/slog"

	"github.com/ordercare/ordercare/internal/care"
)

// loggedLedger is the store the step handler writes through: it logs each
// ledger entry once, when it reaches an end state, at the edge (the step
// handler, a domain package, does not log): "message sent", "message
// skipped" (with the reason) or "message failed", with ids only, never the
// text, a name or a phone number. An entry ends either when it is reserved
// as skipped (ReserveMessage creating it) or when a pending entry is
// updated; a retried step finds its entry and writes nothing, so nothing is
// logged twice. It costs no read.
type loggedLedger struct {
	care.CareStore
	log *slog.Logger
}

// ReserveMessage implements care.Messages and logs an entry created in an end state.
func (l loggedLedger) ReserveMessage(ctx context.Context, m care.Message) (care.Message, bool, error) {
	stored, created, err := l.CareStore.ReserveMessage(ctx, m)
	if err == nil && created {
		l.logEntry(ctx, stored)
	}
	return stored, created, err
}

// UpdateMessage implements care.Messages and logs an entry updated to an end state.
func (l loggedLedger) UpdateMessage(ctx context.Context, m care.Message) error {
	err := l.CareStore.UpdateMessage(ctx, m)
	if err == nil {
		l.logEntry(ctx, m)
	}
	return err
}

func (l loggedLedger) logEntry(ctx context.Context, m care.Message) {
	if m.Status != care.MessageSent && m.Status != care.MessageSkipped && m.Status != care.MessageFailed {
		return // a reservation: its outcome is logged when it is recorded
	}
	attrs := []any{"id", m.ID, "shop", m.ShopID, "order", m.OrderID, "workflow", string(m.Workflow),
		"step", m.Step, "channel", m.Channel, "template_version", m.TemplateVersion}
	switch m.Status {
	case care.MessageSent:
		l.log.InfoContext(ctx, "message sent", attrs...)
	case care.MessageSkipped:
		l.log.InfoContext(ctx, "message skipped", append(attrs, "reason", m.Reason)...)
	case care.MessageFailed:
		l.log.WarnContext(ctx, "message failed", append(attrs, "reason", m.Reason)...)
	}
}
