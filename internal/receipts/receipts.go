// Package receipts applies providers' delivery receipts (SES events, SMS
// status events, SMTP answers) to the send ledger: the entry records the
// latest outcome, and a hard bounce or a complaint suppresses that address
// or number for the shop (a consent statement opting it out of the
// channel, source bounce or complaint), before the next send.
package receipts

import (
	"context"
	"fmt"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/consent"
)

// Receipt is one provider event about one ledger entry.
type Receipt struct {
	ShopID   string
	OrderID  string
	LedgerID string
	Outcome  string // care.ReceiptDelivered, ReceiptBounced (hard), ReceiptComplained or ReceiptFailed
	At       time.Time
}

// Sources of suppressions (consent.Record.Source).
const (
	SourceBounce    = "bounce"
	SourceComplaint = "complaint"
)

// Store is what Apply reads and writes.
type Store interface {
	GetOrder(ctx context.Context, shopID, orderID string) (care.OrderState, error)
	ListOrderMessages(ctx context.Context, shopID, orderID string) ([]care.Message, error)
	UpdateMessage(ctx context.Context, m care.Message) error
	consent.Store
}

// rank orders outcomes: a later receipt never weakens an earlier one
// (a complaint after delivery stands; a delivery after a bounce does not
// undo it).
var rank = map[string]int{"": 0, care.ReceiptDelivered: 1, care.ReceiptFailed: 2, care.ReceiptBounced: 3, care.ReceiptComplained: 4}

// Apply records r on its ledger entry and suppresses the contact on a
// hard bounce or a complaint. It is idempotent (providers deliver events
// at least once). Errors: care.ErrNotFound when the entry is unknown;
// care.ErrInvalid for an unknown outcome.
func Apply(ctx context.Context, s Store, r Receipt) error {
	if _, ok := rank[r.Outcome]; !ok || r.Outcome == "" {
		return care.Invalid("outcome", "delivered, bounced, complained or failed")
	}
	msgs, err := s.ListOrderMessages(ctx, r.ShopID, r.OrderID)
	if err != nil {
		return err
	}
	var m *care.Message
	for i := range msgs {
		if msgs[i].ID == r.LedgerID {
			m = &msgs[i]
		}
	}
	if m == nil {
		return fmt.Errorf("receipt for ledger entry %s: %w", r.LedgerID, care.ErrNotFound)
	}
	if r.Outcome == care.ReceiptBounced || r.Outcome == care.ReceiptComplained {
		if err := Suppress(ctx, s, r.ShopID, r.OrderID, m.Channel, r.Outcome, r.At); err != nil {
			return err
		}
	}
	if rank[r.Outcome] <= rank[m.Receipt] {
		return nil
	}
	m.Receipt = r.Outcome
	return s.UpdateMessage(ctx, *m)
}

// Suppress opts the order's buyer's contact on channel (the address for
// email, the number for sms) out of that channel at the shop, because of
// outcome (bounced or complained).
func Suppress(ctx context.Context, s interface {
	GetOrder(ctx context.Context, shopID, orderID string) (care.OrderState, error)
	consent.Store
}, shopID, orderID, channel, outcome string, at time.Time) error {
	o, err := s.GetOrder(ctx, shopID, orderID)
	if err != nil {
		return err
	}
	contact := ContactOn(o, channel)
	if contact == "" {
		return nil
	}
	src := SourceBounce
	if outcome == care.ReceiptComplained {
		src = SourceComplaint
	}
	return s.PutConsent(ctx, consent.Record{ShopID: shopID, Contact: care.ContactKey(contact), Channel: channel,
		State: consent.OptedOutAll, Source: src, At: at})
}

// ContactOn is the buyer's contact a channel reaches: the address for
// email, the number for sms, "" otherwise.
func ContactOn(o care.OrderState, channel string) string {
	b := o.Order.Buyer
	if b == nil {
		return ""
	}
	switch channel {
	case "email":
		return b.Email
	case "sms":
		return b.Phone
	}
	return ""
}
