package localruntime

import (
	"crypto/hmac"
	"crypto/sha256"
	"net/url"
	"strings"

	"github.com/ordercare/ordercare/infra/email"
	"github.com/ordercare/ordercare/internal/consent"
)

// unsubscribeSigner signs the email channel's one-click unsubscribe
// tokens with a key derived from the admin token (a new admin token voids
// the links already sent).
func (rt *Runtime) unsubscribeSigner() *consent.Signer {
	h := hmac.New(sha256.New, []byte(rt.AdminToken))
	h.Write([]byte("ordercare unsubscribe links"))
	return &consent.Signer{Key: h.Sum(nil)}
}

// emailChannel is the email channel through each shop's own SMTP server.
func (rt *Runtime) emailChannel(opts Options) *email.Channel {
	base := strings.TrimRight(opts.PublicURL, "/")
	if base == "" {
		base = "http://127.0.0.1:8080"
	}
	signer := rt.unsubscribeSigner()
	return &email.Channel{Sources: rt.Store, Clock: rt.Clock, SMTP: &email.SMTP{RootCAs: opts.SMTPRoots},
		Unsubscribe: func(u consent.Unsubscribe) string { return base + "/unsubscribe/" + url.PathEscape(signer.Token(u)) }}
}
