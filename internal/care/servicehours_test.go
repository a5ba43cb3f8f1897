package care_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

var cst = time.FixedZone("CST", 8*3600)

// local is a shop-local time on 2026-11-11 (a Wednesday) plus days.
func local(days, h, m int) time.Time { return time.Date(2026, 11, 11+days, h, m, 0, 0, cst) }

func TestServiceHoursValidate(t *testing.T) {
	weekdays := []care.Period{{From: "09:00", To: "12:00"}, {From: "13:00", To: "18:00"}}
	tests := []struct {
		name  string
		h     care.ServiceHours
		field string // "" = valid
	}{
		{"default", care.DefaultServiceHours(), ""},
		{"split days", care.ServiceHours{Mon: weekdays, Fri: weekdays}, ""},
		{"until midnight", care.ServiceHours{Sat: []care.Period{{From: "20:00", To: "24:00"}}}, ""},
		{"closed all week", care.ServiceHours{}, "hours.mon"},
		{"bad from", care.ServiceHours{Tue: []care.Period{{From: "9:00", To: "12:00"}}}, "hours.tue[0].from"},
		{"from 24:00", care.ServiceHours{Tue: []care.Period{{From: "24:00", To: "24:00"}}}, "hours.tue[0].from"},
		{"bad to", care.ServiceHours{Wed: []care.Period{{From: "09:00", To: "25:00"}}}, "hours.wed[0].to"},
		{"minutes out of range", care.ServiceHours{Wed: []care.Period{{From: "09:60", To: "10:00"}}}, "hours.wed[0].from"},
		{"to before from", care.ServiceHours{Thu: []care.Period{{From: "18:00", To: "09:00"}}}, "hours.thu[0].to"},
		{"overlap", care.ServiceHours{Fri: []care.Period{{From: "09:00", To: "12:00"}, {From: "11:00", To: "13:00"}}}, "hours.fri[1].from"},
		{"too many", care.ServiceHours{Sun: make([]care.Period, care.MaxPeriods+1)}, "hours.sun"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.h.Validate("hours")
			var fe *care.FieldError
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("Validate: %v, want valid", err)
			case tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field):
				t.Errorf("Validate: %v, want a FieldError on %s", err, tt.field)
			}
		})
	}
}

func TestServiceHoursTime(t *testing.T) {
	def := care.DefaultServiceHours()
	weekdays := care.ServiceHours{}
	for _, d := range []*[]care.Period{&weekdays.Mon, &weekdays.Tue, &weekdays.Wed, &weekdays.Thu, &weekdays.Fri} {
		*d = []care.Period{{From: "09:00", To: "12:00"}, {From: "13:00", To: "18:00"}}
	}
	night := care.ServiceHours{Wed: []care.Period{{From: "20:00", To: "24:00"}}, Thu: []care.Period{{From: "00:00", To: "02:00"}}}
	tests := []struct {
		name string
		h    care.ServiceHours
		at   time.Time
		sla  time.Duration
		open time.Time // NextOpen(at)
		due  time.Time // Add(at, sla)
	}{
		{"inside", def, local(0, 10, 0), 2 * time.Hour, local(0, 10, 0), local(0, 12, 0)},
		{"21:05 with a 2 h SLA is due 11:00 next day", def, local(0, 21, 5), 2 * time.Hour, local(1, 9, 0), local(1, 11, 0)},
		{"spills over the evening", def, local(0, 20, 0), 2 * time.Hour, local(0, 20, 0), local(1, 10, 0)},
		{"before opening", def, local(0, 6, 30), 30 * time.Minute, local(0, 9, 0), local(0, 9, 30)},
		{"over lunch", weekdays, local(0, 11, 0), 2 * time.Hour, local(0, 11, 0), local(0, 14, 0)},
		{"friday evening to monday", weekdays, local(2, 17, 0), 4 * time.Hour, local(2, 17, 0), local(5, 12, 0)},
		{"across midnight", night, local(0, 23, 0), 2 * time.Hour, local(0, 23, 0), local(1, 1, 0)},
		{"zero SLA outside hours", def, local(0, 22, 0), 0, local(1, 9, 0), local(0, 22, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			open, ok := tt.h.NextOpen(tt.at, cst)
			if !ok || !open.Equal(tt.open) {
				t.Errorf("NextOpen = %v %v, want %v", open, ok, tt.open)
			}
			due, ok := tt.h.Add(tt.at, tt.sla, cst)
			if !ok || !due.Equal(tt.due) {
				t.Errorf("Add = %v %v, want %v", due, ok, tt.due)
			}
			if got := tt.h.Between(tt.at, due, cst); tt.sla > 0 && got != tt.sla {
				t.Errorf("Between(at, due) = %v, want the SLA %v", got, tt.sla)
			}
		})
	}
	if _, ok := (care.ServiceHours{}).NextOpen(local(0, 9, 0), cst); ok {
		t.Errorf("NextOpen found a period in hours with none")
	}
	if got := def.Between(local(0, 21, 5), local(1, 9, 5), cst); got != 5*time.Minute {
		t.Errorf("service time from 21:05 to 09:05 next day = %v, want 5m", got)
	}
}

func TestServiceHoursBefore(t *testing.T) {
	def := care.DefaultServiceHours()
	tests := []struct {
		name string
		end  time.Time
		d    time.Duration
		want time.Time
	}{
		{"inside", local(0, 15, 0), 2 * time.Hour, local(0, 13, 0)},
		{"at closing", local(0, 21, 0), 2 * time.Hour, local(0, 19, 0)},
		{"at night", local(1, 3, 0), 2 * time.Hour, local(0, 19, 0)},
		{"across the night", local(1, 10, 0), 2 * time.Hour, local(0, 20, 0)},
		{"zero", local(1, 3, 0), 0, local(1, 3, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := def.Before(tt.end, tt.d, cst)
			if !ok || !got.Equal(tt.want) {
				t.Errorf("Before = %v %v, want %v", got, ok, tt.want)
			}
			if tt.d > 0 && def.Between(got, tt.end, cst) != tt.d {
				t.Errorf("Between(Before, end) = %v, want %v", def.Between(got, tt.end, cst), tt.d)
			}
		})
	}
	if _, ok := (care.ServiceHours{}).Before(local(0, 9, 0), time.Hour, cst); ok {
		t.Errorf("Before found service time in hours with none")
	}
}
