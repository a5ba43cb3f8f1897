package stalledparcel_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	stalledparcel "github.com/ordercare/ordercare/workflows/stalled_parcel"
)

func defaultTemplate(t *testing.T) (*playbook.Template, stalledparcel.Params) {
	t.Helper()
	w := stalledparcel.Workflow{}
	tpl, err := playbook.ParseWith(stalledparcel.Name, w.DefaultTemplate(), w)
	if err != nil {
		t.Fatal(err)
	}
	return tpl, tpl.ParsedParams().(stalledparcel.Params)
}

// TestThreshold: per carrier (case-insensitive) and domestic or
// cross-border by the address's country against home_country.
func TestThreshold(t *testing.T) {
	_, p := defaultTemplate(t)
	cn := &care.Address{Country: "CN"}
	us := &care.Address{Country: "US"}
	tests := []struct {
		name    string
		addr    *care.Address
		carrier string
		want    int
	}{
		{"domestic, other carrier", cn, "YTO", 3},
		{"cross-border, other carrier", us, "YTO", 5},
		{"domestic, SF", cn, "sf express", 2},
		{"cross-border, SF keeps the general cross-border days", us, "SF Express", 5},
		{"no address is domestic", nil, "YTO", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := care.OrderState{Order: care.Order{ShippingAddress: tt.addr}}
			pc := &care.Parcel{ParcelReport: care.ParcelReport{Carrier: tt.carrier}}
			if got := p.Threshold(o, pc); got != tt.want {
				t.Errorf("Threshold = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestAddBusinessDays: closed weekdays and holidays do not count; the time
// of day is kept.
func TestAddBusinessDays(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	fri := time.Date(2026, 10, 2, 15, 0, 0, 0, sh) // a Friday
	weekdays := care.DefaultServiceHours()
	weekdays.Sat, weekdays.Sun = nil, nil
	tests := []struct {
		name     string
		hours    care.ServiceHours
		holidays []string
		n        int
		want     time.Time
	}{
		{"every day open", care.DefaultServiceHours(), nil, 3, time.Date(2026, 10, 5, 15, 0, 0, 0, sh)},
		{"weekend closed", weekdays, nil, 3, time.Date(2026, 10, 7, 15, 0, 0, 0, sh)},
		{"weekend closed and a holiday", weekdays, []string{"2026-10-05", "2026-10-06"}, 3, time.Date(2026, 10, 9, 15, 0, 0, 0, sh)},
		{"no day open counts calendar days", care.ServiceHours{}, nil, 2, time.Date(2026, 10, 4, 15, 0, 0, 0, sh)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := stalledparcel.AddBusinessDays(fri, tt.n, tt.hours, tt.holidays, sh)
			if !got.Equal(tt.want) {
				t.Errorf("AddBusinessDays = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSubjects: a moving parcel gets a watching run, one in an alert
// status also that status's run; finished and replaced parcels none.
func TestSubjects(t *testing.T) {
	parcel := func(tn string, s care.ShipmentStatus) care.Parcel {
		return care.Parcel{ParcelReport: care.ParcelReport{TrackingNumber: tn, Status: s}}
	}
	replaced := parcel("R1", care.ShipInTransit)
	replaced.ReplacedBy = "R2"
	o := care.OrderState{Parcels: []care.Parcel{parcel("A1", care.ShipInTransit), parcel("B1", care.ShipException),
		parcel("C1", care.ShipDelivered), replaced, parcel("D1", care.ShipAttemptFailed), parcel("E1", care.ShipReturned)}}
	w := stalledparcel.Workflow{}
	want := []string{"A1", "B1", "B1#exception", "D1", "D1#attempt_failed"}
	if diff := cmp.Diff(want, w.Subjects(o, care.Event{})); diff != "" {
		t.Errorf("Subjects (-want +got):\n%s", diff)
	}
	pointless := map[string]string{"A1": "", "B1": "", "B1#exception": "", "C1": stalledparcel.ReasonFinished,
		"R1": stalledparcel.ReasonFinished, "D1#exception": stalledparcel.ReasonCleared, "E1#returning": stalledparcel.ReasonFinished,
		"Z9": stalledparcel.ReasonFinished}
	for subject, want := range pointless {
		if got := w.SubjectPointless(o, subject); got != want {
			t.Errorf("SubjectPointless(%q) = %q, want %q", subject, got, want)
		}
	}
}

// TestParamsRejected: bad params and missing steps are refused with the field.
func TestParamsRejected(t *testing.T) {
	w := stalledparcel.Workflow{}
	edit := func(fn func(doc map[string]any)) []byte {
		var doc map[string]any
		if err := json.Unmarshal(w.DefaultTemplate(), &doc); err != nil {
			t.Fatal(err)
		}
		fn(doc)
		b, _ := json.Marshal(doc)
		return b
	}
	params := func(doc map[string]any) map[string]any { return doc["params"].(map[string]any) }
	tests := []struct {
		name  string
		body  []byte
		field string
	}{
		{"zero days", edit(func(d map[string]any) { params(d)["domestic_days"] = 0 }), "params"},
		{"bad holiday", edit(func(d map[string]any) { params(d)["holidays"] = []string{"2026-02-30"} }), "params.holidays[0]"},
		{"recheck too short", edit(func(d map[string]any) { params(d)["recheck"] = "10s" }), "params.recheck"},
		{"missing step", edit(func(d map[string]any) { d["steps"] = d["steps"].([]any)[:7] }), "steps"},
		{"wrong action", edit(func(d map[string]any) { d["steps"].([]any)[0].(map[string]any)["action"] = "notify_shop" }), "steps[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := playbook.ParseWith(stalledparcel.Name, tt.body, w)
			var fe *care.FieldError
			if !errors.As(err, &fe) || !strings.HasPrefix(fe.Field, tt.field) {
				t.Fatalf("err %v, want a field error on %s", err, tt.field)
			}
		})
	}
}

// TestSteps: every alert status has its own message and call.
func TestSteps(t *testing.T) {
	tpl, _ := defaultTemplate(t)
	for _, s := range []care.ShipmentStatus{"", care.ShipException, care.ShipAttemptFailed, care.ShipReturning} {
		m, c := stalledparcel.Steps(s)
		ms, _, ok1 := tpl.Step(m)
		cs, _, ok2 := tpl.Step(c)
		if !ok1 || !ok2 || ms.Action != playbook.ActionMessage || cs.Action != playbook.ActionCall || cs.Tag != care.TagLogistics {
			t.Errorf("status %q: steps %q %q", s, m, c)
		}
	}
}
