package reviewrequest

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

// StepAsk is the id of the review ask, a message step every template has.
const StepAsk = "ask"

//go:embed params.schema.json
var paramsSchemaDoc []byte

var paramsSchema = playbook.MustParamsSchema("https://ordercare.dev/schemas/review_request.params.schema.json", paramsSchemaDoc)

// Params are the params of a review_request template (params.schema.json).
type Params struct {
	// Per is steps.PerOrder ("" too) or steps.PerParcel.
	Per          string            `json:"per,omitempty"`
	Platform     string            `json:"platform"`
	Window       playbook.Duration `json:"window"`
	Reminders    []string          `json:"reminders"`
	MaxReminders int               `json:"max_reminders"`
}

// ParseParams implements steps.ParamsParser: window is positive; the
// template has a message step ask; reminders name message steps after it,
// in the template's order; max_reminders is at most their number.
func (Workflow) ParseParams(raw json.RawMessage, t *playbook.Template) (any, error) {
	var p Params
	if err := paramsSchema.Decode(raw, &p); err != nil {
		return nil, err
	}
	if p.Window <= 0 {
		return nil, care.Invalid("params.window", "must be positive")
	}
	s, last, ok := t.Step(StepAsk)
	if !ok || s.Action != playbook.ActionMessage {
		return nil, care.Invalid("steps", "a review_request template needs a message step %q", StepAsk)
	}
	for i, id := range p.Reminders {
		path := fmt.Sprintf("params.reminders[%d]", i)
		s, at, ok := t.Step(id)
		switch {
		case !ok || s.Action != playbook.ActionMessage:
			return nil, care.Invalid(path, "no message step %q in the template", id)
		case at <= last:
			return nil, care.Invalid(path, "reminders must follow the ask, in the template's order")
		}
		last = at
	}
	if p.MaxReminders > len(p.Reminders) {
		return nil, care.Invalid("params.max_reminders", "at most the %d reminders listed", len(p.Reminders))
	}
	for i, s := range t.Steps {
		if s.Action != playbook.ActionMessage {
			return nil, care.Invalid(fmt.Sprintf("steps[%d].action", i), "a review_request template has message steps only")
		}
	}
	return p, nil
}

// params returns the parsed params of t; zero when t was parsed without them.
func params(t *playbook.Template) Params {
	p, _ := t.ParsedParams().(Params)
	return p
}

// ParamsSchema implements steps.ParamsSchemer: params.schema.json.
func (Workflow) ParamsSchema() []byte { return paramsSchemaDoc }
