package receipts

import (
	"context"
	"time"
)

// Ref is the ledger entry a provider's message id stands for.
type Ref struct {
	ShopID   string `json:"shop_id"`
	OrderID  string `json:"order_id"`
	LedgerID string `json:"ledger_id"`
}

// Refs maps providers' message ids to ledger entries, for what names only
// the provider's id: a two-way SMS reply names the last message sent to
// the number (previousPublishedMessageId), not the shop or the order. Both
// stores implement it and pass storetest.RunRefs. It holds ids only.
type Refs interface {
	// PutRef stores r under providerID until expires (GetRef finds it
	// before that instant only); putting again replaces it. ErrInvalid
	// for an empty providerID or field of r.
	PutRef(ctx context.Context, providerID string, r Ref, expires time.Time) error
	// GetRef returns the Ref of providerID as of now. ErrNotFound when
	// none was put or it expired at or before now (on DynamoDB the item
	// goes later, by TTL; reads never return it past its expiry).
	GetRef(ctx context.Context, providerID string, now time.Time) (Ref, error)
}
