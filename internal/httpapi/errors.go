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
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *apiError) Error() string { return e.Message }

func errStatus(status int, code, msg string) *apiError {
	return &apiError{Status: status, Code: code, Message: msg}
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
