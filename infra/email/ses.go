package email

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/receipts"
)

// SESAPI is the one SES v2 call the channel makes.
type SESAPI interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// SES delivers through Amazon SES API v2 (SendEmail with raw content, so
// the List-Unsubscribe headers and both parts go as composed).
type SES struct{ Client SESAPI }

var _ Transport = (*SES)(nil)

// Tags SES events carry back (mail.tags): the shop and the ledger entry id
// (base64url, as tag values allow only letters, digits, _ and -).
const (
	TagShop   = "oc_shop"
	TagOrder  = "oc_order"
	TagLedger = "oc_msg"
)

// Deliver sends d and returns SES's MessageId. Errors: a request SES
// refuses for good (MessageRejected, an unverified sender, a paused or
// suspended account, a bad request) is a *care.RejectError; anything else
// (throttling, network, 5xx) is returned as it is (transient).
func (t *SES) Deliver(ctx context.Context, d Delivery) (string, error) {
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(d.Settings.From),
		Destination:      &types.Destination{ToAddresses: []string{d.To}},
		Content:          &types.EmailContent{Raw: &types.RawMessage{Data: d.Raw}},
		EmailTags: []types.MessageTag{
			{Name: aws.String(TagShop), Value: aws.String(base64.RawURLEncoding.EncodeToString([]byte(d.Shop)))},
			{Name: aws.String(TagOrder), Value: aws.String(base64.RawURLEncoding.EncodeToString([]byte(d.OrderID)))},
			{Name: aws.String(TagLedger), Value: aws.String(base64.RawURLEncoding.EncodeToString([]byte(d.LedgerID)))},
		},
	}
	if cs := d.Settings.ConfigurationSet; cs != "" {
		in.ConfigurationSetName = aws.String(cs)
	}
	out, err := t.Client.SendEmail(ctx, in)
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			switch ae.ErrorCode() {
			case "MessageRejected", "MailFromDomainNotVerifiedException", "AccountSuspendedException",
				"SendingPausedException", "BadRequestException", "NotFoundException":
				return "", &care.RejectError{Reason: "SES refused the message: " + ae.ErrorCode()}
			}
		}
		return "", fmt.Errorf("ses send: %w", err)
	}
	return aws.ToString(out.MessageId), nil
}

// LedgerOf reads the shop, order and ledger entry id back from an SES
// event's mail.tags (each tag a list of values); ok false when absent.
func LedgerOf(tags map[string][]string) (shop, order, ledgerID string, ok bool) {
	dec := func(k string) string {
		if v := tags[k]; len(v) == 1 {
			if b, err := base64.RawURLEncoding.DecodeString(v[0]); err == nil {
				return string(b)
			}
		}
		return ""
	}
	shop, order, ledgerID = dec(TagShop), dec(TagOrder), dec(TagLedger)
	return shop, order, ledgerID, shop != "" && order != "" && ledgerID != ""
}

// SESEvent is the part of an SES event (event publishing through SNS or
// EventBridge: eventType, mail, bounce, complaint) a receipt needs.
type SESEvent struct {
	EventType string `json:"eventType"`
	Mail      struct {
		MessageID string              `json:"messageId"`
		Timestamp time.Time           `json:"timestamp"`
		Tags      map[string][]string `json:"tags"`
	} `json:"mail"`
	Bounce *struct {
		BounceType string    `json:"bounceType"` // Permanent, Transient, Undetermined
		Timestamp  time.Time `json:"timestamp"`
	} `json:"bounce,omitempty"`
	Complaint *struct {
		Timestamp time.Time `json:"timestamp"`
	} `json:"complaint,omitempty"`
	Delivery *struct {
		Timestamp time.Time `json:"timestamp"`
	} `json:"delivery,omitempty"`
}

// ReceiptOf reads an SES event as a receipt. ok is false for an event
// that is no receipt (Send, Open, Click, a transient bounce: SES retries
// those itself) or that names no ordercare ledger entry. A Reject or a
// Rendering Failure is failed; only a Permanent bounce is bounced.
func ReceiptOf(body []byte) (r receipts.Receipt, ok bool, err error) {
	var ev SESEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return receipts.Receipt{}, false, care.Invalid("", "not an SES event: %v", err)
	}
	shop, order, id, tagged := LedgerOf(ev.Mail.Tags)
	if !tagged {
		return receipts.Receipt{}, false, nil
	}
	r = receipts.Receipt{ShopID: shop, OrderID: order, LedgerID: id, At: ev.Mail.Timestamp}
	switch ev.EventType {
	case "Delivery":
		r.Outcome = care.ReceiptDelivered
		if ev.Delivery != nil {
			r.At = ev.Delivery.Timestamp
		}
	case "Bounce":
		if ev.Bounce == nil || ev.Bounce.BounceType != "Permanent" {
			return receipts.Receipt{}, false, nil
		}
		r.Outcome, r.At = care.ReceiptBounced, ev.Bounce.Timestamp
	case "Complaint":
		r.Outcome = care.ReceiptComplained
		if ev.Complaint != nil {
			r.At = ev.Complaint.Timestamp
		}
	case "Reject", "Rendering Failure":
		r.Outcome = care.ReceiptFailed
	default:
		return receipts.Receipt{}, false, nil
	}
	return r, true, nil
}
