package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ordercare/ordercare/internal/care"
)

// RunCare runs the conformance suite of the care workflow stores (Templates,
// Messages, Tasks, Runs, Waits, OptOuts) against the store returned by
// newStore. As with Run, every subtest uses its own shop ids (it creates its
// shops first with CreateShop), so newStore may hand out one shared store.
// Run it under -race: the *Race subtests call one store from Racers
// goroutines at once.
//
// What it pins beyond care's doc comments:
//   - data round-trips exactly: times keep their instant, nanoseconds and UTC
//     offset (a time given in +08:00 comes back in +08:00); JSON bodies
//     (Template.Body, Waits answers) are compared as JSON values, so a store
//     may re-encode them; nil and empty slices are not told apart.
//   - Task.Token, Task.Resumed and Rev are persisted and returned by every
//     read, ListTasks included.
//   - CreateTask and CreateRun ignore the Rev they are given and store 1; a
//     second create returns the stored entity unchanged (Rev included).
//   - PutTemplate with a version other than latest+1 (0, a negative, a
//     duplicate or a skipped one) is ErrConflict.
//   - windows and orders compare instants, never text: ListMessages and
//     ListRuns order entries by instant even when their times carry
//     different zones or different numbers of fractional digits.
//   - list methods return an empty result and no error for an unknown shop
//     or order (never ErrNotFound); ListMessages' next cursor is "" on the
//     last page, though one extra empty page after a full last page is
//     accepted; a nonsense cursor is ErrInvalid.
//   - a second Await replaces the registered token (the latest token wins,
//     as a retried state gets a new one).
//   - OptedOut is false, with no error, for a contact never seen.
func RunCare(t *testing.T, newStore func(t *testing.T) care.CareStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s care.CareStore)
	}{
		{"CareNotFound", testCareNotFound},
		{"Templates", testTemplates},
		{"TemplateRace", testTemplateRace},
		{"ReserveMessage", testReserveMessage},
		{"UpdateMessage", testUpdateMessage},
		{"ListOrderMessages", testListOrderMessages},
		{"ListMessages", testListMessages},
		{"Tasks", testTasks},
		{"ListTasks", testListTasks},
		{"UpdateTaskRace", testUpdateTaskRace},
		{"CreateTaskRace", testCreateTaskRace},
		{"CreateRaces", testCreateRaces},
		{"Runs", testRuns},
		{"SubjectRuns", testSubjectRuns},
		{"DueRuns", testDueRuns},
		{"ListRuns", testListRuns},
		{"UpdateRunRace", testUpdateRunRace},
		{"Waits", testWaits},
		{"WaitsRace", testWaitsRace},
		{"OptOuts", testOptOuts},
		{"Agents", testAgents},
		{"ListShops", testListShops},
		{"ReplaceKeys", testReplaceKeys},
		{"ReplaceKeysRace", testReplaceKeysRace},
		{"ListOrders", testListOrders},
		{"ListRecentRuns", testListRecentRuns},
		{"ListRecentMessages", testListRecentMessages},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// Racers is how many goroutines each *Race subtest of RunCare runs. Set it
// before RunCare.
var Racers = 16

// cst is China Standard Time as a fixed zone: times given in it must come
// back with the +08:00 offset.
var cst = time.FixedZone("CST", 8*3600)

// exactTime equates times with the same instant and the same text form
// (offset and nanoseconds included).
var exactTime = cmp.Comparer(func(a, b time.Time) bool {
	return a.Equal(b) && a.Format(time.RFC3339Nano) == b.Format(time.RFC3339Nano)
})

// sameJSON equates JSON documents with the same value, whatever their spacing.
var sameJSON = cmp.Comparer(func(a, b json.RawMessage) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(a, b)
	}
	return cmp.Equal(va, vb)
})

// careOpts compares care entities for an exact round-trip.
var careOpts = cmp.Options{exactTime, sameJSON, cmpopts.EquateEmpty()}

func careDiff(want, got any) string { return cmp.Diff(want, got, careOpts) }

// ---- fixtures ----

func sampleTemplate(shopID string, wf care.Workflow, version int) care.Template {
	body := fmt.Sprintf(`{
		"workflow": %q,
		"version": %d,
		"steps": [
			{"after": "15m", "channel": "sms", "text": {"zh-CN": "您好 {{buyer}}，订单 <b>{{order}}</b> 尚未付款 & 将于 {{deadline}} 关闭"}},
			{"after": "2h", "task": {"tag": "vip", "priority": 2, "outcomes": ["paid", "declined"]}}
		]
	}`, wf, version)
	return care.Template{ShopID: shopID, Workflow: wf, Version: version, Body: json.RawMessage(body),
		CreatedAt: at(time.Duration(version) * time.Hour).In(cst)}
}

