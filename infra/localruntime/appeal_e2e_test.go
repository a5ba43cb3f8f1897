package localruntime_test

import (
	"testing"
	"time"
)

// TestMarkedTaskWaitsForAppealDeadline: a bad review's task marked
// malicious stays open until the appeal deadline (its SLA), past the
// task's own window, and ends at the deadline.
func TestMarkedTaskWaitsForAppealDeadline(t *testing.T) {
	h := newHarness(t)
	h.deliveredOrder("AW1", "aw1@example.com", "")
	h.review("AW1", "dy-1", "douyin", 1, "垃圾商家")
	open := h.tasksOf(h.agent(), "open", badReview)
	if len(open) != 1 {
		t.Fatalf("tasks %+v", open)
	}
	id := open[0].ID
	deadline := h.now().Add(20 * 24 * time.Hour).Truncate(time.Second)
	h.must("POST", "/v1/tasks/"+id+"/malicious", h.agent(), map[string]any{"agent": "xiaoli", "kind": "extortion",
		"reason": "extortion_for_gain", "deadline": deadline}, 200, nil)
	h.advance("240h") // past the task's 7-day window: the appeal is pending, so is the task
	open = h.tasksOf(h.agent(), "open", badReview)
	if len(open) != 1 || open[0].ID != id || !open[0].DueAt.Equal(deadline) {
		t.Fatalf("open tasks after the task window %+v, want the marked one, due at the appeal deadline %v", open, deadline)
	}
	h.advance("240h")
	if open := h.tasksOf(h.agent(), "open", badReview); len(open) != 0 {
		t.Fatalf("open tasks after the appeal deadline: %+v", open)
	}
	if r := h.runOf("AW1", badReview); r.Outcome != "task_expired" {
		t.Errorf("run %s %q, want task_expired", r.Status, r.Outcome)
	}
}
