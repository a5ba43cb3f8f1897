package pickupnudge

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

// The fixed step ids of a pickup_nudge template.
const (
	StepExpired = "expired" // notify_shop (optional): the deadline passed without pickup
	StepReissue = "reissue" // call, tag reissue: reship or refund
)

//go:embed params.schema.json
var paramsSchemaDoc []byte

var paramsSchema = playbook.MustParamsSchema("https://ordercare.dev/schemas/pickup_nudge.params.schema.json", paramsSchemaDoc)

// Params are the params of a pickup_nudge template (params.schema.json).
type Params struct {
	HoldWindow      playbook.Duration `json:"hold_window"`
	CallBefore      playbook.Duration `json:"call_before"`
	ReissueWindow   playbook.Duration `json:"reissue_window"`
	OrdinarySteps   []string          `json:"ordinary_steps"`
	PerishableSteps []string          `json:"perishable_steps"`
	Products        []Product         `json:"products,omitempty"`
}

// Product is a shelf-life rule (params.products[i]).
type Product struct {
	SKUs      []string          `json:"skus"`
	ShelfLife playbook.Duration `json:"shelf_life"`
}

// ParseParams implements steps.ParamsParser: the windows and shelf lives
// are positive; ordinary_steps name message steps and perishable_steps
// message or call steps of the template, each in the template's order; the
// template has a reissue call step tagged reissue, and an expired step, when
// present, is a notify_shop step.
func (Workflow) ParseParams(raw json.RawMessage, t *playbook.Template) (any, error) {
	var p Params
	if err := paramsSchema.Decode(raw, &p); err != nil {
		return nil, err
	}
	for f, d := range map[string]playbook.Duration{"hold_window": p.HoldWindow, "call_before": p.CallBefore, "reissue_window": p.ReissueWindow} {
		if d <= 0 {
			return nil, care.Invalid("params."+f, "must be positive")
		}
	}
	for i, r := range p.Products {
		if r.ShelfLife <= 0 {
			return nil, care.Invalid(fmt.Sprintf("params.products[%d].shelf_life", i), "must be positive")
		}
	}
	check := func(field string, ids []string, call bool) error {
		last := -1
		for i, id := range ids {
			path := fmt.Sprintf("params.%s[%d]", field, i)
			s, at, ok := t.Step(id)
			switch {
			case !ok:
				return care.Invalid(path, "no step %q in the template", id)
			case id == StepReissue || id == StepExpired:
				return care.Invalid(path, "step %q is run at the deadline, not paced", id)
			case s.Action != playbook.ActionMessage && !(call && s.Action == playbook.ActionCall):
				return care.Invalid(path, "step %q must be a message%s step", id, map[bool]string{true: " or call"}[call])
			case at <= last:
				return care.Invalid(path, "steps must be listed in the template's order")
			}
			last = at
		}
		return nil
	}
	if err := check("ordinary_steps", p.OrdinarySteps, false); err != nil {
		return nil, err
	}
	if err := check("perishable_steps", p.PerishableSteps, true); err != nil {
		return nil, err
	}
	s, _, ok := t.Step(StepReissue)
	if !ok || s.Action != playbook.ActionCall || s.Tag != care.TagReissue {
		return nil, care.Invalid("steps", "a pickup_nudge template needs a call step %q with tag %q", StepReissue, care.TagReissue)
	}
	if s, _, ok := t.Step(StepExpired); ok && s.Action != playbook.ActionNotifyShop {
		return nil, care.Invalid("steps", "step %q must be a notify_shop step", StepExpired)
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
