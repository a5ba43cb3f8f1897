package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

const benchDefinition = "../../scripts/sfn-bench/bench.asl.json"

// runBench runs `care sfn bench args...` and decodes its one JSON line.
func runBench(t *testing.T, args ...string) map[string]float64 {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := runSFN(t.Context(), append([]string{"bench"}, args...), &stdout, &stderr); err != nil {
		t.Fatalf("care sfn bench %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one JSON line, got %q", stdout.String())
	}
	var got map[string]float64
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatalf("line %q: %v", lines[0], err)
	}
	return got
}

func TestSFNBench(t *testing.T) {
	for _, mode := range []string{"engine", "api"} {
		t.Run(mode, func(t *testing.T) {
			got := runBench(t, "--definition", benchDefinition, "--executions", "150", "--concurrency", "8", "--mode", mode)
			if got["executions"] != 150 {
				t.Errorf("executions = %v, want 150", got["executions"])
			}
			if got["seconds"] <= 0 || got["per_second"] <= 0 {
				t.Errorf("seconds %v per_second %v, want positive", got["seconds"], got["per_second"])
			}
			// Pass, Choice, Pass, Succeed: four states per execution.
			if ratio := got["transitions_per_second"] / got["per_second"]; ratio < 3.99 || ratio > 4.01 {
				t.Errorf("transitions per execution = %.2f, want 4 (%v)", ratio, got)
			}
			if len(got) != 4 {
				t.Errorf("fields %v, want executions, seconds, per_second, transitions_per_second", got)
			}
		})
	}
}

func TestSFNBenchParked(t *testing.T) {
	got := runBench(t, "--parked", "300", "--due", "100", "--concurrency", "8", "--due-margin", "200ms")
	if got["parked"] != 300 || got["due"] != 100 {
		t.Errorf("parked %v due %v, want 300 and 100", got["parked"], got["due"])
	}
	if got["rss_mib"] <= 0 || got["hwm_mib"] < got["rss_mib"] {
		t.Errorf("rss %v hwm %v, want 0 < rss <= hwm", got["rss_mib"], got["hwm_mib"])
	}
	if got["lag_p50_ms"] > got["lag_p99_ms"] || got["lag_p99_ms"] > got["lag_max_ms"] {
		t.Errorf("lags p50 %v p99 %v max %v not ordered", got["lag_p50_ms"], got["lag_p99_ms"], got["lag_max_ms"])
	}
}

func TestSFNBenchMap(t *testing.T) {
	got := runBench(t, "--map", "200")
	// Map, then one Pass per item.
	if got["items"] != 200 || got["transitions"] != 201 {
		t.Errorf("items %v transitions %v, want 200 and 201", got["items"], got["transitions"])
	}
}

func TestSFNUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", nil, "subcommand bench"},
		{"other subcommand", []string{"run"}, "subcommand bench"},
		{"no definition", []string{"bench"}, "--definition is required"},
		{"bad mode", []string{"bench", "--definition", benchDefinition, "--mode", "cloud"}, `--mode "cloud"`},
		{"bad concurrency", []string{"bench", "--definition", benchDefinition, "--concurrency", "0"}, "--concurrency"},
		{"stray argument", []string{"bench", "extra"}, "unexpected arguments"},
		{"missing file", []string{"bench", "--definition", "no/such.asl.json"}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := runSFN(t.Context(), tt.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}
