package codconfirm

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

// The step ids of a cod_confirm template: ask, call and declined, and optionally confirmed.
const (
	StepAsk      = "ask"      // message: states the COD total, asks to confirm
	StepCall     = "call"     // call: outcomes exactly CallOutcomes
	StepDeclined = "declined" // notify_shop: the note to the shop
	// StepConfirmed is optional: when present (notify_shop), the shop is
	// told a COD order was confirmed and may ship.
	StepConfirmed = "confirmed"
)

// CallOutcomes are the outcomes of the call step, sorted.
var CallOutcomes = []string{"confirmed", "declined", "unreachable"}

//go:embed params.schema.json
var paramsSchemaDoc []byte

var paramsSchema = playbook.MustParamsSchema("https://ordercare.dev/schemas/cod_confirm.params.schema.json", paramsSchemaDoc)

// Params are the params of a cod_confirm template (params.schema.json).
type Params struct {
	// ReplyTimeout is how long to wait for the buyer's reply. Positive.
	ReplyTimeout playbook.Duration `json:"reply_timeout"`
	// Replies are the keywords per locale; the default locale has some.
	Replies map[string]playbook.Keywords `json:"replies"`

	words *playbook.ReplyWords
}

// ParseParams implements steps.ParamsParser: reply_timeout is positive,
// the reply keywords are usable (playbook.CompileReplies), and the steps
// have cod_confirm's shape: exactly ask (message), call (call, outcomes
// confirmed, declined, unreachable), declined (notify_shop) and optionally
// confirmed (notify_shop), none timed from the order (after,
// before_cutoff, before_deadline) or restricted by min_total.
func (Workflow) ParseParams(raw json.RawMessage, t *playbook.Template) (any, error) {
	var p Params
	if err := paramsSchema.Decode(raw, &p); err != nil {
		return nil, err
	}
	if p.ReplyTimeout <= 0 {
		return nil, care.Invalid("params.reply_timeout", "must be positive")
	}
	w, err := playbook.CompileReplies(p.Replies, t.DefaultLocale, "params.replies")
	if err != nil {
		return nil, err
	}
	p.words = w
	if err := checkShape(t); err != nil {
		return nil, err
	}
	return p, nil
}

func checkShape(t *playbook.Template) error {
	want := map[string]playbook.Action{StepAsk: playbook.ActionMessage, StepCall: playbook.ActionCall,
		StepDeclined: playbook.ActionNotifyShop, StepConfirmed: playbook.ActionNotifyShop}
	seen := map[string]bool{}
	for i, s := range t.Steps {
		p := fmt.Sprintf("steps[%d]", i)
		switch {
		case s.After != 0:
			return care.Invalid(p+".after", "not allowed in a cod_confirm template")
		case s.BeforeCutoff != nil:
			return care.Invalid(p+".before_cutoff", "not allowed in a cod_confirm template")
		case s.BeforeDeadline != 0:
			return care.Invalid(p+".before_deadline", "not allowed in a cod_confirm template")
		case s.MinTotal != "":
			return care.Invalid(p+".min_total", "not allowed in a cod_confirm template")
		}
		a, ok := want[s.ID]
		if !ok {
			return care.Invalid(p+".id", "cod_confirm steps are ask (message), call (call), declined (notify_shop) and optionally confirmed (notify_shop); %q is none of them", s.ID)
		}
		seen[s.ID] = true
		if s.Action != a {
			return care.Invalid(p+".action", "step %q of cod_confirm must be a %s", s.ID, a)
		}
		if s.ID == StepCall {
			got := slices.Clone(s.Outcomes)
			slices.Sort(got)
			if !slices.Equal(got, CallOutcomes) {
				return care.Invalid(p+".outcomes", "must be exactly %q", strings.Join(CallOutcomes, ", "))
			}
		}
	}
	for _, id := range []string{StepAsk, StepCall, StepDeclined} {
		if !seen[id] {
			return care.Invalid("steps", "cod_confirm needs a step %q (%s)", id, want[id])
		}
	}
	return nil
}

// params returns the parsed params of t; zero when t was parsed without
// them (playbook.Parse).
func params(t *playbook.Template) Params {
	p, _ := t.ParsedParams().(Params)
	return p
}

// ParamsSchema implements steps.ParamsSchemer: params.schema.json.
func (Workflow) ParamsSchema() []byte { return paramsSchemaDoc }
