package care

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"time"
)

var shopIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,39}$`)

// ValidateShopID checks a shop id: 2-40 characters, lower-case letters,
// digits, '-' and '_', starting with a letter or digit. Stores rely on it
// (no separator characters can appear in their keys).
func ValidateShopID(field, id string) error {
	if !shopIDRE.MatchString(id) {
		return Invalid(field, "2-40 characters: lower-case letters, digits, - and _")
	}
	return nil
}

// Shop is a tenant: every order, event, key and credential belongs to one shop.
type Shop struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Timezone  string    `json:"timezone"` // IANA zone, e.g. "Asia/Shanghai"
	Locale    string    `json:"locale"`   // BCP 47, e.g. "zh-CN"
	Currency  string    `json:"currency"` // ISO 4217, e.g. "CNY"
	CreatedAt time.Time `json:"created_at"`

	// ServiceHours are when the shop's agents work (see ServiceHours); nil
	// means DefaultServiceHours. Set with Shops.SetServiceHours.
	ServiceHours *ServiceHours `json:"service_hours,omitempty"`
}

// Role is what an API key may do.
type Role string

// Roles. Admin is the runtime's own token, not a shop key.
const (
	RoleAdmin Role = "admin"
	RoleOps   Role = "ops"
	RoleAgent Role = "agent"
)

// APIKey is a shop's key as stored: only the hash of the secret is kept.
type APIKey struct {
	Hash   string `json:"hash"` // HashKey of the secret
	ShopID string `json:"shop_id"`
	Role   Role   `json:"role"`
}

// HashKey returns the stored form of an API key secret (hex SHA-256; keys are
// 256-bit random, so a fast hash is enough).
func HashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Source names a webhook source a shop can connect.
const (
	SourceStandard    = "standard"
	SourceShopify     = "shopify"
	SourceWooCommerce = "woocommerce"
	SourceDouyin      = "douyin"
	// SourceAfterShip and Source17Track are carrier-tracking services: they
	// report parcel statuses (shipment.updated) for orders another source
	// created. Both take Secret: AfterShip's webhook secret, 17TRACK's API
	// (security) key.
	SourceAfterShip = "aftership"
	Source17Track   = "17track"
	// SourceJudgeme is Judge.me's review webhooks (review.posted); Secret is
	// the secret its webhooks are signed with.
	SourceJudgeme = "judgeme"
)

// ChannelWebhook is the Source name under which a shop's outbound webhook
// channel is stored: URL and the whsec_ Secret ordercare signs messages with.
// It is not a webhook source: /webhooks/{shop}/{source} refuses it.
const ChannelWebhook = "channel.webhook"

// Sources lists every known source name.
var Sources = []string{SourceStandard, SourceShopify, SourceWooCommerce, SourceDouyin, SourceAfterShip, Source17Track, SourceJudgeme}

// Source holds the credentials a platform signs a shop's webhooks with.
// Secret is used by standard (the whsec_ secret), shopify, woocommerce,
// aftership and 17track;
// AppKey and AppSecret by douyin. These values are secrets: never log them.
type Source struct {
	ShopID    string    `json:"shop_id"`
	Name      string    `json:"name"`
	Secret    string    `json:"secret,omitempty"`
	URL       string    `json:"url,omitempty"` // where an outbound channel POSTs (ChannelWebhook)
	AppKey    string    `json:"app_key,omitempty"`
	AppSecret string    `json:"app_secret,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}
