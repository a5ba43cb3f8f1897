package workflows

import (
	"embed"
	"fmt"

	"github.com/ordercare/ordercare/internal/care"
)

//go:embed unpaid_chase.template.json cod_confirm.template.json template.schema.json
var templateFiles embed.FS

// DefaultTemplate returns the default care template of a workflow (the JSON
// document <workflow>.template.json, which internal/playbook.Parse accepts):
// what a shop runs until ops store a version of their own. The slice is a
// fresh copy. An unknown workflow is a *care.FieldError (care.ErrInvalid).
func DefaultTemplate(wf care.Workflow) ([]byte, error) {
	switch wf {
	case care.UnpaidChase, care.CODConfirm:
	default:
		return nil, care.Invalid("workflow", "no default template for workflow %q", wf)
	}
	b, err := templateFiles.ReadFile(string(wf) + ".template.json")
	if err != nil {
		return nil, fmt.Errorf("default template %s: %w", wf, err)
	}
	return b, nil
}

// TemplateSchema returns the JSON Schema (draft 2020-12) of care templates,
// template.schema.json: the structural half of what internal/playbook.Parse
// checks. The slice is a fresh copy.
func TemplateSchema() []byte {
	b, err := templateFiles.ReadFile("template.schema.json")
	if err != nil {
		panic("workflows: embedded template.schema.json missing: " + err.Error()) // impossible: go:embed
	}
	return b
}
