package playbook

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/ordercare/ordercare/internal/care"
)

// FuzzParse: Parse never panics, and every error it returns is a field error.
func FuzzParse(f *testing.F) {
	for _, wf := range care.Workflows {
		b, _ := defaultTemplate(wf)
		f.Add(string(wf), b)
	}
	f.Add("unpaid_chase", []byte(minimalHead+`"steps":[{"id":"a","action":"message","script":{"en":"{{ order.total }}"}}]}`))
	f.Fuzz(func(t *testing.T, wf string, body []byte) {
		tp, err := Parse(care.Workflow(wf), body)
		if err != nil {
			var fe *care.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("not a field error: %v", err)
			}
			return
		}
		for _, s := range tp.Steps {
			if _, _, err := tp.Render(s, "script", "en", sampleVars()); err != nil {
				t.Fatalf("a parsed template does not render: %v", err)
			}
		}
	})
}

// FuzzClassify: Classify never panics and returns one of the four answers.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{"是的", "不确认", "yes please", "I didn't order this", "退订", "👍", "Ｙｅｓ"} {
		f.Add(s, "zh-CN")
	}
	tp := codWords(f)
	f.Fuzz(func(t *testing.T, text, locale string) {
		if !utf8.ValidString(text) {
			return
		}
		switch a := tp.Classify(text, locale); a {
		case AnswerYes, AnswerNo, AnswerStop, AnswerUnclear:
		default:
			t.Fatalf("answer %q", a)
		}
	})
}
