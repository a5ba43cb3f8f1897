package snssms

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/ordercare/ordercare/infra/mototest"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/sms"
	"github.com/ordercare/ordercare/internal/steps"
)

func envelope(phone, text, class string) steps.Envelope {
	o := care.OrderState{}
	o.Order.ID = "o-1"
	o.Order.Buyer = &care.Buyer{Phone: phone}
	return steps.Envelope{Event: "message", Shop: care.Shop{ID: "tea", Name: "Tea", Locale: "zh-CN"}, Order: o,
		Message: care.Message{ID: "cod_confirm-abc.ask", Text: text, Class: class}}
}

// TestPublish sends through SNS as moto_server emulates it.
func TestPublish(t *testing.T) {
	url := mototest.Start(t)
	ch := &Channel{Client: sns.NewFromConfig(mototest.Config(), func(o *sns.Options) { o.BaseEndpoint = aws.String(url) })}
	ctx := context.Background()
	long := "【茶屋】您的货到付款订单 o-1 共 137.00 元，请回复 1 确认、2 取消。我们收到确认后立即发货，感谢您的支持！如有疑问请致电客服，拒收请回复R"
	for _, tc := range []struct {
		name, phone, text string
		want              error
		segments          int
	}{
		{"china mobile, national", "13800138000", "您好，请回复 1 确认订单。", nil, 1},
		{"china mobile, e164, two segments", "+8613800138000", long, nil, sms.Segments(long).Segments},
		{"us number", "+12015550123", "Reply 1 to confirm.", nil, 1},
		{"invalid", "+86138", "hi", care.ErrRejected, 0},
		{"landline", "+861088888888", "hi", care.ErrRejected, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := ch.SendReport(ctx, envelope(tc.phone, tc.text, ""))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				return
			}
			if rep.ProviderID == "" || rep.Segments != tc.segments {
				t.Errorf("report %+v, want %d segments and a message id", rep, tc.segments)
			}
		})
	}
	if sms.Segments(long).Segments < 2 {
		t.Fatalf("the long text is one segment; the test proves less than it says")
	}
}

func TestUnreachable(t *testing.T) {
	ch := &Channel{}
	for phone, want := range map[string]string{"": sms.ReasonNoPhone, "+86138": sms.ReasonInvalid, "+861088888888": sms.ReasonNotMobile, "+8613800138000": ""} {
		if got := ch.Unreachable(context.Background(), envelope(phone, "", "")); got != want {
			t.Errorf("Unreachable(%q) = %q, want %q", phone, got, want)
		}
	}
}
