package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// ShopRequest is the body of POST /v1/shops.
type ShopRequest struct {
	ID       string `json:"id,omitempty"` // optional: a chosen id (admin), else generated
	Name     string `json:"name"`
	Timezone string `json:"timezone"`
	Locale   string `json:"locale"`
	Currency string `json:"currency"`
}

// NewShopResponse is the answer to POST /v1/shops. The keys and the webhook
// secret are shown this once; only their hashes (keys) are kept readable.
type NewShopResponse struct {
	care.Shop
	Keys          map[care.Role]string `json:"keys"`
	WebhookSecret string               `json:"webhook_secret"`
	Webhooks      map[string]string    `json:"webhooks"`
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return strings.ToLower(strings.TrimRight(base32.StdEncoding.EncodeToString(b), "="))
}

// NewWebhookSecret returns a fresh Standard Webhooks secret ("whsec_" + base64 of 32 random bytes).
func NewWebhookSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

func (s *Server) createShop(w http.ResponseWriter, r *http.Request) {
	err := s.requireAdmin(r)
	var req ShopRequest
	if err == nil {
		err = decodeStrict(r, &req)
	}
	if err == nil {
		err = req.Validate()
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp, err := CreateShop(r.Context(), s.store, s.now(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, resp)
}

// Validate checks the request and names the first bad field.
func (req *ShopRequest) Validate() error {
	if req.ID != "" {
		if err := care.ValidateShopID("id", req.ID); err != nil {
			return err
		}
	}
	if strings.TrimSpace(req.Name) == "" || len(req.Name) > 200 {
		return care.Invalid("name", "required, at most 200 characters")
	}
	if err := care.ValidateTimezone("timezone", req.Timezone); err != nil {
		return err
	}
	if err := care.ValidateLocale("locale", req.Locale); err != nil {
		return err
	}
	return care.ValidateCurrency("currency", req.Currency)
}

// CreateShop creates a shop with fresh ops and agent keys and a Standard
// Webhooks secret (stored as its "standard" source); req must be valid.
// ErrConflict if req.ID is taken.
func CreateShop(ctx context.Context, store care.Shops, now time.Time, req ShopRequest) (NewShopResponse, error) {
	id := req.ID
	if id == "" {
		id = "s_" + randomToken(8)
	}
	shop := care.Shop{ID: id, Name: strings.TrimSpace(req.Name), Timezone: req.Timezone, Locale: req.Locale,
		Currency: req.Currency, CreatedAt: now.UTC()}
	resp := NewShopResponse{Shop: shop, Keys: map[care.Role]string{}, WebhookSecret: NewWebhookSecret(), Webhooks: map[string]string{}}
	var keys []care.APIKey
	for _, role := range []care.Role{care.RoleOps, care.RoleAgent} {
		secret := "ock_" + string(role) + "_" + randomToken(32)
		resp.Keys[role] = secret
		keys = append(keys, care.APIKey{Hash: care.HashKey(secret), ShopID: id, Role: role})
	}
	for _, src := range care.Sources {
		resp.Webhooks[src] = "/webhooks/" + id + "/" + src
	}
	if err := store.CreateShop(ctx, shop, keys); err != nil {
		return NewShopResponse{}, err
	}
	err := store.PutSource(ctx, care.Source{ShopID: id, Name: care.SourceStandard, Secret: resp.WebhookSecret, UpdatedAt: now.UTC()})
	return resp, err
}

func (s *Server) getShop(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, r.PathValue("shop"), care.RoleOps, care.RoleAgent)
	var shop care.Shop
	if err == nil {
		shop, err = s.store.GetShop(r.Context(), shopID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, shop)
}

// sourceRequest is the body of PUT /v1/shops/{shop}/sources/{source}.
type sourceRequest struct {
	Secret    string `json:"secret,omitempty"`
	AppKey    string `json:"app_key,omitempty"`
	AppSecret string `json:"app_secret,omitempty"`
}

func (req sourceRequest) validate(source string) error {
	switch source {
	case care.SourceShopify, care.SourceWooCommerce, care.SourceStandard, care.SourceAfterShip, care.Source17Track, care.SourceJudgeme:
		if req.AppKey != "" || req.AppSecret != "" {
			return care.Invalid("app_key", "only for douyin; %s takes secret", source)
		}
		if len(req.Secret) < 8 || len(req.Secret) > 512 {
			return care.Invalid("secret", "required, 8-512 characters")
		}
		if source == care.SourceStandard {
			raw, ok := strings.CutPrefix(req.Secret, "whsec_")
			if b, err := base64.StdEncoding.DecodeString(raw); !ok || err != nil || len(b) < 24 {
				return care.Invalid("secret", "must be whsec_ followed by base64 of at least 24 bytes")
			}
		}
	case care.SourceDouyin:
		if req.Secret != "" {
			return care.Invalid("secret", "douyin takes app_key and app_secret")
		}
		if req.AppKey == "" || len(req.AppKey) > 128 {
			return care.Invalid("app_key", "required, at most 128 characters")
		}
		if len(req.AppSecret) < 8 || len(req.AppSecret) > 512 {
			return care.Invalid("app_secret", "required, 8-512 characters")
		}
	}
	return nil
}

func (s *Server) putSource(w http.ResponseWriter, r *http.Request) {
	source := r.PathValue("source")
	shopID, err := s.shopScope(r, r.PathValue("shop"), care.RoleOps)
	if err == nil && !slices.Contains(care.Sources, source) {
		err = &apiError{Status: http.StatusNotFound, Code: "not_found", Reason: "unknown_source", Message: "unknown source " + source}
	}
	var req sourceRequest
	if err == nil {
		err = decodeStrict(r, &req)
	}
	if err == nil {
		err = req.validate(source)
	}
	src := care.Source{ShopID: shopID, Name: source, Secret: req.Secret, AppKey: req.AppKey, AppSecret: req.AppSecret, UpdatedAt: s.now().UTC()}
	if err == nil {
		err = s.store.PutSource(r.Context(), src)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"shop_id": shopID, "source": source, "updated_at": src.UpdatedAt,
		"webhook": "/webhooks/" + shopID + "/" + source})
}
