package preshipcheck

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

// The step ids of a preship_check template.
const (
	StepHold    = "hold"    // notify_shop: hold the order, the address is being checked
	StepAsk     = "ask"     // message: asks the buyer to confirm the address
	StepCall    = "call"    // call: an agent settles the address
	StepRelease = "release" // notify_shop: the address is confirmed, the order may ship
)

//go:embed params.schema.json
var paramsSchemaDoc []byte

var paramsSchema = playbook.MustParamsSchema("https://ordercare.dev/schemas/preship_check.params.schema.json", paramsSchemaDoc)

// Params are the params of a preship_check template (params.schema.json).
type Params struct {
	ShipWithin     playbook.Duration            `json:"ship_within"`
	CallBefore     playbook.Duration            `json:"call_before"`
	AddressChanged bool                         `json:"address_changed_after_payment,omitempty"`
	TwoAddresses   bool                         `json:"two_addresses,omitempty"`
	Regions        []Region                     `json:"regions,omitempty"`
	Lockers        *Lockers                     `json:"lockers,omitempty"`
	Replies        map[string]playbook.Keywords `json:"replies"`

	words *playbook.ReplyWords
}

// Region is a blocked or remote region (params.regions[i]).
type Region struct {
	ID        string   `json:"id"`
	Provinces []string `json:"provinces,omitempty"`
	Cities    []string `json:"cities,omitempty"`
	Postcodes []string `json:"postcodes,omitempty"`
	Goods     *Goods   `json:"goods,omitempty"`
}

// Lockers flags addresses at pickup lockers or PO boxes (params.lockers).
type Lockers struct {
	Keywords []string `json:"keywords"`
	Goods    *Goods   `json:"goods,omitempty"`
}

// Goods selects the goods a rule is about; nil selects every order.
type Goods struct {
	SKUs       []string `json:"skus,omitempty"`
	Perishable bool     `json:"perishable,omitempty"`
}

// ParseParams implements steps.ParamsParser: ship_within and call_before
// positive with call_before < ship_within, region ids unique, reply words
// usable, and the steps hold, ask, call and release with their actions.
func (Workflow) ParseParams(raw json.RawMessage, t *playbook.Template) (any, error) {
	var p Params
	if err := paramsSchema.Decode(raw, &p); err != nil {
		return nil, err
	}
	switch {
	case p.ShipWithin <= 0:
		return nil, care.Invalid("params.ship_within", "must be positive")
	case p.CallBefore <= 0:
		return nil, care.Invalid("params.call_before", "must be positive")
	case p.CallBefore >= p.ShipWithin:
		return nil, care.Invalid("params.call_before", "%s leaves no time to ask the buyer within ship_within %s", p.CallBefore.Std(), p.ShipWithin.Std())
	}
	ids := map[string]int{}
	for i, r := range p.Regions {
		if j, dup := ids[r.ID]; dup {
			return nil, care.Invalid(fmt.Sprintf("params.regions[%d].id", i), "duplicate id %q (also regions[%d])", r.ID, j)
		}
		ids[r.ID] = i
	}
	w, err := playbook.CompileReplies(p.Replies, t.DefaultLocale, "params.replies")
	if err != nil {
		return nil, err
	}
	p.words = w
	want := map[string]playbook.Action{StepHold: playbook.ActionNotifyShop, StepAsk: playbook.ActionMessage,
		StepCall: playbook.ActionCall, StepRelease: playbook.ActionNotifyShop}
	seen := map[string]bool{}
	for i, s := range t.Steps {
		path := fmt.Sprintf("steps[%d]", i)
		a, ok := want[s.ID]
		switch {
		case !ok:
			return nil, care.Invalid(path+".id", "preship_check steps are hold (notify_shop), ask (message), call (call) and release (notify_shop); %q is none of them", s.ID)
		case s.Action != a:
			return nil, care.Invalid(path+".action", "step %q of preship_check must be a %s", s.ID, a)
		case s.After != 0 || s.BeforeCutoff != nil || s.BeforeDeadline != 0 || s.MinTotal != "":
			return nil, care.Invalid(path, "after, before_cutoff, before_deadline and min_total are not used by preship_check")
		}
		seen[s.ID] = true
	}
	for _, id := range []string{StepHold, StepAsk, StepCall, StepRelease} {
		if !seen[id] {
			return nil, care.Invalid("steps", "preship_check needs a step %q (%s)", id, want[id])
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
