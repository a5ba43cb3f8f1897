// Package awsreceipts is the receipts Lambda function's handler on AWS: it
// reads the notifications Amazon SNS delivers from the stack's topics and
// applies them to the send ledger.
//
//   - SES event publishing (the stack's configuration set, event
//     destination an SNS topic): Delivery, Bounce, Complaint, Reject and
//     Rendering Failure events become receipts on the ledger entry their
//     mail.tags name (receipts.FromSES, receipts.Apply); a hard bounce or a
//     complaint suppresses the address for the shop.
//   - End User Messaging SMS event destinations (an SNS topic): TEXT_*
//     events become receipts on the ledger entry their context names
//     (receipts.FromSMS); a permanent failure of the number (TEXT_INVALID,
//     TEXT_BLOCKED) suppresses it for the shop.
//   - Two-way SMS (the number's two-way channel, an SNS topic): a reply
//     becomes a buyer.replied event (reply channel sms) of the order whose
//     message it answers (previousPublishedMessageId, through
//     receipts.Refs), recorded like any event, so the router reads it as it
//     reads a reply from a webhook: an opt-out word records the opt-out and
//     sends the one confirmation, a COD answer resumes the run. A reply
//     from another number than the order's buyer's, or to a message
//     ordercare did not send, is ignored.
//
// On its daily schedule (an EventBridge Scheduled Event) it runs the
// retention sweep instead (erasure.Expirer.Sweep): every shop's message
// texts past its retention period are rewritten away (reads already hide
// them: see infra/dynamostore's text expiry).
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
	"encoding/json"
	"errors"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/erasure"
	"github.com/ordercare/ordercare/internal/receipts"
	"github.com/ordercare/ordercare/internal/sms"
)

// Store is what the handler reads and writes.
type Store interface {
	receipts.Store
	receipts.Refs
	care.Messages
	GetShop(ctx context.Context, id string) (care.Shop, error)
	ListShops(ctx context.Context, cursor string, limit int) ([]care.Shop, string, error)
	GetSource(ctx context.Context, shopID, name string) (care.Source, error)
	PutSource(ctx context.Context, src care.Source) error // where the retention sweep got to
	Ingest(ctx context.Context, d care.Delivery, ev care.Event, apply care.ApplyFunc) (care.IngestResult, error)
}

// SourceSMS is the Delivery.Source of the buyer.replied events two-way SMS
// records; the DeliveryID is the service's inboundMessageId, so a
// redelivered notification records the reply once.
const SourceSMS = "sms"

// Handler handles SNS notifications. Store and Clock are required; Logger
// defaults to slog.Default(). It is safe for concurrent use.
type Handler struct {
	Store  Store
	Clock  clock.Clock
	Logger *slog.Logger
}

// Result counts what one invocation did.
type Result struct {
	Applied int `json:"applied"` // receipts recorded on a ledger entry, and SMS replies recorded as buyer.replied
	Ignored int `json:"ignored"` // records about nothing ordercare sent, or events that are no receipt
	Invalid int `json:"invalid"` // records that could not be read
	Expired int `json:"expired"` // message texts the retention sweep removed
}

// Invoke is the function's entry point: the daily Scheduled Event runs the
// retention sweep; anything else is read as SNS notifications (Handle).
func (h *Handler) Invoke(ctx context.Context, raw json.RawMessage) (Result, error) {
	var probe struct {
		Source     string `json:"source"`
		DetailType string `json:"detail-type"`
	}
	if err := json.Unmarshal(raw, &probe); err == nil && probe.Source == "aws.events" && probe.DetailType == "Scheduled Event" {
		n, err := erasure.Expirer{Store: h.Store}.Sweep(ctx, h.Clock.Now())
		if n > 0 {
			h.log().InfoContext(ctx, "retention sweep", "expired_texts", n)
		}
		return Result{Expired: n}, err
	}
	var ev events.SNSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return Result{}, care.Invalid("", "not an SNS event: %v", err)
	}
	return h.Handle(ctx, ev)
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
	if in, ok := receipts.IsInbound(msg); ok {
		return h.reply(ctx, in)
	}
	var probe struct {
		EventType string `json:"eventType"`
		Detail    struct {
			EventType string `json:"eventType"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(msg, &probe); err != nil {
		return "", care.Invalid("", "not JSON: %v", err)
	}
	from := receipts.FromSES
	if strings.HasPrefix(probe.EventType, "TEXT_") || strings.HasPrefix(probe.Detail.EventType, "TEXT_") {
		from = receipts.FromSMS
	}
	r, ok, err := from(msg)
	if err != nil || !ok {
		return "", err
	}
	if err := receipts.Apply(ctx, h.Store, r); err != nil {
		return "", err
	}
	return r.Outcome, nil
}

// reply records a two-way SMS reply as the buyer.replied event of the
// order it answers; "replied" when recorded (or already), "" when it
// answers nothing ordercare sent to that number.
func (h *Handler) reply(ctx context.Context, in receipts.InboundSMS) (string, error) {
	now := h.Clock.Now()
	ref, err := h.Store.GetRef(ctx, in.PreviousPublishedMessageID, now)
	if errors.Is(err, care.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	shop, err := h.Store.GetShop(ctx, ref.ShopID)
	if err != nil {
		return "", err
	}
	o, err := h.Store.GetOrder(ctx, ref.ShopID, ref.OrderID)
	if err != nil {
		return "", err
	}
	phone := ""
	if b := o.Order.Buyer; b != nil {
		phone = b.Phone
	}
	if n, why := sms.Check(phone, sms.RegionOf(shop.Locale)); why != "" || n.E164 != in.OriginationNumber {
		return "", nil // the order's buyer has another number now, or none (erased)
	}
	if strings.TrimSpace(in.MessageBody) == "" {
		return "", nil
	}
	ev := care.Event{ID: SourceSMS + ":" + in.InboundMessageID, Type: care.BuyerReplied, OccurredAt: now.UTC(),
		Order: care.Order{ID: ref.OrderID}, Reply: &care.Reply{Text: in.MessageBody, Channel: "sms"}}
	d := care.Delivery{ShopID: ref.ShopID, Source: SourceSMS, DeliveryID: in.InboundMessageID, ReceivedAt: now.UTC()}
	if _, err := h.Store.Ingest(ctx, d, ev, care.Apply); err != nil && !errors.Is(err, care.ErrRejected) {
		return "", err
	}
	return "replied", nil
}

func (h *Handler) log() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}
