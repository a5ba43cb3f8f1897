package localruntime_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/localruntime"
	"github.com/ordercare/ordercare/internal/metrics"
)

// TestDemoDay replays the demo day as `make run` does on first start and
// checks that a newcomer finds messages, agent tasks and metrics.
func TestDemoDay(t *testing.T) {
	dir := t.TempDir()
	// 21:30 in Shanghai: the demo day starts the next morning at 09:00.
	rt, err := localruntime.Open(t.Context(), localruntime.Options{DataDir: dir, Clock: localruntime.ClockVirtual, Start: start.Add(12*time.Hour + 30*time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	d, created, err := rt.EnsureDemoShop(t.Context(), dir)
	if err != nil || !created {
		t.Fatalf("EnsureDemoShop: created %v, %v", created, err)
	}
	if err := rt.ReplayDemoDay(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	get := func(path, key string, out any) {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		w := httptest.NewRecorder()
		rt.API.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
		}
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			t.Fatal(err)
		}
	}
	// The demo shop runs its own tea-shop template (its coupon); new shops
	// get the neutral default.
	var demoTpl struct {
		Steps []struct{ ID, Coupon string }
	}
	get("/v1/templates/unpaid_chase", d.Keys["ops"], &demoTpl)
	if len(demoTpl.Steps) < 3 || demoTpl.Steps[2].Coupon != "TEA10" {
		t.Errorf("demo template steps %+v, want the coupon TEA10 on step 3", demoTpl.Steps)
	}
	var tasks struct{ Tasks []taskView }
	get("/v1/tasks?status=open", d.Keys["agent"], &tasks)
	open := map[string]bool{}
	for _, task := range tasks.Tasks {
		open[task.OrderID] = true
	}
	// D1002 (899.00, unpaid): the call; D1004 (COD, silent) and D1006 (COD, declined by reply): a call each.
	if len(tasks.Tasks) != 3 || !open["D1002"] || !open["D1004"] || !open["D1006"] {
		t.Errorf("open tasks for %v, want D1002, D1004, D1006", open)
	}
	var rep metrics.Report
	get("/v1/metrics?from=2026-11-11T00:00:00Z&to=2026-11-13T00:00:00Z", d.Keys["ops"], &rep)
	figures := map[string]metrics.Workflow{}
	for _, w := range rep.Workflows {
		figures[string(w.Workflow)] = w
	}
	chase, cod := figures["unpaid_chase"], figures["cod_confirm"]
	if chase.OrdersChased < 2 || chase.ChasedPaid != 1 || chase.GMVRecovered != "129.90" {
		t.Errorf("unpaid_chase figures %+v", chase)
	}
	if cod.CODConfirmed != 1 || cod.TasksOpened != 2 {
		t.Errorf("cod_confirm figures %+v", cod)
	}
	if chase.TasksOpened != 1 {
		t.Errorf("unpaid_chase opened %d tasks, want the call about D1002", chase.TasksOpened)
	}
}
