package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ordercare/ordercare/infra/caretest"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/consent"
)

// TestRunNeedsConfig: a missing variable stops the function at start,
// naming the variable, before any AWS client is built.
func TestRunNeedsConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"no table", map[string]string{"TABLE_NAME": "", "STATE_MACHINE_PREFIX": "arn:aws:states:us-east-1:1:stateMachine:oc-"}, "TABLE_NAME"},
		{"no state machine prefix", map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_PREFIX": ""}, "STATE_MACHINE_PREFIX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if err := run(context.Background()); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run = %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
}

// TestConfirmOptOut: the router function's router confirms an opt-out (the
// local runtime's does; on AWS it had no channels): a reply by SMS gets
// one confirmation through End User Messaging SMS, however often the
// opt-out comes, recorded on the ledger with the service's message id.
// moto_server has no pinpoint-sms-voice-v2: the service is a server
// answering its recorded JSON response.
func TestConfirmOptOut(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "PinpointSMSVoiceV2.SendTextMessage" {
			http.Error(w, "unexpected "+r.Header.Get("X-Amz-Target"), http.StatusBadRequest)
			return
		}
		var in map[string]any
		_ = json.NewDecoder(r.Body).Decode(&in)
		mu.Lock()
		got = append(got, in)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = io.WriteString(w, `{"MessageId":"0f1e2d3c-aaaa-4bbb-8ccc-123456789abc"}`)
	}))
	defer srv.Close()
	t.Setenv("SMS_CONFIGURATION_SET", "oc-sms")
	t.Setenv("SMS_ORIGINATION_IDENTITY", "pool-abc")
	ctx := context.Background()
	t0 := time.Now().UTC()
	db := caretest.Store(t, clock.NewVirtual(t0, nil))
	caretest.Shop(t, db, caretest.TeaShop("tea", t0))
	ord := care.Order{ID: "o-1", PlacedAt: &t0, Total: "10.00", Currency: "CNY", PaymentMethod: care.PayCOD,
		Buyer: &care.Buyer{Name: "Li", Phone: "+8613800138000", Locale: "zh-CN"}, Items: []care.Item{{SKU: "a", Title: "a", Quantity: 1, Price: "10.00"}}}
	if _, err := db.Ingest(ctx, care.Delivery{ShopID: "tea", Source: care.SourceStandard, DeliveryID: "e-1", ReceivedAt: t0},
		care.Event{ID: "e-1", Type: care.OrderCreated, OccurredAt: t0, Order: ord}, care.Apply); err != nil {
		t.Fatal(err)
	}
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: func() aws.Retryer { return aws.NopRetryer{} },
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")}
	r := newRouter(cfg, db, "arn:aws:states:us-east-1:111111111111:stateMachine:oc-")
	if r.ConfirmOptOut == nil {
		t.Fatal("the AWS router has no ConfirmOptOut: an opt-out would get no confirmation")
	}
	for range 2 {
		if err := r.ConfirmOptOut(ctx, "tea", "o-1", care.CODConfirm, "sms", consent.ScopeAll); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 || got[0]["DestinationPhoneNumber"] != "+8613800138000" || got[0]["ConfigurationSetName"] != "oc-sms" || got[0]["OriginationIdentity"] != "pool-abc" {
		t.Fatalf("requests %v, want one text to the buyer", got)
	}
	msgs, err := db.ListOrderMessages(ctx, "tea", "o-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Kind != care.KindConfirmation || msgs[0].Channel != "sms" || msgs[0].Status != care.MessageSent ||
		msgs[0].ProviderID != "0f1e2d3c-aaaa-4bbb-8ccc-123456789abc" || msgs[0].Text != got[0]["MessageBody"] {
		t.Errorf("ledger %+v", msgs)
	}
}
