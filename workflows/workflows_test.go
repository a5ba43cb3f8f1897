package workflows_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/ordercare/ordercare/infra/sfnlocal/asl"
	"github.com/ordercare/ordercare/internal/steps"
	"github.com/ordercare/ordercare/workflows"
)

var placeholder = regexp.MustCompile(`"\$\{(\w+)\}"`)

// TestDefinitionsLoad validates every state machine with the local engine's
// own validator (asl.Parse: the engine refuses at load what it does not
// implement). make test also runs asl-validator over the same files.
// DefinitionSubstitutions are replaced by Lambda function ARNs first.
func TestDefinitionsLoad(t *testing.T) {
	files, err := filepath.Glob("*/*.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no state machines in workflows/ yet")
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b = placeholder.ReplaceAll(b, []byte(`"arn:aws:lambda:us-east-1:111111111111:function:$1"`))
			if _, err := asl.Parse(b); err != nil {
				t.Errorf("%s does not load: %v", f, err)
			}
		})
	}
}

var actionName = regexp.MustCompile(`"action":\s*"(\w+)"`)

// TestActionsMatchStateMachines: every action a workflow's state machine
// names is one of its own (Workflow.Actions) or the kernel's, and every
// action it declares is named by its state machine.
func TestActionsMatchStateMachines(t *testing.T) {
	for _, w := range workflows.All() {
		t.Run(string(w.Name()), func(t *testing.T) {
			named := map[string]bool{}
			for _, m := range actionName.FindAllSubmatch(w.StateMachine(), -1) {
				named[string(m[1])] = true
			}
			own := w.Actions()
			for a := range named {
				if _, ok := own[a]; !ok && a != steps.ActionEscalate && a != steps.ActionFailed {
					t.Errorf("the state machine names action %q, which neither the workflow nor the kernel has", a)
				}
			}
			for a := range own {
				if !named[a] {
					t.Errorf("action %q is never named by the state machine", a)
				}
			}
		})
	}
}
