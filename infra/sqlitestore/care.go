package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/storedjson"
)

// careSchema is migration 2: the tables of the care workflows and the
// router's cursors (see the package doc).
const careSchema = `CREATE TABLE templates (
		shop_id  TEXT NOT NULL,
		workflow TEXT NOT NULL,
		version  INTEGER NOT NULL,
		template TEXT NOT NULL,
		PRIMARY KEY (shop_id, workflow, version)
	) STRICT;
	CREATE TABLE messages (
		shop_id  TEXT NOT NULL,
		id       TEXT NOT NULL,
		order_id TEXT NOT NULL,
		at       TEXT NOT NULL,
		message  TEXT NOT NULL,
		PRIMARY KEY (shop_id, id)
	) STRICT;
	CREATE INDEX messages_at ON messages (shop_id, at, id);
	CREATE INDEX messages_order ON messages (shop_id, order_id, at, id);
	CREATE TABLE tasks (
		shop_id  TEXT NOT NULL,
		id       TEXT NOT NULL,
		order_id TEXT NOT NULL,
		status   TEXT NOT NULL,
		rev      INTEGER NOT NULL,
		token    TEXT NOT NULL,
		resumed  INTEGER NOT NULL,
		task     TEXT NOT NULL,
		PRIMARY KEY (shop_id, id)
	) STRICT;
	CREATE INDEX tasks_order ON tasks (shop_id, order_id);
	CREATE INDEX tasks_status ON tasks (shop_id, status);
	CREATE TABLE runs (
		shop_id    TEXT NOT NULL,
		order_id   TEXT NOT NULL,
		workflow   TEXT NOT NULL,
		started_at TEXT NOT NULL,
		rev        INTEGER NOT NULL,
		run        TEXT NOT NULL,
		PRIMARY KEY (shop_id, order_id, workflow)
	) STRICT;
	CREATE INDEX runs_started ON runs (shop_id, started_at);
	CREATE TABLE waits (
		shop_id  TEXT NOT NULL,
		order_id TEXT NOT NULL,
		key      TEXT NOT NULL,
		token    TEXT,
		answer   TEXT,
		PRIMARY KEY (shop_id, order_id, key),
		CHECK ((token IS NULL) <> (answer IS NULL))
	) STRICT;
	CREATE TABLE opt_outs (
		shop_id TEXT NOT NULL,
		contact TEXT NOT NULL,
		at      TEXT NOT NULL,
		PRIMARY KEY (shop_id, contact)
	) STRICT;
	CREATE TABLE cursors (
		name   TEXT PRIMARY KEY,
		cursor TEXT NOT NULL
	) STRICT;`

// sortLayout is the form of the time columns that are compared and ordered
// by (messages.at, runs.started_at): UTC with nine fractional digits, so that
// text order is time order (for years 0000 to 9999). The JSON column keeps
// the time as given.
const sortLayout = "2006-01-02T15:04:05.000000000Z"

func sortTime(t time.Time) string { return t.UTC().Format(sortLayout) }

