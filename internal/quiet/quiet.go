// Package quiet holds the markets' default sending hours per channel and
// message class, in the recipient's local time: when a message may reach a
// buyer whatever the shop's template says. A template's own quiet hours
// apply on top (they can only make sending stricter, never looser). A
// message due outside its window is deferred to the window's next opening,
// never dropped.
package quiet

import "time"

// Window is the daily period a message may be sent, as minutes after local
// midnight: From inclusive, To exclusive (From < To).
type Window struct{ From, To int }

// Default windows.
var (
	// US: texts only 08:00-21:00 recipient time (TCPA's calling hours, the
	// carriers' rule for texts), whatever their class.
	usSMS = Window{8 * 60, 21 * 60}
	// China: no marketing 21:00-08:00, on any channel that reaches a phone
	// or inbox.
	cnMarketing = Window{8 * 60, 21 * 60}
)

// Allowed returns the window a message on channel of the given class to a
// buyer in region (ISO 3166-1, upper case) must go in; ok false when the
// market sets none.
func Allowed(region, channel string, marketing bool) (w Window, ok bool) {
	switch {
	case (region == "US" || region == "CA") && channel == "sms":
		return usSMS, true
	case region == "CN" && marketing && channel != "outbox":
		return cnMarketing, true
	}
	return Window{}, false
}

// Next returns at when it falls inside w in loc, else the window's next
// opening (today's or tomorrow's From) in loc.
func Next(at time.Time, loc *time.Location, w Window) time.Time {
	l := at.In(loc)
	tod := l.Hour()*60 + l.Minute()
	switch {
	case tod < w.From:
		return time.Date(l.Year(), l.Month(), l.Day(), w.From/60, w.From%60, 0, 0, loc)
	case tod >= w.To:
		return time.Date(l.Year(), l.Month(), l.Day()+1, w.From/60, w.From%60, 0, 0, loc)
	}
	return at
}
