package httpapi

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"strings"
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

// optOut records u: with consents kept (Config.Consents), as the scope it
// names on the email channel; without, as the store's opt-out of every
// message (stricter than a marketing-only unsubscribe asks).
func (s *Server) optOut(r *http.Request, u consent.Unsubscribe) error {
	if s.consents == nil {
		return s.store.OptOut(r.Context(), u.Shop, u.Contact, s.now().UTC())
	}
	state := consent.OptedOutMarketing
	if u.Scope == consent.ScopeAll {
		state = consent.OptedOutAll
	}
	return s.consents.PutConsent(r.Context(), consent.Record{ShopID: u.Shop, Contact: u.Contact, Channel: "email",
		State: state, Source: consent.SourceUnsubscribe, At: s.now().UTC()})
}

// ConsentRequest is the body of POST /v1/shops/{shop}/consents: what a
// buyer told an agent or the shop (or agreed to at checkout). Contact is
// the phone (E.164) or address; only its hash is stored.
type ConsentRequest struct {
	Contact string `json:"contact"`
	Channel string `json:"channel"` // sms, email, webhook or "*"
	State   string `json:"state"`   // granted, opted_out_marketing or opted_out_all
	Source  string `json:"source,omitempty"`
}

// ConsentResponse answers it: the stored statement, without the contact.
type ConsentResponse struct {
	ShopID  string    `json:"shop_id"`
	Channel string    `json:"channel"`
	State   string    `json:"state"`
	Source  string    `json:"source"`
	At      time.Time `json:"at"`
}

// postConsent records a buyer's statement (ops or agent).
func (s *Server) postConsent(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, r.PathValue("shop"), care.RoleOps, care.RoleAgent)
	var req ConsentRequest
	if err == nil {
		err = decodeStrict(r, &req)
	}
	if err == nil {
		err = req.validate()
	}
	rec := consent.Record{ShopID: shopID, Contact: care.ContactKey(req.Contact), Channel: req.Channel, State: req.State, Source: req.Source, At: s.now().UTC()}
	if rec.Source == "" {
		rec.Source = consent.SourceAPI
	}
	if err == nil {
		err = s.consents.PutConsent(r.Context(), rec)
	}
	if err == nil && req.State == consent.OptedOutAll && req.Channel == consent.AllChannels {
		err = s.store.OptOut(r.Context(), shopID, rec.Contact, rec.At)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ConsentResponse{ShopID: shopID, Channel: rec.Channel, State: rec.State, Source: rec.Source, At: rec.At})
}

func (req ConsentRequest) validate() error {
	c := strings.TrimSpace(req.Contact)
	if c == "" || len(c) > 254 || (!strings.HasPrefix(c, "+") && !strings.Contains(c, "@")) {
		return care.Invalid("contact", "the buyer's phone in E.164 (+86…) or email address")
	}
	switch req.Channel {
	case "sms", "email", "webhook", consent.AllChannels:
	default:
		return care.Invalid("channel", `sms, email, webhook or "*"`)
	}
	if !consent.ValidState(req.State) {
		return care.Invalid("state", "granted, opted_out_marketing or opted_out_all")
	}
	switch req.Source {
	case "", consent.SourceAPI, consent.SourceCheckout, consent.SourceReply:
	default:
		return care.Invalid("source", "api, checkout or reply")
	}
	return nil
}
