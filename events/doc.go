// Package events publishes ordercare's canonical order event as a contract:
// the JSON Schema (2020-12) of care.Event in event.schema.json and one
// realistic example per event type in examples/<type>.json. Both are embedded,
// so other packages (the HTTP API, documentation, contract tests) serve and
// test exactly the files in this directory. A test keeps every example valid
// against the schema, strictly decodable into care.Event, valid under
// care.Event.Validate and stable through a decode/encode round trip.
package events

import (
	"embed"
	"io/fs"
	"path"
	"strings"
)

//go:embed event.schema.json
var schema []byte

//go:embed examples/*.json
var examples embed.FS

// Schema returns the JSON Schema of the canonical event. The slice is a copy.
func Schema() []byte { return append([]byte(nil), schema...) }

// Examples returns the example events keyed by event type (the file name
// without .json, e.g. "order.created"). The map and slices are fresh copies.
func Examples() map[string][]byte {
	out := map[string][]byte{}
	entries, _ := fs.ReadDir(examples, "examples")
	for _, e := range entries {
		b, err := fs.ReadFile(examples, path.Join("examples", e.Name()))
		if err != nil {
			continue
		}
		out[strings.TrimSuffix(e.Name(), ".json")] = b
	}
	return out
}
