// Package playbook holds the care templates ops edit: the Go model of the
// common core of a template (workflows/<workflow>/template.json is the
// default of each; the "params" object is its workflow's, checked through
// ParamsParser), its validation (ParseWith: strict JSON, the JSON Schema
// template.schema.json, semantic checks such as unknown Liquid variables,
// then the workflow's params), the rendering of scripts per locale
// (Render), the timing of the next step under the clocks of an order —
// when it was placed, the shop's daily cut-off and the run's deadline —
// with quiet hours (Plan), and the recognition of a buyer's yes or no by a
// workflow's reply words (ReplyWords.Classify).
//
// Everything here is pure: no I/O, no clock (times come in as arguments). A
// *Template is immutable after Parse and safe for concurrent use.
package playbook

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/osteele/liquid/render"

	"github.com/ordercare/ordercare/internal/care"
	"regexp"
)

// Action is what a step does.
type Action string

// Step actions.
const (
	// ActionMessage sends Script to the buyer on the step's channel.
	ActionMessage Action = "message"
	// ActionCall raises an agent task: Reason says why, Script what to say.
	ActionCall Action = "call"
	// ActionNotifyShop tells the shop (the signed callback); Script is the note.
	ActionNotifyShop Action = "notify_shop"
)

// Channels a message step may use.
const (
	ChannelOutbox  = "outbox"
	ChannelWebhook = "webhook"
	ChannelEmail   = "email" // SES on AWS, the shop's SMTP server locally
	ChannelSMS     = "sms"   // SNS on AWS
)

// Message classes of a step (Step.Class).
const (
	ClassTransactional = "transactional"
	ClassMarketing     = "marketing"
)

// Duration is a Go duration written in JSON as its string form ("10m", "36h").
// It is never negative in a parsed template.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a non-negative Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"10m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("duration %q is negative", s)
	}
	*d = Duration(v)
	return nil
}

// QuietHours is the daily period no buyer is contacted, as local times of day
// "HH:MM" in the buyer's zone (else the shop's); From > To wraps midnight.
// From is inside the period, To is not.
type QuietHours struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Keywords recognise a buyer's reply in one locale.
type Keywords struct {
	Yes []string `json:"yes"`
	No  []string `json:"no"`
}

// Template is one parsed, validated care template. Field meanings are those
// of template.schema.json. Do not modify a Template returned by
// Parse (its maps and slices are shared with the compiled scripts).
type Template struct {
	Workflow care.Workflow `json:"workflow"`
	// Enabled false switches the workflow off for the shop (see On); absent is on.
	Enabled       *bool  `json:"enabled,omitempty"`
	DefaultLocale string `json:"default_locale"`
	Channel       string `json:"channel"`
	// Cutoff is the shop-local daily ship cut-off "HH:MM", or "".
	Cutoff     string      `json:"cutoff,omitempty"`
	QuietHours *QuietHours `json:"quiet_hours,omitempty"`
	// MinGap is the least time between two messages to one buyer about one
	// order, across workflows; nil means DefaultMinGap (see Gap).
	MinGap *Duration `json:"min_gap,omitempty"`
	// ContactBudget is the most messages the workflow sends one order (1..20).
	ContactBudget int    `json:"contact_budget"`
	Steps         []Step `json:"steps"`
	// Params is the workflow's own part of the template, as written (the
	// object "params"; absent is null). Its workflow validates it
	// (ParamsParser) and ParsedParams holds what it made of it.
	Params json.RawMessage `json:"params,omitempty"`

	compiled  map[scriptKey]render.Node
	cutoffMin int // minutes after local midnight; -1 without a cut-off
	quietFrom int // minutes; quietFrom == quietTo when there are no quiet hours
	quietTo   int
	params    any
}

// ParamsParser validates the params of one workflow's templates: a
// workflow implements it (steps.ParamsParser) and Parse calls it with the
// template's params object (null when absent) once the common core is
// valid. It returns what the workflow's code reads back with ParsedParams,
// or a *care.FieldError whose Field is a path such as
// "params.reply_timeout" (or "steps[1].after" for a rule across core and
// params). It must not keep or modify t.
type ParamsParser interface {
	ParseParams(raw json.RawMessage, t *Template) (any, error)
}