func sampleMessage(shopID, orderID, id string, when time.Time) care.Message {
	return care.Message{
		ID: id, ShopID: shopID, OrderID: orderID, Workflow: care.UnpaidChase, Step: "remind_1",
		TemplateVersion: 3, Channel: "sms", Locale: "zh-CN",
		Text:   "王小明您好，您在杭州小茶铺的订单 #1001 尚未付款，30 分钟后将自动关闭。",
		Status: care.MessagePending, At: when,
	}
}

func sampleTask(shopID, orderID, id string) care.Task {
	return care.Task{
		ID: id, ShopID: shopID, OrderID: orderID, Workflow: care.CODConfirm, Step: "call_buyer",
		Reason:   "货到付款订单金额超过 500 元，需电话确认",
		Script:   "您好，这里是杭州小茶铺，想跟您确认一下货到付款订单 #1001 是否需要发货？",
		Tag:      care.TagVIP,
		Priority: 2,
		Outcomes: []string{"confirmed", "declined", "unreachable"},
		Order: care.OrderSummary{
			OrderID: orderID, Status: care.StatusCreated, Total: "659.00", Currency: "CNY",
			PaymentMethod: care.PayCOD, CODFee: "10.00", PlacedAt: tp(at(0).In(cst)), PayDeadline: tp(at(30 * time.Minute)),
			BuyerName: "王小明", BuyerPhone: "+8613800138000", Locale: "zh-CN",
			Items: []string{"2 × 明前龙井 250g", "1 × 礼盒包装"}, Said: []string{"您好，您的货到付款订单已收到。"},
		},
		Status:    care.TaskOpen,
		CreatedAt: at(time.Minute),
		DueAt:     at(2 * time.Hour).In(cst),
		Token:     "AQCEAAAAKgAAAAMAAAAAAAAAAb3pQe+token/" + id,
	}
}

func sampleRun(shopID, orderID string, wf care.Workflow, started time.Time) care.Run {
	return care.Run{
		ShopID: shopID, OrderID: orderID, Workflow: wf,
		Execution:       fmt.Sprintf("%s-%s-%s", shopID, orderID, wf),
		TemplateVersion: 2, Status: care.RunRunning, Step: "remind_1",
		NextAt: tp(started.Add(15 * time.Minute)), StartedAt: started, UpdatedAt: started,
	}
}

// ---- subtests ----

func testCareNotFound(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	ghost := uniqueID("shop")
	for _, id := range []string{shop.ID, ghost} {
		_, err := s.GetTemplate(c, id, care.UnpaidChase, 0)
		wantErr(t, "GetTemplate(latest, none)", err, care.ErrNotFound)
		_, err = s.GetTemplate(c, id, care.UnpaidChase, 1)
		wantErr(t, "GetTemplate(v1, none)", err, care.ErrNotFound)
		err = s.UpdateMessage(c, sampleMessage(id, "1001", uniqueID("msg"), at(0)))
		wantErr(t, "UpdateMessage(absent)", err, care.ErrNotFound)
		_, err = s.GetTask(c, id, uniqueID("task"))
		wantErr(t, "GetTask(absent)", err, care.ErrNotFound)
		task := sampleTask(id, "1001", uniqueID("task"))
		task.Rev = 1
		_, err = s.UpdateTask(c, task)
		wantErr(t, "UpdateTask(absent)", err, care.ErrNotFound)
		_, err = s.GetRun(c, id, "1001", care.UnpaidChase, "")
		wantErr(t, "GetRun(absent)", err, care.ErrNotFound)
		run := sampleRun(id, "1001", care.UnpaidChase, at(0))
		run.Rev = 1
		_, err = s.UpdateRun(c, run)
		wantErr(t, "UpdateRun(absent)", err, care.ErrNotFound)

		// Lists of nothing are empty, not errors.
		msgs, err := s.ListOrderMessages(c, id, "1001")
		if err != nil || len(msgs) != 0 {
			t.Errorf("ListOrderMessages(nothing) = %d entries, %v; want none, nil", len(msgs), err)
		}
		msgs, next, err := s.ListMessages(c, id, at(-time.Hour), at(time.Hour), "", 10)
		if err != nil || len(msgs) != 0 || next != "" {
			t.Errorf("ListMessages(nothing) = %d entries, next %q, %v; want none, \"\", nil", len(msgs), next, err)
		}
		tasks, err := s.ListTasks(c, id, care.TaskFilter{})
		if err != nil || len(tasks) != 0 {
			t.Errorf("ListTasks(nothing) = %d tasks, %v; want none, nil", len(tasks), err)
		}
		runs, err := s.ListOrderRuns(c, id, "1001")
		if err != nil || len(runs) != 0 {
			t.Errorf("ListOrderRuns(nothing) = %d runs, %v; want none, nil", len(runs), err)
		}
		runs, err = s.ListRuns(c, id, at(-time.Hour), at(time.Hour))
		if err != nil || len(runs) != 0 {
			t.Errorf("ListRuns(nothing) = %d runs, %v; want none, nil", len(runs), err)
		}
		out, err := s.OptedOut(c, id, care.ContactKey("+8613800138000"))
		if err != nil || out {
			t.Errorf("OptedOut(never seen) = %v, %v; want false, nil", out, err)
		}
	}
}

