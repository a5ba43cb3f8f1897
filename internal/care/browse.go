package care

import "context"

// ShopAdmin is what the runtime's administrator needs beyond Shops: list
// every shop and replace a lost key.
type ShopAdmin interface {
	// ListShops returns shops in id order, at most limit (1..1000) after
	// cursor ("" = from the start), and the next cursor ("" when there is
	// none). ErrInvalid for a bad limit or a cursor the store did not issue.
	ListShops(ctx context.Context, cursor string, limit int) ([]Shop, string, error)
	// ReplaceKeys stores key and deletes every other key of key.ShopID with
	// key.Role, atomically: afterwards KeyByHash finds the new key and none
	// of the old ones of that role. ErrNotFound when the shop does not
	// exist; ErrConflict when key.Hash is stored already; nothing is
	// changed then.
	ReplaceKeys(ctx context.Context, key APIKey) error
}

// OrderFilter selects orders of one shop. Empty fields match everything.
type OrderFilter struct {
	Status Status
}

// RunFilter selects runs of one shop. Empty fields match everything.
type RunFilter struct {
	Workflow Workflow
	Status   RunStatus
}

// Browse lists what a shop's ops look through, most recent first. Each
// method returns at most limit (1..1000) entries after cursor ("" = the
// most recent) and the next cursor ("" when there is none); ErrInvalid for
// a bad limit or a cursor the store did not issue. A page boundary is
// stable under concurrent writes: an entry is never returned twice, though
// one written after the first page was read may be missed.
type Browse interface {
	// ListOrders returns a shop's orders matching f, most recently updated
	// first (UpdatedAt, then order id, both descending; UpdatedAt compared
	// to the millisecond).
	ListOrders(ctx context.Context, shopID string, f OrderFilter, cursor string, limit int) ([]OrderState, string, error)
	// ListRecentRuns returns a shop's runs matching f, most recently
	// started first (StartedAt, then workflow and order id, descending).
	ListRecentRuns(ctx context.Context, shopID string, f RunFilter, cursor string, limit int) ([]Run, string, error)
	// ListRecentMessages returns a shop's ledger entries newest first (At,
	// then ID, descending).
	ListRecentMessages(ctx context.Context, shopID, cursor string, limit int) ([]Message, string, error)
}
