package care

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// Workflow names a care workflow. Each is one state machine in workflows/
// and one default template there.
type Workflow string

// The care workflows.
const (
	UnpaidChase Workflow = "unpaid_chase"
	CODConfirm  Workflow = "cod_confirm"
)

// Workflows lists every care workflow.
var Workflows = []Workflow{UnpaidChase, CODConfirm}

// Template is one immutable version of a shop's template for a workflow:
// the JSON document ops edit (validated by internal/playbook). Versions
// count 1, 2, … per (shop, workflow); a run pins the version it started with.
type Template struct {
	ShopID    string          `json:"shop_id"`
	Workflow  Workflow        `json:"workflow"`
	Version   int             `json:"version"`
	Body      json.RawMessage `json:"body"`
	CreatedAt time.Time       `json:"created_at"`
}

// Templates stores template versions.
type Templates interface {
	// PutTemplate stores t as a new version. t.Version must be exactly one
	// more than the latest stored version (1 for the first); otherwise
	// ErrConflict and nothing is written (a concurrent editor won).
	PutTemplate(ctx context.Context, t Template) error
	// GetTemplate returns one version, or the latest when version is 0;
	// ErrNotFound when there is none.
	GetTemplate(ctx context.Context, shopID string, wf Workflow, version int) (Template, error)
}

// MessageStatus is where a message stands in the ledger.
type MessageStatus string

// Message statuses. A message is reserved as pending before its channel is
// called, then becomes sent or failed; a skip is recorded directly.
const (
	MessagePending MessageStatus = "pending"
	MessageSent    MessageStatus = "sent"
	MessageSkipped MessageStatus = "skipped"
	MessageFailed  MessageStatus = "failed"
)

// MessageKind says whom a ledger entry is for.
type MessageKind string

// Message kinds. An entry written before kinds existed has none; readers
// take it as KindMessage.
const (
	KindMessage MessageKind = "message" // to the buyer (a message step)
	KindNotice  MessageKind = "notice"  // to the shop (a notify_shop step)
	KindCall    MessageKind = "call"    // a call step that was skipped (no agent task raised)
	// KindConfirmation is the one confirmation a buyer gets after opting
	// out (not a workflow step; never counted as a reminder).
	KindConfirmation MessageKind = "confirmation"
)

// ToBuyer reports whether the entry is (or would have been) a message to
// the buyer: kind message, or no kind at all.
func (m Message) ToBuyer() bool { return m.Kind == KindMessage || m.Kind == "" }

// Message is one ledger entry: a send (or a skip, with its reason) of one
// workflow step for one order. ID is deterministic per (execution, step), so
// a retried step finds its own entry and never sends twice.
type Message struct {
	ID              string        `json:"id"`
	ShopID          string        `json:"shop_id"`
	OrderID         string        `json:"order_id"`
	Workflow        Workflow      `json:"workflow"`
	Step            string        `json:"step"`
	TemplateVersion int           `json:"template_version"`
	Channel         string        `json:"channel"`
	Locale          string        `json:"locale,omitempty"`
	Text            string        `json:"text,omitempty"` // rendered; may name the buyer, so never logged
	Kind            MessageKind   `json:"kind,omitempty"` // whom it is for; see MessageKind
	Status          MessageStatus `json:"status"`
	Reason          string        `json:"reason,omitempty"` // why skipped or failed
	At              time.Time     `json:"at"`               // when reserved or skipped
	SentAt          *time.Time    `json:"sent_at,omitempty"`
	// Class is the step's message class: "transactional" ("" for entries
	// written before classes) or "marketing".
	Class string `json:"class,omitempty"`
	// ProviderID is the provider's id of the send (SES or SNS MessageId),
	// which its delivery receipts name.
	ProviderID string `json:"provider_id,omitempty"`
	// Segments and Encoding (sms) are the billed segments and "GSM-7" or "UCS-2".
	Segments int    `json:"segments,omitempty"`
	Encoding string `json:"encoding,omitempty"`
	// Receipt is the latest delivery receipt of a sent message (see
	// Receipt* constants); "" until one arrives.
	Receipt string `json:"receipt,omitempty"`
	// Attempts counts provider calls begun on a paid channel; a pending
	// entry with Attempts > 0 had a call whose outcome is unknown.
	Attempts int `json:"attempts,omitempty"`
}

