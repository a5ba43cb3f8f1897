package steps_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
)

// TestExecutionNames pins execution names: an order-level run keeps the
// name it had before runs had subjects (stored runs and running executions
// stay valid), a per-subject run gets its own, and every name fits Step
// Functions (at most 80 characters of letters, digits, '-' and '_').
func TestExecutionNames(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)
	long := care.Workflow(strings.Repeat("w", 32)) // the longest workflow name playbook accepts
	tests := []struct {
		name string
		ref  steps.RunRef
		want string
	}{
		{"order-level, unchanged", steps.RunRef{Shop: "tea", Order: "TB-1", Workflow: care.UnpaidChase},
			"unpaid_chase-96d5250935a3109422dc16da"},
		{"per parcel", steps.RunRef{Shop: "tea", Order: "TB-1", Workflow: "stalled_parcel", Subject: "SF1234567890"},
			"stalled_parcel-96d5250935a3109422dc16da-f1fbcceeab1c4620"},
		{"longest workflow, free-text subject", steps.RunRef{Shop: "tea", Order: "TB 1/#", Workflow: long, Subject: "顺丰 SF 1/2 #"}, ""},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		got := tc.ref.Execution()
		if tc.want != "" && got != tc.want {
			t.Errorf("%s: Execution() = %q, want %q", tc.name, got, tc.want)
		}
		if !valid.MatchString(got) || len(got) > 80 {
			t.Errorf("%s: Execution() = %q (%d chars): not a valid Step Functions name", tc.name, got, len(got))
		}
		if seen[got] {
			t.Errorf("%s: Execution() = %q repeats another run's name", tc.name, got)
		}
		seen[got] = true
	}
	a := steps.RunRef{Shop: "tea", Order: "TB-1", Workflow: "stalled_parcel", Subject: "SF1"}
	b := a
	b.Subject = "SF2"
	o := a
	o.Subject = ""
	if a.Execution() == b.Execution() || a.Execution() == o.Execution() {
		t.Errorf("subjects share an execution name: %q %q %q", a.Execution(), b.Execution(), o.Execution())
	}
	if a.Key("notify") != a.Execution()+".notify" {
		t.Errorf("Key = %q, want <execution>.notify", a.Key("notify"))
	}
	// An order-level run's execution input is as before: no subject field.
	in, _ := json.Marshal(steps.State{Run: steps.RunRef{Shop: "tea", Order: "TB-1", Workflow: care.UnpaidChase, Version: 1}})
	if strings.Contains(string(in), "subject") {
		t.Errorf("order-level input %s names a subject", in)
	}
}

// TestEnvOfSubjectRun: a per-parcel run's Env holds its parcel, and its
// contact budget counts its own sends only.
func TestEnvOfSubjectRun(t *testing.T) {
	f := newFixture(t)
	f.createOrder(orderSpec{id: "TB-9", total: "259.00"})
	f.ingest(care.Event{Type: care.OrderShipped, Order: care.Order{ID: "TB-9"}, Parcels: []care.ParcelReport{
		{TrackingNumber: "SF100", Carrier: "SF"}, {TrackingNumber: "SF200", Carrier: "SF"}}})
	v := f.template(care.UnpaidChase, nil)
	refs := map[string]steps.RunRef{}
	for _, sub := range []string{"", "SF100", "SF200", "digest-1"} {
		refs[sub] = steps.RunRef{Shop: shopID, Order: "TB-9", Workflow: care.UnpaidChase, Version: v, Subject: sub}
	}
	now := f.clk.Now()
	for _, sub := range []string{"SF200", "SF200x"} { // SF200's send, and one of another run
		ref := refs["SF200"]
		id := ref.Key("nudge")
		if sub != "SF200" {
			id = refs["digest-1"].Key("nudge")
		}
		m := care.Message{ID: id, ShopID: shopID, OrderID: "TB-9", Workflow: care.UnpaidChase, Step: "nudge", TemplateVersion: v,
			Channel: "outbox", Status: care.MessageSent, Text: "text", At: now, SentAt: &now}
		if _, _, err := f.db.ReserveMessage(f.ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		subject, parcel string
		sent            int
	}{{"", "", 2}, {"SF100", "SF100", 0}, {"SF200", "SF200", 1}, {"digest-1", "", 1}} {
		e, err := f.h.Load(f.ctx, refs[tc.subject])
		if err != nil {
			t.Fatalf("Load(%q): %v", tc.subject, err)
		}
		got := ""
		if e.Parcel != nil {
			got = e.Parcel.TrackingNumber
		}
		if got != tc.parcel || e.Ref.Subject != tc.subject {
			t.Errorf("Load(%q): subject %q parcel %q, want parcel %q", tc.subject, e.Ref.Subject, got, tc.parcel)
		}
		if n := e.Sent(); n != tc.sent {
			t.Errorf("Load(%q).Sent() = %d, want %d", tc.subject, n, tc.sent)
		}
	}
}
