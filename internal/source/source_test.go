package source_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/source"
)

// outcome is what a table case expects: events (compared with go-cmp), or an
// unauthorized error, or a *care.FieldError on a field.
type outcome struct {
	unauthorized bool
	invalid      bool
	rejected     bool   // a *care.RejectError: the signed body does not support the topic
	field        string // with invalid or rejected: the error's field
}

func checkErr(t *testing.T, err error, want outcome) {
	t.Helper()
	switch {
	case want.unauthorized:
		if !errors.Is(err, care.ErrUnauthorized) {
			t.Fatalf("error = %v, want ErrUnauthorized", err)
		}
		if errors.Is(err, care.ErrInvalid) {
			t.Fatalf("error %v is both unauthorized and invalid", err)
		}
	case want.invalid:
		var fe *care.FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("error = %v, want *care.FieldError", err)
		}
		if fe.Field != want.field {
			t.Fatalf("FieldError field = %q (%v), want %q", fe.Field, err, want.field)
		}
	case want.rejected:
		var re *care.RejectError
		if !errors.As(err, &re) || !errors.Is(err, care.ErrRejected) {
			t.Fatalf("error = %v, want *care.RejectError", err)
		}
		if re.Field != want.field {
			t.Fatalf("RejectError field = %q (%v), want %q", re.Field, err, want.field)
		}
	default:
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
	}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func tp(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	t = t.UTC()
	return &t
}

func tm(s string) time.Time { return *tp(s) }

// mutate flips one byte of b (a copy) at i.
func mutate(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i%len(c)] ^= 0x01
	return c
}

func TestFor(t *testing.T) {
	for _, name := range care.Sources {
		if _, ok := source.For(name); !ok {
			t.Errorf("For(%q): no adapter", name)
		}
	}
	if _, ok := source.For("etsy"); ok {
		t.Error("For(etsy) found an adapter")
	}
}

// TestErrorsLeakNoSecret: no error message carries a secret or a signature.
func TestErrorsLeakNoSecret(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	secret := "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"
	cases := []struct {
		src  string
		cred care.Source
		req  source.Request
	}{
		{care.SourceStandard, care.Source{Secret: secret}, source.Request{Header: header("webhook-id", "m", "webhook-timestamp", "1800000000", "webhook-signature", "v1,Zm9vYmFy"), Body: []byte("{}")}},
		{care.SourceShopify, care.Source{Secret: "shpss_topsecret"}, source.Request{Header: header(source.HeaderShopifyHMAC, "Zm9vYmFy"), Body: []byte("{}")}},
		{care.SourceWooCommerce, care.Source{Secret: "wc-topsecret"}, source.Request{Header: header(source.HeaderWCSignature, "Zm9vYmFy"), Body: []byte("{}")}},
		{care.SourceDouyin, care.Source{AppKey: "7000000000000000000", AppSecret: "dy-topsecret"}, source.Request{Header: header("event-sign", "00ff"), Body: []byte("[]")}},
	}
	for _, c := range cases {
		a, _ := source.For(c.src)
		_, err := a.Handle(c.cred, c.req, now)
		if !errors.Is(err, care.ErrUnauthorized) {
			t.Fatalf("%s: error = %v, want unauthorized", c.src, err)
		}
		for _, s := range []string{c.cred.Secret, c.cred.AppSecret, "Zm9vYmFy", "00ff", "c2VjcmV0"} {
			if s != "" && strings.Contains(err.Error(), s) {
				t.Errorf("%s: error %q leaks %q", c.src, err, s)
			}
		}
	}
}

// TestConcurrentHandle: adapters hold no state; many deliveries at once under -race.
func TestConcurrentHandle(t *testing.T) {
	order := readTestdata(t, "shopify_orders_create.json")
	push := readTestdata(t, "douyin_push.json")
	done := make(chan error)
	for i := 0; i < 16; i++ {
		go func() {
			_, err := source.Shopify{}.Handle(care.Source{Secret: shopifySecret}, shopifyReq("orders/create", order), time.Now())
			if err == nil {
				_, err = source.Douyin{}.Handle(care.Source{AppKey: dyKey, AppSecret: dySecret}, dyReq(push), time.Now())
			}
			done <- err
		}()
	}
	for i := 0; i < 16; i++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
