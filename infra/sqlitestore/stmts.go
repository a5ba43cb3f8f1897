package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/ordercare/ordercare/internal/clock"
)

// writer holds the write connection's prepared statements. Only the writer
// goroutine uses it.
type writer struct {
	clock clock.Clock
	conn  *sql.Conn

	// appended is set by a call that appended to the change feed; commit
	// resets it before each call.
	appended bool

	// lazy holds statements prepared on first use (see stmt).
	lazy map[string]*sql.Stmt

	// cache holds recently written or read orders as this connection sees
	// them, so that ingest neither queries nor decodes them again. It is
	// emptied when a batch fails and when another connection has written
	// (PRAGMA data_version changed).
	cache       map[string]*cached
	cacheBytes  int // JSON bytes of the cached orders
	dataVersion int64

	savepoint, rollbackTo, release, dataVersionStmt *sql.Stmt

	insertShop, insertKey, upsertSource *sql.Stmt

	findDup, loadOrder, upsertOrder, insertEvent, insertFeed *sql.Stmt
}

func prepareWriter(ctx context.Context, c *sql.Conn, clk clock.Clock) (*writer, error) {
	w := &writer{clock: clk, conn: c, cache: map[string]*cached{}, lazy: map[string]*sql.Stmt{}}
	list := []struct {
		dst **sql.Stmt
		sql string
	}{
		{&w.savepoint, `SAVEPOINT call`},
		{&w.rollbackTo, `ROLLBACK TO call`},
		{&w.release, `RELEASE call`},
		{&w.dataVersionStmt, `PRAGMA data_version`},
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

// cached is an order's state as stored, and its last event seq. It is kept
// as JSON: decoded, an order takes three to four times the memory, which
// the garbage collector would scan at every cycle, and storedjson decodes
// it again in a few microseconds.
type cached struct {
	json    []byte
	lastSeq int64
}

// The writer's order cache holds at most cacheSize orders and about
// cacheBytes of their JSON.
const (
	cacheSize  = 8192
	cacheBytes = 32 << 20
)

func cacheKey(shopID, orderID string) string { return shopID + "\x00" + orderID }

func (w *writer) remember(shopID, orderID string, c *cached) {
	k := cacheKey(shopID, orderID)
	if old, ok := w.cache[k]; ok {
		w.cacheBytes -= len(old.json)
		delete(w.cache, k)
	}
	if len(c.json) > cacheBytes/8 {
		return // too big to keep
	}
	for old, e := range w.cache { // evict arbitrary entries
		if len(w.cache) < cacheSize && w.cacheBytes+len(c.json) <= cacheBytes {
			break
		}
		w.cacheBytes -= len(e.json)
		delete(w.cache, old)
	}
	w.cache[k] = c
	w.cacheBytes += len(c.json)
}

func (w *writer) forget() {
	clear(w.cache)
	w.cacheBytes = 0
}

// checkDataVersion empties the cache if another connection committed since
// this one last looked. Called inside each batch's transaction.
func (w *writer) checkDataVersion() error {
	var v int64
	if err := w.dataVersionStmt.QueryRow().Scan(&v); err != nil {
		return err
	}
	if v != w.dataVersion {
		w.forget()
		w.dataVersion = v
	}
	return nil
}

func (w *writer) close() {
	for _, st := range []*sql.Stmt{w.savepoint, w.rollbackTo, w.release, w.dataVersionStmt, w.insertShop, w.insertKey,
		w.upsertSource, w.findDup, w.loadOrder, w.upsertOrder, w.insertEvent, w.insertFeed} {
		if st != nil {
			st.Close()
		}
	}
	for q, st := range w.lazy {
		st.Close()
		delete(w.lazy, q)
	}
}

// stmt returns the statement for query q prepared on the write connection,
// preparing it on first use.
func (w *writer) stmt(q string) (*sql.Stmt, error) {
	if st, ok := w.lazy[q]; ok {
		return st, nil
	}
	st, err := w.conn.PrepareContext(context.Background(), q)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", q, err)
	}
	w.lazy[q] = st
	return st, nil
}

// exec runs query q on the write connection.
func (w *writer) exec(q string, args ...any) (sql.Result, error) {
	st, err := w.stmt(q)
	if err != nil {
		return nil, err
	}
	return st.Exec(args...)
}

// queryRow runs query q on the write connection, returning a row that
// reports a preparation error at Scan.
func (w *writer) queryRow(q string, args ...any) rowScanner {
	st, err := w.stmt(q)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRow(args...)
}

// rowScanner is a *sql.Row or an errRow.
type rowScanner interface{ Scan(dest ...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// lazyStmts are read-pool statements prepared on first use.
type lazyStmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func (l *lazyStmts) get(ctx context.Context, db *sql.DB, q string) (*sql.Stmt, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if st, ok := l.m[q]; ok {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", q, err)
	}
	if l.m == nil {
		l.m = map[string]*sql.Stmt{}
	}
	l.m[q] = st
	return st, nil
}

func (l *lazyStmts) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for q, st := range l.m {
		errs = append(errs, st.Close())
		delete(l.m, q)
	}
	return errors.Join(errs...)
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
