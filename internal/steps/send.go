package steps

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/consent"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/receipts"
	"github.com/ordercare/ordercare/internal/sms"
)

// Skip reasons recorded in the ledger (with the planning ones of
// playbook.Plan: below_threshold, deadline_passed, cutoff_passed, min_gap).
const (
	ReasonPaid        = "paid"
	ReasonCancelled   = "cancelled"
	ReasonOptedOut    = "opted_out"
	ReasonDeadline    = "deadline_passed"
	ReasonBudgetSpent = "budget_spent"
	ReasonNoChannel   = "channel_not_configured"
	ReasonRejected    = "channel_rejected"
	ReasonCOD         = "cash_on_delivery" // an order found to be COD is confirmed, not chased
	ReasonRunFailed   = "run_failed"       // the run failed with this entry reserved and unsent
	// ReasonOutcomeUnknown: a paid channel was called and its outcome never
	// came back; the entry is not sent again but left for review.
	ReasonOutcomeUnknown = "outcome_unknown"
)

// Deadline is when the run's reason to contact the buyer ends (its
// workflow's Deadliner; zero when it has none or does not know).
func (e *Env) Deadline() time.Time {
	if d, ok := e.wf.(Deadliner); ok {
		return d.Deadline(e)
	}
	return time.Time{}
}

// PlacedAt is when the order was placed: the order's own time, else when
// its creation happened.
func (e *Env) PlacedAt() time.Time { return placedAt(e.Order) }

func placedAt(o care.OrderState) time.Time {
	if p := o.Order.PlacedAt; p != nil {
		return *p
	}
	for _, m := range o.History {
		if m.Status == care.StatusCreated {
			return m.At
		}
	}
	return o.UpdatedAt
}

// Unwanted says why the order no longer wants this workflow's contact ("" if
// it does): cancelled, what the workflow's Pointless says, or its Deadline passed.
func (e *Env) Unwanted() string {
	if e.Order.Has(care.StatusCancelled) {
		return ReasonCancelled
	}
	if r := e.wf.Pointless(e.Order); r != "" {
		return r
	}
	if d := e.Deadline(); !d.IsZero() && !e.Now.Before(d) {
		return ReasonDeadline
	}
	return ""
}

// checkContact says why the buyer may not be messaged now ("" if they may).
func (h *Handler) CheckContact(ctx context.Context, e *Env) (string, error) {
	if r := e.Unwanted(); r != "" {
		return r, nil
	}
	if b := e.Order.Order.Buyer; b != nil {
		for _, c := range []string{b.Phone, b.Email} {
			if c == "" {
				continue
			}
			out, err := h.Store.OptedOut(ctx, e.Ref.Shop, care.ContactKey(c))
			if err != nil {
				return "", err
			}
			if out {
				return ReasonOptedOut, nil
			}
		}
	}
	if b := e.Tpl.ContactBudget; b > 0 && e.Sent() >= b {
		return ReasonBudgetSpent, nil
	}
	return "", nil
}

// entry is the ledger entry of one step of this run, before rendering.
func (e *Env) entry(step, channel string) care.Message {
	m := care.Message{ID: e.Ref.Key(step), ShopID: e.Ref.Shop, OrderID: e.Ref.Order, Workflow: e.Ref.Workflow,
		Step: step, TemplateVersion: e.Ref.Version, Channel: channel, Kind: e.kindOf(step), At: e.Now.UTC()}
	if st, _, _ := e.Tpl.Step(step); st.Marketing() {
		m.Class = playbook.ClassMarketing
	}
	return m
}

// kindOf says whom a step's ledger entry is for, from the step's action.
func (e *Env) kindOf(step string) care.MessageKind {
	st, _, _ := e.Tpl.Step(step)
	switch st.Action {
	case playbook.ActionNotifyShop:
		return care.KindNotice
	case playbook.ActionCall:
		return care.KindCall
	}
	return care.KindMessage
}

// lastSent is when the buyer was last sent a message about the order, by
// any workflow (notices to the shop do not count), leaving out the entry
// of step of this run; zero when never.
func (e *Env) lastSent(step string) time.Time { return LastSent(e.msgs, e.Ref.Key(step)) }

