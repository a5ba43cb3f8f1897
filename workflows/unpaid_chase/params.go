package unpaidchase

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

//go:embed params.schema.json
var paramsSchemaDoc []byte

var paramsSchema = playbook.MustParamsSchema("https://ordercare.dev/schemas/unpaid_chase.params.schema.json", paramsSchemaDoc)

// Params are the params of an unpaid_chase template (params.schema.json).
type Params struct {
	// PayWindow is the platform's auto-cancel window, used when an order
	// has no pay_deadline. Positive.
	PayWindow playbook.Duration `json:"pay_window"`
}

// ParseParams implements steps.ParamsParser: pay_window is positive, and
// every step but notify_shop happens before the deadline (after <
// pay_window − before_deadline).
func (Workflow) ParseParams(raw json.RawMessage, t *playbook.Template) (any, error) {
	var p Params
	if err := paramsSchema.Decode(raw, &p); err != nil {
		return nil, err
	}
	if p.PayWindow <= 0 {
		return nil, care.Invalid("params.pay_window", "must be positive")
	}
	for i, s := range t.Steps {
		if s.Action == playbook.ActionNotifyShop {
			continue
		}
		path := fmt.Sprintf("steps[%d]", i)
		room := p.PayWindow - s.BeforeDeadline
		switch {
		case room <= 0:
			return nil, care.Invalid(path+".before_deadline", "%s leaves no time inside the pay window %s", s.BeforeDeadline.Std(), p.PayWindow.Std())
		case s.After >= room:
			return nil, care.Invalid(path+".after", "%s is at or after the deadline: the pay window %s minus before_deadline %s leaves %s",
				s.After.Std(), p.PayWindow.Std(), s.BeforeDeadline.Std(), room.Std())
		}
	}
	return p, nil
}

// params returns the parsed params of t; zero when t was parsed without
// them (playbook.Parse).
func params(t *playbook.Template) Params {
	p, _ := t.ParsedParams().(Params)
	return p
}

// ParamsSchema implements steps.ParamsSchemer: params.schema.json.
func (Workflow) ParamsSchema() []byte { return paramsSchemaDoc }
