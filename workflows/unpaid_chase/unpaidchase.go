// Package unpaidchase is the unpaid_chase workflow (domain.md 1): remind a
// buyer who placed an order and has not paid, on the template's schedule,
// before the platform cancels it, and hand a large order to an agent's call.
// The folder holds its state machine (unpaid_chase.asl.json), its default
// template (template.json), its Go code and its tests.
package unpaidchase

import (
	_ "embed"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
)

// Name is the workflow's name.
const Name care.Workflow = "unpaid_chase"

//go:embed unpaid_chase.asl.json
var stateMachine []byte

//go:embed template.json
var defaultTemplate []byte

// Workflow is unpaid_chase as the kernel sees it (steps.Workflow).
type Workflow struct{}

var _ steps.Workflow = Workflow{}

// Name implements steps.Workflow.
func (Workflow) Name() care.Workflow { return Name }

// StateMachine implements steps.Workflow.
func (Workflow) StateMachine() []byte { return stateMachine }

// DefaultTemplate implements steps.Workflow.
func (Workflow) DefaultTemplate() []byte { return defaultTemplate }
