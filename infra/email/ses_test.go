package email

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/ordercare/ordercare/infra/mototest"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/channelcfg"
	"github.com/ordercare/ordercare/internal/clock"
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
	d := Delivery{Shop: "tea", LedgerID: "unpaid_chase-abc.remind1"}
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
	if shop, id, ok := LedgerOf(tags); !ok || shop != "tea" || id != d.LedgerID {
		t.Errorf("LedgerOf = %q %q %v", shop, id, ok)
	}
}

type sesFunc func(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)

func (f sesFunc) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, o ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	return f(ctx, in, o...)
}
