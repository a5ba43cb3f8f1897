package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
)

// DevClock is a virtual clock the whole runtime follows. AdvanceTo moves
// it to t (never backwards: clock.ErrBackwards) and returns once everything
// due by t has run.
type DevClock interface {
	Now() time.Time
	AdvanceTo(ctx context.Context, t time.Time) error
}

// devClock serves GET and POST /v1/dev/clock for the admin token: POST
// {"advance":"90m"} or {"to": RFC 3339} moves the virtual clock (never
// backwards: 409) and answers once the runtime has caught up with the new
// time (workflows run, timers fire); both answer {"now": …}.
func (s *Server) devClock(w http.ResponseWriter, r *http.Request, vc DevClock) {
	err := s.requireAdmin(r)
	if err == nil && r.Method == http.MethodPost {
		err = moveClock(r, vc)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]time.Time{"now": vc.Now()})
}

func moveClock(r *http.Request, vc DevClock) error {
	var req struct {
		Advance string    `json:"advance"`
		To      time.Time `json:"to"`
	}
	if err := decodeStrict(r, &req); err != nil {
		return err
	}
	switch {
	case req.Advance != "" && !req.To.IsZero():
		return care.Invalid("advance", "give advance or to, not both")
	case req.Advance != "":
		d, err := time.ParseDuration(req.Advance)
		if err != nil || d < 0 {
			return care.Invalid("advance", "a non-negative Go duration such as 90m or 36h")
		}
		return vc.AdvanceTo(r.Context(), vc.Now().Add(d))
	case !req.To.IsZero():
		if err := vc.AdvanceTo(r.Context(), req.To); errors.Is(err, clock.ErrBackwards) {
			return &apiError{Status: http.StatusConflict, Code: "conflict", Field: "to", Reason: "clock_backwards", Message: "virtual time never moves backwards"}
		} else if err != nil {
			return err
		}
		return nil
	}
	return care.Invalid("advance", "give advance (duration) or to (RFC 3339)")
}
