package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ordercare/ordercare/internal/care"
)

// agentSchema (migration 6) holds the shops' agents (care.Agents), one row
// per (shop, agent id), the agent as JSON.
const agentSchema = `CREATE TABLE agents (
		shop_id TEXT NOT NULL REFERENCES shops (id),
		id      TEXT NOT NULL,
		agent   TEXT NOT NULL,
		PRIMARY KEY (shop_id, id)
	) STRICT;`

// CreateAgent stores a new agent: ErrConflict if the shop has one with that
// id, ErrNotFound if the shop does not exist.
func (db *DB) CreateAgent(ctx context.Context, a care.Agent) error {
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("create agent %s/%s: %w", a.ShopID, a.ID, err)
	}
	return db.write(ctx, func(w *writer) error {
		_, err := w.exec(`INSERT INTO agents (shop_id, id, agent) VALUES (?, ?, ?)`, a.ShopID, a.ID, string(body))
		switch {
		case err == nil:
			return nil
		case isUnique(err):
			return fmt.Errorf("create agent %s/%s: %w", a.ShopID, a.ID, care.ErrConflict)
		case isForeignKey(err):
			return fmt.Errorf("create agent %s/%s: shop %w", a.ShopID, a.ID, care.ErrNotFound)
		}
		return fmt.Errorf("create agent %s/%s: %w", a.ShopID, a.ID, err)
	})
}

// GetAgent returns one agent of a shop or ErrNotFound.
func (db *DB) GetAgent(ctx context.Context, shopID, id string) (care.Agent, error) {
	var body string
	if err := db.queryRow(ctx, `SELECT agent FROM agents WHERE shop_id = ? AND id = ?`, shopID, id).Scan(&body); err != nil {
		return care.Agent{}, notFound(err, "get agent %s/%s", shopID, id)
	}
	var a care.Agent
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		return care.Agent{}, fmt.Errorf("get agent %s/%s: %w", shopID, id, err)
	}
	return a, nil
}

// ListAgents returns a shop's agents ordered by id.
func (db *DB) ListAgents(ctx context.Context, shopID string) ([]care.Agent, error) {
	rows, err := db.query(ctx, `SELECT agent FROM agents WHERE shop_id = ? ORDER BY id`, shopID)
	if err != nil {
		return nil, fmt.Errorf("list agents %s: %w", shopID, err)
	}
	defer rows.Close()
	out := []care.Agent{}
	for rows.Next() {
		var body string
		var a care.Agent
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("list agents %s: %w", shopID, err)
		}
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			return nil, fmt.Errorf("list agents %s: %w", shopID, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list agents %s: %w", shopID, err)
	}
	return out, nil
}

// UpdateAgent replaces the name, active flag, key hash and UpdatedAt of an
// existing agent, keeping CreatedAt: ErrNotFound if it does not exist.
func (db *DB) UpdateAgent(ctx context.Context, a care.Agent) error {
	return db.write(ctx, func(w *writer) error {
		var body string
		if err := w.queryRow(`SELECT agent FROM agents WHERE shop_id = ? AND id = ?`, a.ShopID, a.ID).Scan(&body); err != nil {
			return notFound(err, "update agent %s/%s", a.ShopID, a.ID)
		}
		var old care.Agent
		if err := json.Unmarshal([]byte(body), &old); err != nil {
			return fmt.Errorf("update agent %s/%s: %w", a.ShopID, a.ID, err)
		}
		a.CreatedAt = old.CreatedAt
		nb, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("update agent %s/%s: %w", a.ShopID, a.ID, err)
		}
		if _, err := w.exec(`UPDATE agents SET agent = ? WHERE shop_id = ? AND id = ?`, string(nb), a.ShopID, a.ID); err != nil {
			return fmt.Errorf("update agent %s/%s: %w", a.ShopID, a.ID, err)
		}
		return nil
	})
}
