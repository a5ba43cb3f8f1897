package care

import (
	"fmt"
	"time"
)

// ServiceHours are when a shop's agents work: for each weekday, the periods
// (shop-local "HH:MM" to "HH:MM", in the shop's Timezone) in which call
// tasks are worked. A weekday without periods is closed. A shop that set
// none works DefaultServiceHours.
type ServiceHours struct {
	Mon []Period `json:"mon"`
	Tue []Period `json:"tue"`
	Wed []Period `json:"wed"`
	Thu []Period `json:"thu"`
	Fri []Period `json:"fri"`
	Sat []Period `json:"sat"`
	Sun []Period `json:"sun"`
}

// Period is one service period of a day: From inclusive, To exclusive,
// "HH:MM" with From before To; To may be "24:00" (until midnight).
type Period struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// MaxPeriods bounds the periods of one day.
const MaxPeriods = 8

// DefaultServiceHours returns the hours of a shop that set none: 09:00 to
// 21:00 every day.
func DefaultServiceHours() ServiceHours {
	day := func() []Period { return []Period{{From: "09:00", To: "21:00"}} }
	return ServiceHours{Mon: day(), Tue: day(), Wed: day(), Thu: day(), Fri: day(), Sat: day(), Sun: day()}
}

// HoursOf returns the shop's service hours: its own, else the default.
func (s Shop) HoursOf() ServiceHours {
	if s.ServiceHours != nil {
		return *s.ServiceHours
	}
	return DefaultServiceHours()
}

// days returns the periods by time.Weekday (Sunday = 0) and the JSON names.
func (h *ServiceHours) days() [7]*[]Period {
	return [7]*[]Period{&h.Sun, &h.Mon, &h.Tue, &h.Wed, &h.Thu, &h.Fri, &h.Sat}
}

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// clockMinutes parses "HH:MM" (00:00..24:00) into minutes after midnight.
func clockMinutes(s string) (int, bool) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

// Validate checks the hours and names the first bad field under prefix
// (e.g. "mon[1].to"): every time is "HH:MM" (To may be "24:00"), From is
// before To, a day's periods are in order and do not overlap, a day has
// at most MaxPeriods, and the week has at least one period.
func (h ServiceHours) Validate(prefix string) error {
	if prefix != "" {
		prefix += "."
	}
	total := 0
	days := h.days()
	for _, wd := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		ps, name := *days[wd], dayNames[wd]
		if len(ps) > MaxPeriods {
			return Invalid(prefix+name, "at most %d periods a day", MaxPeriods)
		}
		prevEnd := -1
		for i, p := range ps {
			field := fmt.Sprintf("%s%s[%d]", prefix, name, i)
			from, ok := clockMinutes(p.From)
			if !ok || from == 24*60 {
				return Invalid(field+".from", "must be a time HH:MM from 00:00 to 23:59, not %q", p.From)
			}
			to, ok := clockMinutes(p.To)
			if !ok || to == 0 {
				return Invalid(field+".to", "must be a time HH:MM from 00:01 to 24:00, not %q", p.To)
			}
			if to <= from {
				return Invalid(field+".to", "%s is not after from %s", p.To, p.From)
			}
			if from < prevEnd {
				return Invalid(field+".from", "%s overlaps or precedes the period before (until %s)", p.From, ps[i-1].To)
			}
			prevEnd = to
			total += to - from
		}
	}
	if total == 0 {
		return Invalid(prefix+"mon", "the week needs at least one service period")
	}
	return nil
}

