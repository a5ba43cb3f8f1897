package steps

import "github.com/ordercare/ordercare/internal/care"

// Subjects is a workflow that runs per subject of an order rather than once
// per order: per parcel (the subject is the parcel's tracking number, and
// the run's Env.Parcel is that parcel) or per group of parcels (a subject
// the workflow names, e.g. a digest group id). The router never starts an
// order-level run of it (Wants is not asked); it starts one run per subject,
// each with its own execution name (RunRef.Execution), ledger ids
// (RunRef.Key) and care.Run.
type Subjects interface {
	// Subjects lists the subjects of the order that want a run, from the
	// order as it is after event e was applied. The router asks on every
	// change of an order that is neither a test order nor cancelled, and
	// starts a run for each subject that has none (a subject listed again,
	// on a redelivery or a later event, starts nothing), so a subject may
	// appear on whichever event reveals it, in any arrival order. A subject
	// is not empty and at most MaxSubject bytes; others are skipped.
	Subjects(o care.OrderState, e care.Event) []string
	// SubjectPointless says why the run about subject has no reason to go
	// on (a skip reason, e.g. a delivered parcel), "" while it has. The
	// router stops that run only; Pointless(o) still stops every run of the
	// workflow, and cancellation stops every run of the order. A subject
	// that is pointless already when listed gets no run.
	SubjectPointless(o care.OrderState, subject string) string
}

// MaxSubject is the longest subject, in bytes (care.Run.Subject is part of
// the stores' keys).
const MaxSubject = 200

// AwaitKey is the care.Waits key a run waits on for what an Awaiter's
// AwaitKey names: base for an order-level run, base + "#" + subject for a
// per-subject run, so each run of the order waits on its own key.
func (r RunRef) AwaitKey(base string) string {
	if r.Subject == "" {
		return base
	}
	return base + "#" + r.Subject
}
