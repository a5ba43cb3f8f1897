package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/consent"
)

// consentSchema is a migration: consents (one buyer's latest statement per
// shop, contact key and channel).
const consentSchema = `
	CREATE TABLE consents (
		shop_id TEXT NOT NULL,
		contact TEXT NOT NULL,
		channel TEXT NOT NULL,
		at      TEXT NOT NULL,
		record  TEXT NOT NULL,
		PRIMARY KEY (shop_id, contact, channel)
	) STRICT;`

var _ consent.Store = (*DB)(nil)

func checkConsent(r consent.Record) error {
	switch {
	case r.ShopID == "":
		return care.Invalid("shop_id", "empty")
	case r.Contact == "":
		return care.Invalid("contact", "empty")
	case r.Channel == "":
		return care.Invalid("channel", "empty")
	case !consent.ValidState(r.State):
		return care.Invalid("state", "granted, opted_out_marketing or opted_out_all")
	}
	return nil
}

// PutConsent stores r unless the stored statement is later (see consent.Store).
func (db *DB) PutConsent(ctx context.Context, r consent.Record) error {
	if err := checkConsent(r); err != nil {
		return err
	}
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("put consent: %w", err)
	}
	return db.write(ctx, func(w *writer) error {
		if _, err := w.exec(`INSERT INTO consents (shop_id, contact, channel, at, record) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (shop_id, contact, channel) DO UPDATE SET at = excluded.at, record = excluded.record
			WHERE excluded.at >= consents.at`, r.ShopID, r.Contact, r.Channel, sortTime(r.At), string(body)); err != nil {
			return fmt.Errorf("put consent: %w", err)
		}
		return nil
	})
}

// ListConsents returns the statements about contact at the shop, by channel.
func (db *DB) ListConsents(ctx context.Context, shopID, contact string) ([]consent.Record, error) {
	rows, err := db.query(ctx, `SELECT record FROM consents WHERE shop_id = ? AND contact = ? ORDER BY channel`, shopID, contact)
	if err != nil {
		return nil, fmt.Errorf("list consents: %w", err)
	}
	defer rows.Close()
	var out []consent.Record
	for rows.Next() {
		var body string
		var r consent.Record
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("list consents: %w", err)
		}
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return nil, fmt.Errorf("list consents: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DeleteConsents removes every statement about contact at the shop.
func (db *DB) DeleteConsents(ctx context.Context, shopID, contact string) error {
	return db.write(ctx, func(w *writer) error {
		if _, err := w.exec(`DELETE FROM consents WHERE shop_id = ? AND contact = ?`, shopID, contact); err != nil {
			return fmt.Errorf("delete consents: %w", err)
		}
		return nil
	})
}
