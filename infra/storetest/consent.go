package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/consent"
)

// ConsentStore is a store with consent records.
type ConsentStore interface {
	care.Store
	consent.Store
}

// RunConsent runs the conformance suite of consent.Store against the store
// newStore returns (shared stores are fine: every subtest uses its own
// shop). What it pins beyond consent.Store's doc comments: times keep their
// instant (compared with Equal); a statement with the same At as the
// stored one replaces it; concurrent writers of one key leave the latest.
func RunConsent(t *testing.T, newStore func(t *testing.T) ConsentStore) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 6, 8, 0, 0, 123456789, time.UTC)
	n := 0
	shop := func(t *testing.T, s ConsentStore) string {
		n++
		id := fmt.Sprintf("consent-%d-%d", time.Now().UnixNano(), n)
		if err := s.CreateShop(ctx, care.Shop{ID: id, Name: id, Timezone: "Asia/Shanghai", Locale: "zh-CN", Currency: "CNY", CreatedAt: t0}, nil); err != nil {
			t.Fatalf("CreateShop: %v", err)
		}
		return id
	}
	rec := func(shop, contact, channel, state string, at time.Time) consent.Record {
		return consent.Record{ShopID: shop, Contact: contact, Channel: channel, State: state, Source: consent.SourceReply, At: at}
	}
	eq := cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

	t.Run("PutListDelete", func(t *testing.T) {
		s := newStore(t)
		id := shop(t, s)
		if got, err := s.ListConsents(ctx, id, "nobody"); err != nil || len(got) != 0 {
			t.Fatalf("ListConsents(unknown) = %v, %v", got, err)
		}
		a := rec(id, "c1", "sms", consent.Granted, t0)
		b := rec(id, "c1", consent.AllChannels, consent.OptedOutMarketing, t0.Add(time.Hour))
		other := rec(id, "c2", "sms", consent.OptedOutAll, t0)
		for _, r := range []consent.Record{a, b, other} {
			if err := s.PutConsent(ctx, r); err != nil {
				t.Fatalf("PutConsent: %v", err)
			}
		}
		got, err := s.ListConsents(ctx, id, "c1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]consent.Record{b, a}, got, eq); diff != "" { // by channel: "*" < "sms"
			t.Errorf("ListConsents (-want +got):\n%s", diff)
		}
		// Newer replaces, older is ignored, same instant replaces.
		newer := rec(id, "c1", "sms", consent.OptedOutAll, t0.Add(2*time.Hour))
		older := rec(id, "c1", "sms", consent.Granted, t0.Add(time.Minute))
		same := rec(id, "c1", "sms", consent.OptedOutMarketing, t0.Add(2*time.Hour))
		for _, r := range []consent.Record{newer, older, same} {
			if err := s.PutConsent(ctx, r); err != nil {
				t.Fatalf("PutConsent: %v", err)
			}
		}
		got, _ = s.ListConsents(ctx, id, "c1")
		if diff := cmp.Diff([]consent.Record{b, same}, got, eq); diff != "" {
			t.Errorf("after newer/older/same (-want +got):\n%s", diff)
		}
		if err := s.DeleteConsents(ctx, id, "c1"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ListConsents(ctx, id, "c1"); err != nil || len(got) != 0 {
			t.Errorf("after DeleteConsents: %v, %v", got, err)
		}
		if got, _ := s.ListConsents(ctx, id, "c2"); len(got) != 1 {
			t.Errorf("DeleteConsents removed another contact's: %v", got)
		}
		if err := s.DeleteConsents(ctx, id, "nobody"); err != nil {
			t.Errorf("DeleteConsents(unknown) = %v", err)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		s := newStore(t)
		id := shop(t, s)
		for name, r := range map[string]consent.Record{
			"no contact": rec(id, "", "sms", consent.Granted, t0),
			"no channel": rec(id, "c", "", consent.Granted, t0),
			"bad state":  rec(id, "c", "sms", "maybe", t0),
			"no shop":    rec("", "c", "sms", consent.Granted, t0),
		} {
			if err := s.PutConsent(ctx, r); !errors.Is(err, care.ErrInvalid) {
				t.Errorf("%s: err = %v, want ErrInvalid", name, err)
			}
		}
		if got, _ := s.ListConsents(ctx, id, "c"); len(got) != 0 {
			t.Errorf("an invalid put stored %v", got)
		}
	})

	t.Run("Race", func(t *testing.T) {
		s := newStore(t)
		id := shop(t, s)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.PutConsent(ctx, rec(id, "c", "sms", consent.Granted, t0.Add(time.Duration(i)*time.Minute))); err != nil {
					t.Errorf("PutConsent: %v", err)
				}
			}()
		}
		wg.Wait()
		got, _ := s.ListConsents(ctx, id, "c")
		if len(got) != 1 || !got[0].At.Equal(t0.Add(7*time.Minute)) {
			t.Errorf("after racing writers: %v; want the latest (7m)", got)
		}
	})
}
