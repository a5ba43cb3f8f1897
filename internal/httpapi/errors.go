package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/queue"
)

// apiError is an error with the HTTP status and code it is answered with.
//
// The JSON shape is {"code","message","field"?,"reason"?,"args"?}: code is
// the stable class (ErrorCodes), field the JSON path of the offending field,
// message the English explanation for people reading curl output. Reason,
// when set, is a stable finer code (ErrorReasons) a client translates
// instead of the message, with Args the values its text names (an agent id,
// an RFC 3339 time). Fields are only ever added to this shape.
type apiError struct {
	Status  int               `json:"-"`
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Field   string            `json:"field,omitempty"`
	Reason  string            `json:"reason,omitempty"`
	Args    map[string]string `json:"args,omitempty"`
}

func (e *apiError) Error() string { return e.Message }

func errStatus(status int, code, msg string) *apiError {
	return &apiError{Status: status, Code: code, Message: msg}
}

// errReason is errStatus with a finer reason code (one of ErrorReasons).
func errReason(status int, code, reason, msg string) *apiError {
	return &apiError{Status: status, Code: code, Reason: reason, Message: msg}
}

// ErrorCodes are the values of an error answer's "code": stable, and the
// keys clients (the console's catalogue) translate errors by, with the field.
var ErrorCodes = []string{"invalid", "rejected", "unauthorized", "forbidden", "csrf", "not_found", "conflict",
	"precondition_failed", "too_large", "unsupported_media_type", "resume_pending", "internal",
	"too_many_requests", "unavailable", "not_implemented"}

// ErrorReasons are the values of an error answer's "reason", each under
// the code it comes with ("conflict.task_held"): a finer, stable cause a
// client translates in place of the English message.
var ErrorReasons = []string{
	"unauthorized.session_expired", "unauthorized.account_closed", "unauthorized.key_replaced",
	"unauthorized.not_signed_in", "unauthorized.agent_inactive", "unauthorized.unknown_key",
	"forbidden.admin_no_session", "forbidden.personal_key", "forbidden.other_agent",
	"conflict.task_held", "conflict.task_done", "conflict.task_cancelled", "conflict.task_delivering",
	"conflict.agent_exists", "conflict.clock_backwards",
	"not_found.unknown_workflow", "not_found.unknown_source", "not_found.order",
	"precondition_failed.stale_version",
	"too_many_requests.streams", "unavailable.shutting_down", "not_implemented.no_streaming",
}

var (
	errNotFound     = errStatus(http.StatusNotFound, "not_found", "not found")
	errUnauthorized = errStatus(http.StatusUnauthorized, "unauthorized", "missing or invalid bearer token")
	errForbidden    = errStatus(http.StatusForbidden, "forbidden", "this key may not do that")
)

// writeError answers err, translating domain errors at the edge. Unexpected
// errors are logged with their detail and answered with a bare 500.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var fe *care.FieldError
	var re *care.RejectError
	var resume *queue.ResumeError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &resume):
		s.log.WarnContext(r.Context(), "task outcome not resumed", "route", r.Pattern, "err", err)
		ae = &apiError{Status: http.StatusServiceUnavailable, Code: "resume_pending",
			Message: "the outcome is saved, but the workflow could not be resumed yet: send the same completion again"}
	case errors.As(err, &fe):
		ae = &apiError{Status: http.StatusBadRequest, Code: "invalid", Message: fe.Reason, Field: fe.Field}
	case errors.As(err, &re):
		ae = &apiError{Status: http.StatusUnprocessableEntity, Code: "rejected", Message: re.Reason, Field: re.Field}
	case errors.Is(err, care.ErrNotFound):
		ae = errNotFound
	case errors.Is(err, care.ErrUnauthorized):
		ae = &apiError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: err.Error()}
	case errors.Is(err, care.ErrConflict):
		ae = &apiError{Status: http.StatusConflict, Code: "conflict", Message: err.Error()}
	case errors.Is(err, care.ErrInvalid):
		ae = &apiError{Status: http.StatusBadRequest, Code: "invalid", Message: err.Error()}
	default:
		s.log.ErrorContext(r.Context(), "request failed", "route", r.Pattern, "err", err)
		ae = errStatus(http.StatusInternalServerError, "internal", "internal error")
	}
	writeJSON(w, ae.Status, map[string]any{"error": ae})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// slogDiscard is used when no logger is configured.
var slogDiscard = slog.New(slog.DiscardHandler)
