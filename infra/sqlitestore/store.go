package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/storedjson"
)

// maxPage is the largest page ListEvents and ReadFeed return.
const maxPage = 1000

const timeFormat = time.RFC3339Nano

func formatTime(t time.Time) string { return t.Format(timeFormat) }

func parseTime(s string) (time.Time, error) { return time.Parse(timeFormat, s) }

// CreateShop stores a new shop and its keys atomically; ErrConflict if the
// shop id or a key hash exists; ErrInvalid if a key names another shop.
func (db *DB) CreateShop(ctx context.Context, shop care.Shop, keys []care.APIKey) error {
	for i, k := range keys {
		if k.ShopID != shop.ID {
			return care.Invalid(fmt.Sprintf("keys[%d].shop_id", i), "must be the shop's id %q", shop.ID)
		}
	}
	body, err := json.Marshal(shop)
	if err != nil {
		return fmt.Errorf("create shop %s: %w", shop.ID, err)
	}
	err = db.write(ctx, func(w *writer) error {
		if _, err := w.insertShop.Exec(shop.ID, string(body)); err != nil {
			if isUnique(err) {
				return fmt.Errorf("create shop %s: shop exists: %w", shop.ID, care.ErrConflict)
			}
			return fmt.Errorf("create shop %s: %w", shop.ID, err)
		}
		for _, k := range keys {
			if _, err := w.insertKey.Exec(k.Hash, shop.ID, string(k.Role)); err != nil {
				if isUnique(err) {
					return fmt.Errorf("create shop %s: key hash exists: %w", shop.ID, care.ErrConflict)
				}
				return fmt.Errorf("create shop %s: key: %w", shop.ID, err)
			}
		}
		return nil
	})
	return err
}

// GetShop returns a shop or ErrNotFound.
func (db *DB) GetShop(ctx context.Context, id string) (care.Shop, error) {
	var body string
	if err := db.rs.getShop.QueryRowContext(ctx, id).Scan(&body); err != nil {
		return care.Shop{}, notFound(err, "get shop %s", id)
	}
	var s care.Shop
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		return care.Shop{}, fmt.Errorf("get shop %s: %w", id, err)
	}
	return s, nil
}

// KeyByHash finds an API key by HashKey of its secret, or ErrNotFound.
func (db *DB) KeyByHash(ctx context.Context, hash string) (care.APIKey, error) {
	k := care.APIKey{Hash: hash}
	var role string
	if err := db.rs.keyByHash.QueryRowContext(ctx, hash).Scan(&k.ShopID, &role); err != nil {
		return care.APIKey{}, notFound(err, "key by hash")
	}
	k.Role = care.Role(role)
	return k, nil
}

// PutSource creates or replaces a shop's credentials for one source;
// ErrNotFound if the shop does not exist.
func (db *DB) PutSource(ctx context.Context, src care.Source) error {
	body, err := json.Marshal(src)
	if err != nil {
		return fmt.Errorf("put source %s/%s: %w", src.ShopID, src.Name, err)
	}
	err = db.write(ctx, func(w *writer) error {
		if _, err := w.upsertSource.Exec(src.ShopID, src.Name, string(body)); err != nil {
			if isForeignKey(err) {
				return fmt.Errorf("put source %s/%s: shop %w", src.ShopID, src.Name, care.ErrNotFound)
			}
			return fmt.Errorf("put source %s/%s: %w", src.ShopID, src.Name, err)
		}
		return nil
	})
	db.sources.forget(src.ShopID, src.Name)
	return err
}

// GetSource returns a shop's credentials for a source or ErrNotFound.
func (db *DB) GetSource(ctx context.Context, shopID, name string) (care.Source, error) {
	now := db.cfg.clock.Now()
	if s, ok := db.sources.get(shopID, name, now); ok {
		return s, nil
	}
	var body string
	if err := db.rs.getSource.QueryRowContext(ctx, shopID, name).Scan(&body); err != nil {
		return care.Source{}, notFound(err, "get source %s/%s", shopID, name)
	}
	var s care.Source
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		return care.Source{}, fmt.Errorf("get source %s/%s: %w", shopID, name, err)
	}
	db.sources.put(shopID, name, s, now)
	return s, nil
}

