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
		{"no table", map[string]string{"TABLE_NAME": "", "UNPAID_CHASE_ARN": "a", "COD_CONFIRM_ARN": "b"}, "TABLE_NAME"},
		{"no unpaid chase", map[string]string{"TABLE_NAME": "t", "UNPAID_CHASE_ARN": "", "COD_CONFIRM_ARN": "b"}, "UNPAID_CHASE_ARN"},
		{"no cod confirm", map[string]string{"TABLE_NAME": "t", "UNPAID_CHASE_ARN": "a", "COD_CONFIRM_ARN": ""}, "COD_CONFIRM_ARN"},
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