// ParsedParams is what the workflow's ParamsParser returned for the
// template's params; nil when parsed without one.
func (t *Template) ParsedParams() any { return t.params }

// Step is one step of a template. Script and Reason map a BCP 47 locale to
// Liquid source; both contain the template's default locale.
type Step struct {
	ID     string `json:"id"`
	Action Action `json:"action"`
	// After is the delay since the order was placed (unpaid_chase).
	After Duration `json:"after,omitempty"`
	// BeforeCutoff, when set, moves the step to BeforeCutoff before the first
	// shop-local cut-off that leaves at least After since the order was placed.
	BeforeCutoff *Duration `json:"before_cutoff,omitempty"`
	// BeforeDeadline is how long before the pay deadline the step must happen at the latest.
	BeforeDeadline Duration `json:"before_deadline,omitempty"`
	// MinTotal restricts the step to orders whose total is at least this.
	MinTotal care.Decimal      `json:"min_total,omitempty"`
	Channel  string            `json:"channel,omitempty"` // message: overrides Template.Channel
	Coupon   string            `json:"coupon,omitempty"`  // exposed to scripts as step.coupon
	Script   map[string]string `json:"script"`
	Reason   map[string]string `json:"reason,omitempty"`   // call: why the task was raised
	Tag      string            `json:"tag,omitempty"`      // call: one of care.TaskTags
	Priority int               `json:"priority,omitempty"` // call: 1 (most urgent) .. 5
	SLA      Duration          `json:"sla,omitempty"`      // call: > 0
	Outcomes []string          `json:"outcomes,omitempty"` // call: what the agent may answer

	// Channels (message), when set, lists channels in order of preference
	// and overrides Channel: the first the buyer can be reached on and has
	// not opted out of is used.
	Channels []string `json:"channels,omitempty"`
	// Class (message) is ClassTransactional ("" means it) or ClassMarketing.
	Class string `json:"class,omitempty"`
}

type scriptKey struct{ step, field, locale string }

// Step returns the step with the given id and its index in Steps, or false.
func (t *Template) Step(id string) (Step, int, bool) {
	for i, s := range t.Steps {
		if s.ID == id {
			return s, i, true
		}
	}
	return Step{}, -1, false
}

// On reports whether the workflow runs for the shop: false only when the
// template says "enabled": false.
func (t *Template) On() bool { return t.Enabled == nil || *t.Enabled }

// The minimum gap between two messages to one buyer: the default, and the
// range a template's min_gap must lie in.
const (
	DefaultMinGap = 30 * time.Minute
	MinGapFloor   = time.Minute
	MinGapCeiling = 24 * time.Hour
)

// Gap returns the least time between two messages to one buyer about one
// order: the template's min_gap, else DefaultMinGap. It is never below
// MinGapFloor in a parsed template.
func (t *Template) Gap() time.Duration {
	if t.MinGap != nil {
		return t.MinGap.Std()
	}
	return DefaultMinGap
}

// StepChannels returns the channels a message step may send on, in order
// of preference: its Channels, else StepChannel alone.
func (t *Template) StepChannels(s Step) []string {
	if len(s.Channels) > 0 {
		return s.Channels
	}
	return []string{t.StepChannel(s)}
}

// Marketing reports whether a step's messages are marketing.
func (s Step) Marketing() bool { return s.Class == ClassMarketing }

// StepChannel returns the channel a message step sends on: its own, else the template's.
func (t *Template) StepChannel(s Step) string {
	if s.Channel != "" {
		return s.Channel
	}
	return t.Channel
}

// parseClock reads "HH:MM" (already shape-checked by the schema) as minutes after midnight.
func parseClock(s string) int {
	var h, m int
	if _, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil {
		return -1
	}
	return h*60 + m
}

// workflowName is the shape of a workflow's name. Which workflows exist is
// the registry's (workflows.All), checked by Parse's callers.
var workflowName = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
