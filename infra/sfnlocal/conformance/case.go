// Package conformance measures the local Step Functions engine (package
// sfnlocal) against behaviour recorded on real AWS Step Functions.
//
// The recorded cases live outside the repository (see
// ../shared/conformance/asl/README.md for their format). This package holds
// the pieces that do not need an engine: the case loader, the normaliser that
// maps an engine's history onto the recorded placeholders exactly as the
// README prescribes, and a Python repr of JSON values (for the Lambda helper
// return_decorated_input). The conformance test itself (TestConformance) runs
// every case through a real engine and reports pass, fail or unsupported.
//
// Run it with
//
//	go test ./infra/sfnlocal/conformance/ -run TestConformance -v
//
// Cases are read from ASL_CONFORMANCE_DIR, by default
// ../shared/conformance/asl/cases next to the module root (the test skips,
// saying why, when neither exists). ASL_CONFORMANCE_REPORT=<file> writes a
// JSON report (name, result, reason per case); ASL_CONFORMANCE_FAILURES=<file>
// writes the failures grouped by cause as Markdown. ASL_CONFORMANCE_VIA=api
// sends every Step Functions operation over HTTP (package sfnhttp on
// loopback) instead of calling the engine's Go methods.
package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Case is one recorded execution. Fields mirror the case file format; JSON
// values are decoded with DecodeJSON (numbers as float64).
type Case struct {
	Name    string // "<area>/<test>[param]#key"
	Area    string // the folder the case file is in
	File    string // path of the case file
	Source  Source
	Run     Run
	Lambdas map[string]string
	// Requires lists the features the case needs (README "requires").
	Requires []string
	// Definition and Input are the raw JSON texts from the case file.
	Definition json.RawMessage
	Input      json.RawMessage
	Expected   Expected
	// Placeholders are the per-case literal → token replacements, in file order.
	Placeholders []Placeholder
	Transformers []Transformer
	DynamicInput *DynamicInput
	Helpers      json.RawMessage
	Setup        json.RawMessage
	Notes        []string
}

// Source says where the case came from.
type Source struct {
	Test         string `json:"test"`
	Template     string `json:"template"`
	RecordedDate string `json:"recorded_date"`
	RecordedKey  string `json:"recorded_key"`
}

// Run says how the execution was started.
type Run struct {
	StateMachineName string          `json:"state_machine_name"`
	StateMachineType string          `json:"state_machine_type"`
	ExecutionName    string          `json:"execution_name"`
	RoleArn          string          `json:"role_arn"`
	Account          string          `json:"account"`
	Region           string          `json:"region"`
	Logging          json.RawMessage `json:"logging_configuration,omitempty"`
}

// Expected is what AWS recorded. Output, Cause and the History events are
// generic JSON values (see DecodeJSON); HasOutput tells an absent output
// from a null one.
type Expected struct {
	Status          string
	HasOutput       bool
	Output          any
	OutputIsRawText bool
	Error           *string
	HasCause        bool
	Cause           any // a string, or an object when AWS's cause text was a JSON object
	History         []any
	HasHistory      bool
	RecordedCase    any
	SyncResponse    any
	EndEvent        any
	Describe        any
}

// Placeholder maps a literal used by the case to the token in recorded data.
type Placeholder struct {
	Literal, Token string
}

// Transformer is one entry of snapshot_transformers.
type Transformer struct {
	Kind             string `json:"kind"` // regex | jsonpath | parallel_events_sorted
	Pattern          string `json:"pattern,omitempty"`
	Replacement      string `json:"replacement,omitempty"`
	Path             string `json:"path,omitempty"`
	ReplaceReference bool   `json:"replace_reference,omitempty"`
	Description      string `json:"description,omitempty"`
}

// DynamicInput describes an input field the test computed from the time.
type DynamicInput struct {
	Field  string `json:"field"`
	Value  string `json:"value"`  // "now_utc" or "now_utc + N days"
	Format string `json:"format"` // strftime format
}

type rawCase struct {
	Name                 string                     `json:"name"`
	Source               Source                     `json:"source"`
	Definition           json.RawMessage            `json:"definition"`
	Input                json.RawMessage            `json:"input"`
	Run                  Run                        `json:"run"`
	Lambdas              map[string]string          `json:"lambdas"`
	Requires             []string                   `json:"requires"`
	Expected             map[string]json.RawMessage `json:"expected"`
	Placeholders         json.RawMessage            `json:"placeholders"`
	SnapshotTransformers []Transformer              `json:"snapshot_transformers"`
	DynamicInput         *DynamicInput              `json:"dynamic_input"`
	Helpers              json.RawMessage            `json:"helpers"`
	Setup                json.RawMessage            `json:"setup"`
	Notes                []string                   `json:"notes"`
}

