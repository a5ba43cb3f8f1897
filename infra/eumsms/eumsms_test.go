package eumsms_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/pinpointsmsvoicev2"

	"github.com/ordercare/ordercare/infra/caretest"
	"github.com/ordercare/ordercare/infra/eumsms"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/receipts"
	"github.com/ordercare/ordercare/internal/sms"
	"github.com/ordercare/ordercare/internal/steps"
)

// moto_server (5.2.1) has no pinpoint-sms-voice-v2, so the channel's
// requests go to this server, which answers with responses recorded from
// the service's documented JSON 1.0 protocol (X-Amz-Target
// PinpointSMSVoiceV2.SendTextMessage; errors as {"__type", "message"})
// and keeps what it was sent.
type service struct {
	mu     sync.Mutex
	got    []map[string]any
	status int    // answer with this status and error type; 0: success
	errTyp string // e.g. ValidationException
}

func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "PinpointSMSVoiceV2.SendTextMessage" ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.0") || !strings.Contains(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
		http.Error(w, "unexpected request "+r.Header.Get("X-Amz-Target"), http.StatusBadRequest)
		return
	}
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.got = append(s.got, in)
	status, typ := s.status, s.errTyp
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Requestid", "5b8b8d72-0000-4000-8000-000000000001")
	if status != 0 {
		w.Header().Set("X-Amzn-Errortype", typ)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"__type":"`+typ+`","message":"recorded `+typ+`"}`)
		return
	}
	_, _ = io.WriteString(w, `{"MessageId":"862a8790-60c0-4430-9b2b-658bdexample"}`)
}

func (s *service) requests() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.got...)
}

func client(t *testing.T, h http.Handler) *pinpointsmsvoicev2.Client {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return pinpointsmsvoicev2.New(pinpointsmsvoicev2.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""), Retryer: aws.NopRetryer{}})
}

func envelope(phone, text, class string) steps.Envelope {
	o := care.OrderState{}
	o.Order.ID = "o-1"
	o.Order.Buyer = &care.Buyer{Phone: phone}
	return steps.Envelope{Event: "message", Shop: care.Shop{ID: "tea", Name: "Tea", Locale: "zh-CN"}, Order: o,
		Message: care.Message{ID: "cod_confirm-abc.ask", Text: text, Class: class}}
}

var t0 = time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)

// TestSendTextMessage: the request the channel makes (number in E.164,
// the finished text, the message type by class, the ledger entry in the
// Context, the origination identity and configuration set), the report
// (the service's id, the segments of the text sent) and the ref recorded
// for two-way replies, in the embedded store.
func TestSendTextMessage(t *testing.T) {
	svc := &service{}
	db := caretest.Store(t, clock.NewVirtual(t0, nil))
	ch := &eumsms.Channel{Client: client(t, svc), OriginationIdentity: "pool-abc", ConfigurationSet: "oc-sms", Refs: db, Clock: clock.NewVirtual(t0, nil)}
	for _, tc := range []struct {
		name, phone, text, class, kind, want string
	}{
		{"china marketing", "13800138000", "亲，优惠券今天到期", "marketing", "PROMOTIONAL", "亲，优惠券今天到期 " + sms.RefusalCN},
		{"us transactional", "+12015550123", "Reply 1 to confirm.", "", "TRANSACTIONAL", "Reply 1 to confirm."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(svc.requests())
			d := envelope(tc.phone, tc.text, tc.class)
			d.Message.Text = ch.Finish(d) // as the kernel does before reserving
			rep, err := ch.SendReport(context.Background(), d)
			if err != nil {
				t.Fatal(err)
			}
			reqs := svc.requests()
			if len(reqs) != n+1 {
				t.Fatalf("%d requests, want 1", len(reqs)-n)
			}
			in := reqs[n]
			num, _ := sms.Check(tc.phone, "CN")
			wantCtx := map[string]any{eumsms.ContextShop: "tea", eumsms.ContextOrder: "o-1", eumsms.ContextLedger: "cod_confirm-abc.ask"}
			if in["DestinationPhoneNumber"] != num.E164 || in["MessageBody"] != tc.want || in["MessageType"] != tc.kind ||
				in["OriginationIdentity"] != "pool-abc" || in["ConfigurationSetName"] != "oc-sms" {
				t.Errorf("request %v", in)
			}
			if ctx, _ := in["Context"].(map[string]any); len(ctx) != 3 || ctx[eumsms.ContextLedger] != wantCtx[eumsms.ContextLedger] || ctx[eumsms.ContextShop] != "tea" || ctx[eumsms.ContextOrder] != "o-1" {
				t.Errorf("context %v, want %v", in["Context"], wantCtx)
			}
			if c := sms.Segments(tc.want); rep.ProviderID != "862a8790-60c0-4430-9b2b-658bdexample" || rep.Segments != c.Segments || rep.Encoding != c.Encoding {
				t.Errorf("report %+v", rep)
			}
			ref, err := db.GetRef(context.Background(), rep.ProviderID, t0)
			if err != nil || ref != (receipts.Ref{ShopID: "tea", OrderID: "o-1", LedgerID: "cod_confirm-abc.ask"}) {
				t.Errorf("ref %+v, %v", ref, err)
			}
		})
	}
}

// TestSendErrors: what reaches the kernel for each kind of failure, so a
// paid text is never blindly sent again: refused for good (rejected), or
// certainly not sent (may be called again), or unknown (never called
// again for that entry); an invalid number is refused before any call.
func TestSendErrors(t *testing.T) {
	for _, tc := range []struct {
		name, phone string
		status      int
		typ         string
		rejected    bool
		notSent     bool
		calls       int
	}{
		{"invalid number", "+86138", 0, "", true, false, 0},
		{"validation", "+8613800138000", 400, "ValidationException", true, false, 1},
		{"opted out", "+8613800138000", 400, "ConflictException", true, false, 1},
		{"throttled", "+8613800138000", 400, "ThrottlingException", false, true, 1},
		{"server error: unknown", "+8613800138000", 500, "InternalServerException", false, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := &service{status: tc.status, errTyp: tc.typ}
			ch := &eumsms.Channel{Client: client(t, svc)}
			_, err := ch.SendReport(context.Background(), envelope(tc.phone, "hi", ""))
			var ns *steps.NotSentError
			if err == nil || errors.Is(err, care.ErrRejected) != tc.rejected || errors.As(err, &ns) != tc.notSent {
				t.Errorf("err = %v; want rejected %v, not sent %v", err, tc.rejected, tc.notSent)
			}
			if n := len(svc.requests()); n != tc.calls {
				t.Errorf("%d calls, want %d", n, tc.calls)
			}
		})
	}
}
