package httpapi_test

import (
	"os"
	"strings"
	"testing"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/source"
)

// TestJudgemeMatch: a Judge.me review is recorded on the reviewer's
// delivered order (matched by email), its update with a higher rating
// counts as revised, and a review of an unknown buyer is answered 200
// ignored and recorded nowhere.
func TestJudgemeMatch(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	ops := shop.Keys[care.RoleOps]
	if r := e.do("PUT", "/v1/shops/tea/sources/judgeme", ops, []byte(`{"secret":"judgeme-secret-0123"}`), nil); r.Status != 200 {
		t.Fatalf("put judgeme: %d %s", r.Status, r.Body)
	}
	created := []byte(strings.Replace(string(event("c1", "order.created", "")), `"locale"`, `"email":"Mei.Lin@example.com","locale"`, 1))
	for i, b := range [][]byte{created, event("s1", "order.shipped", `,"shipment":{"carrier":"SF","tracking_numbers":["SF1"]}`),
		event("d1", "order.delivered", "")} {
		if r := e.sendStandard(shop, "d-"+string(rune('a'+i)), b); r.Status != 202 {
			t.Fatalf("standard %d: %d %s", i, r.Status, r.Body)
		}
	}
	send := func(file, email string) response {
		b, err := os.ReadFile("../source/testdata/" + file)
		if err != nil {
			t.Fatal(err)
		}
		b = []byte(strings.ReplaceAll(string(b), "mei.lin@example.com", email))
		return e.do("POST", "/webhooks/tea/judgeme", "", b, map[string]string{source.HeaderJudgemeHMAC: source.JudgemeSign("judgeme-secret-0123", b)})
	}
	if r := send("judgeme_review_created.json", "mei.lin@example.com"); r.Status != 200 {
		t.Fatalf("created: %d %s", r.Status, r.Body)
	}
	if r := send("judgeme_review_updated.json", "mei.lin@example.com"); r.Status != 200 {
		t.Fatalf("updated: %d %s", r.Status, r.Body)
	}
	var o care.OrderState
	e.do("GET", "/v1/orders/1001", ops, nil, nil).json(t, &o)
	rv := o.ReviewByID("418552901")
	if rv == nil || rv.Rating != 4 || rv.FirstRating != 1 || !rv.Revised() || rv.Platform != care.PlatformJudgeme {
		t.Fatalf("review = %+v, want judgeme 418552901 revised 1 → 4", rv)
	}
	r := send("judgeme_review_created.json", "stranger@example.com")
	if r.Status != 200 || !strings.Contains(string(r.Body), `"ignored":true`) {
		t.Fatalf("unknown buyer: %d %s, want 200 ignored", r.Status, r.Body)
	}
	if r := e.do("POST", "/webhooks/tea/judgeme", "", []byte(`{"event":"review/created"}`), map[string]string{source.HeaderJudgemeHMAC: "00"}); r.Status != 401 {
		t.Fatalf("bad signature: %d %s", r.Status, r.Body)
	}
}
