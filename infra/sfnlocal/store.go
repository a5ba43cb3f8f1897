package sfnlocal

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// schema is the engine's tables. executions, history and invocations hold
// rows of a few KiB and are rowid tables: a new row goes at the end of its
// table, so a group commit of many starts fills a few new pages. As
// WITHOUT ROWID tables keyed by ARN (before), each new row landed on a
// page of its own somewhere in the tree, splitting it: 10,000 starts wrote
// 188 MB to the WAL, then 81 MB.
//
// Their rows are found by h, the ARN's 64-bit hash (arnHash), and then the
// ARN itself: an index of ARNs (120 bytes each, in random order) had a
// group commit of 125 starts rewrite about a hundred of its pages, one
// index of executions and one of invocations, most of the WAL. An index of
// hashes is a sixth of the size, so a commit rewrites fewer of its pages:
// 10,000 starts write about half as many pages to the WAL (a simulation of
// the tables with SQLite: 24,600 pages before, 10,900 after). The ARN is
// no longer unique in SQL: the executor inserts an execution only after
// finding no row of its ARN (StartExecution), and an invocation's key is
// new each time (exec.newKey, a sequence kept in the execution's state).
//
// A file created before keeps its tables and their keys, and gets the h
// column and its indexes when opened (migrateHash); the statements are the
// same for both (TestOpensWithoutRowidTables, TestOpensWithoutHash).
const schema = `
CREATE TABLE IF NOT EXISTS state_machines(
	arn TEXT PRIMARY KEY, name TEXT NOT NULL, rev INTEGER NOT NULL, role_arn TEXT NOT NULL,
	type TEXT NOT NULL, created INTEGER NOT NULL, status TEXT NOT NULL, logging TEXT, tracing TEXT);
CREATE TABLE IF NOT EXISTS sm_versions(
	arn TEXT NOT NULL, rev INTEGER NOT NULL, definition TEXT NOT NULL, PRIMARY KEY(arn, rev)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS executions(
	arn TEXT NOT NULL, sm_arn TEXT NOT NULL, rev INTEGER NOT NULL, name TEXT NOT NULL,
	status TEXT NOT NULL, input TEXT NOT NULL, output TEXT, error TEXT, cause TEXT,
	start INTEGER NOT NULL, stop INTEGER, runnable INTEGER NOT NULL DEFAULT 0, state BLOB,
	trace TEXT, hist0 BLOB, h INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS executions_sm ON executions(sm_arn, start);
CREATE INDEX IF NOT EXISTS executions_runnable ON executions(runnable) WHERE runnable = 1;
CREATE TABLE IF NOT EXISTS history(
	arn TEXT NOT NULL, seq INTEGER NOT NULL, events BLOB NOT NULL, h INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS timers(
	arn TEXT NOT NULL, key INTEGER NOT NULL, kind INTEGER NOT NULL, due INTEGER NOT NULL,
	PRIMARY KEY(arn, key, kind)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS timers_due ON timers(due);
CREATE TABLE IF NOT EXISTS tokens(
	token TEXT PRIMARY KEY, arn TEXT NOT NULL, key INTEGER NOT NULL, open INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tokens_arn ON tokens(arn) WHERE open = 1;
CREATE TABLE IF NOT EXISTS invocations(
	arn TEXT NOT NULL, key INTEGER NOT NULL, function TEXT NOT NULL, payload BLOB NOT NULL,
	h INTEGER NOT NULL);
`

// hashIndexes are the indexes of h (see schema), created once migrateHash
// has given an older file the column.
const hashIndexes = `
CREATE INDEX IF NOT EXISTS executions_h ON executions(h);
CREATE INDEX IF NOT EXISTS history_h ON history(h, seq);
CREATE INDEX IF NOT EXISTS invocations_h ON invocations(h, key);
`

// hashed are the tables whose rows carry h, the hash of their ARN.
var hashed = []string{"executions", "history", "invocations"}

