package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/infra/storetest"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
)

// TestCareConformance runs the care workflow stores' conformance suite
// against DynamoDB Local, one fresh table per subtest.
func TestCareConformance(t *testing.T) {
	db, st := clients(t)
	storetest.RunCare(t, func(t *testing.T) care.CareStore {
		return New(db, st, newTable(t), clock.Real{})
	})
}

// TestCareItemsInOrderPartition: runs and waits share their order's
// partition; ListEvents and the change feed still see events only.
func TestCareItemsInOrderPartition(t *testing.T) {
	s := newStore(t, clock.Real{})
	c := t.Context()
	shop := mustShop(t, s)
	ev := createdEv("o-1")
	if _, err := s.Ingest(c, deliv(shop), ev, care.Apply); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if _, _, err := s.CreateRun(c, care.Run{ShopID: shop, OrderID: "o-1", Workflow: care.UnpaidChase, Status: care.RunRunning, StartedAt: t0}); err != nil {
		t.Fatalf("CreateRun: %v", err)
	}
	if _, _, err := s.Await(c, shop, "o-1", string(care.CODConfirm), "tok"); err != nil {
		t.Fatalf("Await: %v", err)
	}
	if _, _, err := s.Deliver(c, shop, "o-1", "other", json.RawMessage(`{"x":1}`)); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	evs, next, err := s.ListEvents(c, shop, "o-1", "", 10)
	if err != nil || len(evs) != 1 || next != "" || evs[0].Event.ID != ev.ID {
		t.Errorf("ListEvents = %d events, next %q, %v; want the one event", len(evs), next, err)
	}
	changes, _, err := s.ReadFeed(c, "", 1000)
	if err != nil {
		t.Fatalf("ReadFeed: %v", err)
	}
	var mine []string
	for _, ch := range changes {
		if ch.ShopID == shop {
			mine = append(mine, ch.EventID)
		}
	}
	if diff := cmp.Diff([]string{ev.ID}, mine); diff != "" {
		t.Errorf("feed of the shop (-want +got):\n%s", diff)
	}
}

// TestCareKeysWithHash: order ids and wait keys may contain '#' without two
// of them sharing an item; shop ids and template workflows may not.
func TestCareKeysWithHash(t *testing.T) {
	s := newStore(t, clock.Real{})
	c := t.Context()
	shop := mustShop(t, s)

	// (order "a#b", key "c") and (order "a", key "b#c") are different waits.
	if _, _, err := s.Await(c, shop, "a#b", "c", "tok-1"); err != nil {
		t.Fatalf("Await: %v", err)
	}
	if tok, found, err := s.Deliver(c, shop, "a", "b#c", json.RawMessage(`1`)); err != nil || found {
		t.Errorf("Deliver(a, b#c) = %q, %v, %v; want no token", tok, found, err)
	}
	if tok, found, err := s.Deliver(c, shop, "a#b", "c", json.RawMessage(`2`)); err != nil || !found || tok != "tok-1" {
		t.Errorf("Deliver(a#b, c) = %q, %v, %v; want tok-1", tok, found, err)
	}

	// Runs of order "a" are not runs of order "a#x".
	for _, o := range []string{"a", "a#x"} {
		if _, _, err := s.CreateRun(c, care.Run{ShopID: shop, OrderID: o, Workflow: care.UnpaidChase, StartedAt: t0}); err != nil {
			t.Fatalf("CreateRun(%s): %v", o, err)
		}
	}
	if rs, err := s.ListOrderRuns(c, shop, "a"); err != nil || len(rs) != 1 || rs[0].OrderID != "a" {
		t.Errorf("ListOrderRuns(a) = %+v, %v; want the one run of a", rs, err)
	}

	// Workflow "w" is not a prefix match of workflow "w_x".
	for _, tp := range []care.Template{
		{ShopID: shop, Workflow: "w", Version: 1, Body: json.RawMessage(`{}`), CreatedAt: t0},
		{ShopID: shop, Workflow: "w_x", Version: 1, Body: json.RawMessage(`{}`), CreatedAt: t0},
		{ShopID: shop, Workflow: "w_x", Version: 2, Body: json.RawMessage(`{}`), CreatedAt: t0},
	} {
		if err := s.PutTemplate(c, tp); err != nil {
			t.Fatalf("PutTemplate(%s v%d): %v", tp.Workflow, tp.Version, err)
		}
	}
	if tp, err := s.GetTemplate(c, shop, "w", 0); err != nil || tp.Workflow != "w" || tp.Version != 1 {
		t.Errorf("GetTemplate(w, latest) = %s v%d, %v; want w v1", tp.Workflow, tp.Version, err)
	}

	if err := s.PutTemplate(c, care.Template{ShopID: shop, Workflow: "a#b", Version: 1}); !errors.Is(err, care.ErrInvalid) {
		t.Errorf("PutTemplate(workflow a#b) = %v, want ErrInvalid", err)
	}
	if _, err := s.GetTemplate(c, shop, "a#b", 0); !errors.Is(err, care.ErrNotFound) {
		t.Errorf("GetTemplate(workflow a#b) = %v, want ErrNotFound", err)
	}
	evil := shop + "#MSG#x"
	if _, _, err := s.ReserveMessage(c, care.Message{ShopID: evil, ID: "m", At: t0}); !errors.Is(err, care.ErrInvalid) {
		t.Errorf("ReserveMessage(shop %q) = %v, want ErrInvalid", evil, err)
	}
	if _, err := s.GetTask(c, evil, "t"); !errors.Is(err, care.ErrNotFound) {
		t.Errorf("GetTask(shop %q) = %v, want ErrNotFound", evil, err)
	}
}