// Delivery receipts (Message.Receipt).
const (
	ReceiptDelivered  = "delivered"
	ReceiptBounced    = "bounced" // a hard bounce: the address is suppressed
	ReceiptComplained = "complained"
	ReceiptFailed     = "failed"
)

// Messages is the send ledger.
type Messages interface {
	// ReserveMessage stores m unless an entry with m.ID exists for the
	// shop; it returns the stored entry and whether it was created now.
	ReserveMessage(ctx context.Context, m Message) (Message, bool, error)
	// UpdateMessage replaces an existing entry (same shop and ID); ErrNotFound otherwise.
	UpdateMessage(ctx context.Context, m Message) error
	// ListOrderMessages returns an order's entries oldest first (At, then ID).
	ListOrderMessages(ctx context.Context, shopID, orderID string) ([]Message, error)
	// ListMessages returns a shop's entries with At in [from, to) oldest
	// first (At, then ID), at most limit (1..1000) after cursor ("" = from
	// the start), and the next cursor ("" when there is none). ErrInvalid
	// for a bad limit or a cursor the store did not issue.
	ListMessages(ctx context.Context, shopID string, from, to time.Time, cursor string, limit int) ([]Message, string, error)
}

// TaskStatus is where an agent task stands as stored. A claimed task whose
// lease has passed is open again (see queue.Effective).
type TaskStatus string

// Task statuses.
const (
	TaskOpen      TaskStatus = "open"
	TaskClaimed   TaskStatus = "claimed"
	TaskDone      TaskStatus = "done"
	TaskCancelled TaskStatus = "cancelled" // the reason went away (paid, cancelled) before an agent finished
)

// Task tags: the colour an agent sees.
const (
	TagReissue   = "reissue"
	TagVIP       = "vip"
	TagRefund    = "refund"
	TagQuality   = "quality"
	TagLogistics = "logistics"
	TagService   = "service" // how the shop treated the buyer (a reply, a bad review about service)
)

// TaskTags lists the tags a template may use.
var TaskTags = []string{TagReissue, TagVIP, TagRefund, TagQuality, TagLogistics, TagService}

// Note is an agent's note on a task.
type Note struct {
	Agent string    `json:"agent"`
	Text  string    `json:"text"`
	At    time.Time `json:"at"`
}

// OrderSummary is what an agent needs to know about the order: no address.
type OrderSummary struct {
	OrderID       string        `json:"order_id"`
	Status        Status        `json:"status"`
	Total         Decimal       `json:"total,omitempty"`
	Currency      string        `json:"currency,omitempty"`
	PaymentMethod PaymentMethod `json:"payment_method,omitempty"`
	CODFee        Decimal       `json:"cod_fee,omitempty"`
	PlacedAt      *time.Time    `json:"placed_at,omitempty"`
	PayDeadline   *time.Time    `json:"pay_deadline,omitempty"`
	BuyerName     string        `json:"buyer_name,omitempty"`
	BuyerPhone    string        `json:"buyer_phone,omitempty"` // the agent phones the buyer; never logged
	Locale        string        `json:"locale,omitempty"`
	Items         []string      `json:"items,omitempty"` // "2 × Longjing 250 g"
	Said          []string      `json:"said,omitempty"`  // messages already sent, oldest first
	// Story is the order's whole story, for workflows whose tasks need it
	// (steps.Storyteller); nil for the others.
	Story *Story `json:"story,omitempty"`
}

