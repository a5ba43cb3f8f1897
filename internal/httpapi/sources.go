package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// SourceInfo is one entry of GET /v1/shops/{shop}/sources: a webhook source,
// whether the shop connected it, and its webhook path. Secrets never appear.
type SourceInfo struct {
	Source    string     `json:"source"`
	Connected bool       `json:"connected"`
	Webhook   string     `json:"webhook"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// SourcesPage is the answer to GET /v1/shops/{shop}/sources: every source in
// care.Sources order, and the outbound webhook channel (URL only) when set.
type SourcesPage struct {
	Sources []SourceInfo            `json:"sources"`
	Channel *WebhookChannelResponse `json:"webhook_channel,omitempty"`
}

// listSources is GET /v1/shops/{shop}/sources (ops).
func (s *Server) listSources(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, r.PathValue("shop"), care.RoleOps)
	page := SourcesPage{Sources: []SourceInfo{}}
	for _, name := range care.Sources {
		if err != nil {
			break
		}
		info := SourceInfo{Source: name, Webhook: "/webhooks/" + shopID + "/" + name}
		src, gerr := s.store.GetSource(r.Context(), shopID, name)
		switch {
		case gerr == nil:
			at := src.UpdatedAt
			info.Connected, info.UpdatedAt = true, &at
		case !errors.Is(gerr, care.ErrNotFound):
			err = gerr
		}
		page.Sources = append(page.Sources, info)
	}
	if err == nil {
		ch, gerr := s.store.GetSource(r.Context(), shopID, care.ChannelWebhook)
		switch {
		case gerr == nil:
			page.Channel = &WebhookChannelResponse{ShopID: shopID, Channel: "webhook", URL: ch.URL, UpdatedAt: ch.UpdatedAt}
		case !errors.Is(gerr, care.ErrNotFound):
			err = gerr
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}
