package httpapi

import (
	"net/http"
	"strconv"

	"github.com/ordercare/ordercare/internal/care"
)

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps, care.RoleAgent)
	var o care.OrderState
	if err == nil {
		o, err = s.store.GetOrder(r.Context(), shopID, r.PathValue("id"))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

// EventsPage is the answer to GET /v1/orders/{id}/events.
type EventsPage struct {
	Events []care.RecordedEvent `json:"events"`
	Next   string               `json:"next,omitempty"` // cursor of the next page, absent at the end
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps, care.RoleAgent)
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" && err == nil {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 || n > 1000 {
			err = care.Invalid("limit", "must be an integer from 1 to 1000")
		}
		limit = n
	}
	var page EventsPage
	if err == nil {
		page.Events, page.Next, err = s.store.ListEvents(r.Context(), shopID, r.PathValue("id"), r.URL.Query().Get("cursor"), limit)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if page.Events == nil {
		page.Events = []care.RecordedEvent{}
	}
	writeJSON(w, http.StatusOK, page)
}