// periodsOn returns the service periods of the local day that starts at
// midnight (a local midnight in loc), as absolute times.
func (h ServiceHours) periodsOn(midnight time.Time, loc *time.Location) [][2]time.Time {
	days := h.days()
	ps := *days[midnight.Weekday()]
	out := make([][2]time.Time, 0, len(ps))
	y, m, d := midnight.Date()
	for _, p := range ps {
		from, ok1 := clockMinutes(p.From)
		to, ok2 := clockMinutes(p.To)
		if !ok1 || !ok2 || to <= from {
			continue // Validate refuses these; stored hours are valid
		}
		// time.Date normalises 24:00 to the next midnight and handles DST gaps.
		out = append(out, [2]time.Time{
			time.Date(y, m, d, from/60, from%60, 0, 0, loc),
			time.Date(y, m, d, to/60, to%60, 0, 0, loc),
		})
	}
	return out
}

// horizon bounds the scan for the next service period (hours with at least
// one period find one within a week).
const horizon = 8

// NextOpen returns t when it is inside a service period, else the start of
// the next one; ok is false when there is none within a week (hours with
// no period, which Validate refuses). loc is the shop's zone (nil = UTC).
func (h ServiceHours) NextOpen(t time.Time, loc *time.Location) (time.Time, bool) {
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	for i := 0; i < horizon; i++ {
		for _, p := range h.periodsOn(day.AddDate(0, 0, i), loc) {
			if t.Before(p[1]) {
				if t.Before(p[0]) {
					return p[0], true
				}
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// Add returns the moment d of service time after t: the SLA due time of a
// task raised at t. Time outside service periods does not count. ok is
// false when the hours have no period (Validate refuses those).
func (h ServiceHours) Add(t time.Time, d time.Duration, loc *time.Location) (time.Time, bool) {
	if loc == nil {
		loc = time.UTC
	}
	cur := t
	for d > 0 {
		open, ok := h.NextOpen(cur, loc)
		if !ok {
			return time.Time{}, false
		}
		end := h.periodEnd(open, loc)
		if left := end.Sub(open); d <= left {
			return open.Add(d), true
		} else {
			d -= left
		}
		cur = end
	}
	return cur, true
}

// Between returns the service time in [from, to).
func (h ServiceHours) Between(from, to time.Time, loc *time.Location) time.Duration {
	if loc == nil {
		loc = time.UTC
	}
	var sum time.Duration
	cur := from
	for cur.Before(to) {
		open, ok := h.NextOpen(cur, loc)
		if !ok || !open.Before(to) {
			break
		}
		end := h.periodEnd(open, loc)
		if end.After(to) {
			end = to
		}
		sum += end.Sub(open)
		cur = end
	}
	return sum
}

// periodEnd is the end of the service period containing t (t is inside
// one), extended across periods that touch (21:00-24:00 then 00:00-02:00).
func (h ServiceHours) periodEnd(t time.Time, loc *time.Location) time.Time {
	lt := t.In(loc)
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	end := t
	for i := 0; i < horizon; i++ {
		extended := false
		for _, p := range h.periodsOn(day.AddDate(0, 0, i), loc) {
			if !p[0].After(end) && p[1].After(end) {
				end, extended = p[1], true
			}
		}
		if !extended && i > 0 {
			break
		}
	}
	return end
}

// Before returns the latest moment m at or before end with d of service
// time in [m, end): where a task needing d of work must be raised to be
// done by end. ok is false when the week before end has less than d.
func (h ServiceHours) Before(end time.Time, d time.Duration, loc *time.Location) (time.Time, bool) {
	if loc == nil {
		loc = time.UTC
	}
	if d <= 0 {
		return end, true
	}
	le := end.In(loc)
	day := time.Date(le.Year(), le.Month(), le.Day(), 0, 0, 0, 0, loc)
	for i := 0; i < horizon; i++ {
		ps := h.periodsOn(day.AddDate(0, 0, -i), loc)
		for j := len(ps) - 1; j >= 0; j-- {
			from, to := ps[j][0], ps[j][1]
			if !from.Before(end) {
				continue
			}
			if to.After(end) {
				to = end
			}
			if left := to.Sub(from); d <= left {
				return to.Add(-d), true
			} else {
				d -= left
			}
			end = from
		}
	}
	return time.Time{}, false
}
