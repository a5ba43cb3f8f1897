package metrics_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ordercare/ordercare/infra/caretest"
	"github.com/ordercare/ordercare/infra/sqlitestore"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/metrics"
	"github.com/ordercare/ordercare/workflows"
)

var t0 = time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func ptr[T any](v T) *T { return &v }

// seed stores hand-made ledger entries, runs and tasks for shop tea (and a
// few for shop rival, which must not count).
func seed(t *testing.T) *sqlitestore.DB {
	t.Helper()
	ctx := context.Background()
	st := caretest.Store(t, nil)
	for _, id := range []string{"tea", "rival"} {
		caretest.Shop(t, st, care.Shop{ID: id, CreatedAt: t0})
	}
	msgs := []struct {
		shop   string
		wf     care.Workflow
		step   string
		status care.MessageStatus
		reason string
		at     time.Duration
	}{
		{"tea", care.UnpaidChase, "remind_1", care.MessageSent, "", time.Hour},
		{"tea", care.UnpaidChase, "remind_1", care.MessageSent, "", 2 * time.Hour},
		{"tea", care.UnpaidChase, "remind_1", care.MessageSkipped, "quiet_hours", 3 * time.Hour},
		{"tea", care.UnpaidChase, "remind_1", care.MessageSkipped, "opted_out", 4 * time.Hour},
		{"tea", care.UnpaidChase, "remind_1", care.MessageSkipped, "quiet_hours", 5 * time.Hour},
		{"tea", care.UnpaidChase, "remind_2", care.MessageFailed, "channel 503", 6 * time.Hour},
		{"tea", care.UnpaidChase, "remind_2", care.MessageSent, "", 7 * time.Hour},
		{"tea", care.UnpaidChase, "remind_2", care.MessagePending, "", 8 * time.Hour},      // not counted
		{"tea", care.UnpaidChase, "remind_1", care.MessageSent, "", -time.Hour},            // before the window
		{"tea", care.UnpaidChase, "remind_1", care.MessageSent, "", 24 * time.Hour},        // the end is exclusive
		{"tea", care.CODConfirm, "confirm", care.MessageSent, "", 0},                       // the start is inclusive
		{"rival", care.UnpaidChase, "remind_1", care.MessageSent, "", time.Hour},           // another shop
		{"rival", care.CODConfirm, "confirm", care.MessageSkipped, "opted_out", time.Hour}, // another shop
	}
	for i, m := range msgs {
		msg := care.Message{ID: fmt.Sprintf("m%02d", i), ShopID: m.shop, OrderID: fmt.Sprint(1000 + i), Workflow: m.wf, Step: m.step,
			TemplateVersion: 1, Channel: "sms", Status: care.MessagePending, At: at(m.at)}
		if _, created, err := st.ReserveMessage(ctx, msg); err != nil || !created {
			t.Fatalf("reserve %s: %v %v", msg.ID, created, err)
		}
		msg.Status, msg.Reason = m.status, m.reason
		if m.status == care.MessageSent {
			msg.SentAt = ptr(at(m.at))
		}
		if err := st.UpdateMessage(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	// Notices to the shop are not messages to the buyer: one with its kind,
	// one written before entries had kinds (recognised by its step), one failed.
	for i, m := range []care.Message{
		{Workflow: care.CODConfirm, Step: "confirmed", Kind: care.KindNotice, Status: care.MessageSent, At: at(time.Hour)},
		{Workflow: care.CODConfirm, Step: "declined", Status: care.MessageSent, At: at(2 * time.Hour)},
		{Workflow: care.CODConfirm, Step: "unreachable", Kind: care.KindNotice, Status: care.MessageFailed, Reason: "channel_rejected", At: at(3 * time.Hour)},
		{Workflow: care.CODConfirm, Step: "confirm", Kind: care.KindMessage, Status: care.MessageFailed, Reason: "channel_rejected", At: at(3 * time.Hour)},
	} {
		m.ID, m.ShopID, m.OrderID, m.TemplateVersion, m.Channel = fmt.Sprintf("n%02d", i), "tea", fmt.Sprint(1500+i), 1, "webhook"
		if m.Status == care.MessageSent {
			m.SentAt = ptr(m.At)
		}
		if _, created, err := st.ReserveMessage(ctx, m); err != nil || !created {
			t.Fatalf("reserve %s: %v %v", m.ID, created, err)
		}
	}
	// Outcomes count when they are reached: a COD run started the day before
	// and declined inside the window counts, one started inside and declined
	// after the window does not; an outcome unknown to this package counts too.
	for i, r := range []care.Run{
		{Workflow: care.CODConfirm, Outcome: "cod_declined", StartedAt: at(-20 * time.Hour), OutcomeAt: ptr(at(10 * time.Hour))},
		{Workflow: care.CODConfirm, Outcome: "cod_declined", StartedAt: at(20 * time.Hour), OutcomeAt: ptr(at(25 * time.Hour))},
		{Workflow: care.CODConfirm, Outcome: "cod_expired", StartedAt: at(6 * time.Hour), OutcomeAt: ptr(at(80 * time.Hour / 10))},
		{Workflow: care.UnpaidChase, Outcome: "paid", Sent: 1, Value: "10.10", StartedAt: at(-30 * time.Hour), OutcomeAt: ptr(at(23 * time.Hour))},
	} {
		r.ShopID, r.OrderID, r.Execution, r.TemplateVersion, r.Status, r.UpdatedAt = "tea", fmt.Sprint(2500+i), fmt.Sprintf("y%02d", i), 1, care.RunSucceeded, r.StartedAt
		if _, created, err := st.CreateRun(ctx, r); err != nil || !created {
			t.Fatalf("create run %s: %v %v", r.OrderID, created, err)
		}
	}
	runs := []struct {
		shop    string
		wf      care.Workflow
		sent    int
		outcome string
		value   care.Decimal
		started time.Duration
	}{
		{"tea", care.UnpaidChase, 2, "paid", "129.90", time.Hour},
		{"tea", care.UnpaidChase, 1, "paid", "8", 2 * time.Hour},
		{"tea", care.UnpaidChase, 0, "paid", "50.00", 3 * time.Hour}, // paid before any reminder: not chased
		{"tea", care.UnpaidChase, 1, "", "", 4 * time.Hour},          // chased, not paid
		{"tea", care.UnpaidChase, 3, "cancelled", "", 5 * time.Hour},
		{"tea", care.UnpaidChase, 1, "paid", "99", -time.Hour}, // before the window
		{"tea", care.CODConfirm, 1, "cod_confirmed", "", time.Hour},
		{"tea", care.CODConfirm, 1, "cod_confirmed", "", 2 * time.Hour},
		{"tea", care.CODConfirm, 1, "cod_declined", "", 3 * time.Hour},
		{"tea", care.CODConfirm, 2, "cod_unreachable", "", 4 * time.Hour},
		{"tea", care.CODConfirm, 1, "", "", 5 * time.Hour},
		{"rival", care.UnpaidChase, 1, "paid", "1000", time.Hour},
	}
	for i, r := range runs {
		run := care.Run{ShopID: r.shop, OrderID: fmt.Sprint(2000 + i), Workflow: r.wf, Execution: fmt.Sprintf("x%02d", i),
			TemplateVersion: 1, Status: care.RunSucceeded, Sent: r.sent, Outcome: r.outcome, Value: r.value,
			StartedAt: at(r.started), UpdatedAt: at(r.started)}
		if _, created, err := st.CreateRun(ctx, run); err != nil || !created {
			t.Fatalf("create run %d: %v %v", i, created, err)
		}
	}
	tasks := []struct {
		shop          string
		wf            care.Workflow
		status        care.TaskStatus
		created       time.Duration
		claimed, done *time.Duration
	}{
		{"tea", care.CODConfirm, care.TaskDone, time.Hour, ptr(70 * time.Minute), ptr(90 * time.Minute)},  // 1200 s, 1800 s
		{"tea", care.CODConfirm, care.TaskDone, 2 * time.Hour, ptr(2 * time.Hour), ptr(3 * time.Hour)},    // 3600 s, 3600 s
		{"tea", care.CODConfirm, care.TaskOpen, 3 * time.Hour, nil, nil},                                  // opened only
		{"tea", care.CODConfirm, care.TaskDone, -2 * time.Hour, ptr(50 * time.Minute), ptr(time.Hour)},    // completed only: 600 s, 10800 s
		{"tea", care.CODConfirm, care.TaskCancelled, 4 * time.Hour, nil, ptr(5 * time.Hour)},              // opened, never completed
		{"tea", care.CODConfirm, care.TaskDone, -3 * time.Hour, ptr(-3 * time.Hour), ptr(-2 * time.Hour)}, // before the window
		{"rival", care.CODConfirm, care.TaskDone, time.Hour, ptr(time.Hour), ptr(2 * time.Hour)},          // another shop
	}
	for i, tk := range tasks {
		task := care.Task{ID: fmt.Sprintf("t%d", i), ShopID: tk.shop, OrderID: fmt.Sprint(3000 + i), Workflow: tk.wf, Step: "call",
			Priority: 3, Outcomes: []string{"cod_confirmed"}, Status: care.TaskOpen, CreatedAt: at(tk.created), DueAt: at(tk.created + time.Hour)}
		stored, _, err := st.CreateTask(ctx, task)
		if err != nil {
			t.Fatal(err)
		}
		stored.Status = tk.status
		if tk.claimed != nil {
			stored.ClaimedAt = ptr(at(*tk.claimed))
		}
		if tk.done != nil {
			stored.DoneAt = ptr(at(*tk.done))
		}
		if _, err := st.UpdateTask(ctx, stored); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func TestCompute(t *testing.T) {
	st := seed(t)
	ctx := context.Background()
	rep, err := metrics.Compute(ctx, st, workflows.All(), "tea", t0, at(24*time.Hour), "")
	if err != nil {
		t.Fatal(err)
	}
	chase := metrics.Workflow{
		Workflow: care.UnpaidChase,
		Counts:   metrics.Counts{Sent: 3, Failed: 1, Skipped: map[string]int{"quiet_hours": 2, "opted_out": 1}},
		Steps: []metrics.Step{
			{Step: "remind_1", Counts: metrics.Counts{Sent: 2, Skipped: map[string]int{"quiet_hours": 2, "opted_out": 1}}},
			{Step: "remind_2", Counts: metrics.Counts{Sent: 1, Failed: 1, Skipped: map[string]int{}}},
		},
		RunsStarted: 5, Outcomes: map[string]int{"paid": 4, "cancelled": 1},
		OrdersChased: 3, ChasedPaid: 3, GMVRecovered: "148.00",
	}
	cod := metrics.Workflow{
		Workflow: care.CODConfirm,
		Counts:   metrics.Counts{Sent: 1, Failed: 1, Notices: 2, NoticesFailed: 1, Skipped: map[string]int{}},
		Steps: []metrics.Step{
			{Step: "confirm", Counts: metrics.Counts{Sent: 1, Failed: 1, Skipped: map[string]int{}}},
			{Step: "confirmed", Counts: metrics.Counts{Notices: 1, Skipped: map[string]int{}}},
			{Step: "declined", Counts: metrics.Counts{Notices: 1, Skipped: map[string]int{}}},
			{Step: "unreachable", Counts: metrics.Counts{NoticesFailed: 1, Skipped: map[string]int{}}},
		},
		RunsStarted: 7, Outcomes: map[string]int{"cod_confirmed": 2, "cod_declined": 2, "cod_unreachable": 1, "cod_expired": 1},
		GMVRecovered: "0", CODConfirmed: 2, CODDeclined: 2, CODUnreachable: 1, CODExpired: 1,
		TasksOpened: 4, TasksCompleted: 3, MedianHandlingSeconds: ptr(1200.0), MedianResolutionSeconds: ptr(3600.0),
	}
	want := metrics.Report{ShopID: "tea", From: t0, To: at(24 * time.Hour), Workflows: []metrics.Workflow{chase, cod}}
	for _, name := range workflows.All().Names()[2:] { // a workflow with no runs is reported, empty
		want.Workflows = append(want.Workflows, metrics.Workflow{Workflow: name, Counts: metrics.Counts{Skipped: map[string]int{}},
			Steps: []metrics.Step{}, Outcomes: map[string]int{}, GMVRecovered: "0"})
	}
	// Task outcomes, SLA, first action and versions: TestTaskFigures.
	ignore := cmpopts.IgnoreFields(metrics.Workflow{}, "TaskOutcomes", "TasksWithinSLA", "MedianFirstActionSeconds", "Versions")
	if diff := cmp.Diff(want, rep, ignore); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	c := rep.Workflows[1]
	if c.TaskOutcomes == nil || c.MedianFirstActionSeconds == nil || len(c.Versions) == 0 {
		t.Errorf("cod_confirm task outcomes %v, first action %v, versions %v", c.TaskOutcomes, c.MedianFirstActionSeconds, c.Versions)
	}
	sum := 0
	for _, v := range c.Versions {
		sum += v.RunsStarted
	}
	if sum != c.RunsStarted {
		t.Errorf("runs started per version add up to %d, not %d", sum, c.RunsStarted)
	}

	b, _ := json.Marshal(rep)
	for _, field := range []string{`"orders_chased":3`, `"chased_paid":3`, `"gmv_recovered":"148.00"`, `"notices":2`, `"cod_expired":1`, `"median_handling_seconds":null`,
		`"median_resolution_seconds":3600`, `"tasks_opened":4`, `"skipped":{"opted_out":1,"quiet_hours":2}`, `"cod_unreachable":1`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("JSON lacks %s: %s", field, b)
		}
	}

	t.Run("one workflow", func(t *testing.T) {
		rep, err := metrics.Compute(ctx, st, workflows.All(), "tea", t0, at(24*time.Hour), care.CODConfirm)
		if err != nil || len(rep.Workflows) != 1 || rep.Workflows[0].Workflow != care.CODConfirm {
			t.Fatalf("%+v %v", rep, err)
		}
	})
	t.Run("empty window lists every workflow with zeros", func(t *testing.T) {
		rep, err := metrics.Compute(ctx, st, workflows.All(), "tea", at(48*time.Hour), at(72*time.Hour), "")
		if err != nil {
			t.Fatal(err)
		}
		var got []care.Workflow
		for _, w := range rep.Workflows {
			got = append(got, w.Workflow)
			if w.Sent != 0 || w.TasksOpened != 0 || w.GMVRecovered != "0" || len(w.Steps) != 0 || w.MedianHandlingSeconds != nil {
				t.Errorf("not zero: %+v", w)
			}
		}
		if diff := cmp.Diff(workflows.All().Names(), got); diff != "" {
			t.Errorf("workflows (-want +got):\n%s", diff)
		}
	})
	for _, tc := range []struct {
		name     string
		from, to time.Time
		wf       care.Workflow
		field    string
	}{
		{"unknown workflow", t0, at(time.Hour), "review_ask", "workflow"},
		{"empty window", t0, t0, "", "to"},
		{"reversed window", at(time.Hour), t0, "", "to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fe *care.FieldError
			if _, err := metrics.Compute(ctx, st, workflows.All(), "tea", tc.from, tc.to, tc.wf); !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("got %v, want a field error on %s", err, tc.field)
			}
		})
	}
}

// TestComputePages checks that Compute reads the whole ledger, past one page.
func TestComputePages(t *testing.T) {
	ctx := context.Background()
	st := caretest.Store(t, nil)
	caretest.Shop(t, st, care.Shop{ID: "tea", CreatedAt: t0})
	const n = 1234
	for i := range n {
		m := care.Message{ID: fmt.Sprintf("m%05d", i), ShopID: "tea", OrderID: "1", Workflow: care.UnpaidChase, Step: "remind_1",
			Channel: "sms", Status: care.MessageSkipped, Reason: "duplicate", At: at(time.Duration(i) * time.Second)}
		if _, _, err := st.ReserveMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := metrics.Compute(ctx, st, workflows.All(), "tea", t0, at(24*time.Hour), care.UnpaidChase)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Workflows[0].Skipped["duplicate"]; got != n {
		t.Errorf("skipped %d, want %d", got, n)
	}
}
