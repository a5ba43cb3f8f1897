// Package sqlitestore is the embedded care.Store: one SQLite database file
// (modernc.org/sqlite, pure Go) in WAL mode, used by the local runtime.
//
// # Schema contract
//
// The schema is created and migrated by Open (PRAGMA user_version counts the
// applied entries of migrations; a file newer than the binary is refused).
// Tables are STRICT; foreign keys are on.
//
//   - shops(id PK, shop JSON of care.Shop)
//   - api_keys(hash PK, shop_id → shops, role)
//   - sources(shop_id → shops, name, source JSON of care.Source; PK (shop_id, name))
//   - orders(shop_id → shops, order_id, version, last_seq, status, updated_at,
//     state JSON of care.OrderState; PK (shop_id, order_id))
//   - events(shop_id, order_id → orders, seq, source, delivery_id, event_id,
//     type, received_at, event JSON of care.Event; PK (shop_id, order_id, seq);
//     UNIQUE (shop_id, source, delivery_id) and UNIQUE (shop_id, event_id):
//     the deduplication keys)
//   - feed(seq INTEGER PRIMARY KEY AUTOINCREMENT, shop_id, order_id, event_id,
//     type, version, at): the change feed in one global order; a feed cursor
//     is the decimal seq of the last change read.
//
// Migration 2 adds the care workflows' tables (care.CareStore) and the
// router's cursors. They have no foreign keys: callers create the shop first.
//
//   - templates(shop_id, workflow, version, template JSON of care.Template;
//     PK (shop_id, workflow, version))
//   - messages(shop_id, id, order_id, at, message JSON of care.Message;
//     PK (shop_id, id); indexes (shop_id, at, id) and (shop_id, order_id, at, id))
//   - tasks(shop_id, id, order_id, status, rev, token, resumed, task JSON of
//     care.Task; PK (shop_id, id); indexes (shop_id, order_id), (shop_id,
//     status)). Rev, Token and Resumed are not in the JSON (json:"-"): they
//     live in their columns.
//   - runs(shop_id, order_id, workflow, started_at, rev, run JSON of care.Run;
//     PK (shop_id, order_id, workflow); index (shop_id, started_at)). Rev
//     lives in its column. Migration 4 adds the column subject (care.Run.Subject,
//     ” for an order-level run) to the primary key: PK (shop_id, order_id,
//     workflow, subject).
//   - waits(shop_id, order_id, key, token, answer; PK (shop_id, order_id,
//     key)): exactly one of token (an Await came first) and answer (a Deliver
//     came first, JSON) is set; the row is deleted when they meet.
//   - opt_outs(shop_id, contact, at; PK (shop_id, contact))
//   - cursors(name PK, cursor): named read positions (Cursor, PutCursor).
//
// messages.at and runs.started_at, which are compared and ordered by, are
// UTC with nine fractional digits (so text order is time order); the JSON
// columns keep times as given. A ListMessages cursor is the base64url form
// of "at|id" of the last entry returned.
//
// Times are stored as RFC 3339 text with nanoseconds, in the zone they were
// given (as encoding/json writes them), so they round-trip exactly.
//
// # Writes
//
// SQLite allows one writer. Every write goes through one connection owned by
// one goroutine that commits concurrent callers together (group commit): it
// takes the calls waiting at that moment, runs each inside its own SAVEPOINT
// within one BEGIN IMMEDIATE transaction, and commits once. A call that fails
// is rolled back to its savepoint and does not affect its batch mates; a
// failed COMMIT fails the whole batch. A call returns only after its batch is
// committed (or failed), so an acknowledged write is durable per the
// Synchronous setting (default NORMAL: survives a process kill). WAL
// checkpoints run on a separate connection, off the writers' path. The writer
// keeps recently used orders decoded in memory; it drops them when a batch
// fails or when PRAGMA data_version shows another connection (another
// process, say) wrote to the file, so several processes may share one file.
// A panic in a write call (an ApplyFunc, say) fails that call only. Reads use a separate pool of query-only connections and
// see every committed write.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
)

var _ care.CareStore = (*DB)(nil)

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("sqlitestore: closed")

