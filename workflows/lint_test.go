package workflows_test

import (
	"testing"

	"github.com/ordercare/ordercare/internal/compliance"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
	"github.com/ordercare/ordercare/workflows"
)

// TestDefaultTemplatesPassLint: every registered workflow's default
// template passes the review-compliance lint and the workflow's own
// (steps.Linter): what a new shop runs breaks no rule.
func TestDefaultTemplatesPassLint(t *testing.T) {
	for _, w := range workflows.All() {
		t.Run(string(w.Name()), func(t *testing.T) {
			tpl, err := playbook.ParseWith(w.Name(), w.DefaultTemplate(), workflows.All().Params(w.Name()))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			for _, fe := range compliance.Lint(tpl) {
				t.Errorf("compliance refuses %s: %s", fe.Field, fe.Reason)
			}
			if l, ok := w.(steps.Linter); ok {
				for _, fe := range l.Lint(tpl) {
					t.Errorf("%s's own lint refuses %s: %s", w.Name(), fe.Field, fe.Reason)
				}
			}
			if _, err := workflows.All().ParseTemplate(w.Name(), w.DefaultTemplate()); err != nil {
				t.Errorf("ParseTemplate: %v", err)
			}
		})
	}
}