func testTemplates(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	other := newShop(t, s)
	put := func(tpl care.Template) {
		t.Helper()
		if err := s.PutTemplate(c, tpl); err != nil {
			t.Fatalf("PutTemplate(%s v%d): %v", tpl.Workflow, tpl.Version, err)
		}
	}
	check := func(shopID string, wf care.Workflow, version int, want care.Template) {
		t.Helper()
		got, err := s.GetTemplate(c, shopID, wf, version)
		if err != nil {
			t.Fatalf("GetTemplate(%s, %d): %v", wf, version, err)
		}
		if diff := careDiff(want, got); diff != "" {
			t.Errorf("GetTemplate(%s, %d) mismatch (-want +got):\n%s", wf, version, diff)
		}
	}
	conflict := func(name string, tpl care.Template) {
		t.Helper()
		err := s.PutTemplate(c, tpl)
		wantErr(t, fmt.Sprintf("PutTemplate(%s: v%d)", name, tpl.Version), err, care.ErrConflict)
	}

	for _, v := range []int{0, -1, 2} {
		conflict("first must be 1", sampleTemplate(shop.ID, care.UnpaidChase, v))
	}
	_, err := s.GetTemplate(c, shop.ID, care.UnpaidChase, 0)
	wantErr(t, "GetTemplate after rejected puts", err, care.ErrNotFound)

	v1 := sampleTemplate(shop.ID, care.UnpaidChase, 1)
	put(v1)
	check(shop.ID, care.UnpaidChase, 1, v1)
	check(shop.ID, care.UnpaidChase, 0, v1)

	dup := sampleTemplate(shop.ID, care.UnpaidChase, 1)
	dup.Body = json.RawMessage(`{"steps":[]}`)
	conflict("duplicate", dup)
	conflict("skipped", sampleTemplate(shop.ID, care.UnpaidChase, 3))
	_, err = s.GetTemplate(c, shop.ID, care.UnpaidChase, 3)
	wantErr(t, "GetTemplate(skipped version)", err, care.ErrNotFound)
	check(shop.ID, care.UnpaidChase, 0, v1)

	v2 := sampleTemplate(shop.ID, care.UnpaidChase, 2)
	put(v2)
	check(shop.ID, care.UnpaidChase, 0, v2)
	check(shop.ID, care.UnpaidChase, 1, v1)
	check(shop.ID, care.UnpaidChase, 2, v2)
	conflict("stale editor", sampleTemplate(shop.ID, care.UnpaidChase, 2))

	// Versions count per (shop, workflow).
	_, err = s.GetTemplate(c, shop.ID, care.CODConfirm, 0)
	wantErr(t, "GetTemplate(other workflow)", err, care.ErrNotFound)
	cod := sampleTemplate(shop.ID, care.CODConfirm, 1)
	put(cod)
	check(shop.ID, care.CODConfirm, 0, cod)
	check(shop.ID, care.UnpaidChase, 0, v2)

	_, err = s.GetTemplate(c, other.ID, care.UnpaidChase, 1)
	wantErr(t, "GetTemplate(another shop's template)", err, care.ErrNotFound)
	_, err = s.GetTemplate(c, other.ID, care.UnpaidChase, 0)
	wantErr(t, "GetTemplate(another shop's latest)", err, care.ErrNotFound)
	o1 := sampleTemplate(other.ID, care.UnpaidChase, 1)
	put(o1)
	check(other.ID, care.UnpaidChase, 0, o1)
	check(shop.ID, care.UnpaidChase, 0, v2)
}

