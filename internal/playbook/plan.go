package playbook

import (
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// Timing is what Plan needs to know about an order and the present.
type Timing struct {
	PlacedAt time.Time
	Now      time.Time
	// Deadline is when the run's reason to contact the buyer ends (its
	// workflow's steps.Deadliner: unpaid_chase's pay deadline); nil for none.
	Deadline *time.Time
	// Total is the order's total in the shop's currency ("" when unknown).
	Total care.Decimal
	// OtherCurrency says the order has a total, but only in another currency
	// than the shop's: a min_total step is skipped other_currency, since
	// thresholds are in the shop's currency and amounts are never converted.
	OtherCurrency bool
	// ShopLoc is the shop's zone (cut-off; quiet hours without BuyerLoc); nil means UTC.
	ShopLoc *time.Location
	// BuyerLoc is the buyer's zone for quiet hours; nil means ShopLoc.
	BuyerLoc *time.Location
	// LastSent is when the buyer was last sent a message about the order
	// (any workflow; notices to the shop do not count); zero for never.
	LastSent time.Time
	// Hours, when set, is the sending hours the template does not hold
	// (the market's, per channel and class: steps.Timing sets them): it
	// returns at, or the earliest time after it when a message on channels
	// of that class may reach the buyer. Plan applies it to every step
	// that reaches the buyer, after the template's quiet hours; it can
	// only defer a step, never drop one it would not drop anyway.
	Hours func(at time.Time, channels []string, marketing bool) time.Time
}

// Skip reasons.
const (
	SkipBelowThreshold = "below_threshold" // the order's total is below the step's min_total (or unknown)
	SkipOtherCurrency  = "other_currency"  // the order's total is in another currency than min_total's (the shop's)
	SkipDeadlinePassed = "deadline_passed" // the step would fall after deadline − before_deadline
	SkipCutoffPassed   = "cutoff_passed"   // a before_cutoff step can no longer happen before its cut-off
	// SkipMinGap: moved to keep the template's min_gap after the buyer's
	// last message, the step would pass its cut-off or deadline (unmoved,
	// it would not have).
	SkipMinGap = "min_gap"
)

// Skip is a step Plan passed over, and why.
type Skip struct {
	Step   string
	Reason string
}

// Next is the step to run next and when.
type Next struct {
	Step string
	At   time.Time
}

// Plan returns the next step to run after afterStep ("" = from the start)
// and when, plus the steps it passed over on the way, in list order. It is
// a pure function of the template and in.
//
// For each step after afterStep, in list order:
//   - min_total above the order's total (or an unknown total): skip below_threshold,
//     or other_currency when the order's only total is in another currency;
//   - at = PlacedAt + after; with before_cutoff, at = C − before_cutoff for
//     the earliest shop-local cut-off instant C with C − before_cutoff ≥
//     PlacedAt + after (it may be tomorrow or later);
//   - at = max(at, Now);
//   - a message step is moved to LastSent + Gap() (rounded up to a whole
//     second) when it would come sooner: two messages to one buyer never
//     bunch;
//   - message and call steps are moved out of quiet hours (the buyer's zone,
//     else the shop's) to the end of the quiet period; notify_shop steps are not;
//   - a before_cutoff step whose at is not before its C: skip cutoff_passed;
//   - with a Deadline: if at ≥ Deadline or at > Deadline − before_deadline:
//     skip deadline_passed;
//   - either skip is min_gap instead when only the move for the gap caused it;
//   - otherwise that step is next.
//
// next is nil when no step remains, also when afterStep is not a step of t.
func (t *Template) Plan(afterStep string, in Timing) (next *Next, skipped []Skip) {
	start := 0
	if afterStep != "" {
		_, i, ok := t.Step(afterStep)
		if !ok {
			return nil, nil
		}
		start = i + 1
	}
	shop := in.ShopLoc
	if shop == nil {
		shop = time.UTC
	}
	buyer := in.BuyerLoc
	if buyer == nil {
		buyer = shop
	}
	for _, s := range t.Steps[start:] {
		if s.MinTotal != "" && !atLeast(in.Total, s.MinTotal) {
			reason := SkipBelowThreshold
			if in.Total == "" && in.OtherCurrency {
				reason = SkipOtherCurrency
			}
			skipped = append(skipped, Skip{s.ID, reason})
			continue
		}
		at := in.PlacedAt.Add(s.After.Std())
		var cutoff time.Time
		withCutoff := s.BeforeCutoff != nil && t.cutoffMin >= 0
		if withCutoff {
			bc := s.BeforeCutoff.Std()
			cutoff = nextDaily(at.Add(bc), t.cutoffMin, shop)
			at = cutoff.Add(-bc)
		}
		if at.Before(in.Now) {
			at = in.Now
		}
		unmoved := at
		if s.Action == ActionMessage && !in.LastSent.IsZero() {
			if g := ceilSecond(in.LastSent.Add(t.Gap())); at.Before(g) {
				at = g
			}
		}
		reason := t.placeable(s, at, cutoff, withCutoff, buyer, in)
		if reason != "" && !at.Equal(unmoved) && t.placeable(s, unmoved, cutoff, withCutoff, buyer, in) == "" {
			reason = SkipMinGap
		}
		if reason != "" {
			skipped = append(skipped, Skip{s.ID, reason})
			continue
		}
		if s.Action != ActionNotifyShop {
			at = t.outOfHours(at, buyer, s, in)
		}
		return &Next{Step: s.ID, At: at}, skipped
	}
	return nil, skipped
}

// placeable says why step s cannot happen at at (before quiet hours move it),
// or "" when it can.
func (t *Template) placeable(s Step, at, cutoff time.Time, withCutoff bool, buyer *time.Location, in Timing) string {
	if s.Action != ActionNotifyShop {
		at = t.outOfHours(at, buyer, s, in)
	}
	if withCutoff && !at.Before(cutoff) {
		return SkipCutoffPassed
	}
	if in.Deadline != nil {
		deadline := *in.Deadline
		if !at.Before(deadline) || at.After(deadline.Add(-s.BeforeDeadline.Std())) {
			return SkipDeadlinePassed
		}
	}
	return ""
}

// outOfHours is at moved out of the template's quiet hours in buyer and,
// for a message step, out of in.Hours, until neither moves it.
func (t *Template) outOfHours(at time.Time, buyer *time.Location, s Step, in Timing) time.Time {
	at = t.OutOfQuiet(at, buyer)
	if in.Hours == nil || s.Action != ActionMessage {
		return at
	}
	for range 4 {
		next := t.OutOfQuiet(in.Hours(at, t.StepChannels(s), s.Marketing()), buyer)
		if next.Equal(at) {
			break
		}
		at = next
	}
	return at
}

// ceilSecond rounds t up to a whole second (Wait states wake on whole seconds).
func ceilSecond(t time.Time) time.Time {
	if u := t.Truncate(time.Second); !u.Equal(t) {
		return u.Add(time.Second)
	}
	return t
}

// nextDaily returns the earliest instant ≥ x whose wall clock in loc is
// min minutes after midnight (on a day where DST skips that time, the
// instant time.Date normalises it to).
func nextDaily(x time.Time, min int, loc *time.Location) time.Time {
	l := x.In(loc)
	for d := -1; ; d++ {
		c := time.Date(l.Year(), l.Month(), l.Day()+d, min/60, min%60, 0, 0, loc)
		if !c.Before(x) {
			return c
		}
	}
}

// InQuietHours reports whether instant at falls in the template's quiet hours in loc.
func (t *Template) InQuietHours(at time.Time, loc *time.Location) bool {
	return !t.OutOfQuiet(at, loc).Equal(at)
}

// OutOfQuiet returns at, or the end of the quiet period (in loc) it falls in.
func (t *Template) OutOfQuiet(at time.Time, loc *time.Location) time.Time {
	if t.QuietHours == nil || t.quietFrom == t.quietTo {
		return at
	}
	l := at.In(loc)
	tod := time.Duration(l.Hour())*time.Hour + time.Duration(l.Minute())*time.Minute +
		time.Duration(l.Second())*time.Second + time.Duration(l.Nanosecond())
	from := time.Duration(t.quietFrom) * time.Minute
	to := time.Duration(t.quietTo) * time.Minute
	end := func(dayOffset int) time.Time {
		return time.Date(l.Year(), l.Month(), l.Day()+dayOffset, t.quietTo/60, t.quietTo%60, 0, 0, loc)
	}
	var e time.Time
	if from < to {
		if tod >= from && tod < to {
			e = end(0)
		}
	} else {
		switch {
		case tod >= from:
			e = end(1)
		case tod < to:
			e = end(0)
		}
	}
	if e.IsZero() || !e.After(at) {
		return at
	}
	return e
}