// migrations is the schema history; entry i moves user_version from i to i+1.
// Never edit an entry that has shipped: append a new one.
var migrations = []string{
	`CREATE TABLE shops (
		id   TEXT PRIMARY KEY,
		shop TEXT NOT NULL
	) STRICT;
	CREATE TABLE api_keys (
		hash    TEXT PRIMARY KEY,
		shop_id TEXT NOT NULL REFERENCES shops (id),
		role    TEXT NOT NULL
	) STRICT;
	CREATE INDEX api_keys_shop ON api_keys (shop_id);
	CREATE TABLE sources (
		shop_id TEXT NOT NULL REFERENCES shops (id),
		name    TEXT NOT NULL,
		source  TEXT NOT NULL,
		PRIMARY KEY (shop_id, name)
	) STRICT;
	CREATE TABLE orders (
		shop_id    TEXT NOT NULL REFERENCES shops (id),
		order_id   TEXT NOT NULL,
		version    INTEGER NOT NULL,
		last_seq   INTEGER NOT NULL,
		status     TEXT NOT NULL,
		updated_at TEXT NOT NULL,
		state      TEXT NOT NULL,
		PRIMARY KEY (shop_id, order_id)
	) STRICT;
	CREATE TABLE events (
		shop_id     TEXT NOT NULL,
		order_id    TEXT NOT NULL,
		seq         INTEGER NOT NULL,
		source      TEXT NOT NULL,
		delivery_id TEXT NOT NULL,
		event_id    TEXT NOT NULL,
		type        TEXT NOT NULL,
		received_at TEXT NOT NULL,
		event       TEXT NOT NULL,
		PRIMARY KEY (shop_id, order_id, seq),
		FOREIGN KEY (shop_id, order_id) REFERENCES orders (shop_id, order_id)
	) STRICT;
	CREATE UNIQUE INDEX events_delivery ON events (shop_id, source, delivery_id);
	CREATE UNIQUE INDEX events_event ON events (shop_id, event_id);
	CREATE TABLE feed (
		seq      INTEGER PRIMARY KEY AUTOINCREMENT,
		shop_id  TEXT NOT NULL,
		order_id TEXT NOT NULL,
		event_id TEXT NOT NULL,
		type     TEXT NOT NULL,
		version  INTEGER NOT NULL,
		at       TEXT NOT NULL
	) STRICT;`,
	careSchema,
	browseSchema,
	runSubjectSchema,
	runDueSchema,
	agentSchema,
	consentSchema,
	erasureSchema,
	refSchema,
}

// runDueSchema (migration 5) indexes scheduled runs by their start time
// (care.RunScheduled, NextAt): due_at is set only while a run is scheduled,
// so the partial index holds only runs that wait to start.
const runDueSchema = `ALTER TABLE runs ADD COLUMN due_at TEXT;
	CREATE INDEX runs_due ON runs (due_at) WHERE due_at IS NOT NULL;`

// runSubjectSchema (migration 4) keys runs by subject too: several runs of
// one workflow per order, one per subject (care.Run.Subject). Stored runs
// become order-level runs (subject ”).
const runSubjectSchema = `CREATE TABLE runs_by_subject (
		shop_id    TEXT NOT NULL,
		order_id   TEXT NOT NULL,
		workflow   TEXT NOT NULL,
		subject    TEXT NOT NULL,
		started_at TEXT NOT NULL,
		rev        INTEGER NOT NULL,
		run        TEXT NOT NULL,
		PRIMARY KEY (shop_id, order_id, workflow, subject)
	) STRICT;
	INSERT INTO runs_by_subject (shop_id, order_id, workflow, subject, started_at, rev, run)
		SELECT shop_id, order_id, workflow, '', started_at, rev, run FROM runs;
	DROP TABLE runs;
	ALTER TABLE runs_by_subject RENAME TO runs;
	CREATE INDEX runs_started ON runs (shop_id, started_at);`

// Option configures Open.
type Option func(*config)

type config struct {
	sync     string
	readers  int
	maxBatch int
	clock    clock.Clock
}