// TestMessageCursorTampering: a cursor edited by hand, or issued for another
// shop, is ErrInvalid.
func TestMessageCursorTampering(t *testing.T) {
	s := newStore(t, clock.Real{})
	c := t.Context()
	shop, other := mustShop(t, s), mustShop(t, s)
	for i := range 3 {
		m := care.Message{ShopID: shop, ID: fmt.Sprintf("m-%d", i), OrderID: "o", Status: care.MessagePending, At: t0.Add(time.Duration(i) * time.Minute)}
		if _, _, err := s.ReserveMessage(c, m); err != nil {
			t.Fatalf("ReserveMessage: %v", err)
		}
	}
	from, to := t0, t0.Add(time.Hour)
	_, cur, err := s.ListMessages(c, shop, from, to, "", 1)
	if err != nil || cur == "" {
		t.Fatalf("ListMessages = cursor %q, %v; want a cursor", cur, err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(cur)
	edited := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), "m-0", "m-1", 1)))
	tests := []struct {
		name, shop, cursor string
		from, to           time.Time
	}{
		{"edited position", shop, edited, from, to},
		{"another shop", other, cur, from, to},
		{"outside the window", shop, cur, t0.Add(30 * time.Minute), to},
		{"truncated", shop, cur[:len(cur)-3], from, to},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := s.ListMessages(c, tc.shop, tc.from, tc.to, tc.cursor, 1); !errors.Is(err, care.ErrInvalid) {
				t.Errorf("ListMessages = %v, want ErrInvalid", err)
			}
		})
	}
	ms, next, err := s.ListMessages(c, shop, from, to, cur, 5)
	if err != nil || len(ms) != 2 || ms[0].ID != "m-1" || next != "" {
		t.Errorf("ListMessages(after m-0) = %d entries, next %q, %v; want m-1, m-2 and no cursor", len(ms), next, err)
	}
}

// TestLargeTask: a task above the inline limit is gzipped, and its token,
// Resumed and Rev still round-trip.
func TestLargeTask(t *testing.T) {
	s := newStore(t, clock.Real{})
	c := t.Context()
	shop := mustShop(t, s)
	tk := care.Task{ShopID: shop, ID: "big", OrderID: "o", Status: care.TaskOpen, Script: strings.Repeat("请确认订单。", 8000),
		Token: "token-1", Resumed: true, CreatedAt: t0, DueAt: t0.Add(time.Hour)}
	if _, created, err := s.CreateTask(c, tk); err != nil || !created {
		t.Fatalf("CreateTask = %v, %v", created, err)
	}
	got, err := s.GetTask(c, shop, "big")
	if err != nil {
		t.Fatalf("GetTask: %v", err)
	}
	if got.Script != tk.Script || got.Token != "token-1" || !got.Resumed || got.Rev != 1 {
		t.Errorf("GetTask = token %q resumed %v rev %d script %d bytes; want token-1 true 1 %d", got.Token, got.Resumed, got.Rev, len(got.Script), len(tk.Script))
	}
	got.Status = care.TaskDone
	upd, err := s.UpdateTask(c, got)
	if err != nil || upd.Rev != 2 {
		t.Fatalf("UpdateTask = rev %d, %v; want 2", upd.Rev, err)
	}
	if ts, err := s.ListTasks(c, shop, care.TaskFilter{Statuses: []care.TaskStatus{care.TaskDone}}); err != nil || len(ts) != 1 || ts[0].Token != "token-1" || ts[0].Rev != 2 {
		t.Errorf("ListTasks(done) = %d tasks, %v; want the big one with its token at rev 2", len(ts), err)
	}
}