// LastSent is when the buyer was last sent a message among an order's
// ledger entries msgs (notices to the shop do not count), leaving out the
// entry with id except; zero when never. It is playbook.Timing.LastSent.
func LastSent(msgs []care.Message, except string) time.Time {
	var last time.Time
	for _, m := range msgs {
		if m.Status != care.MessageSent || !m.ToBuyer() || m.ID == except {
			continue
		}
		at := m.At
		if m.SentAt != nil {
			at = *m.SentAt
		}
		if at.After(last) {
			last = at
		}
	}
	return last
}

// tooSoon reports whether messaging the buyer for step now would come
// within the template's min_gap of the last message to them.
func (e *Env) TooSoon(step string) bool {
	last := e.lastSent(step)
	return !last.IsZero() && e.Now.Before(last.Add(e.Tpl.Gap()))
}

// skip records a skip of step with reason. An entry that already ended is
// kept; a pending one (an earlier attempt reserved it, then failed) ends
// skipped: the reason to send has gone, so it is not tried again.
func (h *Handler) Skip(ctx context.Context, e *Env, step, reason string) error {
	m := e.entry(step, "")
	m.Status, m.Reason = care.MessageSkipped, reason
	stored, _, err := h.Store.ReserveMessage(ctx, m)
	if err != nil || stored.Status != care.MessagePending {
		e.noteMessage(stored)
		return err
	}
	stored.Status, stored.Reason = care.MessageSkipped, reason
	e.noteMessage(stored)
	return h.Store.UpdateMessage(ctx, stored)
}

// sendStep checks, renders and sends a message step to the buyer. It
// returns the ledger entry as it ended (sent, skipped or failed).
func (h *Handler) SendStep(ctx context.Context, e *Env, st playbook.Step) (care.Message, error) {
	return h.SendStepWith(ctx, e, st, nil)
}

// SendStepWith is SendStep with the workflow's own script variables: vars
// (when not nil) completes the order's Vars before rendering (e.g. the
// shipment namespace of a shipping notice).
func (h *Handler) SendStepWith(ctx context.Context, e *Env, st playbook.Step, vars func(v *playbook.Vars)) (care.Message, error) {
	if done, ok := e.Ended(st.ID); ok {
		return done, nil
	}
	reason, err := h.CheckContact(ctx, e)
	if err != nil {
		return care.Message{}, err
	}
	if reason != "" {
		return care.Message{Status: care.MessageSkipped, Reason: reason}, h.Skip(ctx, e, st.ID, reason)
	}
	channel, unreachable, err := h.pickChannel(ctx, e, st)
	if err != nil {
		return care.Message{}, err
	}
	if unreachable != "" {
		return care.Message{Status: care.MessageSkipped, Reason: unreachable}, h.Skip(ctx, e, st.ID, unreachable)
	}
	return h.deliverWith(ctx, e, st, channel, "message", vars)
}

// pickChannel returns the first of the step's channels (in the template's
// order) that can reach the buyer, or, when none can, the reason the last
// one gave. A channel that is not Reacher is taken as reaching the buyer;
// one not configured on this runtime is passed over when others follow.
func (h *Handler) pickChannel(ctx context.Context, e *Env, st playbook.Step) (channel, unreachable string, err error) {
	list := e.Tpl.StepChannels(st)
	statements := map[string][]consent.Record{}
	for i, name := range list {
		c := h.Channels[name]
		if c == nil && name != ChannelOutbox && i < len(list)-1 {
			unreachable = ReasonNoChannel
			continue
		}
		if r, ok := c.(Reacher); ok {
			if why := r.Unreachable(ctx, Envelope{Event: "message", Shop: e.Shop, Order: e.Order}); why != "" {
				unreachable = why
				continue
			}
		}
		why, err := h.consentFor(ctx, e, name, st.Marketing(), statements)
		if err != nil {
			return "", "", err
		}
		if why != "" {
			unreachable = why
			continue
		}
		return name, "", nil
	}
	return "", unreachable, nil
}