// testTemplateRace has Racers editors put the same version at once: exactly
// one wins, and the stored version is the winner's.
func testTemplateRace(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	for version := 1; version <= 2; version++ {
		errs := make([]error, Racers)
		tpls := make([]care.Template, Racers)
		var wg sync.WaitGroup
		for i := range Racers {
			tpls[i] = sampleTemplate(shop.ID, care.UnpaidChase, version)
			tpls[i].Body = json.RawMessage(fmt.Sprintf(`{"editor":%d}`, i))
			wg.Go(func() { errs[i] = s.PutTemplate(c, tpls[i]) })
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("v%d: PutTemplate succeeded twice (editors %d and %d)", version, winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, care.ErrConflict):
				t.Errorf("v%d: editor %d: error %v, want ErrConflict", version, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("v%d: no editor won", version)
		}
		got, err := s.GetTemplate(c, shop.ID, care.UnpaidChase, 0)
		if err != nil {
			t.Fatalf("GetTemplate: %v", err)
		}
		if diff := careDiff(tpls[winner], got); diff != "" {
			t.Errorf("v%d: stored template is not the winner's (-winner +stored):\n%s", version, diff)
		}
	}
}

func testReserveMessage(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	other := newShop(t, s)
	const orderID = "820982911946154508"
	id := "unpaid_chase-" + orderID + "/remind_1"
	m := sampleMessage(shop.ID, orderID, id, at(time.Minute).In(cst))

	got, created, err := s.ReserveMessage(c, m)
	if err != nil || !created {
		t.Fatalf("ReserveMessage(new) = created %v, %v; want true, nil", created, err)
	}
	if diff := careDiff(m, got); diff != "" {
		t.Errorf("ReserveMessage(new) returned (-want +got):\n%s", diff)
	}

	// A retried step finds its own entry: nothing is replaced.
	retry := m
	retry.Text, retry.At, retry.Channel = "a different text", at(time.Hour), "email"
	got, created, err = s.ReserveMessage(c, retry)
	if err != nil || created {
		t.Fatalf("ReserveMessage(existing) = created %v, %v; want false, nil", created, err)
	}
	if diff := careDiff(m, got); diff != "" {
		t.Errorf("ReserveMessage(existing) did not return the stored entry (-stored +got):\n%s", diff)
	}
	list, err := s.ListOrderMessages(c, shop.ID, orderID)
	if err != nil {
		t.Fatalf("ListOrderMessages: %v", err)
	}
	if diff := careDiff([]care.Message{m}, list); diff != "" {
		t.Errorf("ListOrderMessages after a second reserve (-want +got):\n%s", diff)
	}

	// The same id in another shop is another entry.
	om := sampleMessage(other.ID, orderID, id, at(2*time.Minute))
	om.Status, om.Reason = care.MessageSkipped, "buyer opted out"
	got, created, err = s.ReserveMessage(c, om)
	if err != nil || !created {
		t.Fatalf("ReserveMessage(same id, other shop) = created %v, %v; want true, nil", created, err)
	}
	if diff := careDiff(om, got); diff != "" {
		t.Errorf("ReserveMessage(other shop) returned (-want +got):\n%s", diff)
	}
	list, err = s.ListOrderMessages(c, shop.ID, orderID)
	if err != nil {
		t.Fatalf("ListOrderMessages: %v", err)
	}
	if diff := careDiff([]care.Message{m}, list); diff != "" {
		t.Errorf("ListOrderMessages after another shop's reserve (-want +got):\n%s", diff)
	}
}

func testUpdateMessage(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	other := newShop(t, s)
	const orderID = "5467091828893"
	m := sampleMessage(shop.ID, orderID, uniqueID("msg"), at(0))
	if _, _, err := s.ReserveMessage(c, m); err != nil {
		t.Fatalf("ReserveMessage: %v", err)
	}

	sent := m
	sent.Status, sent.SentAt = care.MessageSent, tp(at(1500*time.Millisecond).In(cst))
	if err := s.UpdateMessage(c, sent); err != nil {
		t.Fatalf("UpdateMessage(sent): %v", err)
	}
	check := func(want care.Message) {
		t.Helper()
		list, err := s.ListOrderMessages(c, shop.ID, orderID)
		if err != nil {
			t.Fatalf("ListOrderMessages: %v", err)
		}
		if diff := careDiff([]care.Message{want}, list); diff != "" {
			t.Errorf("stored entry (-want +got):\n%s", diff)
		}
	}
	check(sent)

	failed := sent
	failed.Status, failed.Reason, failed.SentAt = care.MessageFailed, "carrier rejected: 30007", nil
	if err := s.UpdateMessage(c, failed); err != nil {
		t.Fatalf("UpdateMessage(failed): %v", err)
	}
	check(failed)

	// Another shop cannot update it, even naming the same id and order.
	forged := failed
	forged.ShopID, forged.Text = other.ID, "forged"
	err := s.UpdateMessage(c, forged)
	wantErr(t, "UpdateMessage(another shop's entry)", err, care.ErrNotFound)
	check(failed)
	list, err := s.ListOrderMessages(c, other.ID, orderID)
	if err != nil || len(list) != 0 {
		t.Errorf("ListOrderMessages(other shop) = %d entries, %v; want none", len(list), err)
	}
}

func testListOrderMessages(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	const orderID, otherOrder = "1001", "1002"
	// Reserved out of order; b and c share an instant (in two zones).
	msgs := []care.Message{
		sampleMessage(shop.ID, orderID, "m-c", at(time.Minute)),
		sampleMessage(shop.ID, orderID, "m-d", at(time.Hour)),
		sampleMessage(shop.ID, orderID, "m-a", at(-time.Hour).In(cst)),
		sampleMessage(shop.ID, orderID, "m-b", at(time.Minute).In(cst)),
		sampleMessage(shop.ID, otherOrder, "m-0", at(0)),
	}
	msgs[1].Step = "remind_2"
	for _, m := range msgs {
		if _, created, err := s.ReserveMessage(c, m); err != nil || !created {
			t.Fatalf("ReserveMessage(%s) = created %v, %v", m.ID, created, err)
		}
	}
	got, err := s.ListOrderMessages(c, shop.ID, orderID)
	if err != nil {
		t.Fatalf("ListOrderMessages: %v", err)
	}
	want := []care.Message{msgs[2], msgs[3], msgs[0], msgs[1]}
	if diff := careDiff(want, got); diff != "" {
		t.Errorf("ListOrderMessages (-want +got):\n%s", diff)
	}
}

// allMessages pages through a shop's messages in [from, to).
func allMessages(t *testing.T, s care.CareStore, shopID string, from, to time.Time, limit int) (msgs []care.Message, pages int) {
	t.Helper()
	cursor := ""
	for {
		page, next, err := s.ListMessages(ctx(t), shopID, from, to, cursor, limit)
		if err != nil {
			t.Fatalf("ListMessages(%q, %d): %v", cursor, limit, err)
		}
		if len(page) > limit {
			t.Fatalf("ListMessages(limit %d) returned %d entries", limit, len(page))
		}
		pages++
		msgs = append(msgs, page...)
		if next == "" {
			return msgs, pages
		}
		if next == cursor {
			t.Fatalf("ListMessages: next cursor %q equals the cursor it was called with", next)
		}
		if pages > 10000 {
			t.Fatalf("ListMessages: no end after %d pages", pages)
		}
		cursor = next
	}
}

func testListMessages(t *testing.T, s care.CareStore) {
	c := ctx(t)
	shop := newShop(t, s)
	other := newShop(t, s)
	from, to := at(0), at(24*time.Hour)
	// Times with few and many fractional digits and in two zones: a store
	// that sorts or compares their text gets these wrong.
	sec := time.Date(2026, 11, 10, 17, 0, 0, 0, time.UTC) // t0 + ~1h, no fraction
	msgs := []care.Message{
		sampleMessage(shop.ID, "1001", "m-before", at(-time.Nanosecond)),                 // out: before from
		sampleMessage(shop.ID, "1001", "m-from", from.In(cst)),                           // in: from is inclusive
		sampleMessage(shop.ID, "1002", "m-frac1", sec.Add(100*time.Millisecond)),         // in
		sampleMessage(shop.ID, "1003", "m-frac3", sec.Add(123*time.Millisecond).In(cst)), // in
		sampleMessage(shop.ID, "1001", "m-whole", sec),                                   // in
		sampleMessage(shop.ID, "1004", "m-tie-b", at(5*time.Hour).In(cst)),               // in
		sampleMessage(shop.ID, "1005", "m-tie-a", at(5*time.Hour)),                       // in
		sampleMessage(shop.ID, "1006", "m-last", to.Add(-time.Nanosecond)),               // in
		sampleMessage(shop.ID, "1006", "m-to", to),                                       // out: to is exclusive
		sampleMessage(shop.ID, "1007", "m-late", to.Add(48*time.Hour)),                   // out
		sampleMessage(other.ID, "1001", "m-other-shop", at(time.Hour)),                   // out: other shop
		sampleMessage(other.ID, "1001", "m-from", from),                                  // out: other shop
	}
	msgs[4].Status = care.MessageSkipped
	msgs[4].Reason = "quiet hours"
	// Reserved in an order unrelated to At or ID.
	for _, i := range []int{7, 3, 10, 0, 5, 9, 1, 6, 11, 2, 8, 4} {
		if _, created, err := s.ReserveMessage(c, msgs[i]); err != nil || !created {
			t.Fatalf("ReserveMessage(%s) = created %v, %v", msgs[i].ID, created, err)
		}
	}
	want := []care.Message{msgs[1], msgs[4], msgs[2], msgs[3], msgs[6], msgs[5], msgs[7]}

	for _, limit := range []int{1, 2, 3, 7, 1000} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			got, pages := allMessages(t, s, shop.ID, from, to, limit)
			if diff := careDiff(want, got); diff != "" {
				t.Errorf("ListMessages (-want +got):\n%s", diff)
			}
			min := (len(want) + limit - 1) / limit
			if pages < min || pages > min+1 {
				t.Errorf("%d pages, want %d (or %d)", pages, min, min+1)
			}
		})
	}
	t.Run("cursor continues mid-list", func(t *testing.T) {
		page, next, err := s.ListMessages(c, shop.ID, from, to, "", 3)
		if err != nil || len(page) != 3 || next == "" {
			t.Fatalf("first page: %d entries, next %q, %v", len(page), next, err)
		}
		rest, last, err := s.ListMessages(c, shop.ID, from, to, next, 1000)
		if err != nil {
			t.Fatalf("second page: %v", err)
		}
		if diff := careDiff(want[3:], rest); diff != "" {
			t.Errorf("second page (-want +got):\n%s", diff)
		}
		if last != "" {
			t.Errorf("last page's next cursor = %q, want \"\"", last)
		}
	})
	t.Run("narrow windows", func(t *testing.T) {
		tests := []struct {
			name     string
			from, to time.Time
			want     []care.Message
		}{
			{"one instant, two entries", at(5 * time.Hour), at(5*time.Hour + time.Nanosecond), []care.Message{msgs[6], msgs[5]}},
			{"zone of the bounds is irrelevant", sec.In(cst), sec.Add(123 * time.Millisecond).In(cst), []care.Message{msgs[4], msgs[2]}},
			{"empty window", at(time.Hour), at(time.Hour), nil},
			{"inverted window", to, from, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, _ := allMessages(t, s, shop.ID, tc.from, tc.to, 10)
				if diff := careDiff(tc.want, got); diff != "" {
					t.Errorf("ListMessages (-want +got):\n%s", diff)
				}
			})
		}
	})
	t.Run("other shop", func(t *testing.T) {
		got, _ := allMessages(t, s, other.ID, from, to, 10)
		if diff := careDiff([]care.Message{msgs[11], msgs[10]}, got); diff != "" {
			t.Errorf("ListMessages(other shop) (-want +got):\n%s", diff)
		}
	})
	t.Run("invalid cursor", func(t *testing.T) {
		for _, cur := range []string{"%%% not a cursor %%%", "-1", "\x00", "not-a-cursor"} {
			_, _, err := s.ListMessages(c, shop.ID, from, to, cur, 10)
			wantErr(t, fmt.Sprintf("ListMessages(cursor %q)", cur), err, care.ErrInvalid)
		}
	})
	t.Run("invalid limit", func(t *testing.T) {
		for _, limit := range []int{0, -1, 1001} {
			_, _, err := s.ListMessages(c, shop.ID, from, to, "", limit)
			wantErr(t, fmt.Sprintf("ListMessages(limit %d)", limit), err, care.ErrInvalid)
		}
	})
}

// sortTasks sorts tasks by ID, for comparing lists in no particular order.
func sortTasks(ts []care.Task) []care.Task {
	sort.Slice(ts, func(i, j int) bool { return ts[i].ID < ts[j].ID })
	return ts
}
