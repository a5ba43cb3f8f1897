package workflows

import (
	"embed"
	"fmt"
	"regexp"

	"github.com/ordercare/ordercare/internal/care"
)

//go:embed *.asl.json
var definitions embed.FS

// Definition returns the state machine of wf as written, with its
// DefinitionSubstitutions (${Name}) in place.
func Definition(wf care.Workflow) ([]byte, error) {
	b, err := definitions.ReadFile(string(wf) + ".asl.json")
	if err != nil {
		return nil, fmt.Errorf("no state machine for workflow %q", wf)
	}
	return b, nil
}

var placeholder = regexp.MustCompile(`\$\{(\w+)\}`)

// Substitutions lists the DefinitionSubstitutions names the definition of wf uses.
func Substitutions(wf care.Workflow) ([]string, error) {
	b, err := Definition(wf)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var names []string
	for _, m := range placeholder.FindAllSubmatch(b, -1) {
		if n := string(m[1]); !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names, nil
}

// Substitute replaces every ${Name} in the definition of wf by subs[Name],
// as SAM's DefinitionSubstitutions does; a name missing from subs is an error.
func Substitute(wf care.Workflow, subs map[string]string) ([]byte, error) {
	b, err := Definition(wf)
	if err != nil {
		return nil, err
	}
	var missing error
	out := placeholder.ReplaceAllFunc(b, func(m []byte) []byte {
		name := string(placeholder.FindSubmatch(m)[1])
		v, ok := subs[name]
		if !ok {
			missing = fmt.Errorf("workflow %s: no substitution for ${%s}", wf, name)
		}
		return []byte(v)
	})
	return out, missing
}
