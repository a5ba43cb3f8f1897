package shippingnotice

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

// StepNotice is the one step of a shipping_notice template: the message.
const StepNotice = "notice"

//go:embed params.schema.json
var paramsSchemaDoc []byte

var paramsSchema = playbook.MustParamsSchema("https://ordercare.dev/schemas/shipping_notice.params.schema.json", paramsSchemaDoc)

// Params are the params of a shipping_notice template (params.schema.json).
type Params struct {
	DigestWindow playbook.Duration `json:"digest_window"`
	FirstScan    *FirstScan        `json:"first_scan,omitempty"`
	// MaxAge, when set, skips the notice of a parcel whose last carrier
	// scan is older than this when the notice would go (reason stale): a
	// parcel reported to ordercare long after it shipped gets no late
	// "your order has shipped".
	MaxAge *playbook.Duration `json:"max_age,omitempty"`
}

// FirstScan is the wait for the carrier's first scan (params.first_scan).
type FirstScan struct {
	Wait  bool              `json:"wait"`
	Limit playbook.Duration `json:"limit"`
	Every playbook.Duration `json:"every"`
}

// ParseParams implements steps.ParamsParser: digest_window not negative,
// first_scan's limit and every positive with every at most limit, and one
// step, notice (message).
func (Workflow) ParseParams(raw json.RawMessage, t *playbook.Template) (any, error) {
	var p Params
	if err := paramsSchema.Decode(raw, &p); err != nil {
		return nil, err
	}
	if p.DigestWindow < 0 {
		return nil, care.Invalid("params.digest_window", "must not be negative")
	}
	if p.MaxAge != nil && *p.MaxAge <= 0 {
		return nil, care.Invalid("params.max_age", "must be positive")
	}
	if f := p.FirstScan; f != nil {
		switch {
		case f.Limit <= 0:
			return nil, care.Invalid("params.first_scan.limit", "must be positive")
		case f.Every <= 0:
			return nil, care.Invalid("params.first_scan.every", "must be positive")
		case f.Every > f.Limit:
			return nil, care.Invalid("params.first_scan.every", "%s is longer than limit %s", f.Every.Std(), f.Limit.Std())
		}
	}
	for i, s := range t.Steps {
		path := fmt.Sprintf("steps[%d]", i)
		switch {
		case s.ID != StepNotice:
			return nil, care.Invalid(path+".id", "shipping_notice has one step, notice (message); %q is not it", s.ID)
		case s.Action != playbook.ActionMessage:
			return nil, care.Invalid(path+".action", "step notice of shipping_notice must be a message")
		case s.After != 0 || s.BeforeCutoff != nil || s.BeforeDeadline != 0 || s.MinTotal != "":
			return nil, care.Invalid(path, "after, before_cutoff, before_deadline and min_total are not used by shipping_notice")
		}
	}
	if len(t.Steps) != 1 {
		return nil, care.Invalid("steps", "shipping_notice needs a step notice (message)")
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
