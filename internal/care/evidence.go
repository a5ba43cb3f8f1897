package care

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Entry is one line of an order's story: a milestone, a carrier scan, a
// buyer's message, a review, a message the shop sent, a task or a note.
// Text never holds a phone number or an address (scripts may name the
// buyer: the shop wrote them).
type Entry struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"` // milestone, scan, reply, review, sent, task, note
	Text    string    `json:"text"`
	EventID string    `json:"event_id,omitempty"`
	Quoted  bool      `json:"quoted,omitempty"` // marked by the agent for the appeal
}

// OrderHistory is what an order's story and evidence pack are read from.
type OrderHistory struct {
	Order    OrderState
	Events   []Event
	Messages []Message
	Tasks    []Task
}

// historyReader is what ReadHistory reads.
type historyReader interface {
	ListEvents(ctx context.Context, shopID, orderID, cursor string, limit int) ([]RecordedEvent, string, error)
	ListOrderMessages(ctx context.Context, shopID, orderID string) ([]Message, error)
	ListTasks(ctx context.Context, shopID string, f TaskFilter) ([]Task, error)
}

// ReadHistory reads an order's events, ledger and tasks.
func ReadHistory(ctx context.Context, st historyReader, o OrderState) (OrderHistory, error) {
	h := OrderHistory{Order: o}
	cursor := ""
	for {
		evs, next, err := st.ListEvents(ctx, o.ShopID, o.Order.ID, cursor, 1000)
		if err != nil {
			return OrderHistory{}, fmt.Errorf("read history of %s: %w", o.Order.ID, err)
		}
		for _, e := range evs {
			h.Events = append(h.Events, e.Event)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	var err error
	if h.Messages, err = st.ListOrderMessages(ctx, o.ShopID, o.Order.ID); err != nil {
		return OrderHistory{}, err
	}
	if h.Tasks, err = st.ListTasks(ctx, o.ShopID, TaskFilter{OrderID: o.Order.ID}); err != nil {
		return OrderHistory{}, err
	}
	return h, nil
}

// Trail is the carrier trail: every parcel report, oldest first, with its
// status, the carrier's message and scan time (never the pickup point's
// address).
func (h OrderHistory) Trail() []Entry {
	var out []Entry
	for _, e := range h.Events {
		for _, p := range e.ParcelReports() {
			at := e.OccurredAt
			if p.LastScanAt != nil {
				at = *p.LastScanAt
			}
			text := p.TrackingNumber
			if p.Carrier != "" {
				text += " (" + p.Carrier + ")"
			}
			if p.Status != "" {
				text += ": " + string(p.Status)
			} else if e.Type == OrderShipped {
				text += ": shipped"
			}
			if p.Message != "" {
				text += " — " + p.Message
			}
			out = append(out, Entry{At: at.UTC(), Kind: "scan", Text: text, EventID: e.ID})
		}
	}
	sortEntries(out)
	return out
}

// Replies are the buyer's messages, oldest first; quote marks those whose
// event id it lists.
func (h OrderHistory) Replies(quote []string) []Entry {
	var out []Entry
	for _, e := range h.Events {
		if e.Type == BuyerReplied && e.Reply != nil {
			out = append(out, Entry{At: e.OccurredAt.UTC(), Kind: "reply", Text: e.Reply.Text, EventID: e.ID, Quoted: slices.Contains(quote, e.ID)})
		}
	}
	sortEntries(out)
	return out
}

// Milestones are the order's status history.
func (h OrderHistory) Milestones() []Entry {
	var out []Entry
	for _, m := range h.Order.History {
		out = append(out, Entry{At: m.At.UTC(), Kind: "milestone", Text: string(m.Status), EventID: m.EventID})
	}
	return out
}

// Sent are the messages sent to the buyer, oldest first.
func (h OrderHistory) Sent() []Entry {
	var out []Entry
	for _, m := range h.Messages {
		if m.Status == MessageSent && m.Kind != KindNotice {
			at := m.At
			if m.SentAt != nil {
				at = *m.SentAt
			}
			out = append(out, Entry{At: at.UTC(), Kind: "sent", Text: string(m.Workflow) + "/" + m.Step + ": " + m.Text})
		}
	}
	return out
}

// Notes are the agents' notes and outcomes of the order's tasks, except
// the task except (the current one: "" for none).
func (h OrderHistory) Notes(except string) []Entry {
	var out []Entry
	for _, t := range h.Tasks {
		if t.ID == except {
			continue
		}
		head := fmt.Sprintf("%s/%s [%s] %s", t.Workflow, t.Step, t.Tag, t.Status)
		if t.Outcome != "" {
			head += ": " + t.Outcome
		}
		if t.OutcomeNote != "" {
			head += " (" + t.OutcomeNote + ")"
		}
		out = append(out, Entry{At: t.CreatedAt.UTC(), Kind: "task", Text: head})
		for _, n := range t.Notes {
			out = append(out, Entry{At: n.At.UTC(), Kind: "note", Text: n.Agent + ": " + n.Text})
		}
	}
	sortEntries(out)
	return out
}

// Story is the order's story as a bad review's agent reads it, times in
// loc.
func (h OrderHistory) Story(loc *time.Location) *Story {
	f := func(es []Entry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.At.In(loc).Format("01-02 15:04")+" "+e.Text)
		}
		return out
	}
	s := &Story{Parcels: f(h.Trail()), Replies: f(h.Replies(nil)), Tasks: f(h.Notes(""))}
	for _, r := range h.Order.Reviews {
		line := fmt.Sprintf("%s %s ★%d", r.Platform, r.ID, r.Rating)
		if r.FirstRating != r.Rating {
			line += fmt.Sprintf(" (first ★%d)", r.FirstRating)
		}
		if t := strings.TrimSpace(r.Title + " " + r.Text); t != "" {
			line += ": " + t
		}
		s.Reviews = append(s.Reviews, r.At.In(loc).Format("01-02 15:04")+" "+line)
	}
	return s
}

