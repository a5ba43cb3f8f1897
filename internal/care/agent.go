package care

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"regexp"
	"strings"
	"time"
)

// Agent is a person who works a shop's task queue under their own name. The
// personal key (see AgentKey) authenticates as the agent; only its hash is
// stored. An inactive agent's key and sessions are refused.
type Agent struct {
	ShopID    string    `json:"shop_id"`
	ID        string    `json:"id"`   // ValidateAgentID; what tasks record as their holder
	Name      string    `json:"name"` // display name, 1-80 characters
	Active    bool      `json:"active"`
	KeyHash   string    `json:"key_hash"` // HashKey of the personal key; never shown by the API
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Agents stores a shop's agents. Every method is safe for concurrent use.
type Agents interface {
	// CreateAgent stores a new agent: ErrConflict if the shop has an agent
	// with that id, ErrNotFound if the shop does not exist; nothing is
	// written then.
	CreateAgent(ctx context.Context, a Agent) error
	// GetAgent returns one agent of a shop or ErrNotFound.
	GetAgent(ctx context.Context, shopID, id string) (Agent, error)
	// ListAgents returns a shop's agents ordered by id (empty, not an error,
	// for a shop without agents).
	ListAgents(ctx context.Context, shopID string) ([]Agent, error)
	// UpdateAgent replaces the name, active flag, key hash and UpdatedAt of
	// an existing agent (ShopID and ID select it; CreatedAt is kept):
	// ErrNotFound if it does not exist.
	UpdateAgent(ctx context.Context, a Agent) error
}

var agentIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,39}$`)

// ValidateAgentID checks an agent id: 2-40 characters, lower-case letters,
// digits, '-' and '_', starting with a letter or digit (never '.', which
// separates the parts of a personal key).
func ValidateAgentID(field, id string) error {
	if !agentIDRE.MatchString(id) {
		return Invalid(field, "2-40 characters: lower-case letters, digits, - and _")
	}
	return nil
}

// AgentKeyPrefix starts every personal agent key.
const AgentKeyPrefix = "oca_"

// NewAgentKey returns a fresh personal key for agent id of shop:
// "oca_<shop>.<agent>.<secret>" with a 256-bit random secret. The shop and
// agent parts let the key be checked with one read (GetAgent) instead of an
// index of hashes.
func NewAgentKey(shopID, id string) string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return AgentKeyPrefix + shopID + "." + id + "." + base64.RawURLEncoding.EncodeToString(b[:])
}

// ParseAgentKey splits a personal agent key into its shop and agent ids; ok
// is false when key does not have the shape NewAgentKey gives.
func ParseAgentKey(key string) (shopID, id string, ok bool) {
	rest, ok := strings.CutPrefix(key, AgentKeyPrefix)
	if !ok {
		return "", "", false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 || ValidateShopID("", parts[0]) != nil || ValidateAgentID("", parts[1]) != nil || len(parts[2]) < 16 {
		return "", "", false
	}
	return parts[0], parts[1], true
}
