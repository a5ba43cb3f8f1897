package awsreceipts_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/ordercare/ordercare/infra/awsreceipts"
	"github.com/ordercare/ordercare/infra/caretest"
	"github.com/ordercare/ordercare/infra/sqlitestore"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/consent"
	"github.com/ordercare/ordercare/internal/erasure"
	"github.com/ordercare/ordercare/internal/receipts"
)

var t0 = time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)

const (
	buyerEmail = "li@example.com"
	buyerPhone = "+8613800138000"
)

// fixture is the embedded store with shop tea, its order o-1 (a buyer
// with an address and a mobile number) and the sent ledger entry run.step
// on channel.
func fixture(t *testing.T, channel string) *sqlitestore.DB {
	t.Helper()
	ctx := context.Background()
	db := caretest.Store(t, clock.NewVirtual(t0, nil))
	caretest.Shop(t, db, caretest.TeaShop("tea", t0))
	ord := care.Order{ID: "o-1", PlacedAt: &t0, Total: "10.00", Currency: "CNY", PaymentMethod: care.PayOnline,
		Buyer: &care.Buyer{Name: "Li", Phone: buyerPhone, Email: buyerEmail, Locale: "zh-CN"}, Items: []care.Item{{SKU: "a", Title: "a", Quantity: 1, Price: "10.00"}}}
	ev := care.Event{ID: "e-1", Type: care.OrderCreated, OccurredAt: t0, Order: ord}
	if _, err := db.Ingest(ctx, care.Delivery{ShopID: "tea", Source: care.SourceStandard, DeliveryID: "e-1", ReceivedAt: t0}, ev, care.Apply); err != nil {
		t.Fatal(err)
	}
	sent := t0
	m := care.Message{ID: "run.step", ShopID: "tea", OrderID: "o-1", Step: "step", Channel: channel, Status: care.MessageSent,
		At: t0, SentAt: &sent, ProviderID: "862a8790-60c0-4430-9b2b-658bdexample"}
	if _, _, err := db.ReserveMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	return db
}

// invoke hands the handler a recorded notification file from testdata
// through lambda.NewHandler: the JSON path Lambda uses.
func invoke(t *testing.T, h *awsreceipts.Handler, file string) (awsreceipts.Result, error) {
	t.Helper()
	payload, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	out, err := lambda.NewHandler(h.Invoke).Invoke(context.Background(), payload)
	if err != nil {
		return awsreceipts.Result{}, err
	}
	var res awsreceipts.Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res, nil
}

func suppressed(t *testing.T, db *sqlitestore.DB, contact, channel string) bool {
	t.Helper()
	recs, err := db.ListConsents(context.Background(), "tea", care.ContactKey(contact))
	if err != nil {
		t.Fatal(err)
	}
	return consent.Decide(recs, channel, false, false) != ""
}

// TestSESEvents: SES events as SNS delivers them to Lambda (event
// publishing through the stack's configuration set) update the ledger
// entry their tags name; a permanent bounce and a complaint suppress the
// address; a transient bounce, an open and mail ordercare did not send
// change nothing; a body that is not JSON is counted, not retried.
func TestSESEvents(t *testing.T) {
	checkReceipts(t, "email", buyerEmail, []receiptCase{
		{"ses-delivery.sns.json", awsreceipts.Result{Applied: 1}, care.ReceiptDelivered, false},
		{"ses-bounce.sns.json", awsreceipts.Result{Applied: 1}, care.ReceiptBounced, true},
		{"ses-complaint.sns.json", awsreceipts.Result{Applied: 1}, care.ReceiptComplained, true},
		{"ses-reject.sns.json", awsreceipts.Result{Applied: 1}, care.ReceiptFailed, false},
		{"ses-transient-bounce.sns.json", awsreceipts.Result{Ignored: 1}, "", false},
		{"ses-open.sns.json", awsreceipts.Result{Ignored: 1}, "", false},
		{"ses-delivery-not-ours.sns.json", awsreceipts.Result{Ignored: 1}, "", false},
		{"not-json.sns.json", awsreceipts.Result{Invalid: 1}, "", false},
	})
}

// TestSMSEvents: End User Messaging SMS events as its SNS event
// destination delivers them: delivered (or accepted by the carrier) is
// delivered; a number that is invalid or blocks texts is bounced and
// suppressed; a carrier failure is failed once final; queued, a failure
// still retrying and a message ordercare did not send change nothing.
func TestSMSEvents(t *testing.T) {
	checkReceipts(t, "sms", buyerPhone, []receiptCase{
		{"sms-delivered.sns.json", awsreceipts.Result{Applied: 1}, care.ReceiptDelivered, false},
		{"sms-successful.sns.json", awsreceipts.Result{Applied: 1}, care.ReceiptDelivered, false},
		{"sms-blocked.sns.json", awsreceipts.Result{Applied: 1}, care.ReceiptBounced, true},
		{"sms-invalid.sns.json", awsreceipts.Result{Applied: 1}, care.ReceiptBounced, true},
		{"sms-carrier-unreachable-final.sns.json", awsreceipts.Result{Applied: 1}, care.ReceiptFailed, false},
		{"sms-carrier-unreachable-retrying.sns.json", awsreceipts.Result{Ignored: 1}, "", false},
		{"sms-queued.sns.json", awsreceipts.Result{Ignored: 1}, "", false},
		{"sms-delivered-not-ours.sns.json", awsreceipts.Result{Ignored: 1}, "", false},
	})
}

