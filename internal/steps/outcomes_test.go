package steps_test

import (
	"testing"

	"github.com/ordercare/ordercare/internal/metrics"
	codconfirm "github.com/ordercare/ordercare/workflows/cod_confirm"
)

// TestOutcomesMatchMetrics: metrics count the outcomes the handler records.
func TestOutcomesMatchMetrics(t *testing.T) {
	pairs := [][2]string{
		{codconfirm.OutcomeConfirmed, metrics.OutcomeCODConfirmed},
		{codconfirm.OutcomeDeclined, metrics.OutcomeCODDeclined},
		{codconfirm.OutcomeUnreachable, metrics.OutcomeCODUnreachable},
		{codconfirm.OutcomeExpired, metrics.OutcomeCODExpired},
		{codconfirm.ReasonExpired, metrics.TaskNoteExpired},
	}
	for _, p := range pairs {
		if p[0] != p[1] {
			t.Errorf("steps records %q, metrics counts %q", p[0], p[1])
		}
	}
}
