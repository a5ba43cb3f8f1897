package source

import (
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// HeaderJudgemeHMAC is the signature header of Judge.me webhooks.
const HeaderJudgemeHMAC = "JUDGEME-HMAC-SHA256"

// Judgeme accepts Judge.me review webhooks (keys review/created and
// review/updated; body {"event", "platform", "shop_domain", "review":
// {...}}). JUDGEME-HMAC-SHA256 is the hex HMAC-SHA256 of the raw body keyed
// with the secret the webhook was created with (cred.Secret): the OAuth
// app's secret, or the shop's private API token for a webhook created with
// it (Judge.me help article 8299679). Judge.me sends no timestamp, so a
// redelivery is deduplicated only by its delivery id.
//
// Matching: a Judge.me review names no order of the shop's platform, only
// the reviewer's email and the product (product_external_id). So the
// adapter's event carries the reviewer's email in Incoming.MatchEmail and a
// placeholder order id (UnmatchedOrder); the receiver (internal/httpapi)
// replaces it by the id of that buyer's most recently updated delivered,
// else completed, else shipped order, and answers a review that matches no order 200
// {"ignored":true} without recording it (Judge.me retries non-2xx answers;
// a review of a buyer ordercare never saw stays in Judge.me).
//
// Each delivery gives one review.posted with review.id = the Judge.me review
// id, platform "judgeme", sku = product_external_id (the platform's product
// id as a string; "" for a shop review), title, text (body), rating, and
// occurred_at = updated_at (else created_at, else now). A hidden review is
// still recorded: a bad review an agent must see is most often the hidden
// one. The event id and DeliveryID are "judgeme:<review id>:<updated_at
// Unix>", so an update with a new time is a new event of the same review.
// Another event key answers 200 {"ignored":true}. Success answers 200
// with no body.
type Judgeme struct{}

// UnmatchedOrder is the placeholder order id of a Judge.me event before the
// receiver matched it to an order (Incoming.MatchEmail).
const UnmatchedOrder = "judgeme:unmatched"

// JudgemeSign returns the JUDGEME-HMAC-SHA256 value of body (lowercase hex).
func JudgemeSign(secret string, body []byte) string {
	return hex.EncodeToString(hmacSHA256([]byte(secret), body))
}

// VerifyJudgeme checks JUDGEME-HMAC-SHA256 (hex, either case) in constant
// time; nil or a wrapped care.ErrUnauthorized.
func VerifyJudgeme(secret string, h http.Header, body []byte) error {
	if secret == "" {
		return unauthorized("no secret is configured for this source")
	}
	sig := strings.TrimSpace(h.Get(HeaderJudgemeHMAC))
	if sig == "" {
		return unauthorized("missing JUDGEME-HMAC-SHA256 header")
	}
	want := JudgemeSign(secret, body)
	if !hmac.Equal([]byte(strings.ToLower(sig)), []byte(want)) {
		return unauthorized("JUDGEME-HMAC-SHA256 does not match the body")
	}
	return nil
}

type judgemeWebhook struct {
	Event      string         `json:"event"`
	Platform   string         `json:"platform"`
	ShopDomain string         `json:"shop_domain"`
	Review     *judgemeReview `json:"review"`
}

type judgemeReview struct {
	ID                json.Number      `json:"id"`
	Title             string           `json:"title"`
	Body              string           `json:"body"`
	Rating            json.Number      `json:"rating"`
	ProductExternalID json.Number      `json:"product_external_id"`
	Reviewer          *judgemeReviewer `json:"reviewer"`
	CreatedAt         string           `json:"created_at"`
	UpdatedAt         string           `json:"updated_at"`
}

type judgemeReviewer struct {
	Email string `json:"email"`
}

// Handle implements Adapter.
func (Judgeme) Handle(cred care.Source, req Request, now time.Time) (Result, error) {
	if err := VerifyJudgeme(cred.Secret, req.Header, req.Body); err != nil {
		return Result{}, err
	}
	var in judgemeWebhook
	if err := decodeJSON(req.Body, &in, false); err != nil {
		return Result{}, err
	}
	switch in.Event {
	case "review/created", "review/updated":
	default:
		return ignored("event " + in.Event + " is not used"), nil
	}
	r := in.Review
	if r == nil {
		return Result{}, care.Invalid("review", "required for %s", in.Event)
	}
	id := strings.TrimSpace(r.ID.String())
	if !idRE.MatchString(id) || len(id) > 100 {
		return Result{}, care.Invalid("review.id", "must be the Judge.me review id")
	}
	rating, err := r.Rating.Int64()
	if err != nil || rating < 1 || rating > 5 {
		return Result{}, care.Invalid("review.rating", "must be an integer from 1 to 5")
	}
	email := ""
	if r.Reviewer != nil {
		email = strings.TrimSpace(r.Reviewer.Email)
	}
	if email == "" || !strings.Contains(email, "@") || len(email) > 254 {
		return Result{}, care.Invalid("review.reviewer.email", "required: ordercare matches a review to the buyer's order by it")
	}
	occurred := now.UTC()
	for _, f := range []struct{ name, v string }{{"review.updated_at", r.UpdatedAt}, {"review.created_at", r.CreatedAt}} {
		if f.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, f.v)
		if err != nil {
			return Result{}, care.Invalid(f.name, "must be an RFC 3339 time")
		}
		occurred = t.UTC()
		break
	}
	sku := strings.TrimSpace(r.ProductExternalID.String())
	if len(sku) > 128 {
		return Result{}, care.Invalid("review.product_external_id", "at most 128 characters")
	}
	rv := &care.Review{ID: id, SKU: sku, Title: strings.TrimSpace(r.Title), Text: strings.TrimSpace(r.Body),
		Rating: int(rating), Platform: care.PlatformJudgeme}
	evID := "judgeme:" + id + ":" + strconv.FormatInt(occurred.Unix(), 10)
	ev := care.Event{ID: evID, Type: care.ReviewPosted, OccurredAt: occurred, Order: care.Order{ID: UnmatchedOrder}, Review: rv}
	if err := ev.Validate(); err != nil {
		return Result{}, err
	}
	return Result{Events: []Incoming{{DeliveryID: evID, Event: ev, MatchEmail: email}}, Status: http.StatusOK}, nil
}
