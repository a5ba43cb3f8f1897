package erasure

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// RetentionSource is the care.Source name a shop's retention policy is
// stored under: URL "retention:?message_text_days=N".
const RetentionSource = "policy.retention"

// Retention is a shop's retention policy.
type Retention struct {
	// MessageTextDays is how long the ledger keeps a message's text after
	// the entry was written; 0 keeps it (the default). 1..3650.
	MessageTextDays int `json:"message_text_days"`
}

// Validate checks r; errors are care.Invalid.
func (r Retention) Validate() error {
	if r.MessageTextDays < 0 || r.MessageTextDays > 3650 {
		return care.Invalid("message_text_days", "0 (keep) or 1..3650")
	}
	return nil
}

// Source returns r as the shop's stored policy.
func (r Retention) Source(shopID string, at time.Time) care.Source {
	return care.Source{ShopID: shopID, Name: RetentionSource, URL: "retention:?message_text_days=" + strconv.Itoa(r.MessageTextDays), UpdatedAt: at}
}

// RetentionOf reads a stored policy back.
func RetentionOf(src care.Source) (Retention, error) {
	u, err := url.Parse(src.URL)
	if err != nil {
		return Retention{}, fmt.Errorf("retention policy: unreadable")
	}
	n, err := strconv.Atoi(u.Query().Get("message_text_days"))
	if err != nil {
		return Retention{}, fmt.Errorf("retention policy: unreadable")
	}
	r := Retention{MessageTextDays: n}
	return r, r.Validate()
}

// Expirer expires message texts past each shop's retention.
type Expirer struct {
	Store interface {
		care.Messages
		ListShops(ctx context.Context, cursor string, limit int) ([]care.Shop, string, error)
		GetSource(ctx context.Context, shopID, name string) (care.Source, error)
		PutSource(ctx context.Context, src care.Source) error
	}
}

// ExpireTexts replaces with Erased the text of every ledger entry of the
// shop written before before (pending entries aside: their send may still
// be retried), paging through the ledger; it returns how many it changed.
// Idempotent.
func (x Expirer) ExpireTexts(ctx context.Context, shopID string, before time.Time) (int, error) {
	n, _, err := x.expire(ctx, shopID, time.Unix(0, 0).UTC(), before)
	return n, err
}

// expire is ExpireTexts for the entries written in [from, before). It
// also returns where the next pass may start: before, or the time of the
// oldest pending entry it left (its text expires once its send ends).
func (x Expirer) expire(ctx context.Context, shopID string, from, before time.Time) (int, time.Time, error) {
	n, cursor, next := 0, "", before
	for {
		page, more, err := x.Store.ListMessages(ctx, shopID, from, before, cursor, 1000)
		if err != nil {
			return n, from, err
		}
		for _, m := range page {
			if m.Status == care.MessagePending {
				if m.At.Before(next) {
					next = m.At
				}
				continue
			}
			if m.Text == "" || m.Text == Erased {
				continue
			}
			m.Text = Erased
			if err := x.Store.UpdateMessage(ctx, m); err != nil {
				return n, from, err
			}
			n++
		}
		if more == "" {
			return n, next, nil
		}
		cursor = more
	}
}

// RetentionSweptSource is where Sweep keeps how far it swept a shop's
// ledger (URL "swept:?to=<RFC 3339 time>"): the next sweep starts there,
// so a daily sweep reads a day of the ledger, not all of it; after the
// shop's policy changed (its source is newer) it starts from the beginning
// once again.
const RetentionSweptSource = "policy.retention.swept"

// sweptFrom is where the sweep of a shop with policy src starts.
func (x Expirer) sweptFrom(ctx context.Context, shopID string, policy care.Source) (time.Time, error) {
	start := time.Unix(0, 0).UTC()
	p, err := x.Store.GetSource(ctx, shopID, RetentionSweptSource)
	if errors.Is(err, care.ErrNotFound) {
		return start, nil
	} else if err != nil {
		return start, err
	}
	if p.UpdatedAt.Before(policy.UpdatedAt) {
		return start, nil
	}
	u, err := url.Parse(p.URL)
	if err != nil {
		return start, nil
	}
	to, err := time.Parse(time.RFC3339Nano, u.Query().Get("to"))
	if err != nil {
		return start, nil
	}
	return to, nil
}

// Sweep expires, for every shop with a retention policy, the texts older
// than it at now; it returns how many texts it expired.
func (x Expirer) Sweep(ctx context.Context, now time.Time) (int, error) {
	total, cursor := 0, ""
	for {
		shops, next, err := x.Store.ListShops(ctx, cursor, 100)
		if err != nil {
			return total, err
		}
		for _, s := range shops {
			src, err := x.Store.GetSource(ctx, s.ID, RetentionSource)
			if errors.Is(err, care.ErrNotFound) {
				continue
			}
			if err != nil {
				return total, err
			}
			r, err := RetentionOf(src)
			if err != nil || r.MessageTextDays == 0 {
				continue
			}
			from, err := x.sweptFrom(ctx, s.ID, src)
			if err != nil {
				return total, err
			}
			n, to, err := x.expire(ctx, s.ID, from, now.Add(-time.Duration(r.MessageTextDays)*24*time.Hour))
			total += n
			if err != nil {
				return total, err
			}
			if err := x.Store.PutSource(ctx, care.Source{ShopID: s.ID, Name: RetentionSweptSource,
				URL: "swept:?to=" + url.QueryEscape(to.UTC().Format(time.RFC3339Nano)), UpdatedAt: now}); err != nil {
				return total, err
			}
		}
		if next == "" {
			return total, nil
		}
		cursor = next
	}
}
