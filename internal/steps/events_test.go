package steps_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ordercare/ordercare/internal/steps"
)

// TestSampleEvents decodes every sample in events/steps strictly into what
// the step handler takes (a Task payload, steps.Input) or what the router
// starts an execution with (*-input.json, steps.State), and round-trips it.
func TestSampleEvents(t *testing.T) {
	files, err := filepath.Glob("../../events/steps/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in events/steps (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var v any = &steps.Input{}
			if strings.HasSuffix(f, "-input.json") {
				v = &steps.State{}
			}
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if in, ok := v.(*steps.Input); ok && (in.Action == "" || in.State.Run.Shop == "") {
				t.Errorf("decoded to %+v", in)
			}
			out, _ := json.Marshal(v)
			var a, c any
			json.Unmarshal(b, &a)
			json.Unmarshal(out, &c)
			if ja, _ := json.Marshal(a); !bytes.Equal(ja, mustJSON(c)) {
				t.Errorf("round trip:\n got  %s\n want %s", mustJSON(c), ja)
			}
		})
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
