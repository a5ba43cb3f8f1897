// Package source verifies and normalises the webhook deliveries of each order
// platform a shop can connect (Standard Webhooks, Shopify, WooCommerce,
// Douyin/抖店) and of the carrier-tracking services AfterShip and 17TRACK
// into canonical care.Events.
//
// Every adapter checks the delivery's signature over the raw body, in constant
// time, before it parses anything. A missing or wrong signature, a stale
// timestamp or missing credentials is a wrapped care.ErrUnauthorized whose
// message names no secret; a body that is not JSON, has a field of the wrong
// type or cannot be normalised is a *care.FieldError (care.ErrInvalid). Only
// the signed body decides what is recorded: a header the platform does not
// sign (Shopify's X-Shopify-Topic, WooCommerce's X-WC-Webhook-Topic) only
// says which event the body is offered as, and a body that does not support
// it is a *care.RejectError with the field (care.ErrRejected). Every
// event an adapter returns passes care.Event.Validate. Adapters hold no state
// and are safe for concurrent use; they never log.
package source

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// Request is one webhook delivery as received: its headers and its raw body,
// byte for byte (signatures are computed over these exact bytes).
type Request struct {
	Header http.Header
	Body   []byte
}

// Incoming is one canonical event from a delivery. DeliveryID is the source's
// own id for the delivery or message (unique per shop and source); the store
// deduplicates on it.
type Incoming struct {
	DeliveryID string
	Event      care.Event
	// MatchEmail, when set, says the source names no order of the shop
	// (Judge.me): the receiver records the event on that buyer's most
	// recently updated delivered or completed order (its Order.ID is a
	// placeholder until then), or ignores it when there is none. Personal
	// data: never log it. (Shipped orders are matched last: a review
	// saying the parcel never arrived.)
	MatchEmail string
}

// Result is what a verified delivery produced: zero or more events (a ping or
// an event type ordercare does not track gives none), and the answer the
// platform expects once the events are stored.
type Result struct {
	Events      []Incoming
	Status      int
	ContentType string // "" when Body is empty
	Body        []byte
}

// Adapter verifies and normalises one platform's deliveries.
type Adapter interface {
	// Handle verifies req with the shop's credentials and returns its events.
	// now is the receipt time (timestamp tolerance, and occurred_at when a
	// platform sends none). Errors: a wrapped care.ErrUnauthorized, a
	// *care.FieldError, or a *care.RejectError naming the body field that
	// does not support the event an unsigned header claims (a topic swap);
	// never more than one, and no events with an error.
	Handle(cred care.Source, req Request, now time.Time) (Result, error)
}

var (
	_ Adapter = Standard{}
	_ Adapter = Shopify{}
	_ Adapter = WooCommerce{}
	_ Adapter = Douyin{}
	_ Adapter = AfterShip{}
	_ Adapter = Track17{}
	_ Adapter = Judgeme{}
)

var adapters = map[string]Adapter{
	care.SourceStandard:    Standard{},
	care.SourceShopify:     Shopify{},
	care.SourceWooCommerce: WooCommerce{},
	care.SourceDouyin:      Douyin{},
	care.SourceAfterShip:   AfterShip{},
	care.Source17Track:     Track17{},
	care.SourceJudgeme:     Judgeme{},
}

// Ignored is the answer to a verified delivery that records nothing
// because ordercare does not use it (a topic, a status or a tag it does not
// track): 200 with {"ignored":true,"reason":...}.
type Ignored struct {
	Ignored bool   `json:"ignored"`
	Reason  string `json:"reason"`
}

// ignored returns the Result of a delivery that records nothing, and why.
func ignored(reason string) Result {
	b, _ := json.Marshal(Ignored{Ignored: true, Reason: reason})
	return Result{Status: http.StatusOK, ContentType: "application/json", Body: b}
}

// For returns the adapter of a source name (care.Sources), or false.
func For(source string) (Adapter, bool) {
	a, ok := adapters[source]
	return a, ok
}

// unauthorized wraps care.ErrUnauthorized with a reason; reasons never carry
// secrets or signatures.
func unauthorized(reason string) error {
	return fmt.Errorf("%w: %s", care.ErrUnauthorized, reason)
}

// timestampError refuses a delivery for its signed timestamp: a
// care.ErrUnauthorized that the receiving clock decides.
type timestampError struct{ reason string }