// migrateHash gives each table of hashed that lacks it (a file created
// before) the h column, filled from the ARNs, and creates hashIndexes, in
// one transaction.
func migrateHash(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range hashed {
		var has int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info(?) WHERE name = 'h'`, t).Scan(&has); err != nil {
			return err
		}
		if has == 0 {
			if err := addHash(ctx, tx, t); err != nil {
				return fmt.Errorf("add the ARN hashes to %s: %w", t, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, hashIndexes); err != nil {
		return err
	}
	return tx.Commit()
}

// addHash adds the h column to table t and fills it from each row's ARN.
func addHash(ctx context.Context, tx *sql.Tx, t string) error {
	if _, err := tx.ExecContext(ctx, `ALTER TABLE `+t+` ADD COLUMN h INTEGER`); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT arn FROM `+t)
	if err != nil {
		return err
	}
	var arns []string // read whole, then updated: not while the table is scanned
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			rows.Close()
			return err
		}
		arns = append(arns, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, a := range arns {
		if _, err := tx.ExecContext(ctx, `UPDATE `+t+` SET h = ? WHERE arn = ?`, arnKey(a), a); err != nil {
			return err
		}
	}
	return nil
}

// openDB opens the SQLite database at path in WAL mode and creates the
// schema. Durability is against process crashes (synchronous=NORMAL): a
// committed transaction survives kill -9, not necessarily power loss.
// Pages are SQLite's default 4 KiB. (A page_size(65536) pragma listed
// here before never took effect: every sfn.db it created has 4 KiB pages.)
func openDB(ctx context.Context, path string) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)", "wal_autocheckpoint(0)", "foreign_keys(OFF)"} {
		q.Add("_pragma", p)
	}
	// A file: URI: '%', '?' and '#' in the path must be escaped, or SQLite
	// would read them as URI syntax.
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	db, err := sql.Open("sqlite", "file:"+esc+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create schema in %s: %w", path, err)
	}
	if err := migrateHash(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return db, nil
}

// checkpointer copies the WAL into the database file from its own
// connection (auto-checkpoint is off so that the writer never does it
// inline), every interval or sooner when the writer reports a large WAL.
func (e *Engine) checkpointer() {
	defer e.wg.Done()
	conn, err := e.db.Conn(context.Background())
	if err != nil {
		return
	}
	defer conn.Close()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-e.ckpt:
		case <-e.stop:
			_, _ = conn.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
			return
		}
		_, _ = conn.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
	}
}

// timerRow is a durable timer: kind k of wait key on execution arn.
type timerRow struct {
	arn  string
	key  int64
	kind uint8
	due  int64 // unix ms
}

// invRow is a pending Lambda invocation (deleted when its result commits).
type invRow struct {
	arn     string
	key     int64
	fn      string
	payload []byte
}

// commitRec is everything one execution changes in one commit.
type commitRec struct {
	x        *exec
	insert   bool
	arn      string
	smArn    string
	rev      int64
	name     string
	status   string
	input    string
	trace    string
	output   *string
	errName  *string
	cause    *string
	start    int64
	stop     int64
	runnable bool
	state    []byte // nil once the execution is closed
	histSeq  int
	events   []byte // JSON array of HistoryEvent, nil when none

	timersAdd   []timerRow
	timersDel   []timerRow
	tokensAdd   []tokenRow
	tokensClose []string
	invAdd      []invRow
	invDel      []int64
	closed      bool // delete every timer/invocation, close every token
	hadWaits    bool // the execution ever had timers, tokens or invocations
}

type tokenRow struct {
	token string
	key   int64
}

// batch is one group commit.
type batch struct {
	recs    []*commitRec
	replies []func(error)
	err     error
}

// writer commits batches in order, one SQLite transaction each.
func (e *Engine) writer() {
	defer close(e.writerDone)
	for b := range e.wch {
		err := e.commit(b)
		if n := e.batches.Add(1); n%64 == 0 {
			select {
			case e.ckpt <- struct{}{}:
			default:
			}
		}
		e.batched.Add(int64(len(b.recs)))
		if err != nil && e.cfg.Logger != nil {
			e.cfg.Logger.Error("sfnlocal: commit failed", "err", err)
		}
		e.afterCommit(b, err)
	}
}