// Synchronous sets PRAGMA synchronous. "NORMAL" (the default) in WAL mode
// makes every acknowledged write survive a crash or SIGKILL of the process
// (the WAL is written before the call returns; TestCrashDurability checks it)
// and never corrupts the file, but an OS crash or power loss may roll back the
// last commits before the next checkpoint. "FULL" fsyncs the WAL at every
// commit so acknowledged writes also survive power loss; with group commit
// that is one fsync per batch, which costs latency (see BenchmarkIngest).
// NORMAL is the default because the embedded store's target is one box where
// process restarts are common and power loss is rare, and because it meets
// the latency goal on slow disks; choose FULL where power loss matters.
func Synchronous(mode string) Option { return func(c *config) { c.sync = strings.ToUpper(mode) } }

// Readers sets the size of the read-only connection pool (default 2×GOMAXPROCS, at least 4).
func Readers(n int) Option { return func(c *config) { c.readers = n } }

// MaxBatch caps how many write calls one group commit takes (default 256).
func MaxBatch(n int) Option { return func(c *config) { c.maxBatch = n } }

// WithClock sets the clock used as the ingest time when a Delivery carries no
// ReceivedAt (default clock.Real).
func WithClock(c clock.Clock) Option { return func(cf *config) { cf.clock = c } }

// DB is the SQLite store. Its methods are safe for concurrent use.
type DB struct {
	cfg    config
	w      *sql.DB   // the one write connection
	wconn  *sql.Conn // pinned from w, owned by the writer goroutine
	r      *sql.DB   // query-only pool
	ops    chan *op
	ckptOn chan chan error // Checkpoint's requests, run by the writer between batches
	closed chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
	wr     *writer
	rs     readStmts

	commits    int64 // batches committed; the writer's
	stats      struct{ batches, writes atomic.Int64 }
	checkpoint chan struct{} // asks the checkpointer to run
	ckpt       *sql.DB       // the checkpointer's connection
	sources    sourceCache
	lazy       lazyStmts     // read statements of the care tables
	notify     chan struct{} // see Notify
}

// checkpointEvery is how many commits pass between WAL checkpoints. The
// writer's own automatic checkpoint is off: a checkpoint copies pages and
// syncs the database file, which would stall every caller of that batch, so a
// separate connection runs passive checkpoints beside the writer.
const checkpointEvery = 64

