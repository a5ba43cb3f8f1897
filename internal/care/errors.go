package care

import (
	"errors"
	"fmt"
)

// The closed set of domain errors. Adapters translate their own failures into
// these at the edge; callers test with errors.Is.
var (
	// ErrNotFound: the thing asked for does not exist (or belongs to another shop).
	ErrNotFound = errors.New("not found")
	// ErrConflict: a create-if-absent or versioned write lost against existing state.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the input is malformed; see FieldError for the field and reason.
	ErrInvalid = errors.New("invalid")
	// ErrRejected: a well-formed event that the order cannot take; see RejectError.
	ErrRejected = errors.New("rejected")
	// ErrUnauthorized: a missing or wrong signature, key or token, or a stale timestamp.
	ErrUnauthorized = errors.New("unauthorized")
)

// FieldError reports which field of an input is wrong and why. It matches ErrInvalid.
type FieldError struct {
	Field  string // JSON path of the field, e.g. "order.buyer.phone"; "" for the whole body
	Reason string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return "invalid: " + e.Reason
	}
	return fmt.Sprintf("invalid %s: %s", e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Invalid returns a *FieldError.
func Invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// RejectError says why an order cannot take an otherwise valid event, or
// why a delivery's signed body does not support the event its (unsigned)
// topic header claims, or why a well-formed care template breaks a
// compliance rule (the review lint); Field, when set, names the body field
// that decided.
// It matches ErrRejected.
type RejectError struct {
	Reason string
	Field  string
}

func (e *RejectError) Error() string { return "rejected: " + e.Reason }

// Is makes errors.Is(err, ErrRejected) true.
func (e *RejectError) Is(target error) bool { return target == ErrRejected }

func reject(format string, args ...any) error {
	return &RejectError{Reason: fmt.Sprintf(format, args...)}
}

// RejectField returns a *RejectError naming the field that decided.
func RejectField(field, format string, args ...any) error {
	return &RejectError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
