package email

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

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
// ConfigurationSet, when set, is the configuration set of every message
// whose shop names none (channelcfg.Email.ConfigurationSet): on AWS the
// stack's, whose event destination delivers the receipts.
type SES struct {
	Client           SESAPI
	ConfigurationSet string
}

var _ Transport = (*SES)(nil)

// Tags SES events carry back (mail.tags): receipts.TagShop, TagOrder and
// TagLedger, base64url (tag values allow only letters, digits, _ and -).
const (
	TagShop   = receipts.TagShop
	TagOrder  = receipts.TagOrder
	TagLedger = receipts.TagLedger
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
	cs := d.Settings.ConfigurationSet
	if cs == "" {
		cs = t.ConfigurationSet
	}
	if cs != "" {
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

// ReceiptOf reads an SES event as a receipt (receipts.FromSES).
func ReceiptOf(body []byte) (receipts.Receipt, bool, error) { return receipts.FromSES(body) }
