// Package eumsms is the "sms" channel on AWS End User Messaging SMS (the
// pinpoint-sms-voice-v2 API): SendTextMessage to the buyer's number, with
// the stack's configuration set (whose event destination brings delivery
// events back: internal/receipts.FromSMS) and the ledger entry named in
// the message's Context, so an event finds its entry without a lookup.
// After a send it records the provider's message id as a receipts.Ref, so
// a two-way reply (which names only the last message sent to the number)
// finds the shop and order it answers.
//
// The number is checked with internal/sms before anything is reserved or
// sent (Unreachable), the text is finished with China's refusal
// instruction for marketing (Finish), and the segments are counted.
// SendTextMessage takes no idempotency key, so the channel is Paid: the
// kernel records an attempt before calling it and never calls it again for
// an entry whose attempt has an unknown outcome.
package eumsms

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpointsmsvoicev2"
	"github.com/aws/aws-sdk-go-v2/service/pinpointsmsvoicev2/types"
	"github.com/aws/smithy-go"

	"github.com/ordercare/ordercare/infra/smstext"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/receipts"
	"github.com/ordercare/ordercare/internal/steps"
)

// API is the one End User Messaging SMS call the channel makes.
type API interface {
	SendTextMessage(ctx context.Context, in *pinpointsmsvoicev2.SendTextMessageInput, opts ...func(*pinpointsmsvoicev2.Options)) (*pinpointsmsvoicev2.SendTextMessageOutput, error)
}

// Context keys of each message (SendTextMessageInput.Context), which the
// service copies into every event about it: the ledger entry, ids only.
const (
	ContextShop   = receipts.TagShop
	ContextOrder  = receipts.TagOrder
	ContextLedger = receipts.TagLedger
)

// RefTTL is how long a sent message's id is kept for two-way replies.
const RefTTL = 30 * 24 * time.Hour

// Channel sends text messages through End User Messaging SMS. Client is
// required. OriginationIdentity (a phone number, pool, or sender id; its
// ARN or id) and ConfigurationSet are passed when set. Refs and Clock,
// when set, record each sent message's id for two-way replies. It is safe
// for concurrent use.
type Channel struct {
	smstext.Buyer       // who can get a text, the text as sent (Unreachable, Finish, Paid)
	Client              API
	OriginationIdentity string
	ConfigurationSet    string
	Refs                receipts.Refs
	Clock               interface{ Now() time.Time }
}

var (
	_ steps.Reporter  = (*Channel)(nil)
	_ steps.Reacher   = (*Channel)(nil)
	_ steps.PaidMedia = (*Channel)(nil)
	_ steps.Finisher  = (*Channel)(nil)
)

// Send sends d (see SendReport).
func (c *Channel) Send(ctx context.Context, d steps.Envelope) error {
	_, err := c.SendReport(ctx, d)
	return err
}

// SendReport sends d's text to the buyer's number and reports the
// service's MessageId and the segments. Errors: a *care.RejectError for a
// number that cannot take a text or a request the service refuses for good
// (validation, opted out, access denied, no such origination identity or
// configuration set); a *steps.NotSentError when it certainly did not send
// (throttled, quota, or the connection never opened); any other error
// leaves the outcome unknown. A failure to record the ref after a send
// does not fail the send (the text went out: a reply to it is then not
// matched to the order).
func (c *Channel) SendReport(ctx context.Context, d steps.Envelope) (steps.Report, error) {
	n, text, count, err := c.Prepare(ctx, d)
	if err != nil {
		return steps.Report{}, err
	}
	kind := types.MessageTypeTransactional
	if smstext.Marketing(d) {
		kind = types.MessageTypePromotional
	}
	in := &pinpointsmsvoicev2.SendTextMessageInput{
		DestinationPhoneNumber: aws.String(n.E164),
		MessageBody:            aws.String(text),
		MessageType:            kind,
		Context:                map[string]string{ContextShop: d.Shop.ID, ContextOrder: d.Order.Order.ID, ContextLedger: d.Message.ID},
	}
	if c.OriginationIdentity != "" {
		in.OriginationIdentity = aws.String(c.OriginationIdentity)
	}
	if c.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(c.ConfigurationSet)
	}
	out, err := c.Client.SendTextMessage(ctx, in)
	if err != nil {
		return steps.Report{}, classify(err)
	}
	id := aws.ToString(out.MessageId)
	if c.Refs != nil && c.Clock != nil && id != "" {
		ref := receipts.Ref{ShopID: d.Shop.ID, OrderID: d.Order.Order.ID, LedgerID: d.Message.ID}
		_ = c.Refs.PutRef(ctx, id, ref, c.Clock.Now().Add(RefTTL))
	}
	return steps.Report{ProviderID: id, Segments: count.Segments, Encoding: count.Encoding}, nil
}

// classify maps a service error: refused for good, certainly not sent, or
// unknown. The number never reaches the error.
func classify(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch code := ae.ErrorCode(); code {
		case "ThrottlingException", "ServiceQuotaExceededException":
			return &steps.NotSentError{Err: fmt.Errorf("sms send: %s", code)}
		case "ValidationException", "AccessDeniedException", "ConflictException", "ResourceNotFoundException":
			return &care.RejectError{Reason: "End User Messaging SMS refused the text: " + code}
		default:
			return fmt.Errorf("sms send: %s", code)
		}
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return &steps.NotSentError{Err: errors.New("sms send: could not connect")}
	}
	return fmt.Errorf("sms send: %w", err)
}
