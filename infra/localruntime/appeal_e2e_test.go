package localruntime_test

import (
	"strings"
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
	if m := h.metricsOf(badReview); m["tasks_expired"] != 1.0 {
		t.Errorf("bad_review tasks_expired = %v, want 1", m["tasks_expired"])
	}
}

// TestAppealResultAfterTheTask: a bad review's task is marked malicious
// with an appeal deadline beyond the task's window; the platform decides
// after the task ended, and the agent still records the result (won),
// counted in metrics; the other result, a bad result and a task never
// marked are refused with nothing changed.
func TestAppealResultAfterTheTask(t *testing.T) {
	h := newHarness(t)
	h.deliveredOrder("AP1", "ap1@example.com", "")
	h.deliveredOrder("AP2", "ap2@example.com", "")
	h.reply("AP1", "不退我50元我就给差评")
	h.review("AP1", "dy-1", "douyin", 1, "垃圾商家")
	h.review("AP2", "dy-2", "douyin", 1, "太慢了")
	var id, other string
	for _, tk := range h.tasksOf(h.agent(), "open", badReview) {
		switch tk.OrderID {
		case "AP1":
			id = tk.ID
		case "AP2":
			other = tk.ID
		}
	}
	if id == "" || other == "" {
		t.Fatalf("no bad review tasks")
	}
	deadline := h.now().Add(20 * 24 * time.Hour).Truncate(time.Second)
	h.must("POST", "/v1/tasks/"+id+"/malicious", h.agent(), map[string]any{"agent": "xiaoli", "kind": "extortion",
		"reason": "extortion_for_gain", "deadline": deadline}, 200, nil)
	for _, tc := range []struct {
		task   string
		body   map[string]any
		status int
		want   string
	}{
		{id, map[string]any{"agent": "xiaoli", "result": "maybe"}, 400, `"field":"result"`},
		{id, map[string]any{"result": "won"}, 400, `"field":"agent"`},
		{other, map[string]any{"agent": "xiaoli", "result": "won"}, 409, "not marked malicious"},
		{"nope", map[string]any{"agent": "xiaoli", "result": "won"}, 404, ""},
	} {
		if st, b := h.call("POST", "/v1/tasks/"+tc.task+"/appeal-result", h.agent(), tc.body); st != tc.status || !strings.Contains(string(b), tc.want) {
			t.Errorf("%v: %d %s, want %d %s", tc.body, st, b, tc.status, tc.want)
		}
	}
	h.advance("480h") // past the appeal deadline: the task ended; the platform decides later
	if open := h.tasksOf(h.agent(), "open", badReview); len(open) != 0 {
		t.Fatalf("open tasks after the appeal deadline: %+v", open)
	}
	h.must("POST", "/v1/tasks/"+id+"/appeal-result", h.agent(), map[string]any{"agent": "xiaoli", "result": "won", "note": "抖音已删除该评价"}, 200, nil)
	h.must("POST", "/v1/tasks/"+id+"/appeal-result", h.agent(), map[string]any{"agent": "xiaoli", "result": "won"}, 200, nil) // the same again: no change
	if st, b := h.call("POST", "/v1/tasks/"+id+"/appeal-result", h.agent(), map[string]any{"agent": "xiaoli", "result": "lost"}); st != 409 {
		t.Errorf("the other result: %d %s, want 409", st, b)
	}
	m := h.metricsOf(badReview)
	if m["tasks_appealed"] != 1.0 || m["appeals_won"] != 1.0 || m["appeals_lost"] != 0.0 {
		t.Errorf("bad_review appeal figures: appealed %v won %v lost %v", m["tasks_appealed"], m["appeals_won"], m["appeals_lost"])
	}
}
