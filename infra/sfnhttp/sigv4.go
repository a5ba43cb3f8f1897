package sfnhttp

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ordercare/ordercare/internal/clock"
)

// Credentials are the access key pair a client signs its requests with
// (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY for the AWS CLI and SDKs).
type Credentials struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
}

// NewCredentials returns a fresh random key pair, shaped like AWS's (a
// 20-character key id starting "AKIA", a 40-character secret).
func NewCredentials() Credentials {
	sec := make([]byte, 20)
	_, _ = rand.Read(sec)
	return Credentials{AccessKeyID: "AKIA" + rand.Text()[:16], SecretAccessKey: hex.EncodeToString(sec)}
}

// Valid reports whether both parts are set (a key id of at least 16
// characters, a secret of at least 16).
func (c Credentials) Valid() bool { return len(c.AccessKeyID) >= 16 && len(c.SecretAccessKey) >= 16 }

// Error codes of a request that fails authentication, as AWS names them.
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
	CodeInvalidSignature           = "InvalidSignatureException"
)

// DefaultMaxSkew is how far a request's X-Amz-Date may be from the server's
// time, as on AWS.
const DefaultMaxSkew = 15 * time.Minute

// SigV4 authenticates requests signed with AWS Signature Version 4
// (header form, "AWS4-HMAC-SHA256", service "states", any region), as the
// AWS CLI and SDKs sign them, against one key pair.
type SigV4 struct {
	Credentials Credentials
	// Clocks are the times a request's X-Amz-Date is checked against: it
	// must be within MaxSkew of at least one. Signers use the wall clock,
	// so the list should hold clock.Real; a runtime on a virtual clock
	// adds its own. Empty means clock.Real only.
	Clocks  []clock.Clock
	MaxSkew time.Duration // 0 means DefaultMaxSkew
}

