package consent

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	s := Signer{Key: bytes.Repeat([]byte("k"), 32)}
	u := Unsubscribe{Shop: "tea", Contact: "abc123", Scope: ScopeMarketing}
	tok := s.Token(u)
	if strings.ContainsAny(tok, "/+=@") {
		t.Errorf("token %q is not URL-safe", tok)
	}
	got, err := s.Parse(tok)
	if err != nil || got != u {
		t.Fatalf("Parse = %+v, %v", got, err)
	}
	other := Signer{Key: bytes.Repeat([]byte("x"), 32)}
	short := Signer{Key: []byte("short")}
	p, sig, _ := strings.Cut(tok, ".")
	for name, c := range map[string]struct {
		s   Signer
		tok string
	}{
		"another key":  {other, tok},
		"short key":    {short, short.Token(u)},
		"altered body": {s, strings.ToUpper(p[:1]) + p[1:] + "." + sig},
		"no signature": {s, p},
		"empty":        {s, ""},
		"bad scope":    {s, s.Token(Unsubscribe{Shop: "tea", Contact: "c", Scope: "some"})},
	} {
		if _, err := c.s.Parse(c.tok); !errors.Is(err, ErrBadToken) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
