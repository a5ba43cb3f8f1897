// Package consent holds what ordercare knows about a buyer's wishes: the
// signed one-click unsubscribe token (RFC 8058) an email carries, the
// opt-out words of SMS and IM replies, and the scopes an opt-out covers.
package consent

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// Scopes an opt-out covers.
const (
	ScopeMarketing = "marketing" // marketing messages only
	ScopeAll       = "all"       // every message to the buyer
)

// Unsubscribe is what a one-click unsubscribe token names: the shop, the
// contact (care.ContactKey of the address: a hash, never the address) and
// the scope. It carries no personal data, so it may travel in a URL.
type Unsubscribe struct {
	Shop    string `json:"s"`
	Contact string `json:"c"`
	Scope   string `json:"k"`
}

// ErrBadToken is returned by Signer.Parse for a token it did not issue.
var ErrBadToken = errors.New("consent: unknown or altered unsubscribe token")

// Signer issues and checks unsubscribe tokens with an HMAC-SHA256 key of
// at least 32 bytes. It is safe for concurrent use.
type Signer struct{ Key []byte }

// Token returns u as a URL-safe token: base64url(JSON).base64url(HMAC).
func (s Signer) Token(u Unsubscribe) string {
	body, _ := json.Marshal(u)
	p := base64.RawURLEncoding.EncodeToString(body)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.mac(p))
}

// Parse returns what token names; ErrBadToken unless s issued it (the key
// is shorter than 32 bytes, the MAC differs, or the body is malformed).
func (s Signer) Parse(token string) (Unsubscribe, error) {
	p, sig, ok := strings.Cut(token, ".")
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil || len(s.Key) < 32 || !hmac.Equal(got, s.mac(p)) {
		return Unsubscribe{}, ErrBadToken
	}
	body, err := base64.RawURLEncoding.DecodeString(p)
	var u Unsubscribe
	if err != nil || json.Unmarshal(body, &u) != nil || u.Shop == "" || u.Contact == "" || (u.Scope != ScopeMarketing && u.Scope != ScopeAll) {
		return Unsubscribe{}, ErrBadToken
	}
	return u, nil
}

func (s Signer) mac(p string) []byte {
	h := hmac.New(sha256.New, s.Key)
	h.Write([]byte("ordercare-unsubscribe\x00" + p))
	return h.Sum(nil)
}