// query runs a read on the read pool with a statement prepared once.
func (db *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := db.lazy.get(ctx, db.r, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// queryRow runs a one-row read on the read pool.
func (db *DB) queryRow(ctx context.Context, q string, args ...any) rowScanner {
	st, err := db.lazy.get(ctx, db.r, q)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// ---- templates ----

// PutTemplate stores t as a new version if t.Version is the latest stored
// version plus one (1 for the first); ErrConflict otherwise.
func (db *DB) PutTemplate(ctx context.Context, t care.Template) error {
	body, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("put template %s/%s: %w", t.ShopID, t.Workflow, err)
	}
	return db.write(ctx, func(w *writer) error {
		var latest int
		if err := w.queryRow(`SELECT COALESCE(MAX(version), 0) FROM templates WHERE shop_id = ? AND workflow = ?`,
			t.ShopID, string(t.Workflow)).Scan(&latest); err != nil {
			return fmt.Errorf("put template %s/%s: %w", t.ShopID, t.Workflow, err)
		}
		if t.Version != latest+1 {
			return fmt.Errorf("put template %s/%s v%d: latest is v%d: %w", t.ShopID, t.Workflow, t.Version, latest, care.ErrConflict)
		}
		if _, err := w.exec(`INSERT INTO templates (shop_id, workflow, version, template) VALUES (?, ?, ?, ?)`,
			t.ShopID, string(t.Workflow), t.Version, string(body)); err != nil {
			if isUnique(err) {
				return fmt.Errorf("put template %s/%s v%d: %w", t.ShopID, t.Workflow, t.Version, care.ErrConflict)
			}
			return fmt.Errorf("put template %s/%s v%d: %w", t.ShopID, t.Workflow, t.Version, err)
		}
		return nil
	})
}

// GetTemplate returns one version of a template, the latest when version is
// 0, or ErrNotFound.
func (db *DB) GetTemplate(ctx context.Context, shopID string, wf care.Workflow, version int) (care.Template, error) {
	var row rowScanner
	if version == 0 {
		row = db.queryRow(ctx, `SELECT template FROM templates WHERE shop_id = ? AND workflow = ?
			ORDER BY version DESC LIMIT 1`, shopID, string(wf))
	} else {
		row = db.queryRow(ctx, `SELECT template FROM templates WHERE shop_id = ? AND workflow = ? AND version = ?`,
			shopID, string(wf), version)
	}
	var body string
	if err := row.Scan(&body); err != nil {
		return care.Template{}, notFound(err, "get template %s/%s v%d", shopID, wf, version)
	}
	var t care.Template
	if err := json.Unmarshal([]byte(body), &t); err != nil {
		return care.Template{}, fmt.Errorf("get template %s/%s v%d: %w", shopID, wf, version, err)
	}
	return t, nil
}

// ---- messages ----

// ReserveMessage stores m unless the shop has an entry with m.ID; it returns
// the stored entry and whether it was created now.
func (db *DB) ReserveMessage(ctx context.Context, m care.Message) (care.Message, bool, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return care.Message{}, false, fmt.Errorf("reserve message %s: %w", m.ID, err)
	}
	var stored []byte
	err = db.write(ctx, func(w *writer) error {
		res, err := w.exec(`INSERT INTO messages (shop_id, id, order_id, at, message) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (shop_id, id) DO NOTHING`, m.ShopID, m.ID, m.OrderID, sortTime(m.At), string(body))
		if err != nil {
			return fmt.Errorf("reserve message %s: %w", m.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		return w.queryRow(`SELECT message FROM messages WHERE shop_id = ? AND id = ?`, m.ShopID, m.ID).Scan(&stored)
	})
	if err != nil {
		return care.Message{}, false, err
	}
	if stored == nil {
		return m, true, nil
	}
	var got care.Message
	if err := json.Unmarshal(stored, &got); err != nil {
		return care.Message{}, false, fmt.Errorf("reserve message %s: %w", m.ID, err)
	}
	return got, false, nil
}

// UpdateMessage replaces the shop's entry with m.ID; ErrNotFound if absent.
func (db *DB) UpdateMessage(ctx context.Context, m care.Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("update message %s: %w", m.ID, err)
	}
	return db.write(ctx, func(w *writer) error {
		res, err := w.exec(`UPDATE messages SET order_id = ?, at = ?, message = ? WHERE shop_id = ? AND id = ?`,
			m.OrderID, sortTime(m.At), string(body), m.ShopID, m.ID)
		if err != nil {
			return fmt.Errorf("update message %s: %w", m.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("update message %s: %w", m.ID, err)
		} else if n == 0 {
			return fmt.Errorf("update message %s: %w", m.ID, care.ErrNotFound)
		}
		return nil
	})
}

// ListOrderMessages returns an order's entries by At, then ID.
func (db *DB) ListOrderMessages(ctx context.Context, shopID, orderID string) ([]care.Message, error) {
	rows, err := db.query(ctx, `SELECT at, id, message FROM messages WHERE shop_id = ? AND order_id = ? ORDER BY at, id`,
		shopID, orderID)
	if err != nil {
		return nil, fmt.Errorf("list messages of %s: %w", orderID, err)
	}
	out, _, _, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("list messages of %s: %w", orderID, err)
	}
	return out, nil
}

// ListMessages returns a shop's entries with At in [from, to) by At, then ID,
// at most limit (1..1000) after cursor, and the next cursor ("" after the
// last page). A cursor is the base64url form of the sort key of the last
// entry returned; anything that does not decode to one is ErrInvalid.
func (db *DB) ListMessages(ctx context.Context, shopID string, from, to time.Time, cursor string, limit int) ([]care.Message, string, error) {
	if limit < 1 || limit > maxPage {
		return nil, "", care.Invalid("limit", "must be from 1 to %d", maxPage)
	}
	lo, hi := sortTime(from), sortTime(to)
	var rows *sql.Rows
	var err error
	if cursor == "" {
		rows, err = db.query(ctx, `SELECT at, id, message FROM messages WHERE shop_id = ? AND at >= ? AND at < ?
			ORDER BY at, id LIMIT ?`, shopID, lo, hi, limit+1)
	} else {
		at, id, cerr := parseMessageCursor(cursor)
		if cerr != nil {
			return nil, "", cerr
		}
		rows, err = db.query(ctx, `SELECT at, id, message FROM messages WHERE shop_id = ? AND at >= ? AND at < ?
			AND (at, id) > (?, ?) ORDER BY at, id LIMIT ?`, shopID, lo, hi, at, id, limit+1)
	}
	if err != nil {
		return nil, "", fmt.Errorf("list messages: %w", err)
	}
	out, lastAt, lastIDs, err := scanMessages(rows)
	if err != nil {
		return nil, "", fmt.Errorf("list messages: %w", err)
	}
	if len(out) <= limit {
		return out, "", nil
	}
	out = out[:limit]
	return out, messageCursor(lastAt[limit-1], lastIDs[limit-1]), nil
}

// scanMessages reads (at, id, message) rows and closes them.
func scanMessages(rows *sql.Rows) (out []care.Message, ats, ids []string, err error) {
	defer rows.Close()
	for rows.Next() {
		var at, id, body string
		if err := rows.Scan(&at, &id, &body); err != nil {
			return nil, nil, nil, err
		}
		var m care.Message
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			return nil, nil, nil, fmt.Errorf("message %s: %w", id, err)
		}
		out, ats, ids = append(out, m), append(ats, at), append(ids, id)
	}
	return out, ats, ids, rows.Err()
}

func messageCursor(at, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at + "|" + id))
}

