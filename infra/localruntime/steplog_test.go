package localruntime_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/localruntime"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestSendsAndSkipsAreLogged: every ledger entry a step writes is logged
// once as a JSON line ("message sent" / "message skipped" with the reason),
// with ids and no personal data; each webhook delivery logs one line.
func TestSendsAndSkipsAreLogged(t *testing.T) {
	var logs lockedBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	rt, err := localruntime.Open(t.Context(), localruntime.Options{DataDir: t.TempDir(), Clock: localruntime.ClockVirtual,
		Start: start, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, rt: rt, api: httptest.NewServer(rt.API)}
	t.Cleanup(func() { h.api.Close(); rt.Close() })
	h.shop = h.newShop("tea")

	h.webhook(h.shop, "", order("L1", "89.00", false, 30*time.Minute, start))
	h.advance("24h")
	ms := h.wantLedger("L1", "call:skipped:below_threshold", "coupon:skipped:deadline_passed", "nudge:sent", "ships_today:skipped:deadline_passed")

	byID := map[string][]map[string]any{}
	webhooks := 0
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		switch m["msg"] {
		case "message sent", "message skipped", "message failed":
			id, _ := m["id"].(string)
			byID[id] = append(byID[id], m)
		case "webhook received":
			webhooks++
		}
	}
	if webhooks != 1 {
		t.Errorf("%d 'webhook received' lines, want 1", webhooks)
	}
	for _, m := range ms {
		lines := byID[m.ID]
		if len(lines) != 1 {
			t.Errorf("ledger entry %s (%s) logged %d times, want once", m.ID, m.Status, len(lines))
			continue
		}
		l := lines[0]
		wantMsg := "message " + string(m.Status)
		if l["msg"] != wantMsg || l["shop"] != "tea" || l["order"] != "L1" || l["step"] != m.Step || l["workflow"] != string(m.Workflow) {
			t.Errorf("log line for %s: %v, want %q", m.ID, l, wantMsg)
		}
		if m.Reason != "" && l["reason"] != m.Reason {
			t.Errorf("log line for %s: reason %v, want %q", m.ID, l["reason"], m.Reason)
		}
	}
	if len(byID) != len(ms) {
		t.Errorf("%d ids logged, %d ledger entries", len(byID), len(ms))
	}
	for _, s := range []string{"陈晓燕", "+8613912345678", "13912345678", "ock_", "whsec_", rt.AdminToken} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the log leaks %q", s)
		}
	}
}