func (e *Engine) commit(b *batch) (err error) {
	ctx := context.Background()
	if _, err := e.stBegin.ExecContext(ctx); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_, _ = e.stRollback.ExecContext(ctx)
		}
	}()
	for _, r := range b.recs {
		h := arnKey(r.arn)
		var stop any
		if r.stop != 0 {
			stop = r.stop
		}
		if r.insert {
			if _, err := e.stInsExec.Exec(r.arn, r.smArn, r.rev, r.name, r.status, r.input, r.output, r.errName, r.cause, r.start, stop, r.runnable, r.state, r.trace, r.events, h); err != nil {
				return fmt.Errorf("insert execution: %w", err)
			}
		} else {
			if _, err := e.stUpdExec.Exec(r.status, r.output, r.errName, r.cause, stop, r.runnable, r.state, h, r.arn); err != nil {
				return fmt.Errorf("update execution: %w", err)
			}
			if r.events != nil {
				if _, err := e.stInsHist.Exec(r.arn, r.histSeq, r.events, h); err != nil {
					return fmt.Errorf("insert history: %w", err)
				}
			}
		}
		if r.closed {
			if r.hadWaits {
				for _, st := range []*sql.Stmt{e.stDelTimers, e.stCloseTokens} {
					if _, err := st.Exec(r.arn); err != nil {
						return fmt.Errorf("close execution: %w", err)
					}
				}
				if _, err := e.stDelInvs.Exec(h, r.arn); err != nil {
					return fmt.Errorf("close execution: %w", err)
				}
			}
			continue
		}
		for _, t := range r.timersDel {
			if _, err := e.stDelTimer.Exec(r.arn, t.key, t.kind); err != nil {
				return err
			}
		}
		for _, t := range r.timersAdd {
			if _, err := e.stInsTimer.Exec(r.arn, t.key, t.kind, t.due); err != nil {
				return err
			}
		}
		for _, k := range r.tokensClose {
			if _, err := e.stCloseToken.Exec(k); err != nil {
				return err
			}
		}
		for _, k := range r.tokensAdd {
			if _, err := e.stInsToken.Exec(k.token, r.arn, k.key); err != nil {
				return err
			}
		}
		for _, k := range r.invDel {
			if _, err := e.stDelInv.Exec(h, r.arn, k); err != nil {
				return err
			}
		}
		for _, iv := range r.invAdd {
			if _, err := e.stInsInv.Exec(r.arn, iv.key, iv.fn, iv.payload, h); err != nil {
				return err
			}
		}
	}
	_, err = e.stCommit.ExecContext(ctx)
	return err
}

func (e *Engine) prepare(ctx context.Context) error {
	var err error
	p := func(dst **sql.Stmt, q string) {
		if err != nil {
			return
		}
		*dst, err = e.wconn.PrepareContext(ctx, q)
	}
	p(&e.stBegin, `BEGIN`)
	p(&e.stCommit, `COMMIT`)
	p(&e.stRollback, `ROLLBACK`)
	p(&e.stDelTimers, `DELETE FROM timers WHERE arn = ?`)
	p(&e.stDelInvs, `DELETE FROM invocations WHERE h = ? AND arn = ?`)
	p(&e.stCloseTokens, `UPDATE tokens SET open = 0 WHERE arn = ? AND open = 1`)
	p(&e.stInsExec, `INSERT INTO executions(arn, sm_arn, rev, name, status, input, output, error, cause, start, stop, runnable, state, trace, hist0, h) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	p(&e.stUpdExec, `UPDATE executions SET status=?, output=?, error=?, cause=?, stop=?, runnable=?, state=? WHERE h=? AND arn=?`)
	p(&e.stInsHist, `INSERT INTO history(arn, seq, events, h) VALUES (?,?,?,?)`)
	p(&e.stInsTimer, `INSERT OR REPLACE INTO timers(arn, key, kind, due) VALUES (?,?,?,?)`)
	p(&e.stDelTimer, `DELETE FROM timers WHERE arn=? AND key=? AND kind=?`)
	p(&e.stInsToken, `INSERT INTO tokens(token, arn, key, open) VALUES (?,?,?,1)`)
	p(&e.stCloseToken, `UPDATE tokens SET open=0 WHERE token=?`)
	p(&e.stInsInv, `INSERT INTO invocations(arn, key, function, payload, h) VALUES (?,?,?,?,?)`)
	p(&e.stDelInv, `DELETE FROM invocations WHERE h=? AND arn=? AND key=?`)
	return err
}
