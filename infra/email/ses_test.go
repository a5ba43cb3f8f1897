package email

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/ordercare/ordercare/infra/mototest"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/channelcfg"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/receipts"
)

// TestSESChannel sends through SES v2 as moto_server emulates it: from a
// verified identity it is accepted with a MessageId; from an unverified
// one SES's MessageRejected becomes a permanent refusal.
func TestSESChannel(t *testing.T) {
	url := mototest.Start(t)
	client := sesv2.NewFromConfig(mototest.Config(), func(o *sesv2.Options) { o.BaseEndpoint = aws.String(url) })
	ctx := context.Background()
	if _, err := client.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("care@tea.example")}); err != nil {
		t.Fatalf("create identity: %v", err)
	}
	verified := channelcfg.Email{Transport: channelcfg.TransportSES, From: "care@tea.example"}
	unverified := channelcfg.Email{Transport: channelcfg.TransportSES, From: "care@rival.example"}
	for _, tc := range []struct {
		name string
		s    channelcfg.Email
		want error
	}{
		{"verified sender", verified, nil},
		{"unverified sender", unverified, care.ErrRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := &Channel{Sources: sources{"tea/" + channelcfg.EmailSource: tc.s.Source("tea", t0)}, Clock: clock.NewVirtual(t0, nil), SES: &SES{Client: client}}
			rep, err := ch.SendReport(ctx, envelope("li@buyer.example", ""))
			if !errors.Is(err, tc.want) || (tc.want == nil) != (rep.ProviderID != "") {
				t.Fatalf("SendReport = %+v, %v; want %v", rep, err, tc.want)
			}
		})
	}
}

func TestLedgerOf(t *testing.T) {
	d := Delivery{Shop: "tea", OrderID: "TB 1001/α", LedgerID: "unpaid_chase-abc.remind1"}
	var in *sesv2.SendEmailInput
	tr := &SES{Client: sesFunc(func(_ context.Context, i *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
		in = i
		return &sesv2.SendEmailOutput{MessageId: aws.String("m-1")}, nil
	})}
	if _, err := tr.Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	tags := map[string][]string{}
	for _, tag := range in.EmailTags {
		tags[aws.ToString(tag.Name)] = []string{aws.ToString(tag.Value)}
	}
	if shop, order, id, ok := receipts.LedgerOf(tags); !ok || shop != "tea" || order != d.OrderID || id != d.LedgerID {
		t.Errorf("LedgerOf = %q %q %q %v", shop, order, id, ok)
	}
	for _, tag := range in.EmailTags {
		for _, r := range aws.ToString(tag.Value) {
			if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				t.Errorf("tag %s has %q, which SES refuses", aws.ToString(tag.Name), r)
			}
		}
	}
}

type sesFunc func(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)

func (f sesFunc) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, o ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	return f(ctx, in, o...)
}

func TestReceiptOf(t *testing.T) {
	tags := `"tags":{"oc_shop":["dGVh"],"oc_order":["by0x"],"oc_msg":["cnVuLnN0ZXA"],"ses:source-ip":["10.0.0.1"]}`
	mail := `"mail":{"timestamp":"2026-12-06T08:00:00Z","messageId":"0100-abc",` + tags + `}`
	at := time.Date(2026, 12, 6, 8, 5, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, body string
		want       string // outcome; "" = no receipt
	}{
		{"delivery", `{"eventType":"Delivery",` + mail + `,"delivery":{"timestamp":"2026-12-06T08:05:00Z"}}`, care.ReceiptDelivered},
		{"hard bounce", `{"eventType":"Bounce",` + mail + `,"bounce":{"bounceType":"Permanent","timestamp":"2026-12-06T08:05:00Z"}}`, care.ReceiptBounced},
		{"soft bounce", `{"eventType":"Bounce",` + mail + `,"bounce":{"bounceType":"Transient","timestamp":"2026-12-06T08:05:00Z"}}`, ""},
		{"complaint", `{"eventType":"Complaint",` + mail + `,"complaint":{"timestamp":"2026-12-06T08:05:00Z"}}`, care.ReceiptComplained},
		{"reject", `{"eventType":"Reject",` + mail + `}`, care.ReceiptFailed},
		{"open", `{"eventType":"Open",` + mail + `}`, ""},
		{"not ours", `{"eventType":"Delivery","mail":{"messageId":"x","tags":{}}}`, ""},
		{"eventbridge envelope", `{"version":"0","detail-type":"Email Bounced","source":"aws.ses","detail":{"eventType":"Bounce",` + mail + `,"bounce":{"bounceType":"Permanent","timestamp":"2026-12-06T08:05:00Z"}}}`, care.ReceiptBounced},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, ok, err := ReceiptOf([]byte(tc.body))
			if err != nil || ok != (tc.want != "") || r.Outcome != tc.want {
				t.Fatalf("ReceiptOf = %+v, %v, %v; want %q", r, ok, err, tc.want)
			}
			if ok && (r.ShopID != "tea" || r.OrderID != "o-1" || r.LedgerID != "run.step") {
				t.Errorf("receipt names %+v", r)
			}
			if ok && tc.want != care.ReceiptFailed && !r.At.Equal(at) {
				t.Errorf("at %v, want %v", r.At, at)
			}
		})
	}
	if _, _, err := ReceiptOf([]byte("{")); !errors.Is(err, care.ErrInvalid) {
		t.Errorf("malformed: %v", err)
	}
}

// TestSESConfigurationSet: a message goes with the shop's configuration
// set, else the transport's (the stack's, whose event destination brings
// the receipts back), else none.
func TestSESConfigurationSet(t *testing.T) {
	for _, tc := range []struct{ shop, stack, want string }{
		{"shop-set", "stack-set", "shop-set"},
		{"", "stack-set", "stack-set"},
		{"", "", ""},
	} {
		var got string
		tr := &SES{ConfigurationSet: tc.stack, Client: sesFunc(func(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
			got = aws.ToString(in.ConfigurationSetName)
			return &sesv2.SendEmailOutput{MessageId: aws.String("m-1")}, nil
		})}
		d := Delivery{Shop: "tea", OrderID: "o-1", LedgerID: "run.step", To: "li@example.com", Raw: []byte("Subject: x\r\n\r\nx")}
		d.Settings.From, d.Settings.ConfigurationSet = "care@tea.example", tc.shop
		if _, err := tr.Deliver(context.Background(), d); err != nil || got != tc.want {
			t.Errorf("shop %q, stack %q: configuration set %q (%v), want %q", tc.shop, tc.stack, got, err, tc.want)
		}
	}
}
