// Package shopwebhook is the "webhook" channel: it POSTs a message (or a
// notice to the shop, such as a declined COD order) to the URL the shop
// configured, signed with Standard Webhooks (webhook-id, webhook-timestamp,
// webhook-signature; HMAC-SHA256 with the shop's whsec_ secret). This is how
// a shop delivers ordercare's messages through its platform's IM.
//
// Delivery is effectively once: webhook-id is the ledger entry id, which is
// the same on every retry, so a receiver that dedupes by webhook-id (as the
// Standard Webhooks spec asks) acts once. The payload names the order and
// carries the text; it carries no phone number, email or address: the shop
// already knows its buyer.
package shopwebhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/steps"
)

// Sources reads the shop's channel configuration (care.ChannelWebhook).
type Sources interface {
	GetSource(ctx context.Context, shopID, name string) (care.Source, error)
}

// Channel sends over HTTP. Client defaults to one with a 10 s timeout.
type Channel struct {
	Sources Sources
	Clock   clock.Clock
	Client  *http.Client
}

var (
	_ steps.Channel = (*Channel)(nil)
	_ steps.Reacher = (*Channel)(nil)
)

// Unreachable says steps.ReasonNoChannel when the shop has no webhook
// channel (so a step listing channels falls back to the next), "" when it
// has one or the store cannot tell now (Send then decides).
func (c *Channel) Unreachable(ctx context.Context, d steps.Envelope) string {
	if _, err := c.Sources.GetSource(ctx, d.Shop.ID, care.ChannelWebhook); errors.Is(err, care.ErrNotFound) {
		return steps.ReasonNoChannel
	}
	return ""
}

// Payload is the JSON body POSTed to the shop.
type Payload struct {
	Type     string        `json:"type"` // "message" (to the buyer) or "notice" (to the shop)
	ID       string        `json:"id"`   // = webhook-id; dedupe on it
	ShopID   string        `json:"shop_id"`
	OrderID  string        `json:"order_id"`
	Workflow care.Workflow `json:"workflow"`
	Step     string        `json:"step"`
	Locale   string        `json:"locale,omitempty"`
	Text     string        `json:"text"`
	At       time.Time     `json:"at"`
}

// Send POSTs d. Errors: care.ErrNotFound when the shop has no webhook
// channel; care.ErrRejected when the receiver answers 4xx (other than 408
// and 429): a permanent refusal; anything else (network, 5xx, 408, 429) is
// transient and the caller retries with the same message id.
func (c *Channel) Send(ctx context.Context, d steps.Envelope) error {
	src, err := c.Sources.GetSource(ctx, d.Shop.ID, care.ChannelWebhook)
	if err != nil {
		return err
	}
	wh, err := standardwebhooks.NewWebhook(src.Secret)
	if err != nil {
		return &care.RejectError{Reason: "the configured webhook secret is unusable"}
	}
	m := d.Message
	body, _ := json.Marshal(Payload{Type: d.Event, ID: m.ID, ShopID: m.ShopID, OrderID: m.OrderID, Workflow: m.Workflow,
		Step: m.Step, Locale: m.Locale, Text: m.Text, At: m.At})
	now := c.Clock.Now()
	sig, err := wh.Sign(m.ID, now, body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, src.URL, bytes.NewReader(body))
	if err != nil {
		return &care.RejectError{Reason: "the configured webhook URL is unusable"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", m.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	client := c.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook channel: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return nil
	case res.StatusCode >= 400 && res.StatusCode < 500 && res.StatusCode != 408 && res.StatusCode != 429:
		return &care.RejectError{Reason: fmt.Sprintf("the shop's endpoint answered %d", res.StatusCode)}
	}
	return fmt.Errorf("webhook channel: the shop's endpoint answered %d", res.StatusCode)
}