func parseMessageCursor(cursor string) (at, id string, err error) {
	raw, derr := base64.RawURLEncoding.DecodeString(cursor)
	at, id, ok := strings.Cut(string(raw), "|")
	if derr != nil || !ok || id == "" {
		return "", "", care.Invalid("cursor", "not a cursor this store returned")
	}
	if t, err := time.Parse(sortLayout, at); err != nil || sortTime(t) != at {
		return "", "", care.Invalid("cursor", "not a cursor this store returned")
	}
	return at, id, nil
}

// ---- tasks ----

// CreateTask stores t with Rev 1 unless the shop has a task with t.ID; it
// returns the stored task and whether it was created now.
func (db *DB) CreateTask(ctx context.Context, t care.Task) (care.Task, bool, error) {
	t.Rev = 1
	body, err := json.Marshal(t)
	if err != nil {
		return care.Task{}, false, fmt.Errorf("create task %s: %w", t.ID, err)
	}
	var stored care.Task
	var exists bool
	err = db.write(ctx, func(w *writer) error {
		res, err := w.exec(`INSERT INTO tasks (shop_id, id, order_id, status, rev, token, resumed, task)
			VALUES (?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT (shop_id, id) DO NOTHING`,
			t.ShopID, t.ID, t.OrderID, string(t.Status), t.Token, t.Resumed, string(body))
		if err != nil {
			return fmt.Errorf("create task %s: %w", t.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		exists = true
		stored, err = scanTask(w.queryRow(`SELECT rev, token, resumed, task FROM tasks WHERE shop_id = ? AND id = ?`, t.ShopID, t.ID))
		if err != nil {
			return fmt.Errorf("create task %s: %w", t.ID, err)
		}
		return nil
	})
	if err != nil {
		return care.Task{}, false, err
	}
	if exists {
		return stored, false, nil
	}
	return t, true, nil
}

// GetTask returns a task or ErrNotFound.
func (db *DB) GetTask(ctx context.Context, shopID, id string) (care.Task, error) {
	t, err := scanTask(db.queryRow(ctx, `SELECT rev, token, resumed, task FROM tasks WHERE shop_id = ? AND id = ?`, shopID, id))
	if err != nil {
		return care.Task{}, notFound(err, "get task %s", id)
	}
	return t, nil
}

// UpdateTask replaces a task whose stored Rev is t.Rev and returns it with
// Rev+1; ErrConflict if the Rev moved, ErrNotFound if absent.
func (db *DB) UpdateTask(ctx context.Context, t care.Task) (care.Task, error) {
	prev := t.Rev
	t.Rev++
	body, err := json.Marshal(t)
	if err != nil {
		return care.Task{}, fmt.Errorf("update task %s: %w", t.ID, err)
	}
	err = db.write(ctx, func(w *writer) error {
		res, err := w.exec(`UPDATE tasks SET order_id = ?, status = ?, rev = rev + 1, token = ?, resumed = ?, task = ?
			WHERE shop_id = ? AND id = ? AND rev = ?`,
			t.OrderID, string(t.Status), t.Token, t.Resumed, string(body), t.ShopID, t.ID, prev)
		if err != nil {
			return fmt.Errorf("update task %s: %w", t.ID, err)
		}
		return revOutcome(w, res, func() string { return "update task " + t.ID },
			`SELECT rev FROM tasks WHERE shop_id = ? AND id = ?`, t.ShopID, t.ID)
	})
	if err != nil {
		return care.Task{}, err
	}
	return t, nil
}

// affected is res's count of rows changed, 0 when it has none.
func affected(res sql.Result) int64 {
	n, _ := res.RowsAffected()
	return n
}

// revOutcome turns an optimistic UPDATE's result into nil, ErrConflict (the
// row exists at another rev) or ErrNotFound; what names the write in an
// error (it is built only then).
func revOutcome(w *writer, res sql.Result, what func() string, exists string, args ...any) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what(), err)
	}
	if n == 1 {
		return nil
	}
	var rev int64
	if err := w.queryRow(exists, args...).Scan(&rev); err != nil {
		return notFound(err, "%s", what())
	}
	return fmt.Errorf("%s: stored rev is %d: %w", what(), rev, care.ErrConflict)
}

