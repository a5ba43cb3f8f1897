package deliverycare

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

// The fixed step ids of a delivery_care template.
const (
	StepReply   = "reply"         // call, tag service: the buyer replied
	StepProblem = "reply_problem" // call, tag quality: the reply reports a problem
)

//go:embed params.schema.json
var paramsSchemaDoc []byte

var paramsSchema = playbook.MustParamsSchema("https://ordercare.dev/schemas/delivery_care.params.schema.json", paramsSchemaDoc)

// Params are the params of a delivery_care template (params.schema.json).
type Params struct {
	// Per is steps.PerOrder ("" too) or steps.PerParcel.
	Per          string                       `json:"per,omitempty"`
	Platform     string                       `json:"platform"`
	DefaultStep  string                       `json:"default_step"`
	Products     []Product                    `json:"products,omitempty"`
	Latest       playbook.Duration            `json:"latest"`
	ReplyWindow  playbook.Duration            `json:"reply_window"`
	TaskWindow   playbook.Duration            `json:"task_window"`
	ProblemWords map[string]playbook.Keywords `json:"problem_words"`

	words *playbook.ReplyWords
}

// Product maps SKU patterns and product tag patterns (* for any run of
// characters, case-insensitive) to the message step with that product's
// usage notes. A rule has SKUs, tags or both.
type Product struct {
	SKUs []string `json:"skus,omitempty"`
	Tags []string `json:"tags,omitempty"`
	Step string   `json:"step"`
}

// matches reports whether the rule covers item it: its SKU matches one of
// the SKU patterns, or one of its tags (care.Item.Tags) one of the tag
// patterns.
func (r Product) matches(it care.Item) bool {
	for _, pattern := range r.SKUs {
		if playbook.MatchGlob(pattern, it.SKU) {
			return true
		}
	}
	for _, pattern := range r.Tags {
		for _, tag := range it.Tags {
			if playbook.MatchGlob(pattern, tag) {
				return true
			}
		}
	}
	return false
}

// StepFor is the message step for items: the first products rule any
// item matches (by SKU or by tag), else default_step.
func (p Params) StepFor(items []care.Item) string {
	for _, r := range p.Products {
		for _, it := range items {
			if r.matches(it) {
				return r.Step
			}
		}
	}
	return p.DefaultStep
}

// ParseParams implements steps.ParamsParser: the windows are positive;
// each products[i] has skus or tags; default_step and each
// products[i].step name message steps; the template
// has call steps reply (tag service) and reply_problem (tag quality);
// problem_words has the default locale.
func (Workflow) ParseParams(raw json.RawMessage, t *playbook.Template) (any, error) {
	var p Params
	if err := paramsSchema.Decode(raw, &p); err != nil {
		return nil, err
	}
	for f, d := range map[string]playbook.Duration{"latest": p.Latest, "reply_window": p.ReplyWindow, "task_window": p.TaskWindow} {
		if d <= 0 {
			return nil, care.Invalid("params."+f, "must be positive")
		}
	}
	isMessage := func(path, id string) error {
		if s, _, ok := t.Step(id); !ok || s.Action != playbook.ActionMessage {
			return care.Invalid(path, "no message step %q in the template", id)
		}
		return nil
	}
	if err := isMessage("params.default_step", p.DefaultStep); err != nil {
		return nil, err
	}
	for i, r := range p.Products {
		if len(r.SKUs) == 0 && len(r.Tags) == 0 {
			return nil, care.Invalid(fmt.Sprintf("params.products[%d]", i), "a rule needs skus or tags (or both)")
		}
		if err := isMessage(fmt.Sprintf("params.products[%d].step", i), r.Step); err != nil {
			return nil, err
		}
	}
	for id, tag := range map[string]string{StepReply: care.TagService, StepProblem: care.TagQuality} {
		if s, _, ok := t.Step(id); !ok || s.Action != playbook.ActionCall || s.Tag != tag {
			return nil, care.Invalid("steps", "a delivery_care template needs a call step %q with tag %q", id, tag)
		}
	}
	w, err := playbook.CompileReplies(p.ProblemWords, t.DefaultLocale, "params.problem_words")
	if err != nil {
		return nil, err
	}
	p.words = w
	return p, nil
}

// params returns the parsed params of t; zero when t was parsed without them.
func params(t *playbook.Template) Params {
	p, _ := t.ParsedParams().(Params)
	return p
}

// ParamsSchema implements steps.ParamsSchemer: params.schema.json.
func (Workflow) ParamsSchema() []byte { return paramsSchemaDoc }