// Open opens (creating if needed) the database file at path, migrates its
// schema, and starts the writer. Close releases it.
func Open(ctx context.Context, path string, opts ...Option) (*DB, error) {
	cfg := config{sync: "NORMAL", readers: max(4, 2*runtime.GOMAXPROCS(0)), maxBatch: 256, clock: clock.Real{}}
	for _, o := range opts {
		o(&cfg)
	}
	switch cfg.sync {
	case "NORMAL", "FULL", "EXTRA":
	default:
		return nil, fmt.Errorf("sqlitestore: synchronous %q: want NORMAL, FULL or EXTRA", cfg.sync)
	}
	if strings.ContainsAny(path, "?#") || path == "" || strings.HasPrefix(path, ":memory:") {
		return nil, fmt.Errorf("sqlitestore: path %q: want a file path without ? or #", path)
	}
	// No memory-mapped I/O (mmap_size 0): each time the file grows, every
	// connection with a mapping unmaps and maps it again at its next
	// transaction, and a store that grows while it works (ledger entries,
	// tasks) spent more time in munmap than in queries: reading pages with
	// pread doubled the surge benchmarks' throughput (notices/s 255 -> 417,
	// reminders/s 510 -> 796) and took stall detection from 289 to ~500/s.
	wdsn := path + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(" + cfg.sync + ")&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(67108864)" +
		"&_pragma=cache_size(-65536)&_pragma=mmap_size(0)"
	w, err := sql.Open("sqlite", wdsn)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	db := &DB{cfg: cfg, w: w, ops: make(chan *op), ckptOn: make(chan chan error), closed: make(chan struct{}), checkpoint: make(chan struct{}, 1),
		notify: make(chan struct{}, 1)}
	fail := func(err error) (*DB, error) {
		if db.wr != nil {
			db.wr.close()
		}
		db.rs.close()
		if db.wconn != nil {
			db.wconn.Close()
		}
		if db.r != nil {
			db.r.Close()
		}
		if db.ckpt != nil {
			db.ckpt.Close()
		}
		w.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	if db.wconn, err = w.Conn(ctx); err != nil {
		return fail(err)
	}
	var mode string
	if err := db.wconn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fail(err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fail(fmt.Errorf("journal_mode is %q, not wal (does the file system support shared memory?)", mode))
	}
	if err := migrate(ctx, db.wconn); err != nil {
		return fail(err)
	}
	if db.wr, err = prepareWriter(ctx, db.wconn, cfg.clock); err != nil {
		return fail(err)
	}
	rdsn := path + "?_pragma=busy_timeout(10000)&_pragma=query_only(1)&_pragma=mmap_size(0)"
	if db.r, err = sql.Open("sqlite", rdsn); err != nil {
		return fail(err)
	}
	db.r.SetMaxOpenConns(cfg.readers)
	db.r.SetMaxIdleConns(cfg.readers)
	if err := db.rs.prepare(ctx, db.r); err != nil {
		return fail(err)
	}
	cdsn := path + "?_pragma=busy_timeout(10000)&_pragma=synchronous(" + cfg.sync + ")"
	if db.ckpt, err = sql.Open("sqlite", cdsn); err != nil {
		return fail(err)
	}
	db.ckpt.SetMaxOpenConns(1)
	if err := db.ckpt.PingContext(ctx); err != nil {
		return fail(err)
	}
	db.wg.Add(2)
	go db.loop()
	go db.checkpointer()
	return db, nil
}

// Close stops the writer after the batch in progress and closes the file.
// Calls made after Close return ErrClosed.
func (db *DB) Close() error {
	var err error
	db.once.Do(func() {
		close(db.closed)
		db.wg.Wait()
		db.rs.close()
		db.wr.close()
		err = errors.Join(db.lazy.close(), db.r.Close(), db.ckpt.Close(), db.wconn.Close(), db.w.Close())
	})
	return err
}

func migrate(ctx context.Context, c *sql.Conn) error {
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	err := func() error {
		var v int
		if err := c.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return err
		}
		if v > len(migrations) {
			return fmt.Errorf("schema version %d is newer than this binary's %d", v, len(migrations))
		}
		for i := v; i < len(migrations); i++ {
			if _, err := c.ExecContext(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
			if _, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		c.ExecContext(context.Background(), "ROLLBACK")
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// checkpointer runs a passive WAL checkpoint whenever the writer asks.
// Failures are not fatal (the next one retries; SQLite checkpoints at close).
func (db *DB) checkpointer() {
	defer db.wg.Done()
	for {
		select {
		case <-db.closed:
			return
		case <-db.checkpoint:
			db.ckpt.Exec("PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

// Checkpoint copies every page of the WAL into the database file and
// truncates the WAL (PRAGMA wal_checkpoint(TRUNCATE)), waiting up to the
// busy timeout for readers: what an idle store reaches by itself, done at
// once (a benchmark that jumps days ahead after an ingest). The writer runs
// it between two batches on its own connection, so its page cache stays
// valid (a checkpoint from another connection would make the writer drop
// its whole cache at its next transaction).
// While the store's own passive checkpoint runs, the request is made
// again (every 10 ms, for up to the busy timeout of 10 s).
func (db *DB) Checkpoint(ctx context.Context) error {
	for range 1000 {
		done := make(chan error, 1)
		select {
		case db.ckptOn <- done:
		case <-db.closed:
			return errors.New("checkpoint: the store is closed")
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := <-done; !errors.Is(err, errCheckpointBusy) {
			return err
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return errCheckpointBusy
}

// errCheckpointBusy: another checkpoint was running, or a reader kept
// the WAL busy past the busy timeout.
var errCheckpointBusy = errors.New("checkpoint: busy")

// truncateWAL is Checkpoint's work, on the writer's connection.
func (db *DB) truncateWAL() error {
	var busy, log, done int
	if err := db.wconn.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &log, &done); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if busy != 0 {
		return fmt.Errorf("%w (%d of %d frames copied)", errCheckpointBusy, done, log)
	}
	return nil
}

// Stats counts the writer's work since Open.
type Stats struct {
	Batches int64 // transactions committed
	Writes  int64 // write calls in them (Writes/Batches is the mean group-commit size)
}

// Stats returns the writer's counters.
func (db *DB) Stats() Stats {
	return Stats{Batches: db.stats.batches.Load(), Writes: db.stats.writes.Load()}
}

// op is one write call waiting for the writer.
type op struct {
	ctx  context.Context
	fn   func(w *writer) error
	done chan error
}

// write runs fn on the writer inside its own savepoint and returns once its
// batch is committed. If ctx ends before the writer takes the call, nothing
// is written; once taken, the outcome is always reported.
func (db *DB) write(ctx context.Context, fn func(w *writer) error) error {
	o := &op{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.ops <- o:
	case <-db.closed:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-o.done
}

func (db *DB) loop() {
	defer db.wg.Done()
	batch := make([]*op, 0, db.cfg.maxBatch)
	for {
		select {
		case <-db.closed:
			return
		case o := <-db.ops:
			batch = append(batch[:0], o)
		case done := <-db.ckptOn:
			done <- db.truncateWAL()
			continue
		}
		// Take every call already waiting; then yield once so callers that
		// were just woken by the previous batch can join, as long as that
		// keeps adding calls.
		for grew := true; grew && len(batch) < db.cfg.maxBatch; {
			n := len(batch)
		gather:
			for len(batch) < db.cfg.maxBatch {
				select {
				case o := <-db.ops:
					batch = append(batch, o)
				default:
					break gather
				}
			}
			grew = len(batch) > n
			if grew {
				runtime.Gosched()
			}
		}
		db.commit(batch)
	}
}

// commit runs one group commit.
func (db *DB) commit(batch []*op) {
	ctx := context.Background()
	errs := make([]error, len(batch))
	finish := func() {
		for i, o := range batch {
			o.done <- errs[i]
		}
	}
	fail := func(err error) {
		for i := range errs {
			errs[i] = err
		}
		finish()
	}
	if _, err := db.wconn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		fail(fmt.Errorf("sqlitestore: begin: %w", err))
		return
	}
	abort := func(err error) {
		db.wconn.ExecContext(ctx, "ROLLBACK")
		db.wr.forget()
		fail(err)
	}
	if err := db.wr.checkDataVersion(); err != nil {
		abort(fmt.Errorf("sqlitestore: data_version: %w", err))
		return
	}
	appended := false
	for i, o := range batch {
		if err := o.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := db.wr.savepoint.ExecContext(ctx); err != nil {
			errs[i] = fmt.Errorf("sqlitestore: savepoint: %w", err)
			continue
		}
		db.wr.appended = false
		errs[i] = run(o.fn, db.wr)
		appended = appended || (errs[i] == nil && db.wr.appended)
		if errs[i] != nil {
			if _, err := db.wr.rollbackTo.ExecContext(ctx); err != nil {
				abort(fmt.Errorf("sqlitestore: rollback to savepoint: %w", err))
				return
			}
		}
		if _, err := db.wr.release.ExecContext(ctx); err != nil {
			abort(fmt.Errorf("sqlitestore: release savepoint: %w", err))
			return
		}
	}
	if _, err := db.wconn.ExecContext(ctx, "COMMIT"); err != nil {
		abort(fmt.Errorf("sqlitestore: commit: %w", err))
		return
	}
	if appended {
		// Before finish: an Ingest that returned has signalled.
		select {
		case db.notify <- struct{}{}:
		default: // a signal is pending already
		}
	}
	finish()
	db.stats.batches.Add(1)
	db.stats.writes.Add(int64(len(batch)))
	db.commits++
	if db.commits%checkpointEvery == 0 {
		select {
		case db.checkpoint <- struct{}{}:
		default: // one is running or pending
		}
	}
}

// run calls fn, turning a panic (say, in an ApplyFunc) into that call's
// error so that it cannot take the writer, and every caller, down with it.
func run(fn func(*writer) error, w *writer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sqlitestore: write call panicked: %v", r)
		}
	}()
	return fn(w)
}

// sqliteCode returns the extended result code of a SQLite error, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

func isUnique(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

func isForeignKey(err error) bool { return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY }
