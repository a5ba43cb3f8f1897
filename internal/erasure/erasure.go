// Package erasure removes a buyer's personal data on request (DELETE
// /v1/buyers/{id}): from every order of the shop whose buyer has that phone
// or address, from the events those orders were built from, from the
// ledger's message texts and from agent tasks. What happened is kept (the
// orders, their statuses and totals, every ledger entry and its status,
// every task and its outcome), so counts and metrics do not change; who it
// happened to is not. Each erasure is recorded (a hash of the contact,
// never the contact) and the buyer's opt-outs stay, since they protect the
// buyer.
package erasure

import (
	"context"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// Record is one erasure as stored: the shop, the contact key (a hash), when
// and how much was erased.
type Record struct {
	ShopID   string    `json:"shop_id"`
	Contact  string    `json:"contact"`
	At       time.Time `json:"at"`
	Orders   int       `json:"orders"`
	Events   int       `json:"events"`
	Messages int       `json:"messages"`
	Tasks    int       `json:"tasks"`
}

// Store erases. Both stores implement it and pass storetest.RunErasure.
type Store interface {
	// EraseBuyer scrubs (Scrub*) every order of the shop whose buyer's
	// phone or email has ContactKey contact, with its events, ledger
	// entries and tasks, records the erasure and returns it. Erasing again
	// finds nothing more (the orders no longer name the buyer) and records
	// an erasure of nothing. ErrInvalid for an empty shop or contact.
	EraseBuyer(ctx context.Context, shopID, contact string, at time.Time) (Record, error)
	// ListErasures returns the shop's erasures, oldest first.
	ListErasures(ctx context.Context, shopID string) ([]Record, error)
}

// Erased is what stands in for erased free text.
const Erased = "[erased]"

// Matches reports whether the order's buyer has phone or email whose
// ContactKey is contact.
func Matches(o care.Order, contact string) bool {
	b := o.Buyer
	if b == nil || contact == "" {
		return false
	}
	return b.Phone != "" && care.ContactKey(b.Phone) == contact || b.Email != "" && care.ContactKey(b.Email) == contact
}

// ScrubOrderData removes the personal data of an order as an event or a
// state carries it: the buyer (their locale and zone stay: they identify
// no one) and the shipping address.
func ScrubOrderData(o *care.Order) {
	if o.Buyer != nil {
		o.Buyer = &care.Buyer{Locale: o.Buyer.Locale, Timezone: o.Buyer.Timezone}
	}
	o.ShippingAddress = nil
}

// ScrubOrder scrubs an order's state, its review texts (the latest
// review and every review by id) and refund reasons included.
func ScrubOrder(s *care.OrderState) {
	ScrubOrderData(&s.Order)
	if s.Review != nil && s.Review.Text != "" {
		s.Review.Text = Erased
	}
	for i := range s.Reviews {
		for _, t := range []*string{&s.Reviews[i].Text, &s.Reviews[i].Title} {
			if *t != "" {
				*t = Erased
			}
		}
	}
	for i := range s.Refunds {
		if s.Refunds[i].Reason != "" {
			s.Refunds[i].Reason = Erased
		}
	}
}

// ScrubEvent scrubs an event: its order data, review and reply texts.
func ScrubEvent(e *care.Event) {
	ScrubOrderData(&e.Order)
	if e.Review != nil && e.Review.Text != "" {
		e.Review.Text = Erased
	}
	if e.Reply != nil && e.Reply.Text != "" {
		e.Reply.Text = Erased
	}
	if e.Refund != nil && e.Refund.Reason != "" {
		e.Refund.Reason = Erased
	}
}

// ScrubMessage scrubs a ledger entry's text (its status, reason, channel,
// segments and receipt stay).
func ScrubMessage(m *care.Message) {
	if m.Text != "" {
		m.Text = Erased
	}
}

// ScrubTask scrubs what an agent task says about the buyer: the script
// and reason (which may quote the buyer), the buyer's name and phone, the
// messages already said, the agents' notes and outcome note.
func ScrubTask(t *care.Task) {
	for _, s := range []*string{&t.Script, &t.Reason, &t.OutcomeNote, &t.Order.BuyerName, &t.Order.BuyerPhone} {
		if *s != "" {
			*s = Erased
		}
	}
	t.Order.BuyerName, t.Order.BuyerPhone = "", ""
	for i := range t.Notes {
		t.Notes[i].Text = Erased
	}
	for i := range t.Order.Said {
		t.Order.Said[i] = Erased
	}
}
