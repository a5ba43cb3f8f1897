// Package caretest is the one shared fixture of the care packages' tests:
// a fresh embedded store (the real SQLite store, not a mock) with the
// shops a test needs, and recording fakes of what the step handler calls
// out to (the Resumer and a Channel). It is imported by tests only.
package caretest

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/sqlitestore"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/steps"
)

// Store opens a fresh embedded store in the test's temporary directory,
// closed (and the close checked) when the test ends. A non-nil clk is the
// store's clock (sqlitestore.WithClock).
func Store(t testing.TB, clk clock.Clock) *sqlitestore.DB {
	t.Helper()
	var opts []sqlitestore.Option
	if clk != nil {
		opts = append(opts, sqlitestore.WithClock(clk))
	}
	db, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "care.db"), opts...)
	if err != nil {
		t.Fatalf("caretest: open store: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("caretest: close store: %v", err)
		}
	})
	return db
}

// Shop creates a shop (a plain one when only the id is set: UTC, en, CNY)
// and returns it.
func Shop(t testing.TB, db *sqlitestore.DB, s care.Shop) care.Shop {
	t.Helper()
	if s.Name == "" {
		s.Name = s.ID
	}
	if s.Timezone == "" {
		s.Timezone = "UTC"
	}
	if s.Locale == "" {
		s.Locale = "en"
	}
	if s.Currency == "" {
		s.Currency = "CNY"
	}
	if err := db.CreateShop(context.Background(), s, nil); err != nil {
		t.Fatalf("caretest: create shop %s: %v", s.ID, err)
	}
	return s
}

// TeaShop is the Hangzhou tea shop most care tests run: Shanghai time,
// zh-CN, CNY.
func TeaShop(id string, created time.Time) care.Shop {
	return care.Shop{ID: id, Name: "西湖茶庄", Timezone: "Asia/Shanghai", Locale: "zh-CN", Currency: "CNY", CreatedAt: created}
}

// ResumeCall is one recorded ResumeTask call.
type ResumeCall struct {
	Token  string
	Output string
}

// Resumer records ResumeTask calls (a queue.Resumer); Resume (nil:
// succeed) decides each result. Safe for concurrent use.
type Resumer struct {
	Resume func(token string, output []byte) error

	mu    sync.Mutex
	calls []ResumeCall
}

// ResumeTask records the call, then answers what Resume says.
func (f *Resumer) ResumeTask(_ context.Context, token string, output []byte) error {
	f.mu.Lock()
	f.calls = append(f.calls, ResumeCall{token, string(output)})
	fn := f.Resume
	f.mu.Unlock()
	if fn != nil {
		return fn(token, output)
	}
	return nil
}

// Calls returns the calls so far, in order.
func (f *Resumer) Calls() []ResumeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ResumeCall(nil), f.calls...)
}

// Channel records what the step handler sends (a steps.Channel); SendFunc
// (nil: succeed) decides each result. Safe for concurrent use.
type Channel struct {
	SendFunc func(d steps.Envelope) error

	mu   sync.Mutex
	sent []steps.Envelope
}

// Send records d, then answers what SendFunc says.
func (f *Channel) Send(_ context.Context, d steps.Envelope) error {
	f.mu.Lock()
	f.sent = append(f.sent, d)
	fn := f.SendFunc
	f.mu.Unlock()
	if fn != nil {
		return fn(d)
	}
	return nil
}

// Sent returns what was sent so far, in order.
func (f *Channel) Sent() []steps.Envelope {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]steps.Envelope(nil), f.sent...)
}
