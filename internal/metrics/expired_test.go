package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/caretest"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/metrics"
	"github.com/ordercare/ordercare/workflows"
)

// TestComputeExpired: a COD run whose call task expired counts as expired,
// neither unreachable nor a completed task.
func TestComputeExpired(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)
	st := caretest.Store(t, nil)
	caretest.Shop(t, st, care.Shop{ID: "tea", CreatedAt: base})
	for i, outcome := range []string{metrics.OutcomeCODExpired, metrics.OutcomeCODUnreachable, metrics.OutcomeCODExpired} {
		run := care.Run{ShopID: "tea", OrderID: "o" + string(rune('a'+i)), Workflow: care.CODConfirm, Execution: "x" + string(rune('a'+i)),
			TemplateVersion: 1, Status: care.RunSucceeded, Sent: 1, Outcome: outcome, StartedAt: base.Add(time.Hour), UpdatedAt: base.Add(time.Hour)}
		if _, _, err := st.CreateRun(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	for i, note := range []string{metrics.TaskNoteExpired, "paid", metrics.TaskNoteExpired} {
		task := care.Task{ID: "t" + string(rune('a'+i)), ShopID: "tea", OrderID: "o", Workflow: care.CODConfirm, Step: "call",
			Priority: 3, Outcomes: []string{"confirmed"}, Status: care.TaskOpen, CreatedAt: base.Add(time.Hour), DueAt: base.Add(5 * time.Hour)}
		stored, _, err := st.CreateTask(ctx, task)
		if err != nil {
			t.Fatal(err)
		}
		done := base.Add(10 * time.Hour)
		stored.Status, stored.OutcomeNote, stored.DoneAt = care.TaskCancelled, note, &done
		if _, err := st.UpdateTask(ctx, stored); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := metrics.Compute(ctx, st, workflows.All(), "tea", base, base.Add(24*time.Hour), care.CODConfirm)
	if err != nil {
		t.Fatal(err)
	}
	w := rep.Workflows[0]
	if w.CODExpired != 2 || w.CODUnreachable != 1 || w.TasksExpired != 2 || w.TasksCompleted != 0 || w.TasksOpened != 3 {
		t.Errorf("expired %d unreachable %d tasks expired %d completed %d opened %d; want 2 1 2 0 3",
			w.CODExpired, w.CODUnreachable, w.TasksExpired, w.TasksCompleted, w.TasksOpened)
	}
}
