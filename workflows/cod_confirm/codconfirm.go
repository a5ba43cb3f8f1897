// Package codconfirm is the cod_confirm workflow (domain.md 2): ask the
// buyer of a cash-on-delivery order to confirm it, read the reply, have an
// agent call when the reply is not a clear yes, and tell the shop whether it
// may ship. The folder holds its state machine (cod_confirm.asl.json), its
// default template (template.json), its Go code and its tests.
package codconfirm

import (
	_ "embed"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
)

// Name is the workflow's name.
const Name care.Workflow = "cod_confirm"

//go:embed cod_confirm.asl.json
var stateMachine []byte

//go:embed template.json
var defaultTemplate []byte

// Workflow is cod_confirm as the kernel sees it (steps.Workflow).
type Workflow struct{}

var _ steps.Workflow = Workflow{}

// Name implements steps.Workflow.
func (Workflow) Name() care.Workflow { return Name }

// StateMachine implements steps.Workflow.
func (Workflow) StateMachine() []byte { return stateMachine }

// DefaultTemplate implements steps.Workflow.
func (Workflow) DefaultTemplate() []byte { return defaultTemplate }
