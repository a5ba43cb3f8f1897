package localruntime_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/ordercare/ordercare/infra/awsreceipts"
	"github.com/ordercare/ordercare/infra/eumsms"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/receipts"
	"github.com/ordercare/ordercare/internal/sms"
)

// TestRefusalKeptInLedger: a marketing text to a Chinese mobile carries
// the refusal instruction (回T退订), and the ledger entry holds exactly the
// text that went out, suffix included, with the segments of that text; a
// transactional text to the same buyer gets no suffix.
func TestRefusalKeptInLedger(t *testing.T) {
	h, _ := channelHarness(t)
	h.editSteps(care.UnpaidChase, func(st map[string]any) {
		st["channels"] = []any{"sms"}
		if st["id"] == "coupon" {
			st["class"] = "marketing"
		}
	})
	h.must("POST", "/v1/shops/tea/consents", h.agent(), map[string]any{"contact": "+8613912345678", "channel": "sms", "state": "granted", "source": "checkout"}, 200, nil)
	// Placed at 09:00 Shanghai: the 6 h coupon falls inside China's marketing hours.
	h.webhook(h.shop, "", order("R1", "129.90", false, 72*time.Hour, start))
	h.advance("7h")
	seen := map[string]bool{}
	for _, m := range h.messages("R1") {
		if m.Status != care.MessageSent || m.Channel != "sms" {
			continue
		}
		seen[m.Step] = true
		c := sms.Segments(m.Text)
		if m.Segments != c.Segments || m.Encoding != c.Encoding {
			t.Errorf("%s: ledger says %d %s segments, its text is %d %s", m.Step, m.Segments, m.Encoding, c.Segments, c.Encoding)
		}
		hasRefusal := strings.HasSuffix(m.Text, sms.RefusalCN)
		if m.Class == "marketing" && !hasRefusal {
			t.Errorf("%s (marketing): ledger text %q lacks %s", m.Step, m.Text, sms.RefusalCN)
		}
		if m.Class != "marketing" && hasRefusal {
			t.Errorf("%s (transactional): ledger text %q carries %s", m.Step, m.Text, sms.RefusalCN)
		}
	}
	if !seen["coupon"] || !seen["nudge"] {
		t.Fatalf("sent by sms: %v, want the nudge and the coupon", seen)
	}
}

// TestTwoWaySMSOptOut: the AWS path of a buyer's SMS reply, end to end on
// the local runtime's store and router: a "STOP" published by End User
// Messaging SMS to the two-way topic reaches the receipts function's
// handler, which records it as the order's buyer.replied (channel sms);
// the router then records the opt-out and sends the one confirmation by
// SMS, and the later reminders are skipped. The same notification
// delivered again changes nothing. (The ref is what infra/eumsms records
// when it sends; the local runtime's sms channel is SNS on moto.)
func TestTwoWaySMSOptOut(t *testing.T) {
	h, _ := channelHarness(t)
	h.editSteps(care.UnpaidChase, func(st map[string]any) { st["channels"] = []any{"sms"} })
	h.webhook(h.shop, "", order("W1", "129.90", false, 72*time.Hour, start))
	h.advance("10m")
	nudge := h.wantLedger("W1", "nudge:sent")[0]
	ctx := context.Background()
	if err := h.rt.Store.(receipts.Refs).PutRef(ctx, nudge.ProviderID, receipts.Ref{ShopID: "tea", OrderID: "W1", LedgerID: nudge.ID}, h.now().Add(eumsms.RefTTL)); err != nil {
		t.Fatal(err)
	}
	inbound, _ := json.Marshal(map[string]string{"originationNumber": "+8613912345678", "destinationNumber": "+12065550152",
		"messageKeyword": "KEYWORD_123456789012", "messageBody": "STOP", "inboundMessageId": "cae173d2-66b9-564c-8309-21f858e9fb84",
		"previousPublishedMessageId": nudge.ProviderID})
	notification, _ := json.Marshal(events.SNSEvent{Records: []events.SNSEventRecord{{EventSource: "aws:sns", EventVersion: "1.0",
		SNS: events.SNSEntity{Type: "Notification", MessageID: "b3c1d7f2", TopicArn: "arn:aws:sns:us-east-1:123456789012:ordercare-sms-inbound", Message: string(inbound)}}}})
	handler := lambda.NewHandler((&awsreceipts.Handler{Store: h.rt.Store.(awsreceipts.Store), Clock: h.rt.Clock}).Invoke)
	for range 2 {
		res, err := handler.Invoke(ctx, notification)
		if err != nil || !strings.Contains(string(res), `"applied":1`) {
			t.Fatalf("receipts handler: %s, %v", res, err)
		}
		h.advance("1m")
	}
	h.advance("24h")
	var got []string
	confirmations := 0
	for _, m := range h.messages("W1") {
		if m.Kind == care.KindConfirmation {
			confirmations++
			if m.Channel != "sms" || m.Status != care.MessageSent {
				t.Errorf("confirmation %+v, want sent by sms", m)
			}
			continue
		}
		if m.Step != "call" {
			got = append(got, m.Step+":"+string(m.Status)+":"+m.Reason)
		}
	}
	if confirmations != 1 {
		t.Errorf("%d confirmations, want 1", confirmations)
	}
	sort.Strings(got)
	want := "coupon:skipped:opted_out nudge:sent: ships_today:skipped:opted_out"
	if strings.Join(got, " ") != want {
		t.Errorf("ledger %v, want %s", got, want)
	}
}
