package source_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/source"
)

const jmSecret = "jm-oauth-app-secret-0123456789"

func jmReq(body []byte) source.Request {
	return source.Request{Header: header(source.HeaderJudgemeHMAC, source.JudgemeSign(jmSecret, body)), Body: body}
}

func TestJudgemeSign(t *testing.T) {
	// hmac.new(b"k", b"{}", hashlib.sha256).hexdigest(), computed with Python.
	if got := source.JudgemeSign("k", []byte("{}")); got != "add853b103fbcc936a194f9eb15e29c4ff08af6e47d5d1bca4f20218e31e4fff" {
		t.Fatalf("JudgemeSign = %s", got)
	}
}

func TestJudgemeSamples(t *testing.T) {
	cred := care.Source{Secret: jmSecret}
	tests := []struct {
		file string
		want care.Event
	}{
		{"judgeme_review_created.json", care.Event{ID: "judgeme:418552901:1795166043", Type: care.ReviewPosted,
			OccurredAt: time.Date(2026, 11, 20, 9, 14, 3, 0, time.UTC), Order: care.Order{ID: source.UnmatchedOrder},
			Review: &care.Review{ID: "418552901", SKU: "7512340987123", Title: "Tin arrived dented", Rating: 1,
				Text: "The tin was dented and the seal broken. Tea smells stale.", Platform: care.PlatformJudgeme}}},
		{"judgeme_review_updated.json", care.Event{ID: "judgeme:418552901:1795446161", Type: care.ReviewPosted,
			OccurredAt: time.Date(2026, 11, 23, 15, 2, 41, 0, time.UTC), Order: care.Order{ID: source.UnmatchedOrder},
			Review: &care.Review{ID: "418552901", SKU: "7512340987123", Title: "Replaced quickly", Rating: 4,
				Text: "The tin was dented, but the shop sent a new one at once. The new tea is fresh.", Platform: care.PlatformJudgeme}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := readTestdata(t, tt.file)
			res, err := source.Judgeme{}.Handle(cred, jmReq(body), fuzzNow)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != http.StatusOK || len(res.Events) != 1 {
				t.Fatalf("status %d, %d events", res.Status, len(res.Events))
			}
			in := res.Events[0]
			if in.MatchEmail != "mei.lin@example.com" || in.DeliveryID != tt.want.ID {
				t.Errorf("match %q, delivery %q", in.MatchEmail, in.DeliveryID)
			}
			if d := cmp.Diff(tt.want, in.Event); d != "" {
				t.Errorf("event (-want +got):\n%s", d)
			}
			// Upper-case hex is the same signature.
			req := jmReq(body)
			req.Header.Set(source.HeaderJudgemeHMAC, strings.ToUpper(req.Header.Get(source.HeaderJudgemeHMAC)))
			if _, err := (source.Judgeme{}).Handle(cred, req, fuzzNow); err != nil {
				t.Errorf("upper-case signature: %v", err)
			}
		})
	}
}

func TestJudgemeRefusals(t *testing.T) {
	cred := care.Source{Secret: jmSecret}
	body := readTestdata(t, "judgeme_review_created.json")
	t.Run("unsigned", func(t *testing.T) {
		_, err := source.Judgeme{}.Handle(cred, source.Request{Header: http.Header{}, Body: body}, fuzzNow)
		if !errors.Is(err, care.ErrUnauthorized) {
			t.Fatalf("err = %v, want unauthorized", err)
		}
	})
	t.Run("other secret", func(t *testing.T) {
		_, err := source.Judgeme{}.Handle(care.Source{Secret: "private-api-token"}, jmReq(body), fuzzNow)
		if !errors.Is(err, care.ErrUnauthorized) {
			t.Fatalf("err = %v, want unauthorized", err)
		}
	})
	for _, tc := range []struct{ name, from, to, field string }{
		{"rating", `"rating": 1`, `"rating": 7`, "review.rating"},
		{"email", `"email": "mei.lin@example.com"`, `"email": ""`, "review.reviewer.email"},
		{"time", `"updated_at": "2026-11-20T09:14:03.000Z"`, `"updated_at": "yesterday"`, "review.updated_at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := []byte(strings.Replace(string(body), tc.from, tc.to, 1))
			_, err := source.Judgeme{}.Handle(cred, jmReq(b), fuzzNow)
			var fe *care.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("err = %v, want a FieldError on %s", err, tc.field)
			}
		})
	}
	t.Run("other event", func(t *testing.T) {
		b := []byte(`{"event":"review/deleted","review":{"id":1}}`)
		res, err := source.Judgeme{}.Handle(cred, jmReq(b), fuzzNow)
		if err != nil || len(res.Events) != 0 || res.Status != http.StatusOK {
			t.Fatalf("%v, %d events, status %d", err, len(res.Events), res.Status)
		}
	})
}

func FuzzJudgeme(f *testing.F) {
	f.Add(readTestdata(f, "judgeme_review_created.json"))
	f.Add(readTestdata(f, "judgeme_review_updated.json"))
	f.Add([]byte(`{"event":"review/created","review":{"id":"12","rating":"5","reviewer":{"email":"a@b"}}}`))
	f.Add([]byte(`{"event":"review/updated","review":{"id":1,"rating":3,"reviewer":{"email":"a@b"},"created_at":"2026-11-11T10:00:00Z"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := jmReq(body)
		cred := care.Source{Secret: jmSecret}
		res, err := source.Judgeme{}.Handle(cred, req, fuzzNow)
		checkHandled(t, res, err)
		checkTampered(t, source.Judgeme{}, cred, req, fuzzNow)
	})
}

func FuzzVerifyJudgeme(f *testing.F) {
	fuzzVerifyBody(f, func(sig string, body []byte) error {
		return source.VerifyJudgeme(jmSecret, header(source.HeaderJudgemeHMAC, sig), body)
	}, func(body []byte) string { return source.JudgemeSign(jmSecret, body) }, strings.EqualFold)
}
