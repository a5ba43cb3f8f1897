package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/erasure"
)

// erasureSchema is a migration: the record of erasures.
const erasureSchema = `
	CREATE TABLE erasures (
		shop_id TEXT NOT NULL,
		at      TEXT NOT NULL,
		contact TEXT NOT NULL,
		record  TEXT NOT NULL,
		PRIMARY KEY (shop_id, at, contact)
	) STRICT;`

var _ erasure.Store = (*DB)(nil)

// rowEdit is one JSON column to rewrite.
type rowEdit struct {
	q    string
	args []any
}

// EraseBuyer scrubs the buyer's orders, events, ledger entries and tasks
// in one transaction (see erasure.Store). It reads the shop's orders, then
// rewrites what matched; the writer's order cache is emptied.
func (db *DB) EraseBuyer(ctx context.Context, shopID, contact string, at time.Time) (erasure.Record, error) {
	if shopID == "" || contact == "" {
		return erasure.Record{}, care.Invalid("contact", "empty")
	}
	rec := erasure.Record{ShopID: shopID, Contact: contact, At: at}
	var edits []rowEdit
	rows, err := db.query(ctx, `SELECT order_id, state FROM orders WHERE shop_id = ?`, shopID)
	if err != nil {
		return rec, fmt.Errorf("erase: %w", err)
	}
	var orders []string
	for rows.Next() {
		var id, body string
		var s care.OrderState
		if err := rows.Scan(&id, &body); err != nil || json.Unmarshal([]byte(body), &s) != nil {
			rows.Close()
			return rec, fmt.Errorf("erase: read order %s: %v", id, err)
		}
		if !erasure.Matches(s.Order, contact) {
			continue
		}
		erasure.ScrubOrder(&s)
		b, _ := json.Marshal(s)
		edits = append(edits, rowEdit{`UPDATE orders SET state = ? WHERE shop_id = ? AND order_id = ?`, []any{string(b), shopID, id}})
		orders = append(orders, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rec, fmt.Errorf("erase: %w", err)
	}
	rec.Orders = len(orders)
	for _, id := range orders {
		n, e, err := db.scrubRows(ctx, `SELECT seq, event FROM events WHERE shop_id = ? AND order_id = ?`, shopID, id,
			`UPDATE events SET event = ? WHERE shop_id = ? AND order_id = ? AND seq = ?`, func(b []byte) ([]byte, error) {
				var ev care.Event
				if err := json.Unmarshal(b, &ev); err != nil {
					return nil, err
				}
				erasure.ScrubEvent(&ev)
				return json.Marshal(ev)
			})
		if err != nil {
			return rec, err
		}
		rec.Events += n
		edits = append(edits, e...)
		n, e, err = db.scrubRows(ctx, `SELECT id, message FROM messages WHERE shop_id = ? AND order_id = ?`, shopID, id,
			`UPDATE messages SET message = ? WHERE shop_id = ? AND order_id = ? AND id = ?`, func(b []byte) ([]byte, error) {
				var m care.Message
				if err := json.Unmarshal(b, &m); err != nil {
					return nil, err
				}
				erasure.ScrubMessage(&m)
				return json.Marshal(m)
			})
		if err != nil {
			return rec, err
		}
		rec.Messages += n
		edits = append(edits, e...)
		n, e, err = db.scrubRows(ctx, `SELECT id, task FROM tasks WHERE shop_id = ? AND order_id = ?`, shopID, id,
			`UPDATE tasks SET task = ? WHERE shop_id = ? AND order_id = ? AND id = ?`, func(b []byte) ([]byte, error) {
				var t care.Task
				if err := json.Unmarshal(b, &t); err != nil {
					return nil, err
				}
				erasure.ScrubTask(&t)
				return json.Marshal(t)
			})
		if err != nil {
			return rec, err
		}
		rec.Tasks += n
		edits = append(edits, e...)
	}
	body, _ := json.Marshal(rec)
	err = db.write(ctx, func(w *writer) error {
		w.forget()
		for _, e := range edits {
			if _, err := w.exec(e.q, e.args...); err != nil {
				return fmt.Errorf("erase: %w", err)
			}
		}
		_, err := w.exec(`INSERT INTO erasures (shop_id, at, contact, record) VALUES (?, ?, ?, ?)
			ON CONFLICT (shop_id, at, contact) DO UPDATE SET record = excluded.record`, shopID, sortTime(at), contact, string(body))
		return err
	})
	if err != nil {
		return rec, fmt.Errorf("erase: %w", err)
	}
	return rec, nil
}

// scrubRows reads (key, JSON) rows of one order with sel and returns an
// update (upd: JSON, shop, order, key) per row, scrubbed by fn.
func (db *DB) scrubRows(ctx context.Context, sel, shopID, orderID, upd string, fn func([]byte) ([]byte, error)) (int, []rowEdit, error) {
	rows, err := db.query(ctx, sel, shopID, orderID)
	if err != nil {
		return 0, nil, fmt.Errorf("erase: %w", err)
	}
	defer rows.Close()
	var edits []rowEdit
	for rows.Next() {
		var key any
		var body string
		if err := rows.Scan(&key, &body); err != nil {
			return 0, nil, fmt.Errorf("erase: %w", err)
		}
		b, err := fn([]byte(body))
		if err != nil {
			return 0, nil, fmt.Errorf("erase: %w", err)
		}
		edits = append(edits, rowEdit{upd, []any{string(b), shopID, orderID, key}})
	}
	return len(edits), edits, rows.Err()
}

// ListErasures returns the shop's erasures, oldest first.
func (db *DB) ListErasures(ctx context.Context, shopID string) ([]erasure.Record, error) {
	rows, err := db.query(ctx, `SELECT record FROM erasures WHERE shop_id = ? ORDER BY at, contact`, shopID)
	if err != nil {
		return nil, fmt.Errorf("list erasures: %w", err)
	}
	defer rows.Close()
	var out []erasure.Record
	for rows.Next() {
		var body string
		var r erasure.Record
		if err := rows.Scan(&body); err != nil || json.Unmarshal([]byte(body), &r) != nil {
			return nil, fmt.Errorf("list erasures: %v", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
