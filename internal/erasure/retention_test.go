package erasure_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/caretest"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/erasure"
)

// TestSweep: a shop with a 30-day policy loses the texts of entries older
// than 30 days (not of pending ones, not of newer ones); a shop without a
// policy keeps all; sweeping again changes nothing.
func TestSweep(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	db := caretest.Store(t, nil)
	for _, id := range []string{"tea", "rival"} {
		caretest.Shop(t, db, caretest.TeaShop(id, now.Add(-90*24*time.Hour)))
	}
	if err := db.PutSource(ctx, erasure.Retention{MessageTextDays: 30}.Source("tea", now)); err != nil {
		t.Fatal(err)
	}
	put := func(shop, id string, age time.Duration, st care.MessageStatus) {
		m := care.Message{ID: id, ShopID: shop, OrderID: "o1", Step: "s", Channel: "sms", Text: "陈晓燕您好", Status: st, At: now.Add(-age)}
		if _, _, err := db.ReserveMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	put("tea", "old", 40*24*time.Hour, care.MessageSent)
	put("tea", "old-skip", 35*24*time.Hour, care.MessageSkipped)
	put("tea", "old-pending", 40*24*time.Hour, care.MessagePending)
	put("tea", "new", 10*24*time.Hour, care.MessageSent)
	put("rival", "old", 40*24*time.Hour, care.MessageSent)
	x := erasure.Expirer{Store: db}
	if n, err := x.Sweep(ctx, now); err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v; want 2", n, err)
	}
	want := map[string]map[string]string{
		"tea":   {"old": erasure.Erased, "old-skip": erasure.Erased, "old-pending": "陈晓燕您好", "new": "陈晓燕您好"},
		"rival": {"old": "陈晓燕您好"},
	}
	for shop, ids := range want {
		msgs, _ := db.ListOrderMessages(ctx, shop, "o1")
		for _, m := range msgs {
			if m.Text != ids[m.ID] {
				t.Errorf("%s/%s text %q, want %q", shop, m.ID, m.Text, ids[m.ID])
			}
		}
	}
	if n, err := x.Sweep(ctx, now); err != nil || n != 0 {
		t.Errorf("second Sweep = %d, %v; want 0", n, err)
	}
}

// TestSweepResumes: a sweep reads the ledger from where the last one
// stopped, not from its beginning; an entry pending at the last sweep is
// read again (its text expires once it is sent); a changed policy makes
// the next sweep start from the beginning once more.
func TestSweepResumes(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	db := caretest.Store(t, nil)
	caretest.Shop(t, db, caretest.TeaShop("tea", now.Add(-90*24*time.Hour)))
	if err := db.PutSource(ctx, erasure.Retention{MessageTextDays: 30}.Source("tea", now.Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	put := func(id string, age time.Duration, st care.MessageStatus) care.Message {
		m := care.Message{ID: id, ShopID: "tea", OrderID: "o1", Step: "s", Channel: "sms", Text: "陈晓燕您好", Status: st, At: now.Add(-age)}
		if _, _, err := db.ReserveMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	put("old", 40*24*time.Hour, care.MessageSent)
	pending := put("pending", 35*24*time.Hour, care.MessagePending)
	x := erasure.Expirer{Store: db}
	if n, err := x.Sweep(ctx, now); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	p, err := db.GetSource(ctx, "tea", erasure.RetentionSweptSource)
	if err != nil || !strings.Contains(p.URL, url.QueryEscape(pending.At.Format(time.RFC3339Nano))) {
		t.Fatalf("swept to %+v, %v; want the pending entry's time", p, err)
	}
	// Behind the horizon now: the next sweep would not read it; the
	// entry that was pending (sent since) is read again and expires.
	sneaky := care.Message{ID: "behind", ShopID: "tea", OrderID: "o1", Step: "s", Channel: "sms", Text: "陈晓燕您好", Status: care.MessageSent, At: now.Add(-39 * 24 * time.Hour)}
	if _, _, err := db.ReserveMessage(ctx, sneaky); err != nil {
		t.Fatal(err)
	}
	pending.Status = care.MessageSent
	if err := db.UpdateMessage(ctx, pending); err != nil {
		t.Fatal(err)
	}
	if n, err := x.Sweep(ctx, now.Add(24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("second Sweep = %d, %v; want 1 (the entry sent since)", n, err)
	}
	text := func(id string) string {
		msgs, _ := db.ListOrderMessages(ctx, "tea", "o1")
		for _, m := range msgs {
			if m.ID == id {
				return m.Text
			}
		}
		return "?"
	}
	if text("behind") == erasure.Erased {
		t.Fatal("the second sweep read the ledger from its beginning again")
	}
	// A new policy: the next sweep starts from the beginning.
	if err := db.PutSource(ctx, erasure.Retention{MessageTextDays: 20}.Source("tea", now.Add(25*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if n, err := x.Sweep(ctx, now.Add(26*time.Hour)); err != nil || n != 1 || text("behind") != erasure.Erased {
		t.Fatalf("sweep after a policy change = %d, %v, behind %q; want the old entry expired", n, err, text("behind"))
	}
}
