package steps_test

import (
	"testing"

	"github.com/ordercare/ordercare/internal/metrics"
	"github.com/ordercare/ordercare/internal/steps"
)

// TestOutcomesMatchMetrics: metrics count the outcomes the handler records.
func TestOutcomesMatchMetrics(t *testing.T) {
	pairs := [][2]string{
		{steps.OutcomeCODConfirmed, metrics.OutcomeCODConfirmed},
		{steps.OutcomeCODDeclined, metrics.OutcomeCODDeclined},
		{steps.OutcomeCODUnreachable, metrics.OutcomeCODUnreachable},
		{steps.OutcomeCODExpired, metrics.OutcomeCODExpired},
		{steps.ReasonExpired, metrics.TaskNoteExpired},
	}
	for _, p := range pairs {
		if p[0] != p[1] {
			t.Errorf("steps records %q, metrics counts %q", p[0], p[1])
		}
	}
}