// Ingest records the event, applies it and appends to the feed in one
// savepoint of a group commit (see the package doc). The ingest time given to
// apply, and stored as UpdatedAt and Change.At, is d.ReceivedAt (the clock's
// time when that is zero). The stored state's ShopID is d.ShopID. ErrNotFound
// if the shop does not exist.
func (db *DB) Ingest(ctx context.Context, d care.Delivery, ev care.Event, apply care.ApplyFunc) (care.IngestResult, error) {
	evBody, err := json.Marshal(ev)
	if err != nil {
		return care.IngestResult{}, fmt.Errorf("ingest %s: %w", ev.ID, err)
	}
	var dup bool
	var state []byte
	err = db.write(ctx, func(w *writer) error {
		var err error
		dup, state, err = w.ingest(d, ev, evBody, apply)
		return err
	})
	if err != nil {
		return care.IngestResult{}, err
	}
	// Decoded here, off the writer's path: the caller gets its own copy.
	res := care.IngestResult{Duplicate: dup}
	if err := storedjson.Unmarshal(state, &res.Order); err != nil {
		return care.IngestResult{}, fmt.Errorf("ingest %s: decode order: %w", ev.ID, err)
	}
	return res, nil
}

// ingest runs on the writer; it returns whether ev is a duplicate and the
// order's state as JSON.
func (w *writer) ingest(d care.Delivery, ev care.Event, evBody []byte, apply care.ApplyFunc) (bool, []byte, error) {
	var dupOrder string
	switch err := w.findDup.QueryRow(d.ShopID, d.Source, d.DeliveryID, ev.ID).Scan(&dupOrder); {
	case err == nil:
		cur, err := w.load(d.ShopID, dupOrder)
		if err != nil {
			return false, nil, fmt.Errorf("ingest %s: duplicate of order %s: %w", ev.ID, dupOrder, err)
		}
		return true, cur.json, nil
	case !errors.Is(err, sql.ErrNoRows):
		return false, nil, fmt.Errorf("ingest %s: dedupe: %w", ev.ID, err)
	}

	orderID := ev.Order.ID
	c, err := w.load(d.ShopID, orderID)
	if err != nil && !errors.Is(err, care.ErrNotFound) {
		return false, nil, fmt.Errorf("ingest %s: %w", ev.ID, err)
	}
	var cur *care.OrderState
	var lastSeq int64
	if c != nil {
		var s care.OrderState
		if err := storedjson.Unmarshal(c.json, &s); err != nil {
			return false, nil, fmt.Errorf("ingest %s: order %s: %w", ev.ID, orderID, err)
		}
		cur, lastSeq = &s, c.lastSeq
	}
	now := d.ReceivedAt
	if now.IsZero() {
		now = w.clock.Now().UTC()
	}
	next, err := apply(cur, ev, now)
	if err != nil {
		return false, nil, err
	}
	next.ShopID = d.ShopID
	state, err := json.Marshal(next)
	if err != nil {
		return false, nil, fmt.Errorf("ingest %s: %w", ev.ID, err)
	}
	seq := lastSeq + 1
	at := formatTime(now)
	if _, err := w.upsertOrder.Exec(d.ShopID, orderID, next.Version, seq, string(next.Status), formatTime(next.UpdatedAt), string(state)); err != nil {
		if isForeignKey(err) {
			return false, nil, fmt.Errorf("ingest %s: shop %s: %w", ev.ID, d.ShopID, care.ErrNotFound)
		}
		return false, nil, fmt.Errorf("ingest %s: write order: %w", ev.ID, err)
	}
	if _, err := w.insertEvent.Exec(d.ShopID, orderID, seq, d.Source, d.DeliveryID, ev.ID, string(ev.Type),
		formatTime(d.ReceivedAt), string(evBody)); err != nil {
		if isUnique(err) {
			return false, nil, fmt.Errorf("ingest %s: %w", ev.ID, care.ErrConflict)
		}
		return false, nil, fmt.Errorf("ingest %s: write event: %w", ev.ID, err)
	}
	if _, err := w.insertFeed.Exec(d.ShopID, orderID, ev.ID, string(ev.Type), next.Version, at); err != nil {
		return false, nil, fmt.Errorf("ingest %s: write feed: %w", ev.ID, err)
	}
	w.appended = true
	w.remember(d.ShopID, orderID, &cached{json: state, lastSeq: seq})
	return false, state, nil
}

