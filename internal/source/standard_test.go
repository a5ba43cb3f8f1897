package source_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/source"
)

// The signing vector of the Standard Webhooks reference libraries.
const (
	specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTS     = 1614265330
	specBody   = `{"test": 2432232314}`
	specSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestStandardSpecVector(t *testing.T) {
	key, err := source.StandardKey(specSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := source.StandardSign(key, specID, time.Unix(specTS, 0), []byte(specBody)); got != specSig {
		t.Fatalf("StandardSign = %s, want %s", got, specSig)
	}
	h := header("webhook-id", specID, "webhook-timestamp", strconv.Itoa(specTS), "webhook-signature", specSig)
	if err := source.VerifyStandard(specSecret, h, []byte(specBody), time.Unix(specTS+299, 0)); err != nil {
		t.Fatalf("VerifyStandard: %v", err)
	}
	// Verified, but {"test":…} is not a canonical event: the unknown field is named.
	_, err = source.Standard{}.Handle(care.Source{Secret: specSecret}, source.Request{Header: h, Body: []byte(specBody)}, time.Unix(specTS, 0))
	checkErr(t, err, outcome{invalid: true, field: "test"})
}

// TestStandardMatchesLibrary cross-checks signing and verification with the
// reference Go library (which reads time.Now, so only VerifyIgnoringTimestamp).
func TestStandardMatchesLibrary(t *testing.T) {
	wh, err := standardwebhooks.NewWebhook(specSecret)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := source.StandardKey(specSecret)
	for i, body := range []string{"", "{}", specBody, string(readTestdata(t, "standard_event.json")), "a.b.c\x00\xff"} {
		id := fmt.Sprintf("msg_%d", i)
		ts := time.Unix(int64(1_700_000_000+i*7919), 0)
		theirs, err := wh.Sign(id, ts, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		ours := source.StandardSign(key, id, ts, []byte(body))
		if ours != theirs {
			t.Fatalf("body %d: ours %s, library %s", i, ours, theirs)
		}
		h := header("webhook-id", id, "webhook-timestamp", strconv.FormatInt(ts.Unix(), 10), "webhook-signature", ours)
		if err := wh.VerifyIgnoringTimestamp([]byte(body), h); err != nil {
			t.Fatalf("library rejects our signature: %v", err)
		}
		if err := source.VerifyStandard(specSecret, h, []byte(body), ts); err != nil {
			t.Fatalf("we reject the library's signature: %v", err)
		}
	}
}

func TestStandardHandle(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	const other = "whsec_b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA=="
	key, _ := source.StandardKey(secret)
	otherKey, _ := source.StandardKey(other)
	now := time.Unix(1_800_000_000, 0).UTC()
	body := readTestdata(t, "standard_event.json")
	var want care.Event
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatal(err)
	}
	sign := func(k []byte, id string, ts time.Time, b []byte) string { return source.StandardSign(k, id, ts, b) }
	req := func(id string, ts time.Time, sig string, b []byte) source.Request {
		return source.Request{Header: header("webhook-id", id, "webhook-timestamp", strconv.FormatInt(ts.Unix(), 10), "webhook-signature", sig), Body: b}
	}
	signed := func(b []byte) source.Request { return req("msg_1", now, sign(key, "msg_1", now, b), b) }
	tests := []struct {
		name string
		req  source.Request
		want outcome
	}{
		{"valid", signed(body), outcome{}},
		{"rotation: second of several signatures", req("msg_1", now, sign(otherKey, "msg_1", now, body)+" v2,AAAA "+sign(key, "msg_1", now, body), body), outcome{}},
		{"rotation: first of several signatures", req("msg_1", now, sign(key, "msg_1", now, body)+" "+sign(otherKey, "msg_1", now, body), body), outcome{}},
		{"at the edge of the tolerance", req("msg_1", now.Add(-5*time.Minute), sign(key, "msg_1", now.Add(-5*time.Minute), body), body), outcome{}},
		{"wrong secret", req("msg_1", now, sign(otherKey, "msg_1", now, body), body), outcome{unauthorized: true}},
		{"unknown version only", req("msg_1", now, strings.Replace(sign(key, "msg_1", now, body), "v1,", "v1a,", 1), body), outcome{unauthorized: true}},
		{"missing signature", req("msg_1", now, "", body), outcome{unauthorized: true}},
		{"missing id", req("", now, sign(key, "", now, body), body), outcome{unauthorized: true}},
		{"id not signed", req("msg_2", now, sign(key, "msg_1", now, body), body), outcome{unauthorized: true}},
		{"stale timestamp", req("msg_1", now.Add(-5*time.Minute-time.Second), sign(key, "msg_1", now.Add(-5*time.Minute-time.Second), body), body), outcome{unauthorized: true}},
		{"future timestamp", req("msg_1", now.Add(5*time.Minute+time.Second), sign(key, "msg_1", now.Add(5*time.Minute+time.Second), body), body), outcome{unauthorized: true}},
		{"timestamp not an integer", source.Request{Header: header("webhook-id", "msg_1", "webhook-timestamp", "2026-11-23T10:00:00Z", "webhook-signature", sign(key, "msg_1", now, body)), Body: body}, outcome{unauthorized: true}},
		{"body tampered by one byte", req("msg_1", now, sign(key, "msg_1", now, body), mutate(body, 40)), outcome{unauthorized: true}},
		{"signed non-JSON body", signed([]byte("order=1")), outcome{invalid: true, field: ""}},
		{"signed truncated JSON", signed(body[:len(body)/2]), outcome{invalid: true, field: ""}},
		{"trailing data", signed(append(append([]byte(nil), body...), []byte(` {}`)...)), outcome{invalid: true, field: ""}},
		{"unknown field", signed([]byte(strings.Replace(string(body), `"type"`, `"colour":"red","type"`, 1))), outcome{invalid: true, field: "colour"}},
		{"pay_deadline before placed_at", signed([]byte(strings.Replace(string(body), `"placed_at":"2026-11-11T00:03:12+08:00"`, `"placed_at":"2026-11-11T00:03:12+08:00","pay_deadline":"2026-11-10T23:00:00+08:00"`, 1))), outcome{invalid: true, field: "order.pay_deadline"}},
		{"NUL in the buyer's name", signed([]byte(strings.Replace(string(body), `"name":"王芳"`, `"name":"王\u0000芳"`, 1))), outcome{invalid: true, field: "order.buyer.name"}},
		{"total as a number", signed([]byte(strings.Replace(string(body), `"total":"258.00"`, `"total":12.5`, 1))), outcome{invalid: true, field: "order.total"}},
		{"invalid phone", signed([]byte(strings.Replace(string(body), `"phone":"+8613800138000","locale"`, `"phone":"13800138000","locale"`, 1))), outcome{invalid: true, field: "order.buyer.phone"}},
		{"marketplace with a space", signed([]byte(strings.Replace(string(body), `"total":"258.00"`, `"total":"258.00","marketplace":"amazon de"`, 1))), outcome{invalid: true, field: "order.marketplace"}},
		{"negative ship_to_count", signed([]byte(strings.Replace(string(body), `"total":"258.00"`, `"total":"258.00","ship_to_count":-1`, 1))), outcome{invalid: true, field: "order.ship_to_count"}},
		{"order.created missing items", signed([]byte(`{"id":"e1","type":"order.created","occurred_at":"2026-11-11T00:00:00Z","order":{"id":"o1"}}`)), outcome{invalid: true, field: "order.placed_at"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := source.Standard{}.Handle(care.Source{Secret: secret}, tc.req, now)
			checkErr(t, err, tc.want)
			if err != nil {
				return
			}
			wantRes := source.Result{Events: []source.Incoming{{DeliveryID: "msg_1", Event: want}}, Status: http.StatusAccepted}
			if diff := cmp.Diff(wantRes, res); diff != "" {
				t.Fatalf("result (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("no secret configured", func(t *testing.T) {
		_, err := source.Standard{}.Handle(care.Source{}, signed(body), now)
		checkErr(t, err, outcome{unauthorized: true})
	})
	t.Run("secret not base64", func(t *testing.T) {
		_, err := source.Standard{}.Handle(care.Source{Secret: "whsec_!!"}, signed(body), now)
		checkErr(t, err, outcome{unauthorized: true})
	})
}

// TestStandardMarketplace: the order's marketplace and ship_to_count pass
// from a standard event to the canonical order as sent.
func TestStandardMarketplace(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	key, _ := source.StandardKey(secret)
	now := time.Unix(1_800_000_000, 0).UTC()
	body := []byte(strings.Replace(string(readTestdata(t, "standard_event.json")), `"total":"258.00"`, `"total":"258.00","marketplace":"Amazon.de","ship_to_count":2`, 1))
	res, err := source.Standard{}.Handle(care.Source{Secret: secret}, source.Request{Header: header("webhook-id", "msg_1",
		"webhook-timestamp", strconv.FormatInt(now.Unix(), 10), "webhook-signature", source.StandardSign(key, "msg_1", now, body)), Body: body}, now)
	if err != nil {
		t.Fatal(err)
	}
	o := res.Events[0].Event.Order
	if o.Marketplace != "Amazon.de" || !o.FromAmazon() || o.ShipToCount != 2 {
		t.Errorf("marketplace %q (amazon %v), ship_to_count %d; want Amazon.de (true), 2", o.Marketplace, o.FromAmazon(), o.ShipToCount)
	}
}
