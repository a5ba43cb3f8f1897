package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// casesDir resolves ASL_CONFORMANCE_DIR, or ../shared/conformance/asl/cases
// relative to the module root. It returns "" when the directory is absent.
func casesDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("ASL_CONFORMANCE_DIR"); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
		return ""
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("module root: %v", err)
	}
	d := filepath.Join(root, "..", "shared", "conformance", "asl", "cases")
	if st, err := os.Stat(d); err == nil && st.IsDir() {
		return d
	}
	return ""
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

func loadCases(t testing.TB) []*Case {
	t.Helper()
	dir := casesDir(t)
	if dir == "" {
		t.Skip("conformance cases not found: set ASL_CONFORMANCE_DIR or provide ../shared/conformance/asl/cases next to the module root")
	}
	cases, err := LoadDir(dir)
	if err != nil {
		t.Fatalf("load cases: %v", err)
	}
	if len(cases) == 0 {
		t.Skipf("no case files in %s", dir)
	}
	return cases
}

func TestLoadDir(t *testing.T) {
	cases := loadCases(t)
	names := map[string]bool{}
	for _, c := range cases {
		if names[c.Name] {
			t.Errorf("duplicate case name %s", c.Name)
		}
		names[c.Name] = true
		if c.Area == "" || c.Expected.Status == "" {
			t.Errorf("%s: area %q status %q", c.Name, c.Area, c.Expected.Status)
		}
		if len(c.Placeholders) > 0 {
			last := c.Placeholders[len(c.Placeholders)-1]
			if last.Literal != "us-east-1" {
				t.Errorf("%s: placeholder order lost: last literal %q", c.Name, last.Literal)
			}
		}
		if c.Expected.HasHistory && len(c.Expected.History) == 0 {
			t.Errorf("%s: empty history", c.Name)
		}
	}
	t.Logf("%d cases", len(cases))
}

// TestNormalizeFixedPoint normalises the recorded data itself: since it is
// already normalised, nothing may change (parallel_events_sorted excepted:
// LocalStack's transformer is not idempotent).
func TestNormalizeFixedPoint(t *testing.T) {
	cases := loadCases(t)
	failed := 0
	for _, c := range cases {
		n, err := NewNormalizer(c)
		if err != nil {
			// Python-only regex syntax; only out-of-scope (SNS) cases use it.
			t.Logf("%s: %v", c.Name, err)
			continue
		}
		n.SkipParallelSort = true
		n.SkipJSONParse = true
		e := c.Expected
		if e.HasHistory {
			if diff := cmp.Diff(e.History, n.History(e.History)); diff != "" {
				failed++
				if failed <= 10 {
					t.Errorf("%s: history not a fixed point (-recorded +normalised):\n%s", c.Name, diff)
				}
			}
		}
		if e.HasOutput && !e.OutputIsRawText {
			if diff := cmp.Diff(e.Output, n.Output(e.Output)); diff != "" {
				failed++
				if failed <= 10 {
					t.Errorf("%s: output not a fixed point:\n%s", c.Name, diff)
				}
			}
		}
		if e.HasCause {
			if diff := cmp.Diff(e.Cause, n.inEvent("ExecutionFailed", "executionFailedEventDetails", "cause", e.Cause, false)); diff != "" {
				failed++
				if failed <= 10 {
					t.Errorf("%s: cause not a fixed point:\n%s", c.Name, diff)
				}
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d values are not fixed points", failed)
	}
}