// receiptCase is one event file of a channel, what handling it returns,
// the receipt it leaves on the order's one ledger entry and whether it
// suppresses the buyer's address on the channel.
type receiptCase struct {
	file       string
	want       awsreceipts.Result
	receipt    string
	suppressed bool
}

// checkReceipts handles each case's file twice (SNS delivers at least once) on
// a fresh store whose ledger holds one entry on channel to address, and
// checks the result, the entry's receipt and the suppression; a receipt
// of another channel than email never suppresses the buyer's email.
func checkReceipts(t *testing.T, channel, address string, tests []receiptCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			db := fixture(t, channel)
			h := &awsreceipts.Handler{Store: db, Clock: clock.NewVirtual(t0, nil)}
			for range 2 { // SNS delivers at least once
				res, err := invoke(t, h, tc.file)
				if err != nil || res != tc.want {
					t.Fatalf("result %+v, %v; want %+v", res, err, tc.want)
				}
			}
			msgs, _ := db.ListOrderMessages(context.Background(), "tea", "o-1")
			if len(msgs) != 1 || msgs[0].Receipt != tc.receipt {
				t.Errorf("entry %+v, want receipt %q", msgs, tc.receipt)
			}
			if got := suppressed(t, db, address, channel); got != tc.suppressed {
				t.Errorf("%s suppressed %v, want %v", channel, got, tc.suppressed)
			}
			if channel != "email" && suppressed(t, db, buyerEmail, "email") {
				t.Errorf("an %s receipt suppressed the address", channel)
			}
		})
	}
}

// TestInboundSMS: a two-way reply, as End User Messaging SMS publishes it
// to the number's SNS topic, becomes one buyer.replied event (channel
// sms) of the order whose text it answers, however often SNS delivers it;
// a reply from another number, or to a message ordercare did not send,
// records nothing.
func TestInboundSMS(t *testing.T) {
	tests := []struct {
		file  string
		want  awsreceipts.Result
		reply string // the recorded reply's text; "" for none
	}{
		{"inbound-stop.sns.json", awsreceipts.Result{Applied: 1}, "STOP"},
		{"inbound-yes.sns.json", awsreceipts.Result{Applied: 1}, "确认"},
		{"inbound-other-number.sns.json", awsreceipts.Result{Ignored: 1}, ""},
		{"inbound-unknown-message.sns.json", awsreceipts.Result{Ignored: 1}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			ctx := context.Background()
			db := fixture(t, "sms")
			// What the sms channel recorded when it sent run.step.
			if err := db.PutRef(ctx, "862a8790-60c0-4430-9b2b-658bdexample", receipts.Ref{ShopID: "tea", OrderID: "o-1", LedgerID: "run.step"}, t0.Add(24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			h := &awsreceipts.Handler{Store: db, Clock: clock.NewVirtual(t0.Add(time.Hour), nil)}
			for range 2 {
				res, err := invoke(t, h, tc.file)
				if err != nil || res != tc.want {
					t.Fatalf("result %+v, %v; want %+v", res, err, tc.want)
				}
			}
			evs, _, err := db.ListEvents(ctx, "tea", "o-1", "", 100)
			if err != nil {
				t.Fatal(err)
			}
			var replies []care.RecordedEvent
			for _, e := range evs {
				if e.Event.Type == care.BuyerReplied {
					replies = append(replies, e)
				}
			}
			if tc.reply == "" {
				if len(replies) != 0 {
					t.Errorf("recorded %+v, want nothing", replies)
				}
				return
			}
			if len(replies) != 1 || replies[0].Event.Reply == nil || replies[0].Event.Reply.Text != tc.reply || replies[0].Event.Reply.Channel != "sms" ||
				replies[0].Delivery.Source != awsreceipts.SourceSMS {
				t.Fatalf("replies %+v, want one %q by sms", replies, tc.reply)
			}
		})
	}
}

// TestRetentionSweep: the daily Scheduled Event expires the texts of a
// shop's ledger entries older than its retention period; the entries stay.
func TestRetentionSweep(t *testing.T) {
	ctx := context.Background()
	db := fixture(t, "sms") // run.step was sent at t0
	if err := db.PutSource(ctx, erasure.Retention{MessageTextDays: 30}.Source("tea", t0)); err != nil {
		t.Fatal(err)
	}
	msgs, _ := db.ListOrderMessages(ctx, "tea", "o-1")
	m := msgs[0]
	m.Text = "亲，记得付款哦"
	if err := db.UpdateMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Time
		want awsreceipts.Result
		text string
	}{
		{t0.Add(29 * 24 * time.Hour), awsreceipts.Result{}, "亲，记得付款哦"},
		{t0.Add(31 * 24 * time.Hour), awsreceipts.Result{Expired: 1}, erasure.Erased},
		{t0.Add(32 * 24 * time.Hour), awsreceipts.Result{}, erasure.Erased},
	} {
		h := &awsreceipts.Handler{Store: db, Clock: clock.NewVirtual(tc.at, nil)}
		res, err := invoke(t, h, "scheduled-event.json")
		if err != nil || res != tc.want {
			t.Fatalf("at %v: %+v, %v; want %+v", tc.at, res, err, tc.want)
		}
		msgs, _ := db.ListOrderMessages(ctx, "tea", "o-1")
		if len(msgs) != 1 || msgs[0].Text != tc.text || msgs[0].Status != care.MessageSent {
			t.Errorf("at %v: %+v, want text %q", tc.at, msgs, tc.text)
		}
	}
}
