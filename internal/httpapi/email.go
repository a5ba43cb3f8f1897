package httpapi

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/channelcfg"
	"github.com/ordercare/ordercare/internal/consent"
)

// EmailChannelResponse answers PUT and GET /v1/shops/{shop}/channels/email;
// the password is never echoed (HasPassword says whether one is stored).
type EmailChannelResponse struct {
	ShopID      string           `json:"shop_id"`
	Channel     string           `json:"channel"`
	Settings    channelcfg.Email `json:"settings"`
	HasPassword bool             `json:"has_password"`
	UpdatedAt   time.Time        `json:"updated_at"`
}

// putEmailChannel stores the shop's email settings (ops): body
// channelcfg.Email, validated (400 with the field on bad input).
func (s *Server) putEmailChannel(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, r.PathValue("shop"), care.RoleOps)
	var req channelcfg.Email
	if err == nil {
		err = decodeStrict(r, &req)
	}
	if err == nil {
		err = req.Validate()
	}
	src := req.Source(shopID, s.now().UTC())
	if err == nil {
		err = s.store.PutSource(r.Context(), src)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, EmailChannelResponse{ShopID: shopID, Channel: "email", Settings: req.Public(), HasPassword: req.Password != "", UpdatedAt: src.UpdatedAt})
}

// getEmailChannel answers the shop's email settings without the password (ops).
func (s *Server) getEmailChannel(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, r.PathValue("shop"), care.RoleOps)
	var src care.Source
	if err == nil {
		src, err = s.store.GetSource(r.Context(), shopID, channelcfg.EmailSource)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	set, err := channelcfg.EmailOf(src)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("stored email settings: %w", err))
		return
	}
	writeJSON(w, http.StatusOK, EmailChannelResponse{ShopID: shopID, Channel: "email", Settings: set.Public(), HasPassword: set.Password != "", UpdatedAt: src.UpdatedAt})
}

// unsubscribePage answers GET /unsubscribe/{token}: a page with one button
// that POSTs the one-click form. A GET never unsubscribes (mail scanners
// follow links; RFC 8058 section 3.2).
func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request, signer consent.Signer) {
	if _, err := signer.Parse(r.PathValue("token")); err != nil {
		s.writeError(w, r, errNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, `<!doctype html><html><body><form method="post" action="%s">`+
		`<input type="hidden" name="List-Unsubscribe" value="One-Click">`+
		`<button type="submit">Unsubscribe / 退订</button></form></body></html>`, html.EscapeString(r.URL.Path))
}

// unsubscribe answers POST /unsubscribe/{token} (RFC 8058 one-click: the
// body is List-Unsubscribe=One-Click, no credentials): the token's contact
// is opted out of the shop's messages before the next send. Idempotent;
// 404 for a token ordercare did not issue.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request, signer consent.Signer) {
	u, err := signer.Parse(r.PathValue("token"))
	if err != nil {
		s.writeError(w, r, errNotFound)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil || r.PostForm.Get("List-Unsubscribe") != "One-Click" {
		s.writeError(w, r, care.Invalid("List-Unsubscribe", "the body must be List-Unsubscribe=One-Click"))
		return
	}
	if err := s.optOut(r, u); err != nil {
		if errors.Is(err, care.ErrNotFound) {
			err = errNotFound
		}
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, `<!doctype html><html><body><p>You are unsubscribed. / 您已退订。</p></body></html>`)
}

// optOut records u. Today's store keeps one opt-out per contact covering
// every message, stricter than a marketing-only unsubscribe asks.
func (s *Server) optOut(r *http.Request, u consent.Unsubscribe) error {
	return s.store.OptOut(r.Context(), u.Shop, u.Contact, s.now().UTC())
}
