package conformance

import (
	"testing"
	"time"
)

func TestHistoryDiff(t *testing.T) {
	ev := func(typ string, extra map[string]any) any {
		m := map[string]any{"type": typ, "id": 1.0}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	a := ev("PassStateExited", map[string]any{"stateExitedEventDetails": map[string]any{"output": map[string]any{"x": []any{1.0, 2.0}}}})
	b := ev("PassStateExited", map[string]any{"stateExitedEventDetails": map[string]any{"output": map[string]any{"x": []any{1.0, 3.0}}}})
	tests := []struct {
		name              string
		want, got         []any
		wantGroup, reason string
	}{
		{"field", []any{a}, []any{b},
			"history: PassStateExited .stateExitedEventDetails.output.x[] differs",
			"history[0] PassStateExited .stateExitedEventDetails.output.x[1]: want 2 got 3"},
		{"type", []any{ev("A", nil)}, []any{ev("B", nil)},
			"history: event type: want A got B",
			"history[0] (want 1 events, got 1): type: want A got B"},
		{"missing", []any{a, ev("C", nil)}, []any{a},
			"history: missing event C",
			"history: want 2 events, got 1; first missing: [1] C"},
		{"extra", []any{a}, []any{a, ev("D", nil)},
			"history: extra event D",
			`history: want 1 events, got 2; first extra: [1] D {"id": 1, "type": "D"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, r := historyDiff(tt.want, tt.got)
			if g != tt.wantGroup || r != tt.reason {
				t.Errorf("historyDiff =\n  %q\n  %q\nwant\n  %q\n  %q", g, r, tt.wantGroup, tt.reason)
			}
		})
	}
}

func TestRunNames(t *testing.T) {
	c := testCase(t, `{"cfn-statemachine-u1": "<state-machine-name>", "cfn-role-u1": "<role-name>"}`, nil)
	c.Run.Account = "111111111111"
	name, role := runNames(c)
	if name != "cfn-statemachine-u1" || role != "arn:aws:iam::111111111111:role/cfn-role-u1" {
		t.Errorf("runNames = %q, %q", name, role)
	}
	c.Run.StateMachineName, c.Run.RoleArn = "sm", "arn:aws:iam::1:role/r"
	if name, role := runNames(c); name != "sm" || role != "arn:aws:iam::1:role/r" {
		t.Errorf("runNames with run names = %q, %q", name, role)
	}
}

func TestApplyDynamicInput(t *testing.T) {
	c := testCase(t, `{"sm": "<ArnPart_0idx>", "2026-11-23T10:40:28.000Z": "<timestamp>", "us-east-1": "<region>"}`, nil)
	c.Input = []byte(`{"start_at": "2026-11-23T10:40:28.000Z"}`)
	c.DynamicInput = &DynamicInput{Field: "start_at", Value: "now_utc + 2 days", Format: "%Y-%m-%dT%H:%M:%S.000Z"}
	n, err := NewNormalizer(c)
	if err != nil {
		t.Fatal(err)
	}
	in, err := applyDynamicInput(c, n, time.Date(2026, 6, 1, 12, 0, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"start_at":"2026-06-03T12:00:05.000Z"}`; in != want {
		t.Errorf("input = %s, want %s", in, want)
	}
	if got := n.Value("at 2026-06-03T12:00:05.000Z"); got != "at <timestamp>" {
		t.Errorf("placeholder not remapped: %v", got)
	}
	if c.Placeholders[1].Literal != "2026-11-23T10:40:28.000Z" {
		t.Error("applyDynamicInput modified the case's placeholders")
	}
}

func TestErrorGroup(t *testing.T) {
	err := &testErr{"Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: bad at /States/'X'/Resource' $.a[0] 12"}
	if got, want := errorGroup(err), "Invalid State Machine Definition: …X… … …"; got != want {
		t.Errorf("errorGroup = %q, want %q", got, want)
	}
}

type testErr struct{ s string }

func (e *testErr) Error() string { return e.s }