// Wrap returns next guarded by v: a request whose signature does not verify
// is answered with an AWS-shaped error (403 MissingAuthenticationToken
// without an Authorization header; 400 IncompleteSignature,
// UnrecognizedClient for another key id, InvalidSignature for a wrong
// signature or a date outside the allowed skew) and never reaches next.
// Signatures are compared in constant time.
func (v *SigV4) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBytes+1))
		if err != nil {
			v.reject(w, perr(http.StatusBadRequest, CodeSerialization, "cannot read the request body"))
			return
		}
		if len(body) > MaxRequestBytes {
			v.reject(w, perr(http.StatusRequestEntityTooLarge, CodeRequestEntityTooLarge,
				"Request entity too large: the body exceeds %d bytes", MaxRequestBytes))
			return
		}
		if pe := v.verify(r, body); pe != nil {
			v.reject(w, pe)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

func (v *SigV4) reject(w http.ResponseWriter, pe *protocolError) {
	w.Header().Set("x-amzn-RequestId", uuid.NewString())
	(&Handler{}).writeError(w, pe)
}

// verify checks r's signature over body (the canonical request of the
// SigV4 documentation: method, URI, query, signed headers, payload hash).
func (v *SigV4) verify(r *http.Request, body []byte) *protocolError {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return perr(http.StatusForbidden, CodeMissingAuthenticationToken, "Missing Authentication Token")
	}
	const algo = "AWS4-HMAC-SHA256"
	rest, ok := strings.CutPrefix(authz, algo+" ")
	if !ok {
		return perr(http.StatusBadRequest, CodeIncompleteSignature, "Authorization header requires the %s algorithm", algo)
	}
	parts := map[string]string{}
	for _, p := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok {
			parts[k] = val
		}
	}
	cred, signed, sig := parts["Credential"], parts["SignedHeaders"], parts["Signature"]
	if cred == "" || signed == "" || sig == "" {
		return perr(http.StatusBadRequest, CodeIncompleteSignature, "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'")
	}
	scope := strings.Split(cred, "/") // AKID/date/region/service/aws4_request
	if len(scope) != 5 || scope[3] != "states" || scope[4] != "aws4_request" {
		return perr(http.StatusBadRequest, CodeIncompleteSignature, "Credential must be <key id>/<date>/<region>/states/aws4_request")
	}
	if subtle.ConstantTimeCompare([]byte(scope[0]), []byte(v.Credentials.AccessKeyID)) != 1 {
		return perr(http.StatusBadRequest, CodeUnrecognizedClient, "The security token included in the request is invalid.")
	}
	amzDate := r.Header.Get("X-Amz-Date")
	at, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return perr(http.StatusBadRequest, CodeIncompleteSignature, "X-Amz-Date must be a basic ISO 8601 UTC time such as 20261206T044500Z")
	}
	if scope[1] != amzDate[:8] {
		return perr(http.StatusBadRequest, CodeInvalidSignature, "Credential date %s does not match X-Amz-Date %s", scope[1], amzDate)
	}
	if !v.fresh(at) {
		return perr(http.StatusBadRequest, CodeInvalidSignature, "Signature expired: %s is more than %s away from the server's time", amzDate, v.skew())
	}
	names := strings.Split(signed, ";")
	if !sort.StringsAreSorted(names) || !contains(names, "host") || !contains(names, "x-amz-date") {
		return perr(http.StatusBadRequest, CodeIncompleteSignature, "SignedHeaders must be sorted and include host and x-amz-date")
	}
	var canon strings.Builder
	canon.WriteString(r.Method + "\n")
	canon.WriteString(canonicalURI(r.URL) + "\n")
	canon.WriteString(canonicalQuery(r.URL) + "\n")
	for _, n := range names {
		canon.WriteString(n + ":" + headerValue(r, n) + "\n")
	}
	canon.WriteString("\n" + signed + "\n")
	payload := sha256.Sum256(body)
	canon.WriteString(hex.EncodeToString(payload[:]))
	creq := sha256.Sum256([]byte(canon.String()))
	toSign := algo + "\n" + amzDate + "\n" + strings.Join(scope[1:], "/") + "\n" + hex.EncodeToString(creq[:])
	key := hmacSHA256([]byte("AWS4"+v.Credentials.SecretAccessKey), scope[1])
	for _, s := range scope[2:] {
		key = hmacSHA256(key, s)
	}
	want := hmacSHA256(key, toSign)
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, want) {
		return perr(http.StatusBadRequest, CodeInvalidSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	return nil
}

func (v *SigV4) skew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return DefaultMaxSkew
}

func (v *SigV4) fresh(at time.Time) bool {
	clocks := v.Clocks
	if len(clocks) == 0 {
		clocks = []clock.Clock{clock.Real{}}
	}
	for _, c := range clocks {
		if d := c.Now().Sub(at); d <= v.skew() && d >= -v.skew() {
			return true
		}
	}
	return false
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// headerValue is header n of r in canonical form: values joined by
// commas, trimmed, inner runs of spaces collapsed. Host and Content-Length
// live outside r.Header in Go.
func headerValue(r *http.Request, n string) string {
	var vals []string
	switch n {
	case "host":
		vals = []string{r.Host}
		if r.Host == "" { // a client-side request served in-process
			vals = []string{r.URL.Host}
		}
	case "content-length":
		vals = []string{strconv.FormatInt(r.ContentLength, 10)}
	default:
		vals = r.Header.Values(n)
	}
	for i, s := range vals {
		vals[i] = strings.Join(strings.Fields(s), " ")
	}
	return strings.Join(vals, ",")
}

// canonicalURI is the URI-encoded path ("/" when empty).
func canonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	return p
}

// canonicalQuery is the query sorted by name then value, each URI-encoded.
func canonicalQuery(u *url.URL) string {
	type kv struct{ k, v string }
	var pairs []kv
	for k, vs := range u.Query() {
		for _, v := range vs {
			pairs = append(pairs, kv{uriEncode(k), uriEncode(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.k + "=" + p.v
	}
	return strings.Join(out, "&")
}

// uriEncode encodes every byte but the unreserved ones (A-Z a-z 0-9 - _ . ~).
func uriEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
		}
	}
	return b.String()
}
