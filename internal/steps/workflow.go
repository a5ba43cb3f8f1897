package steps

import (
	"github.com/ordercare/ordercare/internal/care"
)

// Workflow is one care workflow as the kernel sees it, and as everything
// that loops over workflows does (the router, the step handler, metrics,
// template validation, the HTTP API). Each workflow is a folder
// workflows/<name>/ holding its state machine, its default template, its
// Go code and its tests; workflows.All lists them. Nothing outside a
// workflow's folder switches over workflow names: it asks the Workflow.
//
// A Workflow may also implement the optional interfaces of this package
// (Starter, Stopper, Awaiter, Recoverer) for what only some workflows do.
type Workflow interface {
	// Name is the workflow's name: care.Run.Workflow, the template's
	// "workflow", its folder and (with the stack prefix) its state machine.
	Name() care.Workflow
	// StateMachine is the ASL definition, with SAM DefinitionSubstitutions
	// (${StepFunction}) in place. The slice is shared: do not modify it.
	StateMachine() []byte
	// DefaultTemplate is the template a shop runs until ops store a version
	// of their own. The slice is shared: do not modify it.
	DefaultTemplate() []byte
}

// Workflows is the registry of care workflows, in the order they were
// listed (workflows.All). The zero value has none.
type Workflows []Workflow

// Get returns the workflow named name.
func (ws Workflows) Get(name care.Workflow) (Workflow, bool) {
	for _, w := range ws {
		if w.Name() == name {
			return w, true
		}
	}
	return nil, false
}

// Names lists the registered workflows' names, in order.
func (ws Workflows) Names() []care.Workflow {
	out := make([]care.Workflow, len(ws))
	for i, w := range ws {
		out[i] = w.Name()
	}
	return out
}

// DefaultTemplate returns a fresh copy of the named workflow's default
// template. An unknown workflow is a *care.FieldError (care.ErrInvalid) on
// field "workflow".
func (ws Workflows) DefaultTemplate(name care.Workflow) ([]byte, error) {
	w, ok := ws.Get(name)
	if !ok {
		return nil, care.Invalid("workflow", "no default template for workflow %q", name)
	}
	return append([]byte(nil), w.DefaultTemplate()...), nil
}
