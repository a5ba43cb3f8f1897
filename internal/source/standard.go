package source

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// Standard Webhooks (https://www.standardwebhooks.com) header names and limits.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"

	// StandardTolerance is how far webhook-timestamp may be from now, either way.
	StandardTolerance = 5 * time.Minute
)

// Standard accepts Standard Webhooks deliveries whose body is one canonical
// care.Event. The signature is HMAC-SHA256 over "id.timestamp.body" keyed with
// the base64-decoded whsec_ secret; webhook-signature holds space-separated
// "v1,<base64>" entries, any one of which may match (unknown versions are
// ignored). The event is decoded strictly (unknown fields are errors) and
// validated. DeliveryID is webhook-id. Success answers 202 with no body.
type Standard struct{}

// StandardKey returns the HMAC key of a Standard Webhooks secret ("whsec_" +
// base64; the prefix is optional, as in the reference libraries).
func StandardKey(secret string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
}

// StandardSign returns the "v1,<base64>" signature of a delivery; the sending
// side of Standard.Handle, used by tests and by ordercare's own outgoing webhooks.
func StandardSign(key []byte, id string, ts time.Time, body []byte) string {
	msg := standardContent(id, strconv.FormatInt(ts.Unix(), 10), body)
	return "v1," + base64.StdEncoding.EncodeToString(hmacSHA256(key, msg))
}

func standardContent(id, ts string, body []byte) []byte {
	msg := make([]byte, 0, len(id)+len(ts)+len(body)+2)
	msg = append(msg, id...)
	msg = append(msg, '.')
	msg = append(msg, ts...)
	msg = append(msg, '.')
	return append(msg, body...)
}

// VerifyStandard checks a Standard Webhooks delivery against now. It returns
// nil or a wrapped care.ErrUnauthorized.
func VerifyStandard(secret string, h http.Header, body []byte, now time.Time) error {
	if secret == "" {
		return unauthorized("no secret is configured for this source")
	}
	key, err := StandardKey(secret)
	if err != nil || len(key) == 0 {
		return unauthorized("the configured secret is not a whsec_ base64 secret")
	}
	id, ts, sigs := h.Get(HeaderWebhookID), h.Get(HeaderWebhookTimestamp), h.Get(HeaderWebhookSignature)
	if id == "" || ts == "" || sigs == "" {
		return unauthorized("missing webhook-id, webhook-timestamp or webhook-signature header")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return timestampError{"webhook-timestamp is not integer Unix seconds"}
	}
	const tol = int64(StandardTolerance / time.Second)
	if d := now.Unix() - sec; d > tol || d < -tol {
		return timestampError{"webhook-timestamp is outside the 5-minute tolerance"}
	}
	mac := hmacSHA256(key, standardContent(id, ts, body))
	ok := false
	for _, s := range strings.Split(sigs, " ") {
		version, sig, found := strings.Cut(s, ",")
		if !found || version != "v1" {
			continue
		}
		// Compare every candidate: the time taken does not depend on which matched.
		if equalBase64MAC(sig, mac) {
			ok = true
		}
	}
	if !ok {
		return unauthorized("no matching v1 signature")
	}
	return nil
}

// Handle implements Adapter.
func (Standard) Handle(cred care.Source, req Request, now time.Time) (Result, error) {
	if err := VerifyStandard(cred.Secret, req.Header, req.Body, now); err != nil {
		return Result{}, err
	}
	var ev care.Event
	if err := decodeJSON(req.Body, &ev, true); err != nil {
		return Result{}, err
	}
	return validated(Result{
		Events: []Incoming{{DeliveryID: req.Header.Get(HeaderWebhookID), Event: ev}},
		Status: http.StatusAccepted,
	})
}
