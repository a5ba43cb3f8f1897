package workflows_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/ordercare/ordercare/infra/sfnlocal/asl"
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
