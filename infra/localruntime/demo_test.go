package localruntime_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/infra/localruntime"
	"github.com/ordercare/ordercare/infra/sfnhttp"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/metrics"
	"github.com/ordercare/ordercare/internal/steps"
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
	open := map[string]string{}
	for _, task := range tasks.Tasks {
		open[task.OrderID] = string(task.Workflow) + ":" + task.Step
	}
	// D1002 (899.00, unpaid): the call; D1004 (COD, silent) and D1006 (COD,
	// declined by reply): a call each; D1009 (stalled parcel): chase the
	// carrier; D1010 (fresh snacks at a pickup point): call before they
	// spoil; D1014 (a 1-star review about a crushed box): the bad review.
	wantOpen := map[string]string{"D1002": "unpaid_chase:call", "D1004": "cod_confirm:call", "D1006": "cod_confirm:call",
		"D1009": "stalled_parcel:chase", "D1010": "pickup_nudge:call", "D1014": "bad_review:task_logistics"}
	if diff := cmp.Diff(wantOpen, open); diff != "" || len(tasks.Tasks) != len(wantOpen) {
		t.Errorf("open tasks (-want +got):\n%s", diff)
	}
	// The fulfilment stories, by their workflows' ledger entries.
	entries := func(order string, wf care.Workflow) []care.Message {
		t.Helper()
		var page struct{ Messages []care.Message }
		get("/v1/orders/"+order+"/messages", d.Keys["ops"], &page)
		var out []care.Message
		for _, m := range page.Messages {
			if m.Workflow == wf {
				out = append(out, m)
			}
		}
		return out
	}
	steps := func(ms []care.Message) []string {
		var out []string
		for _, m := range ms {
			s := m.Step + ":" + string(m.Status)
			if m.Reason != "" {
				s += ":" + m.Reason
			}
			out = append(out, s)
		}
		slices.Sort(out)
		return out
	}
	stories := []struct {
		order string
		wf    care.Workflow
		want  []string
	}{
		{"D1008", "shipping_notice", []string{"notice:sent", "notice:sent"}},
		{"D1009", "stalled_parcel", []string{"stall:sent"}},
		// Reported a week after it shipped: no late "your order has shipped".
		{"D1009", "shipping_notice", []string{"notice:skipped:stale"}},
		{"D1010", "pickup_nudge", []string{"fresh_first:sent", "fresh_last:sent"}},
		{"D1011", "preship_check", []string{"ask:sent", "hold:sent", "release:sent"}},
		// After delivery: the review ask a week on, the care message a day on.
		{"D1012", "review_request", []string{"ask:sent"}},
		{"D1013", "delivery_care", []string{"care:sent"}},
	}
	for _, s := range stories {
		if diff := cmp.Diff(s.want, steps(entries(s.order, s.wf))); diff != "" {
			t.Errorf("%s %s ledger (-want +got):\n%s", s.order, s.wf, diff)
		}
	}
	// The split order: parcel 1 says what is still to come, parcel 2 that
	// the order is complete.
	if ns := entries("D1008", "shipping_notice"); len(ns) == 2 {
		first, last := ns[0].Text, ns[1].Text
		if ns[0].At.After(ns[1].At) {
			first, last = last, first
		}
		if !strings.Contains(first, "SF1458822760312") || !strings.Contains(first, "尚未发出") {
			t.Errorf("first notice %q", first)
		}
		if !strings.Contains(last, "YT7512345678901") || !strings.Contains(last, "2/2") || !strings.Contains(last, "全部发货") {
			t.Errorf("last notice %q", last)
		}
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
	// Three parcels got their notice (D1008's two, D1010; D1009's was
	// stale); D1011's address was confirmed by the buyer.
	if n := figures["shipping_notice"].Outcomes["notice_sent"]; n != 3 {
		t.Errorf("shipping_notice outcomes %v, want notice_sent 3", figures["shipping_notice"].Outcomes)
	}
	if n := figures["preship_check"].Outcomes["address_confirmed"]; n != 1 {
		t.Errorf("preship_check outcomes %v, want address_confirmed 1", figures["preship_check"].Outcomes)
	}
	if chase.TasksOpened != 1 {
		t.Errorf("unpaid_chase opened %d tasks, want the call about D1002", chase.TasksOpened)
	}

	checkHistoriesHoldNoPersonalData(t, rt, get, d.Keys["ops"])
}

// checkHistoriesHoldNoPersonalData reads the execution history of every
// run of the demo shop, whatever its workflow, and fails if a buyer's
// name, phone number, address line or any message text appears in it:
// histories carry ids and times only.
func checkHistoriesHoldNoPersonalData(t *testing.T, rt *localruntime.Runtime, get func(path, key string, out any), ops string) {
	t.Helper()
	var runs struct{ Runs []care.Run }
	get("/v1/runs?limit=1000", ops, &runs)
	var secrets []string
	seenOrder := map[string]bool{}
	workflowsSeen := map[care.Workflow]bool{}
	for _, r := range runs.Runs {
		workflowsSeen[r.Workflow] = true
		if seenOrder[r.OrderID] {
			continue
		}
		seenOrder[r.OrderID] = true
		var o care.OrderState
		get("/v1/orders/"+r.OrderID, ops, &o)
		if b := o.Order.Buyer; b != nil {
			secrets = append(secrets, b.Name, b.Phone, b.Email)
		}
		if a := o.Order.ShippingAddress; a != nil {
			secrets = append(secrets, a.Name, a.Phone, a.Line1)
		}
		var ms struct{ Messages []care.Message }
		get("/v1/orders/"+r.OrderID+"/messages", ops, &ms)
		for _, m := range ms.Messages {
			if len([]rune(m.Text)) >= 12 {
				secrets = append(secrets, m.Text)
			}
		}
	}
	if len(workflowsSeen) < 9 {
		t.Errorf("the demo day ran %d workflows, want all nine: %v", len(workflowsSeen), workflowsSeen)
	}
	client := sfnhttp.InProcessClient(rt.SFN, localruntime.Region, rt.SFNCredentials)
	for _, r := range runs.Runs {
		// Every execution of the run: one per generation (steps.Handler.Rest),
		// the current one once it exists.
		for gen := 0; gen <= r.Gen; gen++ {
			if gen == r.Gen && r.Execution == "" {
				break // scheduled, or ended before it was due: no execution, no history
			}
			name := steps.RunRef{Shop: r.ShopID, Order: r.OrderID, Workflow: r.Workflow, Subject: r.Subject, Gen: gen}.Execution()
			arn := "arn:aws:states:us-east-1:111111111111:execution:" + string(r.Workflow) + ":" + name
			var all []sfntypes.HistoryEvent
			p := sfn.NewGetExecutionHistoryPaginator(client, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), IncludeExecutionData: aws.Bool(true)})
			for p.HasMorePages() {
				page, err := p.NextPage(t.Context())
				if err != nil {
					t.Fatalf("history of %s: %v", name, err)
				}
				all = append(all, page.Events...)
			}
			b, _ := json.Marshal(all)
			hist := string(b)
			for _, secret := range secrets {
				if secret != "" && strings.Contains(hist, secret) {
					t.Errorf("the history of %s (%s) contains %q", name, r.Workflow, secret)
				}
			}
		}
	}
}
