// Package awschannels builds, for the AWS functions, the step handler and
// the buyer channels it sends through: the shop's webhook, email through
// Amazon SES v2, SMS through AWS End User Messaging SMS. The step function
// runs the handler; the router function uses its ConfirmOptOut, so an
// opt-out reply gets its one confirmation on AWS as on the local runtime.
// Configuration comes from main (Env), which reads the environment.
package awschannels

import (
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpointsmsvoicev2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/ordercare/ordercare/infra/email"
	"github.com/ordercare/ordercare/infra/eumsms"
	"github.com/ordercare/ordercare/infra/shopwebhook"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/consent"
	"github.com/ordercare/ordercare/internal/queue"
	"github.com/ordercare/ordercare/internal/receipts"
	"github.com/ordercare/ordercare/internal/steps"
	"github.com/ordercare/ordercare/workflows"
)

// Store is what the handler and its channels read and write: the
// DynamoDB store on AWS (any store in tests).
type Store interface {
	care.CareStore
	consent.Store
	receipts.Refs
}

// Env is the functions' channel configuration, from their environment.
type Env struct {
	PublicURL      string // the API's base URL (unsubscribe links); with UnsubscribeKey
	UnsubscribeKey string // at least 32 characters; else marketing email is refused
	// SESConfigurationSet is the stack's configuration set (its event
	// destination brings the email receipts back).
	SESConfigurationSet string
	// SMSOriginationIdentity and SMSConfigurationSet are End User
	// Messaging SMS's phone number, pool or sender id, and the stack's
	// configuration set (its event destination brings the SMS receipts).
	SMSOriginationIdentity string
	SMSConfigurationSet    string
}

// Channels returns the buyer channels by name (steps.Handler.Channels):
// webhook, email (SES v2) and sms (End User Messaging SMS), the AWS clients
// made from cfg.
func Channels(cfg aws.Config, store Store, env Env, clk clock.Clock) map[string]steps.Channel {
	mail := &email.Channel{Sources: store, Clock: clk, SES: &email.SES{Client: sesv2.NewFromConfig(cfg), ConfigurationSet: env.SESConfigurationSet}}
	if base := strings.TrimRight(env.PublicURL, "/"); base != "" && len(env.UnsubscribeKey) >= 32 {
		signer := consent.Signer{Key: []byte(env.UnsubscribeKey)}
		mail.Unsubscribe = func(u consent.Unsubscribe) string { return base + "/unsubscribe/" + url.PathEscape(signer.Token(u)) }
	}
	return map[string]steps.Channel{
		"webhook": &shopwebhook.Channel{Sources: store, Clock: clk},
		"email":   mail,
		"sms": &eumsms.Channel{Client: pinpointsmsvoicev2.NewFromConfig(cfg), OriginationIdentity: env.SMSOriginationIdentity,
			ConfigurationSet: env.SMSConfigurationSet, Refs: store, Clock: clk},
	}
}

// Handler is the step handler over store with Channels, resuming
// executions through resumer.
func Handler(cfg aws.Config, store Store, env Env, clk clock.Clock, resumer queue.Resumer) *steps.Handler {
	return &steps.Handler{Store: store, Clock: clk, Resumer: resumer, Channels: Channels(cfg, store, env, clk),
		Consents: store, Workflows: workflows.All()}
}
