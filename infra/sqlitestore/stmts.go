package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ordercare/ordercare/internal/clock"
)

// writer holds the write connection's prepared statements. Only the writer
// goroutine uses it.
type writer struct {
	clock clock.Clock

	savepoint, rollbackTo, release *sql.Stmt

	insertShop, insertKey, upsertSource *sql.Stmt

	findDup, loadOrder, upsertOrder, insertEvent, insertFeed *sql.Stmt
}

func prepareWriter(ctx context.Context, c *sql.Conn, clk clock.Clock) (*writer, error) {
	w := &writer{clock: clk}
	list := []struct {
		dst **sql.Stmt
		sql string
	}{
		{&w.savepoint, `SAVEPOINT call`},
		{&w.rollbackTo, `ROLLBACK TO call`},
		{&w.release, `RELEASE call`},
		{&w.insertShop, `INSERT INTO shops (id, shop) VALUES (?, ?)`},
		{&w.insertKey, `INSERT INTO api_keys (hash, shop_id, role) VALUES (?, ?, ?)`},
		{&w.upsertSource, `INSERT INTO sources (shop_id, name, source) VALUES (?, ?, ?)
			ON CONFLICT (shop_id, name) DO UPDATE SET source = excluded.source`},
		{&w.findDup, `SELECT order_id FROM events WHERE shop_id = ?1 AND source = ?2 AND delivery_id = ?3
			UNION ALL
			SELECT order_id FROM events WHERE shop_id = ?1 AND event_id = ?4
			LIMIT 1`},
		{&w.loadOrder, `SELECT last_seq, state FROM orders WHERE shop_id = ? AND order_id = ?`},
		{&w.upsertOrder, `INSERT INTO orders (shop_id, order_id, version, last_seq, status, updated_at, state)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (shop_id, order_id) DO UPDATE SET version = excluded.version,
				last_seq = excluded.last_seq, status = excluded.status,
				updated_at = excluded.updated_at, state = excluded.state`},
		{&w.insertEvent, `INSERT INTO events (shop_id, order_id, seq, source, delivery_id, event_id, type, received_at, event)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&w.insertFeed, `INSERT INTO feed (shop_id, order_id, event_id, type, version, at) VALUES (?, ?, ?, ?, ?, ?)`},
	}
	for _, s := range list {
		st, err := c.PrepareContext(ctx, s.sql)
		if err != nil {
			w.close()
			return nil, fmt.Errorf("prepare %q: %w", s.sql, err)
		}
		*s.dst = st
	}
	return w, nil
}

func (w *writer) close() {
	for _, st := range []*sql.Stmt{w.savepoint, w.rollbackTo, w.release, w.insertShop, w.insertKey,
		w.upsertSource, w.findDup, w.loadOrder, w.upsertOrder, w.insertEvent, w.insertFeed} {
		if st != nil {
			st.Close()
		}
	}
}

// readStmts are the read pool's prepared statements.
type readStmts struct {
	getShop, keyByHash, getSource, getOrder, orderExists, listEvents, readFeed *sql.Stmt
}

func (r *readStmts) prepare(ctx context.Context, db *sql.DB) error {
	list := []struct {
		dst **sql.Stmt
		sql string
	}{
		{&r.getShop, `SELECT shop FROM shops WHERE id = ?`},
		{&r.keyByHash, `SELECT shop_id, role FROM api_keys WHERE hash = ?`},
		{&r.getSource, `SELECT source FROM sources WHERE shop_id = ? AND name = ?`},
		{&r.getOrder, `SELECT state FROM orders WHERE shop_id = ? AND order_id = ?`},
		{&r.orderExists, `SELECT 1 FROM orders WHERE shop_id = ? AND order_id = ?`},
		{&r.listEvents, `SELECT seq, source, delivery_id, received_at, event FROM events
			WHERE shop_id = ? AND order_id = ? AND seq > ? ORDER BY seq LIMIT ?`},
		{&r.readFeed, `SELECT seq, shop_id, order_id, event_id, type, version, at FROM feed
			WHERE seq > ? ORDER BY seq LIMIT ?`},
	}
	for _, s := range list {
		st, err := db.PrepareContext(ctx, s.sql)
		if err != nil {
			return errors.Join(fmt.Errorf("prepare %q: %w", s.sql, err), r.close())
		}
		*s.dst = st
	}
	return nil
}

func (r *readStmts) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{r.getShop, r.keyByHash, r.getSource, r.getOrder, r.orderExists, r.listEvents, r.readFeed} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}
