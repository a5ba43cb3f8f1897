package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/receipts"
)

// refSchema is a migration: provider message ids and the ledger entries
// they stand for (receipts.Refs), each until it expires.
const refSchema = `
	CREATE TABLE provider_refs (
		provider_id TEXT PRIMARY KEY,
		ref         TEXT NOT NULL,
		expires_at  INTEGER NOT NULL
	) STRICT;`

var _ receipts.Refs = (*DB)(nil)

// PutRef stores r under providerID until expires (receipts.Refs).
func (db *DB) PutRef(ctx context.Context, providerID string, r receipts.Ref, expires time.Time) error {
	if providerID == "" || r.ShopID == "" || r.OrderID == "" || r.LedgerID == "" {
		return care.Invalid("ref", "a provider id, shop, order and ledger id")
	}
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("put ref: %w", err)
	}
	return db.write(ctx, func(w *writer) error {
		if _, err := w.exec(`INSERT INTO provider_refs (provider_id, ref, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (provider_id) DO UPDATE SET ref = excluded.ref, expires_at = excluded.expires_at`,
			providerID, string(body), expires.Unix()); err != nil {
			return fmt.Errorf("put ref: %w", err)
		}
		return nil
	})
}

// GetRef returns the Ref of providerID as of now (receipts.Refs).
func (db *DB) GetRef(ctx context.Context, providerID string, now time.Time) (receipts.Ref, error) {
	rows, err := db.query(ctx, `SELECT ref FROM provider_refs WHERE provider_id = ? AND expires_at > ?`, providerID, now.Unix())
	if err != nil {
		return receipts.Ref{}, fmt.Errorf("get ref: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return receipts.Ref{}, fmt.Errorf("get ref: %w", err)
		}
		return receipts.Ref{}, fmt.Errorf("get ref: %w", care.ErrNotFound)
	}
	var body string
	var r receipts.Ref
	if err := rows.Scan(&body); err != nil {
		return receipts.Ref{}, fmt.Errorf("get ref: %w", err)
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return receipts.Ref{}, fmt.Errorf("get ref: %w", err)
	}
	return r, nil
}
