package receipts_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/receipts"
)

// TestFromSMS reads End User Messaging SMS events, bare (an SNS event
// destination's message) and as the detail of EventBridge's "Text
// Message Delivery Status Updated".
func TestFromSMS(t *testing.T) {
	ctx := `"context":{"oc_shop":"tea","oc_order":"o-1","oc_msg":"run.step"}`
	at := time.UnixMilli(1796544061000).UTC()
	for _, tc := range []struct {
		name, body, want string
	}{
		{"delivered", `{"eventType":"TEXT_DELIVERED","eventTimestamp":1796544061000,"isFinal":true,"messageId":"m",` + ctx + `}`, care.ReceiptDelivered},
		{"blocked", `{"eventType":"TEXT_BLOCKED","eventTimestamp":1796544061000,"isFinal":true,"messageId":"m",` + ctx + `}`, care.ReceiptBounced},
		{"spam, final", `{"eventType":"TEXT_SPAM","eventTimestamp":1796544061000,"isFinal":true,"messageId":"m",` + ctx + `}`, care.ReceiptFailed},
		{"unreachable, not final", `{"eventType":"TEXT_UNREACHABLE","eventTimestamp":1796544061000,"isFinal":false,"messageId":"m",` + ctx + `}`, ""},
		{"pending", `{"eventType":"TEXT_PENDING","eventTimestamp":1796544061000,"messageId":"m",` + ctx + `}`, ""},
		{"voice", `{"eventType":"VOICE_COMPLETED","eventTimestamp":1796544061000,"isFinal":true,"messageId":"m",` + ctx + `}`, ""},
		{"no context", `{"eventType":"TEXT_DELIVERED","eventTimestamp":1796544061000,"isFinal":true,"messageId":"m"}`, ""},
		{"eventbridge", `{"version":"0","detail-type":"Text Message Delivery Status Updated","source":"aws.sms-voice","detail":{"eventType":"TEXT_SUCCESSFUL","eventTimestamp":1796544061000,"isFinal":true,"messageId":"m",` + ctx + `}}`, care.ReceiptDelivered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, ok, err := receipts.FromSMS([]byte(tc.body))
			if err != nil || ok != (tc.want != "") || r.Outcome != tc.want {
				t.Fatalf("FromSMS = %+v, %v, %v; want %q", r, ok, err, tc.want)
			}
			if ok && (r.ShopID != "tea" || r.OrderID != "o-1" || r.LedgerID != "run.step" || !r.At.Equal(at)) {
				t.Errorf("receipt %+v", r)
			}
		})
	}
	if _, _, err := receipts.FromSMS([]byte("{")); !errors.Is(err, care.ErrInvalid) {
		t.Errorf("malformed: %v", err)
	}
}
