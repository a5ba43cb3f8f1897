package httpapi

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// WebhookChannelRequest is the body of PUT /v1/shops/{shop}/channels/webhook:
// where ordercare POSTs the shop's outbound messages, and the Standard
// Webhooks secret it signs them with.
type WebhookChannelRequest struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

// WebhookChannelResponse answers the PUT; the secret is never echoed.
type WebhookChannelResponse struct {
	ShopID    string    `json:"shop_id"`
	Channel   string    `json:"channel"`
	URL       string    `json:"url"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks the request: an absolute https URL (http only to
// 127.0.0.1 or localhost), no credentials in it, and a "whsec_" secret of at
// least 24 base64-encoded bytes.
func (req WebhookChannelRequest) Validate() error {
	u, err := url.Parse(req.URL)
	if err != nil || len(req.URL) > 2048 || u.Host == "" || u.Opaque != "" {
		return care.Invalid("url", "an absolute https URL of at most 2048 characters")
	}
	switch host := u.Hostname(); {
	case u.Scheme == "https":
	case u.Scheme == "http" && (host == "127.0.0.1" || host == "localhost" || host == "::1"):
	default:
		return care.Invalid("url", "must use https (http only for 127.0.0.1 or localhost)")
	}
	if u.User != nil {
		return care.Invalid("url", "must not carry credentials; the secret signs each message")
	}
	if u.Fragment != "" {
		return care.Invalid("url", "must not have a fragment")
	}
	raw, ok := strings.CutPrefix(req.Secret, "whsec_")
	if b, err := base64.StdEncoding.DecodeString(raw); !ok || err != nil || len(b) < 24 || len(req.Secret) > 512 {
		return care.Invalid("secret", "must be whsec_ followed by base64 of at least 24 bytes")
	}
	return nil
}

func (s *Server) putWebhookChannel(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, r.PathValue("shop"), care.RoleOps)
	var req WebhookChannelRequest
	if err == nil {
		err = decodeStrict(r, &req)
	}
	if err == nil {
		err = req.Validate()
	}
	src := care.Source{ShopID: shopID, Name: care.ChannelWebhook, URL: req.URL, Secret: req.Secret, UpdatedAt: s.now().UTC()}
	if err == nil {
		err = s.store.PutSource(r.Context(), src)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, WebhookChannelResponse{ShopID: shopID, Channel: "webhook", URL: src.URL, UpdatedAt: src.UpdatedAt})
}
