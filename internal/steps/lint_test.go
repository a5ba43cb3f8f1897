package steps_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
	"github.com/ordercare/ordercare/workflows"
)

// linted is a registered workflow with rules of its own (steps.Linter).
type linted struct {
	steps.Workflow
	refuse []*care.FieldError
	saw    *int
}

func (l linted) ParseParams(raw json.RawMessage, t *playbook.Template) (any, error) {
	return l.Workflow.(steps.ParamsParser).ParseParams(raw, t)
}

func (l linted) Lint(*playbook.Template) []*care.FieldError {
	*l.saw++
	return l.refuse
}

// withScript returns body with steps[0].script[locale] set to text.
func withScript(t *testing.T, body []byte, locale, text string) []byte {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	d["steps"].([]any)[0].(map[string]any)["script"].(map[string]any)[locale] = text
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseTemplateLints: ParseTemplate refuses a template the compliance
// lint or the workflow's own Linter refuses, as a *care.RejectError naming
// the first path and the rule, with the other paths after it.
func TestParseTemplateLints(t *testing.T) {
	base := workflows.All()[0]
	body := base.DefaultTemplate()
	own := &care.FieldError{Field: "params.pay_window", Reason: "own rule: Platform policy X"}
	forbidden := withScript(t, body, "zh-CN", "亲，付款后好评返现5元哦～")
	tests := []struct {
		name       string
		body       []byte
		refuse     []*care.FieldError
		wantField  string
		wantReason []string // substrings; none: accepted
	}{
		{"default accepted", body, nil, "", nil},
		{"compliance refusal", forbidden, nil, "steps[0].script.zh-CN", []string{"review incentive", "返现", "FTC 16 CFR 465.4", "SAMR"}},
		{"workflow's own refusal", body, []*care.FieldError{own}, "params.pay_window", []string{"own rule: Platform policy X"}},
		{"both, compliance first", forbidden, []*care.FieldError{own}, "steps[0].script.zh-CN", []string{"review incentive", "(and 1 more: params.pay_window)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saw := 0
			ws := steps.Workflows{linted{Workflow: base, refuse: tt.refuse, saw: &saw}}
			tpl, err := ws.ParseTemplate(base.Name(), tt.body)
			if saw != 1 {
				t.Errorf("Linter called %d times, want 1", saw)
			}
			if tt.wantReason == nil {
				if err != nil || tpl == nil {
					t.Fatalf("ParseTemplate: %v", err)
				}
				return
			}
			var re *care.RejectError
			if !errors.As(err, &re) || !errors.Is(err, care.ErrRejected) || tpl != nil {
				t.Fatalf("ParseTemplate: %v (%T), want a *care.RejectError", err, err)
			}
			if re.Field != tt.wantField {
				t.Errorf("field %q, want %q", re.Field, tt.wantField)
			}
			for _, s := range tt.wantReason {
				if !strings.Contains(re.Reason, s) {
					t.Errorf("reason %q lacks %q", re.Reason, s)
				}
			}
		})
	}
	// A body that does not parse is still a *care.FieldError, and is not linted.
	saw := 0
	ws := steps.Workflows{linted{Workflow: base, saw: &saw}}
	if _, err := ws.ParseTemplate(base.Name(), []byte(`{}`)); !errors.Is(err, care.ErrInvalid) || saw != 0 {
		t.Errorf("unparsable body: %v, linted %d times", err, saw)
	}
}
