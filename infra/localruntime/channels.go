package localruntime

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/ordercare/ordercare/infra/email"
	"github.com/ordercare/ordercare/internal/consent"
	"github.com/ordercare/ordercare/internal/erasure"
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

// sweepTexts expires message texts past each shop's retention policy
// (erasure.Expirer.Sweep) once a day, at 00:00 UTC on the runtime's clock,
// until ctx ends.
func (rt *Runtime) sweepTexts(ctx context.Context, log *slog.Logger) {
	x := erasure.Expirer{Store: rt.Store}
	for {
		next := rt.Clock.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		ch, cancel := rt.Clock.At(next)
		select {
		case <-ctx.Done():
			cancel()
			return
		case <-ch:
		}
		if n, err := x.Sweep(ctx, rt.Clock.Now()); err != nil {
			log.ErrorContext(ctx, "retention sweep", "error", err.Error())
		} else if n > 0 {
			log.InfoContext(ctx, "retention sweep", "expired_texts", n)
		}
	}
}