// consentFor says why the buyer's recorded statements forbid a message on
// channel ("" when they allow it; always "" without Handler.Consents). The
// contacts looked at are the channel's own (the phone for sms, the address
// for email), both for any other channel. seen caches statements by contact.
func (h *Handler) consentFor(ctx context.Context, e *Env, channel string, marketing bool, seen map[string][]consent.Record) (string, error) {
	b := e.Order.Order.Buyer
	if h.Consents == nil || b == nil {
		return "", nil
	}
	contacts := []string{b.Phone, b.Email}
	switch channel {
	case "sms":
		contacts = []string{b.Phone}
	case "email":
		contacts = []string{b.Email}
	}
	region := sms.RegionOf(e.Shop.Locale)
	if n, why := sms.Check(b.Phone, region); why == "" || why == sms.ReasonNotMobile {
		region = n.Region
	}
	for _, c := range contacts {
		if c == "" {
			continue
		}
		key := care.ContactKey(c)
		recs, ok := seen[key]
		if !ok {
			var err error
			if recs, err = h.Consents.ListConsents(ctx, e.Ref.Shop, key); err != nil {
				return "", err
			}
			seen[key] = recs
		}
		if why := consent.Decide(recs, channel, marketing, consent.RequiresConsent(channel, region)); why != "" {
			return why, nil
		}
	}
	return "", nil
}

// Ended returns the step's ledger entry when it already reached an end
// state (a retried step must not check or send again).
func (e *Env) Ended(step string) (care.Message, bool) { return e.EndedEntry(e.Ref.Key(step)) }

// EndedEntry returns the order's ledger entry id (of any run, as Load read
// them) when it reached an end state.
func (e *Env) EndedEntry(id string) (care.Message, bool) {
	for _, m := range e.msgs {
		if m.ID == id && m.Status != care.MessagePending {
			return m, true
		}
	}
	return care.Message{}, false
}

// deliver renders the step's script and sends it (see send).
func (h *Handler) deliver(ctx context.Context, e *Env, st playbook.Step, channel, event string) (care.Message, error) {
	return h.deliverWith(ctx, e, st, channel, event, nil)
}

func (h *Handler) deliverWith(ctx context.Context, e *Env, st playbook.Step, channel, event string, vars func(v *playbook.Vars)) (care.Message, error) {
	loc := Zone(e.Shop.Timezone)
	v := playbook.VarsFor(e.Order, e.Shop.Name, loc)
	if vars != nil {
		vars(&v)
	}
	text, locale, err := e.Tpl.Render(st, "script", buyerLocale(e), v)
	if err != nil {
		return care.Message{}, &InputError{"render " + st.ID + ": " + err.Error()}
	}
	return h.send(ctx, e, st.ID, channel, event, locale, text)
}

