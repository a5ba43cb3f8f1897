package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestParseConformanceDefinitions parses every recorded definition (all of
// them were accepted by AWS): each must parse, or be refused as unsupported
// with a feature the case's "requires" list explains.
func TestParseConformanceDefinitions(t *testing.T) {
	dir := conformanceDir()
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("conformance cases not found at %s (set ASL_CONFORMANCE_DIR): %v", dir, err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	var ok, refused, skipped int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			Name       string          `json:"name"`
			Definition json.RawMessage `json:"definition"`
			Requires   []string        `json:"requires"`
		}
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(c.Definition, []byte("<partition>")) {
			skipped++ // recorded with placeholders in ARNs
			continue
		}
		_, err = Parse(c.Definition)
		if err == nil {
			ok++
			continue
		}
		feature, unsupported := Unsupported(err)
		if !unsupported {
			t.Errorf("%s: rejected as invalid: %v", c.Name, err)
			continue
		}
		explained := false
		for _, r := range c.Requires {
			if r == feature {
				explained = true
			}
		}
		if !explained {
			t.Errorf("%s: refused feature %q, not among requires %v: %v", c.Name, feature, c.Requires, err)
			continue
		}
		refused++
	}
	fmt.Printf("asl parse: %d definitions accepted, %d refused as unsupported, %d skipped (placeholder ARNs)\n", ok, refused, skipped)
}