// Task is an agent task: a person must act (phone the buyer, handle a
// case). ID is deterministic per (execution, step). Token is the Step
// Functions task token the outcome resumes; it is never shown to agents.
type Task struct {
	ID          string       `json:"id"`
	ShopID      string       `json:"shop_id"`
	OrderID     string       `json:"order_id"`
	Workflow    Workflow     `json:"workflow"`
	Step        string       `json:"step"`
	Reason      string       `json:"reason"` // why it was raised, in the shop's words
	Script      string       `json:"script"` // what to say, rendered
	Tag         string       `json:"tag"`
	Priority    int          `json:"priority"` // 1 (most urgent) .. 5
	Outcomes    []string     `json:"outcomes"` // what the agent may answer
	Order       OrderSummary `json:"order"`
	Status      TaskStatus   `json:"status"`
	Agent       string       `json:"agent,omitempty"` // holder (claimed) or finisher (done)
	LeaseUntil  *time.Time   `json:"lease_until,omitempty"`
	Notes       []Note       `json:"notes,omitempty"`
	Outcome     string       `json:"outcome,omitempty"`
	OutcomeNote string       `json:"outcome_note,omitempty"`
	CreatedAt   time.Time    `json:"created_at"`
	DueAt       time.Time    `json:"due_at"` // the SLA deadline
	ClaimedAt   *time.Time   `json:"claimed_at,omitempty"`
	DoneAt      *time.Time   `json:"done_at,omitempty"`
	// Appeal is set when an agent marked the task's review malicious
	// (POST /v1/tasks/{id}/malicious); its Deadline is then DueAt.
	Appeal  *Appeal `json:"appeal,omitempty"`
	Token   string  `json:"-"`
	Resumed bool    `json:"-"` // the outcome reached the execution
	Rev     int64   `json:"-"` // optimistic version, 1 on create

	// ResumingUntil is set while a done task's outcome is on its way to the
	// execution: until then a repeated completion is refused (ErrConflict)
	// instead of resuming again; after it (the resume failed, or the process
	// resuming it died) the same completion may retry the resume. Nil once
	// Resumed.
	ResumingUntil *time.Time `json:"resuming_until,omitempty"`
}

// TaskFilter selects tasks of one shop. Empty fields match everything.
type TaskFilter struct {
	Statuses []TaskStatus
	OrderID  string
}

// Tasks stores agent tasks.
type Tasks interface {
	// CreateTask stores t with Rev 1 unless a task with t.ID exists for the
	// shop; it returns the stored task and whether it was created now.
	CreateTask(ctx context.Context, t Task) (Task, bool, error)
	// GetTask returns a task or ErrNotFound.
	GetTask(ctx context.Context, shopID, id string) (Task, error)
	// UpdateTask replaces a task if its stored Rev equals t.Rev, storing it
	// with Rev+1 (returned); ErrConflict if the Rev moved, ErrNotFound if absent.
	UpdateTask(ctx context.Context, t Task) (Task, error)
	// ListTasks returns a shop's tasks matching f, in no particular order.
	ListTasks(ctx context.Context, shopID string, f TaskFilter) ([]Task, error)
}

// RunStatus is where a workflow run stands.
type RunStatus string

// Run statuses. A scheduled run has no execution yet: the router starts
// it at NextAt (steps.Start.At), re-checking the order first, and until
// then it costs a stored row and nothing else.
const (
	RunScheduled RunStatus = "scheduled"
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded"
	RunStopped   RunStatus = "stopped"
	RunFailed    RunStatus = "failed"
)

// Active reports whether a run in status s may still act: scheduled or running.
func (s RunStatus) Active() bool { return s == RunScheduled || s == RunRunning }