// TestPutTemplateCancellation: PutTemplate retries a transaction cancelled
// by a conflict or throttling, and reports a failed condition as ErrConflict
// at once.
func TestPutTemplateCancellation(t *testing.T) {
	db, st := clients(t)
	table := newTable(t)
	plain := New(db, st, table, clock.Real{})
	tests := []struct {
		name      string
		fail      func(n int) error
		version   int
		wantErr   error
		wantText  string
		wantCalls int
	}{
		{"conflict retried", func(n int) error {
			if n == 1 {
				return canceled("TransactionConflict", "None")
			}
			return nil
		}, 2, nil, "", 2},
		{"throttling retried", func(n int) error {
			if n <= 2 {
				return canceled("None", "ThrottlingError")
			}
			return nil
		}, 2, nil, "", 3},
		{"endless conflicts", func(int) error { return canceled("TransactionConflict", "None") }, 2, care.ErrConflict, "", maxAttempts},
		{"validation error", func(int) error { return canceled("ValidationError", "None") }, 2, nil, "ValidationError", 1},
		{"skipped version", nil, 3, care.ErrConflict, "", 1},
		{"duplicate version", nil, 1, care.ErrConflict, "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			shop := mustShop(t, plain)
			if err := plain.PutTemplate(t.Context(), care.Template{ShopID: shop, Workflow: care.UnpaidChase, Version: 1, Body: json.RawMessage(`{}`)}); err != nil {
				t.Fatalf("PutTemplate v1: %v", err)
			}
			h := &hookDB{DynamoDB: db, before: tc.fail}
			s := New(h, st, table, clock.Real{})
			s.pause = func(context.Context, time.Duration) error { return nil }
			err := s.PutTemplate(t.Context(), care.Template{ShopID: shop, Workflow: care.UnpaidChase, Version: tc.version, Body: json.RawMessage(`{"v":2}`)})
			switch {
			case tc.wantErr == nil && tc.wantText == "":
				if err != nil {
					t.Fatalf("PutTemplate: %v", err)
				}
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Errorf("PutTemplate = %v, want %v", err, tc.wantErr)
			case tc.wantText != "" && (err == nil || errors.Is(err, care.ErrConflict) || !strings.Contains(err.Error(), tc.wantText)):
				t.Errorf("PutTemplate = %v, want an error mentioning %s that is not ErrConflict", err, tc.wantText)
			}
			if h.calls != tc.wantCalls {
				t.Errorf("%d transactions, want %d", h.calls, tc.wantCalls)
			}
			latest, err := plain.GetTemplate(t.Context(), shop, care.UnpaidChase, 0)
			wantLatest := 1
			if tc.wantErr == nil && tc.wantText == "" {
				wantLatest = 2
			}
			if err != nil || latest.Version != wantLatest {
				t.Errorf("latest = v%d, %v; want v%d", latest.Version, err, wantLatest)
			}
		})
	}
}

// TestConsentConformance runs the consent store's conformance suite
// against DynamoDB Local.
func TestConsentConformance(t *testing.T) {
	db, st := clients(t)
	storetest.RunConsent(t, func(t *testing.T) storetest.ConsentStore {
		return New(db, st, newTable(t), clock.Real{})
	})
}

// TestErasureConformance runs the erasure suite against DynamoDB Local.
func TestErasureConformance(t *testing.T) {
	db, st := clients(t)
	storetest.RunErasure(t, func(t *testing.T) storetest.ErasureStore {
		return New(db, st, newTable(t), clock.Real{})
	})
}

// TestRefsConformance runs the provider refs suite against DynamoDB Local.
func TestRefsConformance(t *testing.T) {
	db, st := clients(t)
	storetest.RunRefs(t, New(db, st, newTable(t), clock.Real{}))
}