// load returns an order as the write transaction sees it, from the cache or
// the table; ErrNotFound when absent.
func (w *writer) load(shopID, orderID string) (*cached, error) {
	if c, ok := w.cache[cacheKey(shopID, orderID)]; ok {
		return c, nil
	}
	c := &cached{}
	if err := w.loadOrder.QueryRow(shopID, orderID).Scan(&c.lastSeq, &c.json); err != nil {
		return nil, notFound(err, "load order %s", orderID)
	}
	w.remember(shopID, orderID, c)
	return c, nil
}

// GetOrder returns an order's current state or ErrNotFound.
func (db *DB) GetOrder(ctx context.Context, shopID, orderID string) (care.OrderState, error) {
	var body string
	if err := db.rs.getOrder.QueryRowContext(ctx, shopID, orderID).Scan(&body); err != nil {
		return care.OrderState{}, notFound(err, "get order %s", orderID)
	}
	var s care.OrderState
	if err := storedjson.Unmarshal([]byte(body), &s); err != nil {
		return care.OrderState{}, fmt.Errorf("get order %s: %w", orderID, err)
	}
	return s, nil
}

// GetOrders returns the current states of a shop's orders orderIDs, by id,
// read in one transaction; an order not found is left out. At most
// care.MaxGetOrders ids, else ErrInvalid.
func (db *DB) GetOrders(ctx context.Context, shopID string, orderIDs []string) (map[string]care.OrderState, error) {
	if len(orderIDs) > care.MaxGetOrders {
		return nil, care.Invalid("order_ids", "at most %d", care.MaxGetOrders)
	}
	out := make(map[string]care.OrderState, len(orderIDs))
	if len(orderIDs) == 0 {
		return out, nil
	}
	ids, _ := json.Marshal(orderIDs)
	rows, err := db.query(ctx, `SELECT order_id, state FROM orders WHERE shop_id = ? AND order_id IN (SELECT value FROM json_each(?))`, shopID, string(ids))
	if err != nil {
		return nil, fmt.Errorf("get %d orders: %w", len(orderIDs), err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var body sql.RawBytes // decoded before the next row: not copied
		if err := rows.Scan(&id, &body); err != nil {
			return nil, fmt.Errorf("get %d orders: %w", len(orderIDs), err)
		}
		var s care.OrderState
		if err := storedjson.Unmarshal(body, &s); err != nil {
			return nil, fmt.Errorf("get order %s: %w", id, err)
		}
		out[id] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("get %d orders: %w", len(orderIDs), err)
	}
	return out, nil
}

// ListEvents returns an order's recorded events in apply order, at most limit
// (1..1000, else ErrInvalid) after cursor, and the next page's cursor ("" on
// the last page). A cursor is the decimal seq of the last event returned;
// anything else is ErrInvalid. ErrNotFound for an unknown order.
func (db *DB) ListEvents(ctx context.Context, shopID, orderID, cursor string, limit int) ([]care.RecordedEvent, string, error) {
	if limit < 1 || limit > maxPage {
		return nil, "", care.Invalid("limit", "must be from 1 to %d", maxPage)
	}
	after, err := parseCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	rows, err := db.rs.listEvents.QueryContext(ctx, shopID, orderID, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list events of %s: %w", orderID, err)
	}
	defer rows.Close()
	var out []care.RecordedEvent
	for rows.Next() {
		re := care.RecordedEvent{Delivery: care.Delivery{ShopID: shopID}}
		var received, body string
		if err := rows.Scan(&re.Seq, &re.Delivery.Source, &re.Delivery.DeliveryID, &received, &body); err != nil {
			return nil, "", fmt.Errorf("list events of %s: %w", orderID, err)
		}
		if re.Delivery.ReceivedAt, err = parseTime(received); err != nil {
			return nil, "", fmt.Errorf("list events of %s: received_at: %w", orderID, err)
		}
		if err := json.Unmarshal([]byte(body), &re.Event); err != nil {
			return nil, "", fmt.Errorf("list events of %s: %w", orderID, err)
		}
		out = append(out, re)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list events of %s: %w", orderID, err)
	}
	if len(out) == 0 {
		var one int
		if err := db.rs.orderExists.QueryRowContext(ctx, shopID, orderID).Scan(&one); err != nil {
			return nil, "", notFound(err, "list events of %s", orderID)
		}
		return nil, "", nil
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.FormatInt(out[limit-1].Seq, 10)
	}
	return out, next, nil
}

// ReadFeed returns at most limit (1..1000, else ErrInvalid) changes after
// cursor in the global feed order, and the cursor to continue from (equal to
// cursor when nothing new). A cursor is "" or the decimal seq of the last
// change read; anything else is ErrInvalid.
func (db *DB) ReadFeed(ctx context.Context, cursor string, limit int) ([]care.Change, string, error) {
	if limit < 1 || limit > maxPage {
		return nil, "", care.Invalid("limit", "must be from 1 to %d", maxPage)
	}
	after, err := parseCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	rows, err := db.rs.readFeed.QueryContext(ctx, after, limit)
	if err != nil {
		return nil, "", fmt.Errorf("read feed: %w", err)
	}
	defer rows.Close()
	var out []care.Change
	last := after
	for rows.Next() {
		var c care.Change
		var typ, at string
		if err := rows.Scan(&last, &c.ShopID, &c.OrderID, &c.EventID, &typ, &c.Version, &at); err != nil {
			return nil, "", fmt.Errorf("read feed: %w", err)
		}
		c.Type = care.EventType(typ)
		if c.At, err = parseTime(at); err != nil {
			return nil, "", fmt.Errorf("read feed: at: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("read feed: %w", err)
	}
	if len(out) == 0 {
		return nil, cursor, nil
	}
	return out, strconv.FormatInt(last, 10), nil
}

// parseCursor reads "" as 0 and otherwise a positive decimal in canonical form.
func parseCursor(cursor string) (int64, error) {
	if cursor == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(cursor, 10, 64)
	if err != nil || n < 1 || strconv.FormatInt(n, 10) != cursor {
		return 0, care.Invalid("cursor", "not a cursor this store returned")
	}
	return n, nil
}

// notFound maps sql.ErrNoRows to care.ErrNotFound and adds context.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf(format+": %w", append(args, care.ErrNotFound)...)
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// sourceCache keeps credentials read on every webhook. A change made through
// this handle is seen at once (PutSource forgets the entry); a change made by
// another process on the same file is seen within sourceTTL.
type sourceCache struct {
	mu sync.Mutex
	m  map[[2]string]cachedSource
}

type cachedSource struct {
	src care.Source
	at  time.Time
}

const sourceTTL = 2 * time.Second

func (c *sourceCache) get(shop, name string, now time.Time) (care.Source, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[[2]string{shop, name}]
	if !ok || now.Sub(e.at) > sourceTTL || now.Before(e.at) {
		return care.Source{}, false
	}
	return e.src, true
}

func (c *sourceCache) put(shop, name string, s care.Source, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[[2]string]cachedSource{}
	}
	c.m[[2]string{shop, name}] = cachedSource{s, now}
}

func (c *sourceCache) forget(shop, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, [2]string{shop, name})
}

// SetServiceHours replaces the shop's service hours (nil: the default) in
// one write transaction, so nothing else of the shop changes; ErrNotFound
// if the shop does not exist.
func (db *DB) SetServiceHours(ctx context.Context, shopID string, h *care.ServiceHours) (care.Shop, error) {
	var shop care.Shop
	err := db.write(ctx, func(w *writer) error {
		var body string
		if err := w.queryRow(`SELECT shop FROM shops WHERE id = ?`, shopID).Scan(&body); err != nil {
			return notFound(err, "set service hours of shop %s", shopID)
		}
		shop = care.Shop{}
		if err := json.Unmarshal([]byte(body), &shop); err != nil {
			return fmt.Errorf("set service hours of shop %s: %w", shopID, err)
		}
		shop.ServiceHours = h
		b, err := json.Marshal(shop)
		if err != nil {
			return fmt.Errorf("set service hours of shop %s: %w", shopID, err)
		}
		if _, err := w.exec(`UPDATE shops SET shop = ? WHERE id = ?`, string(b), shopID); err != nil {
			return fmt.Errorf("set service hours of shop %s: %w", shopID, err)
		}
		return nil
	})
	if err != nil {
		return care.Shop{}, err
	}
	return shop, nil
}
