// Package awsreceipts is the receipts Lambda function's handler on AWS: it
// reads the notifications Amazon SNS delivers from the stack's topics and
// applies them to the send ledger.
//
//   - SES event publishing (the stack's configuration set, event
//     destination an SNS topic): Delivery, Bounce, Complaint, Reject and
//     Rendering Failure events become receipts on the ledger entry their
//     mail.tags name (receipts.FromSES, receipts.Apply); a hard bounce or a
//     complaint suppresses the address for the shop.
//
// A record that is not about an ordercare message, or names a ledger entry
// that no longer exists, is skipped and counted; a record that is not JSON
// is skipped and logged (retrying would not mend it). Any other error (the
// store) fails the invocation, and SNS's asynchronous invocation retries
// it: every step is idempotent (receipts.Apply keeps the strongest
// outcome).
package awsreceipts

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/receipts"
)

// Store is what the handler reads and writes.
type Store interface {
	receipts.Store
}

// Handler handles SNS notifications. Store is required; Logger defaults
// to slog.Default(). It is safe for concurrent use.
type Handler struct {
	Store  Store
	Logger *slog.Logger
}

// Result counts what one invocation did.
type Result struct {
	Applied int `json:"applied"` // receipts recorded on a ledger entry
	Ignored int `json:"ignored"` // records about nothing ordercare sent, or events that are no receipt
	Invalid int `json:"invalid"` // records that could not be read
}

// Handle applies every record of ev (see the package comment).
func (h *Handler) Handle(ctx context.Context, ev events.SNSEvent) (Result, error) {
	var res Result
	for _, rec := range ev.Records {
		outcome, err := h.record(ctx, []byte(rec.SNS.Message))
		switch {
		case errors.Is(err, care.ErrInvalid):
			res.Invalid++
			h.log().WarnContext(ctx, "unreadable notification", "topic", rec.SNS.TopicArn, "sns_message_id", rec.SNS.MessageID, "error", err.Error())
		case errors.Is(err, care.ErrNotFound):
			res.Ignored++
		case err != nil:
			return res, err
		case outcome == "":
			res.Ignored++
		default:
			res.Applied++
		}
	}
	return res, nil
}

// record applies one notification's message; it returns the outcome
// applied ("" when the message is no receipt).
func (h *Handler) record(ctx context.Context, msg []byte) (string, error) {
	r, ok, err := receipts.FromSES(msg)
	if err != nil || !ok {
		return "", err
	}
	if err := receipts.Apply(ctx, h.Store, r); err != nil {
		return "", err
	}
	return r.Outcome, nil
}

func (h *Handler) log() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}
