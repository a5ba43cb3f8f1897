package sqlitestore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/storedjson"
)

// The lists of care.ShopAdmin and care.Browse. A cursor is the base64url
// form of a JSON array holding the sort key of the last entry returned;
// anything else is ErrInvalid.

func keyCursor(parts ...string) string {
	b, _ := json.Marshal(parts)
	return base64.RawURLEncoding.EncodeToString(b)
}

// parseKeyCursor decodes a cursor of n parts; "" gives the sentinels, which
// sort after every stored key ("~" is above the digits a time starts with).
func parseKeyCursor(cursor string, n int) ([]string, error) {
	if cursor == "" {
		parts := make([]string, n)
		parts[0] = "~"
		return parts, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	var parts []string
	if err != nil || json.Unmarshal(raw, &parts) != nil || len(parts) != n || parts[0] == "" {
		return nil, care.Invalid("cursor", "not a cursor this store returned")
	}
	return parts, nil
}

func checkLimit(limit int) error {
	if limit < 1 || limit > maxPage {
		return care.Invalid("limit", "must be from 1 to %d", maxPage)
	}
	return nil
}

// ListShops returns shops in id order (see care.ShopAdmin).
func (db *DB) ListShops(ctx context.Context, cursor string, limit int) ([]care.Shop, string, error) {
	if err := checkLimit(limit); err != nil {
		return nil, "", err
	}
	after := ""
	if cursor != "" {
		p, err := parseKeyCursor(cursor, 1)
		if err != nil {
			return nil, "", err
		}
		after = p[0]
	}
	rows, err := db.query(ctx, `SELECT id, shop FROM shops WHERE id > ? ORDER BY id LIMIT ?`, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list shops: %w", err)
	}
	defer rows.Close()
	var out []care.Shop
	for rows.Next() {
		var id, body string
		if err := rows.Scan(&id, &body); err != nil {
			return nil, "", fmt.Errorf("list shops: %w", err)
		}
		var s care.Shop
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			return nil, "", fmt.Errorf("list shops: %s: %w", id, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list shops: %w", err)
	}
	if len(out) <= limit {
		return out, "", nil
	}
	out = out[:limit]
	return out, keyCursor(out[limit-1].ID), nil
}

// ReplaceKeys stores key and deletes the shop's other keys of its role in
// one write (see care.ShopAdmin).
func (db *DB) ReplaceKeys(ctx context.Context, key care.APIKey) error {
	return db.write(ctx, func(w *writer) error {
		var one int
		if err := w.queryRow(`SELECT 1 FROM shops WHERE id = ?`, key.ShopID).Scan(&one); err != nil {
			return notFound(err, "replace %s key of shop %s", key.Role, key.ShopID)
		}
		if _, err := w.exec(`INSERT INTO api_keys (hash, shop_id, role) VALUES (?, ?, ?)`, key.Hash, key.ShopID, string(key.Role)); err != nil {
			if isUnique(err) {
				return fmt.Errorf("replace %s key of shop %s: key hash exists: %w", key.Role, key.ShopID, care.ErrConflict)
			}
			return fmt.Errorf("replace %s key of shop %s: %w", key.Role, key.ShopID, err)
		}
		if _, err := w.exec(`DELETE FROM api_keys WHERE shop_id = ? AND role = ? AND hash <> ?`, key.ShopID, string(key.Role), key.Hash); err != nil {
			return fmt.Errorf("replace %s key of shop %s: %w", key.Role, key.ShopID, err)
		}
		return nil
	})
}

// browseSchema is a migration: ListOrders reads the orders of a shop by
// update time through this index (its expression is orderKey, verbatim).
const browseSchema = `CREATE INDEX orders_updated ON orders (shop_id, strftime('%Y-%m-%dT%H:%M:%f', updated_at), order_id);`

// orderKey is the sort key of orders.updated_at (stored as RFC 3339 with
// any offset): UTC to the millisecond.
const orderKey = `strftime('%Y-%m-%dT%H:%M:%f', updated_at)`

// ListOrders returns a shop's orders, most recently updated first (see care.Browse).
func (db *DB) ListOrders(ctx context.Context, shopID string, f care.OrderFilter, cursor string, limit int) ([]care.OrderState, string, error) {
	if err := checkLimit(limit); err != nil {
		return nil, "", err
	}
	c, err := parseKeyCursor(cursor, 2)
	if err != nil {
		return nil, "", err
	}
	// Walks the index orders_updated backwards (browseSchema).
	rows, err := db.query(ctx, `SELECT `+orderKey+`, order_id, state FROM orders
		WHERE shop_id = ? AND (? = '' OR status = ?) AND (`+orderKey+`, order_id) < (?, ?)
		ORDER BY `+orderKey+` DESC, order_id DESC LIMIT ?`, shopID, string(f.Status), string(f.Status), c[0], c[1], limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list orders: %w", err)
	}
	defer rows.Close()
	var out []care.OrderState
	var last [2]string
	for rows.Next() {
		var k, id, body string
		if err := rows.Scan(&k, &id, &body); err != nil {
			return nil, "", fmt.Errorf("list orders: %w", err)
		}
		if len(out) == limit {
			return out, keyCursor(last[0], last[1]), nil
		}
		var o care.OrderState
		if err := storedjson.Unmarshal([]byte(body), &o); err != nil {
			return nil, "", fmt.Errorf("list orders: %s: %w", id, err)
		}
		out, last = append(out, o), [2]string{k, id}
	}
	return out, "", rows.Err()
}

// ListRecentRuns returns a shop's runs, most recently started first (see care.Browse).
func (db *DB) ListRecentRuns(ctx context.Context, shopID string, f care.RunFilter, cursor string, limit int) ([]care.Run, string, error) {
	if err := checkLimit(limit); err != nil {
		return nil, "", err
	}
	c, err := parseKeyCursor(cursor, 4)
	if err != nil {
		return nil, "", err
	}
	rows, err := db.query(ctx, `SELECT started_at, workflow, order_id, subject, rev, run FROM runs
		WHERE shop_id = ? AND (? = '' OR workflow = ?) AND (? = '' OR json_extract(run, '$.status') = ?)
		AND (started_at, workflow, order_id, subject) < (?, ?, ?, ?)
		ORDER BY started_at DESC, workflow DESC, order_id DESC, subject DESC LIMIT ?`,
		shopID, string(f.Workflow), string(f.Workflow), string(f.Status), string(f.Status), c[0], c[1], c[2], c[3], limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	var out []care.Run
	var last [4]string
	for rows.Next() {
		var k [4]string
		var rev int64
		var body string
		if err := rows.Scan(&k[0], &k[1], &k[2], &k[3], &rev, &body); err != nil {
			return nil, "", fmt.Errorf("list runs: %w", err)
		}
		if len(out) == limit {
			return out, keyCursor(last[:]...), nil
		}
		var r care.Run
		if err := storedjson.Unmarshal([]byte(body), &r); err != nil {
			return nil, "", fmt.Errorf("list runs: %w", err)
		}
		r.Rev = rev
		out, last = append(out, r), k
	}
	return out, "", rows.Err()
}

// ListRecentMessages returns a shop's ledger entries newest first (see care.Browse).
func (db *DB) ListRecentMessages(ctx context.Context, shopID, cursor string, limit int) ([]care.Message, string, error) {
	if err := checkLimit(limit); err != nil {
		return nil, "", err
	}
	c, err := parseKeyCursor(cursor, 2)
	if err != nil {
		return nil, "", err
	}
	rows, err := db.query(ctx, `SELECT at, id, message FROM messages WHERE shop_id = ? AND (at, id) < (?, ?)
		ORDER BY at DESC, id DESC LIMIT ?`, shopID, c[0], c[1], limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list recent messages: %w", err)
	}
	out, ats, ids, err := scanMessages(rows)
	if err != nil {
		return nil, "", fmt.Errorf("list recent messages: %w", err)
	}
	if len(out) <= limit {
		return out, "", nil
	}
	return out[:limit], keyCursor(ats[limit-1], ids[limit-1]), nil
}
