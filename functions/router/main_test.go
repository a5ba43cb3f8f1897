package main

import (
	"context"
	"strings"
	"testing"
)

// TestRunNeedsConfig: a missing variable stops the function at start,
// naming the variable, before any AWS client is built.
func TestRunNeedsConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"no table", map[string]string{"TABLE_NAME": "", "STATE_MACHINE_PREFIX": "arn:aws:states:us-east-1:1:stateMachine:oc-"}, "TABLE_NAME"},
		{"no state machine prefix", map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_PREFIX": ""}, "STATE_MACHINE_PREFIX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if err := run(context.Background()); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run = %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
}
