package httpapi

import (
	"net/http"
	"strconv"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/queue"
)

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	p, err := s.shopPrincipal(r, "", care.RoleOps, care.RoleAgent)
	var o care.OrderState
	if err == nil {
		o, err = s.store.GetOrder(r.Context(), p.ShopID, r.PathValue("id"))
	}
	if err == nil {
		o, err = s.redactOrder(r, p, o)
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

// redactOrder hides the buyer's contact and the street address from an agent
// with an identity (personal key or console session) unless that agent holds
// a claimed task of the order.
func (s *Server) redactOrder(r *http.Request, p principal, o care.OrderState) (care.OrderState, error) {
	if p.Role != care.RoleAgent || p.AgentID == "" {
		return o, nil
	}
	tasks, err := s.store.ListTasks(r.Context(), p.ShopID, care.TaskFilter{OrderID: o.Order.ID, Statuses: []care.TaskStatus{care.TaskClaimed}})
	if err != nil {
		return o, err
	}
	now := s.now()
	for _, t := range tasks {
		if v := queue.Effective(t, now); v.Status == care.TaskClaimed && v.Agent == p.AgentID {
			return o, nil
		}
	}
	if b := o.Order.Buyer; b != nil {
		nb := *b
		nb.Name, nb.Phone, nb.Email = "", "", ""
		o.Order.Buyer = &nb
	}
	if a := o.Order.ShippingAddress; a != nil {
		na := *a
		na.Name, na.Phone, na.Line1, na.Line2, na.PostalCode = "", "", "", "", ""
		o.Order.ShippingAddress = &na
	}
	return o, nil
}