// send reserves the ledger entry of step and calls the channel: effectively
// once, because the entry is reserved before the call, an ended entry found
// on retry is returned as it is, and a pending one is sent again with the
// same id, which channels dedupe. event "notice" marks the entry a notice to
// the shop, whatever the step.
func (h *Handler) send(ctx context.Context, e *Env, step, channel, event, locale, text string) (care.Message, error) {
	m := e.entry(step, channel)
	m.Locale, m.Text, m.Status = locale, text, care.MessagePending
	if event == "notice" {
		m.Kind = care.KindNotice
	}
	if f, ok := h.Channels[channel].(Finisher); ok {
		m.Text = f.Finish(Envelope{Event: event, Shop: e.Shop, Order: e.Order, Message: m})
	}
	m, _, err := h.Store.ReserveMessage(ctx, m)
	if err != nil || m.Status != care.MessagePending {
		return m, err
	}
	status, reason := care.MessageSent, ""
	if channel != ChannelOutbox {
		c := h.Channels[channel]
		paid := false
		if p, ok := c.(PaidMedia); ok && p.Paid() {
			paid = true
		}
		if c == nil {
			status, reason = care.MessageFailed, ReasonNoChannel
		} else if paid && m.Attempts > 0 {
			status, reason = care.MessageFailed, ReasonOutcomeUnknown
		} else {
			if paid {
				m.Attempts++
				if err := h.Store.UpdateMessage(ctx, m); err != nil {
					return m, err
				}
			}
			var rep Report
			var err error
			d := Envelope{Event: event, Shop: e.Shop, Order: e.Order, Message: m}
			if r, ok := c.(Reporter); ok {
				rep, err = r.SendReport(ctx, d)
			} else {
				err = c.Send(ctx, d)
			}
			m.ProviderID, m.Segments, m.Encoding = rep.ProviderID, rep.Segments, rep.Encoding
			switch {
			case errors.Is(err, care.ErrNotFound):
				status, reason = care.MessageFailed, ReasonNoChannel
			case errors.Is(err, care.ErrRejected):
				status, reason = care.MessageFailed, ReasonRejected
				var u interface{ Undeliverable() bool }
				if errors.As(err, &u) && u.Undeliverable() {
					m.Receipt = care.ReceiptBounced
					if err := h.suppress(ctx, e, channel); err != nil {
						return m, err
					}
				}
			case err != nil:
				var ns *NotSentError
				if paid && errors.As(err, &ns) {
					m.Attempts-- // nothing went out: the retry may call again
					if uerr := h.Store.UpdateMessage(ctx, m); uerr != nil {
						return m, uerr
					}
				}
				return m, err // transient: the state machine retries; the entry stays pending
			}
		}
	}
	m.Status, m.Reason = status, reason
	if status == care.MessageSent {
		t := h.Clock.Now().UTC()
		m.SentAt = &t
	}
	e.noteMessage(m)
	return m, h.Store.UpdateMessage(ctx, m)
}

func buyerLocale(e *Env) string {
	if b := e.Order.Order.Buyer; b != nil && b.Locale != "" {
		return b.Locale
	}
	return e.Shop.Locale
}

// Zone loads an IANA zone (validated on input), UTC when unknown.
func Zone(name string) *time.Location {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" {
		return time.UTC
	}
	zones.Store(name, loc)
	return loc
}

// zones caches the zones Zone loaded: loading parses the zone's file, and
// every step asks for the shop's and the buyer's.
var zones sync.Map

// ShopZone is the shop's time zone (UTC when unknown).
func (e *Env) ShopZone() *time.Location { return Zone(e.Shop.Timezone) }

// SourceOrdercare is the Delivery.Source of the events ordercare records
// itself (RecordEvent).
const SourceOrdercare = "ordercare"

// RecordEvent records a fact the run established about its order as a
// canonical event of type typ and source SourceOrdercare (cod_confirm's
// order.confirmed), so the router and the other workflows see it as they
// see any event: it goes through the order's apply and the change feed.
// Its id is the run's key for typ, so retries record it once. An order
// that cannot take it (care.ErrRejected: cancelled meanwhile) records
// nothing, and that is not an error.
func (h *Handler) RecordEvent(ctx context.Context, e *Env, typ care.EventType) error {
	id := SourceOrdercare + ":" + e.Ref.Key(string(typ))
	ev := care.Event{ID: id, Type: typ, OccurredAt: e.Now.UTC(), Order: care.Order{ID: e.Ref.Order}}
	_, err := h.Store.Ingest(ctx, care.Delivery{ShopID: e.Ref.Shop, Source: SourceOrdercare, DeliveryID: id, ReceivedAt: e.Now.UTC()}, ev, care.Apply)
	if errors.Is(err, care.ErrRejected) {
		return nil
	}
	return err
}

// suppress opts the buyer's contact on channel out of it at the shop after
// the provider refused the address itself (a hard bounce in its answer).
func (h *Handler) suppress(ctx context.Context, e *Env, channel string) error {
	contact := receipts.ContactOn(e.Order, channel)
	if h.Consents == nil || contact == "" {
		return nil
	}
	return h.Consents.PutConsent(ctx, consent.Record{ShopID: e.Ref.Shop, Contact: care.ContactKey(contact), Channel: channel,
		State: consent.OptedOutAll, Source: receipts.SourceBounce, At: h.Clock.Now().UTC()})
}