// Run is one workflow execution for one order, as the router started it and
// step handlers report it. There is at most one run per (shop, order,
// workflow, subject). Subject is "" for an order-level run (one per order
// and workflow); a per-subject workflow has one run per subject of the
// order: a parcel's tracking number, or an id the workflow gives a group of
// parcels (e.g. a digest group).
type Run struct {
	ShopID          string     `json:"shop_id"`
	OrderID         string     `json:"order_id"`
	Workflow        Workflow   `json:"workflow"`
	Subject         string     `json:"subject,omitempty"` // "" for an order-level run
	Execution       string     `json:"execution"`         // the deterministic execution name; "" until one is started
	TemplateVersion int        `json:"template_version"`
	Status          RunStatus  `json:"status"`
	Step            string     `json:"step,omitempty"` // the step it is at or waits for
	NextAt          *time.Time `json:"next_at,omitempty"`
	Sent            int        `json:"sent"`
	Outcome         string     `json:"outcome,omitempty"` // paid, cod_confirmed, cod_declined, cod_unreachable, …
	OutcomeAt       *time.Time `json:"outcome_at,omitempty"`
	Value           Decimal    `json:"value,omitempty"` // GMV the outcome recovered
	StartedAt       time.Time  `json:"started_at"`
	// ExecutedAt is when its execution was started: StartedAt for a run
	// started at once, its start time for a scheduled one; nil without one.
	ExecutedAt *time.Time `json:"executed_at,omitempty"`
	// Gen counts the executions the run had before its current one: a run
	// that rests between steps (steps.Handler.Rest) starts a new execution,
	// named by Gen, for each stretch of steps.
	Gen int `json:"gen,omitempty"`
	// NextKind is "call" when the step a resting run waits for (Step) is
	// an agent call whose task's wait ends NextTimeout seconds after it is
	// raised; "" for any other step. Its next execution starts with them.
	NextKind    string    `json:"next_kind,omitempty"`
	NextTimeout int       `json:"next_timeout,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
	Rev         int64     `json:"-"`
}

// Runs stores workflow runs.
type Runs interface {
	// CreateRun stores r with Rev 1 unless a run exists for (shop, order,
	// workflow, subject); it returns the stored run and whether it was
	// created now.
	CreateRun(ctx context.Context, r Run) (Run, bool, error)
	// GetRun returns the run of (shop, order, workflow, subject) or
	// ErrNotFound; subject "" is the order-level run.
	GetRun(ctx context.Context, shopID, orderID string, wf Workflow, subject string) (Run, error)
	// UpdateRun replaces a run if its stored Rev equals r.Rev, storing it
	// with Rev+1 (returned); ErrConflict if the Rev moved, ErrNotFound if absent.
	UpdateRun(ctx context.Context, r Run) (Run, error)
	// ListOrderRuns returns an order's runs (every subject's), oldest first.
	ListOrderRuns(ctx context.Context, shopID, orderID string) ([]Run, error)
	// ListRuns returns a shop's runs started in [from, to), oldest first.
	ListRuns(ctx context.Context, shopID string, from, to time.Time) ([]Run, error)
	// DueRuns returns up to limit scheduled runs (RunScheduled) of every
	// shop whose NextAt is at or before before, earliest NextAt first, each
	// as stored when the call read it (Rev included): a caller may act on
	// it and write it back conditionally without reading it again. A store
	// may find them through an index that lags a write by a moment
	// (DynamoDB's GSI); it reads each run it lists strongly consistent and
	// leaves out one that has left the index (moved or no longer due).
	// Runs come in pages: after is "" for the first, else the cursor the
	// page before returned, and the page starts past that page's last run;
	// the cursor returned is "" once no run is left. A run whose NextAt
	// changes meanwhile may be listed on two pages or on none (it is found
	// by the next call from the first page). ErrInvalid for a cursor no
	// DueRuns returned.
	DueRuns(ctx context.Context, before time.Time, after string, limit int) ([]Run, string, error)
}

// Due reports whether r waits to be started: scheduled, with a start time.
func (r Run) Due() (time.Time, bool) {
	if r.Status != RunScheduled || r.NextAt == nil {
		return time.Time{}, false
	}
	return *r.NextAt, true
}

// Waits pairs an execution waiting for a buyer event with the event, in
// whichever order they arrive: a token registered first is handed to the
// delivering router; an answer delivered first is handed to the execution
// when it registers. Key names what is awaited (e.g. the workflow).
type Waits interface {
	// Await registers token for (shop, order, key). If an answer was
	// delivered before, it is removed and returned instead (found true) and
	// the token is not kept.
	Await(ctx context.Context, shopID, orderID, key, token string) (answer json.RawMessage, found bool, err error)
	// Deliver hands answer to the token registered for (shop, order, key):
	// the token is removed and returned (found true). With none registered,
	// the answer is kept (replacing an older one) for the next Await.
	Deliver(ctx context.Context, shopID, orderID, key string, answer json.RawMessage) (token string, found bool, err error)
}

// OptOuts records buyers who asked not to be contacted. Contact is
// ContactKey of the buyer's phone or email, never the raw value.
type OptOuts interface {
	// OptOut records the opt-out (idempotent).
	OptOut(ctx context.Context, shopID, contact string, at time.Time) error
	// OptedOut reports whether the contact opted out of the shop's messages.
	OptedOut(ctx context.Context, shopID, contact string) (bool, error)
}

// CareStore is everything the care workflows need from storage.
type CareStore interface {
	Store
	Templates
	Messages
	Tasks
	Runs
	Waits
	OptOuts
	ShopAdmin
	Browse
	Agents
}

// ContactKey is the stored form of a buyer's phone or email in opt-outs:
// a hex SHA-256 of the trimmed, lower-cased value, so the raw contact is not
// kept twice.
func ContactKey(contact string) string {
	return HashKey(strings.ToLower(strings.TrimSpace(contact)))
}