// ParseCase decodes one case file's contents.
func ParseCase(data []byte) (*Case, error) {
	var rc rawCase
	if err := json.Unmarshal(data, &rc); err != nil {
		return nil, err
	}
	if rc.Name == "" || len(rc.Definition) == 0 {
		return nil, fmt.Errorf("case without name or definition")
	}
	c := &Case{
		Name:         rc.Name,
		Source:       rc.Source,
		Run:          rc.Run,
		Lambdas:      rc.Lambdas,
		Requires:     rc.Requires,
		Definition:   rc.Definition,
		Input:        rc.Input,
		Transformers: rc.SnapshotTransformers,
		DynamicInput: rc.DynamicInput,
		Helpers:      rc.Helpers,
		Setup:        rc.Setup,
		Notes:        rc.Notes,
	}
	if i := strings.IndexByte(rc.Name, '/'); i > 0 {
		c.Area = rc.Name[:i]
	}
	if len(c.Input) == 0 {
		c.Input = json.RawMessage("{}")
	}
	ph, err := orderedStrings(rc.Placeholders)
	if err != nil {
		return nil, fmt.Errorf("placeholders: %w", err)
	}
	c.Placeholders = ph
	e := &c.Expected
	dec := func(key string, dst *any) (bool, error) {
		raw, ok := rc.Expected[key]
		if !ok {
			return false, nil
		}
		v, err := DecodeJSON(raw)
		if err != nil {
			return false, fmt.Errorf("expected.%s: %w", key, err)
		}
		*dst = v
		return true, nil
	}
	if raw, ok := rc.Expected["status"]; ok {
		if err := json.Unmarshal(raw, &e.Status); err != nil {
			return nil, fmt.Errorf("expected.status: %w", err)
		}
	}
	if raw, ok := rc.Expected["output_is_raw_text"]; ok {
		if err := json.Unmarshal(raw, &e.OutputIsRawText); err != nil {
			return nil, fmt.Errorf("expected.output_is_raw_text: %w", err)
		}
	}
	if raw, ok := rc.Expected["error"]; ok {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("expected.error: %w", err)
		}
		e.Error = &s
	}
	if e.HasOutput, err = dec("output", &e.Output); err != nil {
		return nil, err
	}
	if e.HasCause, err = dec("cause", &e.Cause); err != nil {
		return nil, err
	}
	var hist any
	if e.HasHistory, err = dec("history", &hist); err != nil {
		return nil, err
	}
	if e.HasHistory {
		h, ok := hist.([]any)
		if !ok {
			return nil, fmt.Errorf("expected.history is not a list")
		}
		e.History = h
	}
	for key, dst := range map[string]*any{
		"recorded_case": &e.RecordedCase, "sync_response": &e.SyncResponse,
		"end_event": &e.EndEvent, "describe_execution": &e.Describe,
	} {
		if _, err := dec(key, dst); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// orderedStrings decodes a JSON object of strings keeping the key order.
func orderedStrings(raw json.RawMessage) ([]Placeholder, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	if t != json.Delim('{') {
		return nil, fmt.Errorf("not an object")
	}
	var out []Placeholder
	for d.More() {
		kt, err := d.Token()
		if err != nil {
			return nil, err
		}
		var v string
		if err := d.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, Placeholder{Literal: kt.(string), Token: v})
	}
	return out, nil
}

// LoadDir reads every case file (*.json) below dir, sorted by name.
func LoadDir(dir string) ([]*Case, error) {
	var cases []*Case
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".json") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		c, err := ParseCase(data)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		c.File = path
		if c.Area == "" {
			c.Area = filepath.Base(filepath.Dir(path))
		}
		cases = append(cases, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].Name < cases[j].Name })
	return cases, nil
}

// DecodeJSON decodes a JSON text into the generic form used here:
// map[string]any, []any, float64, string, bool, nil.
func DecodeJSON(data []byte) (any, error) {
	var v any
	d := json.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

// Has reports whether the case requires feature f.
func (c *Case) Has(f string) bool {
	for _, r := range c.Requires {
		if r == f {
			return true
		}
	}
	return false
}
