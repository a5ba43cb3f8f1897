// Package snssms is the "sms" channel on Amazon SNS: Publish to the
// buyer's phone number. The number is checked with internal/sms before
// anything is reserved or sent (Unreachable), the segments are counted
// and reported on the ledger entry, and marketing texts go as Promotional,
// the rest as Transactional.
//
// SMS is paid per segment and SNS takes no idempotency key, so the channel
// is Paid: the kernel records an attempt before calling Publish and never
// calls it again for an entry whose attempt has an unknown outcome.
package snssms

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/ordercare/ordercare/infra/smstext"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
)

// API is the one SNS call the channel makes.
type API interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Channel sends text messages through SNS. Client is required. SenderID,
// when set, is the alphanumeric sender id where the destination allows it.
// It is safe for concurrent use.
type Channel struct {
	smstext.Buyer // who can get a text, the text as sent (Unreachable, Finish, Paid)
	Client        API
	SenderID      string
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

// SendReport publishes d's text to the buyer's number and reports SNS's
// MessageId and the segments. Errors: a *care.RejectError for a number
// that cannot take a text or a request SNS refuses for good (invalid
// parameter, opted out, not authorized); a *steps.NotSentError when SNS
// certainly did not send (throttled, or the connection never opened); any
// other error leaves the outcome unknown.
func (c *Channel) SendReport(ctx context.Context, d steps.Envelope) (steps.Report, error) {
	n, text, count, err := c.Prepare(ctx, d)
	if err != nil {
		return steps.Report{}, err
	}
	kind := "Transactional"
	if smstext.Marketing(d) {
		kind = "Promotional"
	}
	attrs := map[string]types.MessageAttributeValue{
		"AWS.SNS.SMS.SMSType": {DataType: aws.String("String"), StringValue: aws.String(kind)},
	}
	if c.SenderID != "" {
		attrs["AWS.SNS.SMS.SenderID"] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(c.SenderID)}
	}
	out, err := c.Client.Publish(ctx, &sns.PublishInput{PhoneNumber: aws.String(n.E164), Message: aws.String(text), MessageAttributes: attrs})
	if err != nil {
		return steps.Report{}, classify(err)
	}
	return steps.Report{ProviderID: aws.ToString(out.MessageId), Segments: count.Segments, Encoding: count.Encoding}, nil
}

// classify maps an SNS error: refused for good, certainly not sent, or
// unknown. The number never reaches the error.
func classify(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		switch {
		case strings.Contains(code, "Throttl"):
			return &steps.NotSentError{Err: fmt.Errorf("sns publish: %s", code)}
		case code == "InvalidParameter" || code == "InvalidParameterValue" || code == "AuthorizationError" ||
			code == "OptedOut" || code == "EndpointDisabled" || code == "InvalidSecurity":
			return &care.RejectError{Reason: "SNS refused the text: " + code}
		}
		return fmt.Errorf("sns publish: %s", code)
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return &steps.NotSentError{Err: errors.New("sns publish: could not connect")}
	}
	return fmt.Errorf("sns publish: %w", err)
}