func sortEntries(es []Entry) {
	slices.SortStableFunc(es, func(a, b Entry) int { return a.At.Compare(b.At) })
}

// EvidencePack is what a platform's appeal of a malicious review needs,
// and nothing more: the review, the order's timeline, the carrier trail,
// the buyer's messages (the quoted ones marked), what the shop sent, the
// agents' notes, the agent's statement and files, the appeal reason and
// deadline. It holds no phone number, no email, no address and no buyer
// name: the platform identifies the buyer by the order and the review.
type EvidencePack struct {
	Shop         string       `json:"shop"`
	ShopName     string       `json:"shop_name"`
	OrderID      string       `json:"order_id"`
	OrderName    string       `json:"order_name,omitempty"`
	PlacedAt     *time.Time   `json:"placed_at,omitempty"`
	Items        []string     `json:"items,omitempty"`
	Platform     string       `json:"platform"`
	Reason       string       `json:"reason"`
	Kind         string       `json:"kind"`
	Deadline     time.Time    `json:"deadline"`
	Review       ReviewState  `json:"review"`
	Timeline     []Entry      `json:"timeline"`
	CarrierTrail []Entry      `json:"carrier_trail"`
	BuyerMessage []Entry      `json:"buyer_messages"`
	ShopMessages []Entry      `json:"shop_messages"`
	AgentNotes   []Entry      `json:"agent_notes"`
	Statement    string       `json:"statement,omitempty"`
	Files        []Attachment `json:"files,omitempty"`
	MarkedBy     string       `json:"marked_by"`
	MarkedAt     time.Time    `json:"marked_at"`
}

// Evidence builds the evidence pack of task t (t.Appeal set) about review r.
func (h OrderHistory) Evidence(shop Shop, t Task, r ReviewState) EvidencePack {
	a := t.Appeal
	p := EvidencePack{Shop: shop.ID, ShopName: shop.Name, OrderID: h.Order.Order.ID, OrderName: h.Order.Order.Name,
		PlacedAt: h.Order.Order.PlacedAt, Platform: a.Platform, Reason: a.Reason, Kind: a.Kind, Deadline: a.Deadline,
		Review: r, Timeline: h.Milestones(), CarrierTrail: h.Trail(), BuyerMessage: h.Replies(a.QuoteEvents),
		ShopMessages: h.Sent(), Statement: a.Statement, Files: a.Files, MarkedBy: a.Agent, MarkedAt: a.MarkedAt}
	for _, it := range h.Order.Order.Items {
		p.Items = append(p.Items, fmt.Sprintf("%d × %s (%s)", it.Quantity, it.Title, it.SKU))
	}
	p.AgentNotes = h.Notes("")
	red := h.redactor()
	for _, es := range [][]Entry{p.BuyerMessage, p.ShopMessages, p.AgentNotes} {
		for i := range es {
			es[i].Text = red(es[i].Text)
		}
	}
	p.Statement = red(p.Statement)
	p.Review.Text, p.Review.Title = red(p.Review.Text), red(p.Review.Title)
	return p
}

var phoneLike = regexp.MustCompile(`\+?[0-9][0-9 ()-]{6,}[0-9]`)

// redactor blanks the buyer's name, phone, email and address lines, and
// anything shaped like a phone number, from free text.
func (h OrderHistory) redactor() func(string) string {
	var words []string
	o := h.Order.Order
	if b := o.Buyer; b != nil {
		words = append(words, b.Name, b.Phone, b.Email)
	}
	if a := o.ShippingAddress; a != nil {
		words = append(words, a.Name, a.Phone, a.Line1, a.Line2)
	}
	// Each word matches however its spaces are written ("文三路1号" for
	// "文三路 1 号", "王 芳" for "王芳"): its runes, spaces dropped, with
	// optional white space between them.
	var res []*regexp.Regexp
	for _, w := range words {
		var parts []string
		for _, r := range w {
			if !unicode.IsSpace(r) {
				parts = append(parts, regexp.QuoteMeta(string(r)))
			}
		}
		if len(parts) >= 2 {
			res = append(res, regexp.MustCompile(`(?i)`+strings.Join(parts, `\s*`)))
		}
	}
	return func(s string) string {
		for _, re := range res {
			s = re.ReplaceAllString(s, "[…]")
		}
		return phoneLike.ReplaceAllString(s, "[…]")
	}
}