// ListTasks returns a shop's tasks matching f, ordered by id.
func (db *DB) ListTasks(ctx context.Context, shopID string, f care.TaskFilter) ([]care.Task, error) {
	q := `SELECT rev, token, resumed, task FROM tasks WHERE shop_id = ?`
	args := []any{shopID}
	if f.OrderID != "" {
		q += ` AND order_id = ?`
		args = append(args, f.OrderID)
	}
	if len(f.Statuses) > 0 {
		q += ` AND status IN (?` + strings.Repeat(`, ?`, len(f.Statuses)-1) + `)`
		for _, st := range f.Statuses {
			args = append(args, string(st))
		}
	}
	q += ` ORDER BY id`
	// Status lists vary, so this query is not kept prepared.
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	defer rows.Close()
	var out []care.Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("list tasks: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return out, nil
}

// scanTask reads (rev, token, resumed, task).
func scanTask(row rowScanner) (care.Task, error) {
	var rev int64
	var token, body string
	var resumed bool
	if err := row.Scan(&rev, &token, &resumed, &body); err != nil {
		return care.Task{}, err
	}
	var t care.Task
	if err := json.Unmarshal([]byte(body), &t); err != nil {
		return care.Task{}, err
	}
	t.Rev, t.Token, t.Resumed = rev, token, resumed
	return t, nil
}

// ---- runs ----

// CreateRun stores r with Rev 1 unless a run exists for (shop, order,
// workflow, subject); it returns the stored run and whether it was created now.
func (db *DB) CreateRun(ctx context.Context, r care.Run) (care.Run, bool, error) {
	r.Rev = 1
	body, err := json.Marshal(r)
	if err != nil {
		return care.Run{}, false, fmt.Errorf("create run %s/%s: %w", r.OrderID, r.Workflow, err)
	}
	var stored care.Run
	var exists bool
	err = db.write(ctx, func(w *writer) error {
		res, err := w.exec(`INSERT INTO runs (shop_id, order_id, workflow, subject, started_at, rev, run, due_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?)
			ON CONFLICT (shop_id, order_id, workflow, subject) DO NOTHING`,
			r.ShopID, r.OrderID, string(r.Workflow), r.Subject, sortTime(r.StartedAt), string(body), dueAt(r))
		if err != nil {
			return fmt.Errorf("create run %s/%s: %w", r.OrderID, r.Workflow, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		exists = true
		stored, err = scanRun(w.queryRow(`SELECT rev, run FROM runs WHERE shop_id = ? AND order_id = ? AND workflow = ? AND subject = ?`,
			r.ShopID, r.OrderID, string(r.Workflow), r.Subject))
		if err != nil {
			return fmt.Errorf("create run %s/%s: %w", r.OrderID, r.Workflow, err)
		}
		return nil
	})
	if err != nil {
		return care.Run{}, false, err
	}
	if exists {
		return stored, false, nil
	}
	return r, true, nil
}

// GetRun returns a run or ErrNotFound.
func (db *DB) GetRun(ctx context.Context, shopID, orderID string, wf care.Workflow, subject string) (care.Run, error) {
	r, err := scanRun(db.queryRow(ctx, `SELECT rev, run FROM runs WHERE shop_id = ? AND order_id = ? AND workflow = ? AND subject = ?`,
		shopID, orderID, string(wf), subject))
	if err != nil {
		return care.Run{}, notFound(err, "get run %s/%s", orderID, wf)
	}
	return r, nil
}

// UpdateRun replaces a run whose stored Rev is r.Rev and returns it with
// Rev+1; ErrConflict if the Rev moved, ErrNotFound if absent.
func (db *DB) UpdateRun(ctx context.Context, r care.Run) (care.Run, error) {
	prev := r.Rev
	r.Rev++
	body, err := json.Marshal(r)
	if err != nil {
		return care.Run{}, fmt.Errorf("update run %s/%s: %w", r.OrderID, r.Workflow, err)
	}
	err = db.write(ctx, func(w *writer) error {
		// started_at rarely changes, and an UPDATE that sets it rewrites
		// its runs_started entry even to the same value (a fifth of the
		// CPU of marking a due run started): it is set only when the
		// stored one differs.
		started := sortTime(r.StartedAt)
		res, err := w.exec(`UPDATE runs SET rev = rev + 1, run = ?, due_at = ?
			WHERE shop_id = ? AND order_id = ? AND workflow = ? AND subject = ? AND rev = ? AND started_at = ?`,
			string(body), dueAt(r), r.ShopID, r.OrderID, string(r.Workflow), r.Subject, prev, started)
		if err == nil && affected(res) == 0 {
			res, err = w.exec(`UPDATE runs SET started_at = ?, rev = rev + 1, run = ?, due_at = ?
				WHERE shop_id = ? AND order_id = ? AND workflow = ? AND subject = ? AND rev = ?`,
				started, string(body), dueAt(r), r.ShopID, r.OrderID, string(r.Workflow), r.Subject, prev)
		}
		if err != nil {
			return fmt.Errorf("update run %s/%s: %w", r.OrderID, r.Workflow, err)
		}
		return revOutcome(w, res, func() string { return "update run " + r.OrderID + "/" + string(r.Workflow) },
			`SELECT rev FROM runs WHERE shop_id = ? AND order_id = ? AND workflow = ? AND subject = ?`, r.ShopID, r.OrderID, string(r.Workflow), r.Subject)
	})
	if err != nil {
		return care.Run{}, err
	}
	return r, nil
}

// ListOrderRuns returns an order's runs by StartedAt, then workflow, then
// subject. The primary key finds them; they are sorted here, as an ORDER
// BY started_at lets SQLite pick the shop-wide runs_started index and scan
// every run of the shop.
func (db *DB) ListOrderRuns(ctx context.Context, shopID, orderID string) ([]care.Run, error) {
	rows, err := db.query(ctx, `SELECT rev, run FROM runs WHERE shop_id = ? AND order_id = ?`, shopID, orderID)
	if err != nil {
		return nil, fmt.Errorf("list runs of %s: %w", orderID, err)
	}
	out, err := scanRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("list runs of %s: %w", orderID, err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.StartedAt.Equal(b.StartedAt) {
			return a.StartedAt.Before(b.StartedAt)
		}
		if a.Workflow != b.Workflow {
			return a.Workflow < b.Workflow
		}
		return a.Subject < b.Subject
	})
	return out, nil
}

// ListRuns returns a shop's runs started in [from, to) by StartedAt, then
// order id and workflow.
func (db *DB) ListRuns(ctx context.Context, shopID string, from, to time.Time) ([]care.Run, error) {
	rows, err := db.query(ctx, `SELECT rev, run FROM runs WHERE shop_id = ? AND started_at >= ? AND started_at < ?
		ORDER BY started_at, order_id, workflow, subject`, shopID, sortTime(from), sortTime(to))
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	out, err := scanRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return out, nil
}

// DueRuns returns scheduled runs due at or before before, earliest first
// (the partial index runs_due, whose entries are in (due_at, rowid) order),
// in pages: the cursor is the last run's due_at and rowid.
func (db *DB) DueRuns(ctx context.Context, before time.Time, after string, limit int) ([]care.Run, string, error) {
	if limit <= 0 {
		return nil, "", nil
	}
	afterDue, afterRow := "", int64(0)
	if after != "" {
		var err error
		due, row, ok := strings.Cut(after, "|")
		if afterRow, err = strconv.ParseInt(row, 10, 64); !ok || err != nil || due == "" {
			return nil, "", care.Invalid("after", "not a cursor DueRuns returned")
		}
		afterDue = due
	}
	rows, err := db.query(ctx, `SELECT rev, run, due_at, rowid FROM runs WHERE due_at IS NOT NULL AND due_at <= ?
		AND (due_at, rowid) > (?, ?) ORDER BY due_at, rowid LIMIT ?`, sortTime(before), afterDue, afterRow, limit)
	if err != nil {
		return nil, "", fmt.Errorf("list due runs: %w", err)
	}
	var lastDue string
	var lastRow int64
	out, err := scanRuns(rows, &lastDue, &lastRow)
	if err != nil {
		return nil, "", fmt.Errorf("list due runs: %w", err)
	}
	if len(out) < limit {
		return out, "", nil
	}
	return out, lastDue + "|" + strconv.FormatInt(lastRow, 10), nil
}

// dueAt is the runs.due_at column of r: its start time while it is
// scheduled, else NULL.
func dueAt(r care.Run) any {
	if at, ok := r.Due(); ok {
		return sortTime(at)
	}
	return nil
}

// scanRuns reads rows of (rev, run, extra...): after it, extra hold the
// last row's values.
func scanRuns(rows *sql.Rows, extra ...any) ([]care.Run, error) {
	defer rows.Close()
	var out []care.Run
	var rev int64
	var body sql.RawBytes // decoded before the next row: not copied
	dest := append([]any{&rev, &body}, extra...)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		r, err := decodeRun(rev, body)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// scanRun reads (rev, run).
func scanRun(row rowScanner) (care.Run, error) {
	var rev int64
	var body []byte
	if err := row.Scan(&rev, &body); err != nil {
		return care.Run{}, err
	}
	return decodeRun(rev, body)
}

// decodeRun is the stored run body with its rev.
func decodeRun(rev int64, body []byte) (care.Run, error) {
	var r care.Run
	if err := storedjson.Unmarshal(body, &r); err != nil {
		return care.Run{}, err
	}
	r.Rev = rev
	return r, nil
}

// ---- waits ----

// Await registers token for (shop, order, key), replacing a token registered
// before; if an answer is waiting instead, it is removed and returned.
func (db *DB) Await(ctx context.Context, shopID, orderID, key, token string) (json.RawMessage, bool, error) {
	var answer json.RawMessage
	err := db.write(ctx, func(w *writer) error {
		var ans sql.NullString
		err := w.queryRow(`SELECT answer FROM waits WHERE shop_id = ? AND order_id = ? AND key = ?`, shopID, orderID, key).Scan(&ans)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("await %s/%s: %w", orderID, key, err)
		}
		if ans.Valid {
			answer = json.RawMessage(ans.String)
			_, err = w.exec(`DELETE FROM waits WHERE shop_id = ? AND order_id = ? AND key = ?`, shopID, orderID, key)
		} else {
			_, err = w.exec(`INSERT INTO waits (shop_id, order_id, key, token, answer) VALUES (?, ?, ?, ?, NULL)
				ON CONFLICT (shop_id, order_id, key) DO UPDATE SET token = excluded.token, answer = NULL`,
				shopID, orderID, key, token)
		}
		if err != nil {
			return fmt.Errorf("await %s/%s: %w", orderID, key, err)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return answer, answer != nil, nil
}

// Deliver hands answer to the token registered for (shop, order, key),
// removing it; with none registered it keeps answer (replacing an older one).
// A nil answer is kept as JSON null.
func (db *DB) Deliver(ctx context.Context, shopID, orderID, key string, answer json.RawMessage) (string, bool, error) {
	if answer == nil {
		answer = json.RawMessage("null")
	}
	var token sql.NullString
	err := db.write(ctx, func(w *writer) error {
		token = sql.NullString{}
		err := w.queryRow(`SELECT token FROM waits WHERE shop_id = ? AND order_id = ? AND key = ?`, shopID, orderID, key).Scan(&token)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("deliver %s/%s: %w", orderID, key, err)
		}
		if token.Valid {
			_, err = w.exec(`DELETE FROM waits WHERE shop_id = ? AND order_id = ? AND key = ?`, shopID, orderID, key)
		} else {
			_, err = w.exec(`INSERT INTO waits (shop_id, order_id, key, token, answer) VALUES (?, ?, ?, NULL, ?)
				ON CONFLICT (shop_id, order_id, key) DO UPDATE SET token = NULL, answer = excluded.answer`,
				shopID, orderID, key, string(answer))
		}
		if err != nil {
			return fmt.Errorf("deliver %s/%s: %w", orderID, key, err)
		}
		return nil
	})
	if err != nil {
		return "", false, err
	}
	return token.String, token.Valid, nil
}

// ---- opt-outs ----

// OptOut records that contact opted out of the shop's messages; the first
// record's time is kept.
func (db *DB) OptOut(ctx context.Context, shopID, contact string, at time.Time) error {
	return db.write(ctx, func(w *writer) error {
		if _, err := w.exec(`INSERT INTO opt_outs (shop_id, contact, at) VALUES (?, ?, ?)
			ON CONFLICT (shop_id, contact) DO NOTHING`, shopID, contact, formatTime(at)); err != nil {
			return fmt.Errorf("opt out: %w", err)
		}
		return nil
	})
}

// OptedOut reports whether contact opted out of the shop's messages.
func (db *DB) OptedOut(ctx context.Context, shopID, contact string) (bool, error) {
	var one int
	err := db.queryRow(ctx, `SELECT 1 FROM opt_outs WHERE shop_id = ? AND contact = ?`, shopID, contact).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("opted out: %w", err)
	}
	return true, nil
}

// ---- router support (not part of care's interfaces) ----

// Cursor returns the cursor stored under name, or "" if none was.
func (db *DB) Cursor(ctx context.Context, name string) (string, error) {
	var cur string
	err := db.queryRow(ctx, `SELECT cursor FROM cursors WHERE name = ?`, name).Scan(&cur)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("cursor %s: %w", name, err)
	}
	return cur, nil
}

// PutCursor stores cursor under name, replacing the previous one.
func (db *DB) PutCursor(ctx context.Context, name, cursor string) error {
	return db.write(ctx, func(w *writer) error {
		if _, err := w.exec(`INSERT INTO cursors (name, cursor) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor`, name, cursor); err != nil {
			return fmt.Errorf("put cursor %s: %w", name, err)
		}
		return nil
	})
}

// Notify returns a channel (capacity 1, the same for every caller) that
// receives a value after a committed write that appended to the change feed
// (an Ingest that was not a duplicate nor rejected). Signals do not queue: a
// reader that wakes must read the feed until it is empty. A value is pending
// by the time such an Ingest returns.
func (db *DB) Notify() <-chan struct{} { return db.notify }