func (e timestampError) Error() string { return care.ErrUnauthorized.Error() + ": " + e.reason }
func (e timestampError) Unwrap() error { return care.ErrUnauthorized }

// TimestampRefused reports whether err refused a delivery for its
// timestamp (unreadable, or outside the tolerance of the receiving clock),
// rather than for its signature or credentials.
func TimestampRefused(err error) bool {
	var t timestampError
	return errors.As(err, &t)
}

// hmacSHA256 returns the HMAC-SHA256 of msg under key.
func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// verifyBase64HMAC checks a header (its value sig, named header in errors)
// that carries the base64 HMAC-SHA256 of the raw body with secret, as
// Shopify, WooCommerce and AfterShip sign; nil or a wrapped
// care.ErrUnauthorized.
func verifyBase64HMAC(secret, sig, header string, body []byte) error {
	if secret == "" {
		return unauthorized("no secret is configured for this source")
	}
	if sig == "" {
		return unauthorized("missing " + header + " header")
	}
	if !equalBase64MAC(sig, hmacSHA256([]byte(secret), body)) {
		return unauthorized(header + " does not match the body")
	}
	return nil
}

// equalBase64MAC reports, in constant time, whether the header value got is
// exactly the standard base64 encoding of mac.
func equalBase64MAC(got string, mac []byte) bool {
	want := base64.StdEncoding.EncodeToString(mac)
	return hmac.Equal([]byte(got), []byte(want))
}

// decodeJSON decodes body into v and translates failures into *care.FieldError.
// Strict rejects unknown object keys. Trailing data after the value is an error.
func decodeJSON(body []byte, v any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return &care.FieldError{Reason: fmt.Sprintf("malformed JSON: data after the value at offset %d", dec.InputOffset())}
	}
	return nil
}

// jsonError turns an encoding/json error into a *care.FieldError.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var fe *care.FieldError
	switch {
	case errors.As(err, &fe):
		return fe
	case errors.As(err, &syn):
		return &care.FieldError{Reason: fmt.Sprintf("malformed JSON at offset %d: %s", syn.Offset, syn.Error())}
	case errors.As(err, &typ):
		return &care.FieldError{Field: typ.Field, Reason: fmt.Sprintf("must be a JSON %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)}
	case errors.Is(err, io.EOF):
		return &care.FieldError{Reason: "malformed JSON: empty body"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &care.FieldError{Reason: "malformed JSON: unexpected end of body"}
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		if n, err := strconv.Unquote(name); err == nil {
			name = n
		}
		return &care.FieldError{Field: name, Reason: "unknown field"}
	}
	return &care.FieldError{Reason: strings.TrimPrefix(msg, "json: ")}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	}
	return k
}

var (
	decimalRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	digitsRE  = regexp.MustCompile(`^[0-9]{1,40}$`)
	e164RE    = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	idRE      = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)
)

// decimal checks a money amount the platform sent as a string.
func decimal(field, s string) (care.Decimal, error) {
	if !decimalRE.MatchString(s) || strings.HasPrefix(s, "-") {
		return "", care.Invalid(field, "must be a non-negative decimal string such as \"129.90\"")
	}
	return care.Decimal(s), nil
}

// numberDecimal keeps a JSON number literal as a decimal when it is written as
// one (no exponent): the exact text the platform sent, never a float.
func numberDecimal(field string, n json.Number) (care.Decimal, error) {
	return decimal(field, string(n))
}

// e164 returns the phone in E.164 when the platform already sent it that way
// (visual separators aside); otherwise false. It never adds a country code.
func e164(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "+") {
		return "", false
	}
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '(', ')', '.':
			return -1
		}
		return r
	}, s)
	return s, e164RE.MatchString(s)
}

// eventID checks a canonical event id built from platform ids.
func eventID(field, id string) (string, error) {
	if !idRE.MatchString(id) {
		return "", care.Invalid(field, "gives an event id that is not 1-128 printable ASCII characters")
	}
	return id, nil
}

// utc returns a pointer to t in UTC.
func utc(t time.Time) *time.Time {
	u := t.UTC()
	return &u
}

// validated returns the events after checking each one: a normalisation bug
// must surface as an error, never as an invalid event in the store.
func validated(res Result) (Result, error) {
	for i := range res.Events {
		if err := res.Events[i].Event.Validate(); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

func itoa(i int) string { return strconv.Itoa(i) }
