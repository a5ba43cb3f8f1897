package workflows_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ordercare/ordercare/workflows"
)

// TestNoWorkflowNamesOutsideFolders: the packages that loop over the
// registered workflows (the router, the step handler, metrics, the HTTP
// API) name no workflow in their code: no care.<Workflow> constant and no
// workflow name in a string. A workflow's own code is in its folder.
func TestNoWorkflowNamesOutsideFolders(t *testing.T) {
	names := map[string]bool{}
	for _, n := range workflows.All().Names() {
		names[string(n)] = true
	}
	consts := map[string]bool{"UnpaidChase": true, "CODConfirm": true, "Workflows": true}
	for _, dir := range []string{"router", "steps", "metrics", "httpapi"} {
		files, err := filepath.Glob(filepath.Join("..", "internal", dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("internal/%s: no files (%v)", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, f, nil, 0) // comments dropped
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.SelectorExpr:
					if x, ok := n.X.(*ast.Ident); ok && x.Name == "care" && consts[n.Sel.Name] {
						t.Errorf("%s: names care.%s", fset.Position(n.Pos()), n.Sel.Name)
					}
				case *ast.BasicLit:
					if s, err := strconv.Unquote(n.Value); err == nil && n.Kind == token.STRING {
						for name := range names {
							if containsWord(s, name) {
								t.Errorf("%s: names workflow %s in %q", fset.Position(n.Pos()), name, s)
							}
						}
					}
				}
				return true
			})
		}
	}
}

// containsWord reports whether s contains w not as part of a longer name
// (cod_confirmed, an outcome, is not cod_confirm).
func containsWord(s, w string) bool {
	isName := func(b byte) bool { return b == '_' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }
	for i := strings.Index(s, w); i >= 0; {
		end := i + len(w)
		if (i == 0 || !isName(s[i-1])) && (end == len(s) || !isName(s[end])) {
			return true
		}
		j := strings.Index(s[i+1:], w)
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}
