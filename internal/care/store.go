package care

import (
	"context"
	"time"
)

// The store interfaces below are what the domain needs from storage. Two
// implementations exist (infra/sqlitestore, infra/dynamostore) and both pass
// one conformance suite (infra/storetest). Every method is safe for
// concurrent use. Not found is always ErrNotFound, never (zero, nil); one
// shop's data is never visible through another shop's id.
//
// More interfaces (tasks, templates, ledger, metrics) join Store as the
// domain grows; keep each one small.

// Shops stores tenants, their hashed API keys and their source credentials.
type Shops interface {
	// CreateShop stores a new shop (its id passes ValidateShopID, else
	// ErrInvalid) and its keys atomically; ErrConflict if the
	// shop id or a key hash exists (also twice in one call); nothing is
	// written then.
	CreateShop(ctx context.Context, shop Shop, keys []APIKey) error
	// GetShop returns a shop or ErrNotFound.
	GetShop(ctx context.Context, id string) (Shop, error)
	// KeyByHash finds an API key by HashKey of its secret, or ErrNotFound.
	KeyByHash(ctx context.Context, hash string) (APIKey, error)
	// PutSource creates or replaces a shop's credentials for one source;
	// ErrNotFound if the shop does not exist.
	PutSource(ctx context.Context, src Source) error
	// GetSource returns a shop's credentials for a source or ErrNotFound.
	GetSource(ctx context.Context, shopID, name string) (Source, error)
	// SetServiceHours replaces the shop's service hours (nil: back to the
	// default) and returns the shop as stored; nothing else of the shop
	// changes, even with concurrent writers. ErrNotFound if the shop does
	// not exist. The caller validates h.
	SetServiceHours(ctx context.Context, shopID string, h *ServiceHours) (Shop, error)
}

// Delivery identifies one event as a source delivered it.
type Delivery struct {
	ShopID     string    `json:"shop_id"`
	Source     string    `json:"source"`
	DeliveryID string    `json:"delivery_id"` // the source's own id; unique per (shop, source); "" = dedupe by event id only
	ReceivedAt time.Time `json:"received_at"`
}

// RecordedEvent is an event as stored, with how and when it arrived.
type RecordedEvent struct {
	Seq      int64    `json:"seq"` // 1, 2, … per order, in apply order
	Delivery Delivery `json:"delivery"`
	Event    Event    `json:"event"`
}

// Change is one entry of the change feed: an event that was applied to an
// order. The router reads the feed to start, stop and resume workflows.
type Change struct {
	ShopID  string    `json:"shop_id"`
	OrderID string    `json:"order_id"`
	EventID string    `json:"event_id"`
	Type    EventType `json:"type"`
	Version int64     `json:"version"` // the order's version after this event
	At      time.Time `json:"at"`      // when it was ingested
}

// IngestResult tells what Ingest did.
type IngestResult struct {
	// Duplicate: the delivery id or the event id was already recorded for this
	// shop; nothing was written and Order is the current state.
	Duplicate bool
	Order     OrderState
}

// Orders stores events and the orders they are applied to.
type Orders interface {
	// Ingest is the one atomic write of ingestion: unless the delivery id
	// (per shop and source) or the event id (per shop) is already recorded, it
	// records the event, replaces the order with apply(current, ev, now) and
	// appends a Change to the feed — all or nothing. now is d.ReceivedAt
	// (the store's clock when that is zero) and is also the Change's At. The
	// store sets the state's ShopID to d.ShopID. apply may run more than once
	// (optimistic retries) and must be pure. If apply fails, nothing is
	// written, not even the delivery id, and its error is returned as is.
	// ErrNotFound when the shop does not exist.
	Ingest(ctx context.Context, d Delivery, ev Event, apply ApplyFunc) (IngestResult, error)
	// GetOrder returns an order's current state or ErrNotFound.
	GetOrder(ctx context.Context, shopID, orderID string) (OrderState, error)
	// GetOrders returns the current states of up to MaxGetOrders of a
	// shop's orders (more: ErrInvalid), by id, as GetOrder would each; an
	// order that does not exist is left out.
	GetOrders(ctx context.Context, shopID string, orderIDs []string) (map[string]OrderState, error)
	// ListEvents returns an order's recorded events in apply order, at most
	// limit (1..1000) after cursor ("" = from the start), and the cursor of
	// the next page ("" when there is none). ErrNotFound for an unknown order;
	// ErrInvalid for a limit out of range or a cursor the store did not issue.
	ListEvents(ctx context.Context, shopID, orderID, cursor string, limit int) ([]RecordedEvent, string, error)
}

// Feed is the change feed. Entries of one order appear in apply order; the
// embedded store also keeps one global order. Reading does not consume.
type Feed interface {
	// ReadFeed returns at most limit (1..1000) changes after cursor ("" =
	// from the start) and the cursor to continue from (equal to cursor when
	// nothing new). ErrInvalid for a bad limit or a cursor the store did not issue.
	ReadFeed(ctx context.Context, cursor string, limit int) ([]Change, string, error)
}

// Store is everything ingestion needs from storage.
type Store interface {
	Shops
	Orders
	Feed
}

// FindEvent returns one recorded event of an order by its event id, paging
// through ListEvents (orders have few events); ErrNotFound when the order
// has no such event.
func FindEvent(ctx context.Context, o Orders, shopID, orderID, eventID string) (Event, error) {
	cursor := ""
	for {
		evs, next, err := o.ListEvents(ctx, shopID, orderID, cursor, 1000)
		if err != nil {
			return Event{}, err
		}
		for _, e := range evs {
			if e.Event.ID == eventID {
				return e.Event, nil
			}
		}
		if next == "" {
			return Event{}, ErrNotFound
		}
		cursor = next
	}
}

// MaxGetOrders is the most orders one GetOrders call reads.
const MaxGetOrders = 1000
