package stalledparcel

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

// The step ids of a stalled_parcel template: per alert status, a message
// with the status's name and a call with "_call" appended.
const (
	StepStall = "stall" // message: the shop is following up with the carrier
	StepChase = "chase" // call: an agent chases the carrier
)

// Steps returns the message and call step ids for an alert status (""
// for a stall).
func Steps(alert care.ShipmentStatus) (message, call string) {
	if alert == "" {
		return StepStall, StepChase
	}
	return string(alert), string(alert) + "_call"
}

//go:embed params.schema.json
var paramsSchemaDoc []byte

var paramsSchema = playbook.MustParamsSchema("https://ordercare.dev/schemas/stalled_parcel.params.schema.json", paramsSchemaDoc)

// Params are the params of a stalled_parcel template (params.schema.json).
type Params struct {
	DomesticDays    int               `json:"domestic_days"`
	CrossBorderDays int               `json:"cross_border_days"`
	HomeCountry     string            `json:"home_country,omitempty"`
	Carriers        []Carrier         `json:"carriers,omitempty"`
	Holidays        []string          `json:"holidays,omitempty"`
	Recheck         playbook.Duration `json:"recheck"`
}

// Carrier overrides the thresholds for one carrier (0: the general one).
type Carrier struct {
	Carrier         string `json:"carrier"`
	DomesticDays    int    `json:"domestic_days,omitempty"`
	CrossBorderDays int    `json:"cross_border_days,omitempty"`
}

// ParseParams implements steps.ParamsParser: the schema, valid holiday
// dates, a positive recheck, and the steps stall/chase and each alert's
// message and call.
func (Workflow) ParseParams(raw json.RawMessage, t *playbook.Template) (any, error) {
	var p Params
	if err := paramsSchema.Decode(raw, &p); err != nil {
		return nil, err
	}
	if p.Recheck < playbook.Duration(time.Minute) {
		return nil, care.Invalid("params.recheck", "must be at least 1m")
	}
	for i, d := range p.Holidays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, care.Invalid(fmt.Sprintf("params.holidays[%d]", i), "%q is not a date", d)
		}
	}
	want := map[string]playbook.Action{}
	for _, a := range append([]care.ShipmentStatus{""}, alerts...) {
		m, c := Steps(a)
		want[m], want[c] = playbook.ActionMessage, playbook.ActionCall
	}
	seen := map[string]bool{}
	for i, s := range t.Steps {
		path := fmt.Sprintf("steps[%d]", i)
		a, ok := want[s.ID]
		switch {
		case !ok:
			return nil, care.Invalid(path+".id", "%q is not a stalled_parcel step (stall, chase, exception, exception_call, attempt_failed, attempt_failed_call, returning, returning_call)", s.ID)
		case s.Action != a:
			return nil, care.Invalid(path+".action", "step %q of stalled_parcel must be a %s", s.ID, a)
		case s.After != 0 || s.BeforeCutoff != nil || s.BeforeDeadline != 0 || s.MinTotal != "":
			return nil, care.Invalid(path, "after, before_cutoff, before_deadline and min_total are not used by stalled_parcel")
		}
		seen[s.ID] = true
	}
	for id, a := range want {
		if !seen[id] {
			return nil, care.Invalid("steps", "stalled_parcel needs a step %q (%s)", id, a)
		}
	}
	return p, nil
}

// params returns the parsed params of t.
func params(t *playbook.Template) Params {
	p, _ := t.ParsedParams().(Params)
	return p
}

// Threshold is the business days without a scan after which parcel p of
// order o is stalled.
func (p Params) Threshold(o care.OrderState, pc *care.Parcel) int {
	cross := false
	if a := o.Order.ShippingAddress; a != nil && p.HomeCountry != "" && a.Country != "" && !strings.EqualFold(a.Country, p.HomeCountry) {
		cross = true
	}
	dom, xb := p.DomesticDays, p.CrossBorderDays
	for _, c := range p.Carriers {
		if pc != nil && strings.EqualFold(strings.TrimSpace(c.Carrier), strings.TrimSpace(pc.Carrier)) {
			if c.DomesticDays > 0 {
				dom = c.DomesticDays
			}
			if c.CrossBorderDays > 0 {
				xb = c.CrossBorderDays
			}
			break
		}
	}
	if cross {
		return xb
	}
	return dom
}

// AddBusinessDays returns t plus n business days in loc: each day passed
// counts when its weekday has service hours and it is not a holiday; the
// time of day is kept. With no business day at all it is t plus n days.
func AddBusinessDays(t time.Time, n int, hours care.ServiceHours, holidays []string, loc *time.Location) time.Time {
	open := [7]bool{len(hours.Sun) > 0, len(hours.Mon) > 0, len(hours.Tue) > 0, len(hours.Wed) > 0,
		len(hours.Thu) > 0, len(hours.Fri) > 0, len(hours.Sat) > 0}
	any := false
	for _, o := range open {
		any = any || o
	}
	off := map[string]bool{}
	for _, h := range holidays {
		off[h] = true
	}
	d := t.In(loc)
	for i := 0; n > 0 && i < 3660; i++ {
		d = d.AddDate(0, 0, 1)
		if !any || (open[d.Weekday()] && !off[d.Format(time.DateOnly)]) {
			n--
		}
	}
	return d
}

// ParamsSchema implements steps.ParamsSchemer: params.schema.json.
func (Workflow) ParamsSchema() []byte { return paramsSchemaDoc }
