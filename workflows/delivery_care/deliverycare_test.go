package deliverycare_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	deliverycare "github.com/ordercare/ordercare/workflows/delivery_care"
)

type doc = map[string]any

func parse(t *testing.T, mutate func(d doc)) (*playbook.Template, error) {
	t.Helper()
	var d doc
	if err := json.Unmarshal(deliverycare.Workflow{}.DefaultTemplate(), &d); err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(d)
	}
	b, _ := json.Marshal(d)
	return playbook.ParseWith(deliverycare.Name, b, deliverycare.Workflow{})
}

func TestParamsErrors(t *testing.T) {
	cases := []struct {
		name, field string
		mutate      func(d doc)
	}{
		{"latest zero", "params.latest", func(d doc) { d["params"].(doc)["latest"] = "0" }},
		{"unknown default", "params.default_step", func(d doc) { d["params"].(doc)["default_step"] = "nope" }},
		{"product step is a call", "params.products[0].step", func(d doc) {
			d["params"].(doc)["products"] = []any{doc{"skus": []any{"X*"}, "step": "reply"}}
		}},
		{"product rule with neither skus nor tags", "params.products[0]", func(d doc) {
			d["params"].(doc)["products"] = []any{doc{"step": "care_fresh"}}
		}},
		{"empty tag pattern", "params.products[0].tags", func(d doc) {
			d["params"].(doc)["products"] = []any{doc{"tags": []any{""}, "step": "care_fresh"}}
		}},
		{"tag rule to a call step", "params.products[1].step", func(d doc) {
			d["params"].(doc)["products"] = []any{doc{"skus": []any{"X*"}, "step": "care_fresh"}, doc{"tags": []any{"fresh"}, "step": "reply"}}
		}},
		{"no problem words in the default locale", "params.problem_words", func(d doc) {
			d["params"].(doc)["problem_words"] = doc{"en": doc{"yes": []any{"broken"}}}
		}},
		{"reply task tagged wrong", "steps", func(d doc) {
			for _, s := range d["steps"].([]any) {
				if s.(doc)["id"] == "reply_problem" {
					s.(doc)["tag"] = "vip"
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.mutate)
			var fe *care.FieldError
			if !errors.As(err, &fe) || !strings.HasPrefix(fe.Field, tc.field) {
				t.Fatalf("error = %v, want a field error on %s", err, tc.field)
			}
		})
	}
}

// TestStepForAndInterpret: per-product scripts with a fallback; a reply
// reporting a problem is yes (quality), a negated one is not.
func TestStepForAndInterpret(t *testing.T) {
	tpl, err := parse(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	pp := tpl.ParsedParams().(deliverycare.Params)
	for items, want := range map[string]string{"FRESH-1": "care_fresh", "milk-cold": "care_fresh", "BOOK-1": "care", "": "care"} {
		if got := pp.StepFor([]care.Item{{SKU: "OTHER"}, {SKU: items}}); got != want {
			t.Errorf("StepFor(%s) = %s, want %s", items, got, want)
		}
	}
	for _, tc := range []struct {
		items []care.Item
		want  string
	}{
		{[]care.Item{{SKU: "TEA-1", Tags: []string{"Fresh"}}}, "care_fresh"},
		{[]care.Item{{SKU: "TEA-1", Tags: []string{"gift", "CHILLED"}}}, "care_fresh"},
		{[]care.Item{{SKU: "TEA-1", Tags: []string{"freshly-roasted"}}}, "care"},
		{[]care.Item{{SKU: "TEA-1"}, {SKU: "CUP-1", Tags: []string{"fresh"}}}, "care_fresh"},
	} {
		if got := pp.StepFor(tc.items); got != tc.want {
			t.Errorf("StepFor(%+v) = %s, want %s", tc.items, got, tc.want)
		}
	}
	// A rule of tags only.
	tagged, err := parse(t, func(d doc) {
		d["params"].(doc)["products"] = []any{doc{"tags": []any{"fragile*"}, "step": "care_fresh"}}
	})
	if err != nil {
		t.Fatal(err)
	}
	tp := tagged.ParsedParams().(deliverycare.Params)
	if got := tp.StepFor([]care.Item{{SKU: "FRESH-1"}, {SKU: "VASE", Tags: []string{"Fragile-glass"}}}); got != "care_fresh" {
		t.Errorf("tag-only rule: %s", got)
	}
	if got := tp.StepFor([]care.Item{{SKU: "FRESH-1"}}); got != "care" {
		t.Errorf("tag-only rule matched a SKU: %s", got)
	}
	w := deliverycare.Workflow{}
	for text, want := range map[string]playbook.Answer{
		"盒子压坏了":                      playbook.AnswerYes,
		"The jar arrived broken":     playbook.AnswerYes,
		"谢谢，东西很好":                    playbook.AnswerUnclear,
		"not broken at all, thanks!": playbook.AnswerUnclear,
		"退订":                         playbook.AnswerStop,
	} {
		locale := "zh-CN"
		if text[0] < 0x80 {
			locale = "en"
		}
		if got := w.Interpret(tpl, text, locale); got != want {
			t.Errorf("Interpret(%q) = %s, want %s", text, got, want)
		}
	}
}

// TestTemplateNeverGatesReviews: the care scripts never ask the buyer to
// contact the shop before reviewing, nor mention reviews at all.
func TestTemplateNeverGatesReviews(t *testing.T) {
	tpl, err := parse(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range tpl.Steps {
		for loc, text := range s.Script {
			low := strings.ToLower(text)
			for _, w := range []string{"评价", "好评", "差评", "review", "rating", "stars", "contact us first", "before reviewing", "before leaving"} {
				if strings.Contains(low, w) {
					t.Errorf("step %s %s says %q", s.ID, loc, w)
				}
			}
		}
	}
}
