package httpapi

import (
	"net/http"
	"slices"

	"github.com/ordercare/ordercare/internal/care"
)

// ShopsPage is the answer to GET /v1/shops.
type ShopsPage struct {
	Shops []care.Shop `json:"shops"`
	Next  string      `json:"next_cursor,omitempty"` // cursor of the next page, absent at the end
}

// OrdersPage is the answer to GET /v1/orders.
type OrdersPage struct {
	Orders []care.OrderState `json:"orders"`
	Next   string            `json:"next_cursor,omitempty"`
}

// NewKeyResponse is the answer to POST /v1/shops/{shop}/keys/{role}: the
// new key, shown this once.
type NewKeyResponse struct {
	ShopID string    `json:"shop_id"`
	Role   care.Role `json:"role"`
	Key    string    `json:"key"`
}

// orderStatuses are the values GET /v1/orders?status= takes.
var orderStatuses = []care.Status{care.StatusCreated, care.StatusPaid, care.StatusShipped,
	care.StatusDelivered, care.StatusCompleted, care.StatusCancelled}

var runStatuses = []care.RunStatus{care.RunScheduled, care.RunRunning, care.RunSucceeded, care.RunStopped, care.RunFailed}

// listShops is GET /v1/shops?cursor=&limit= (admin): every shop by id.
func (s *Server) listShops(w http.ResponseWriter, r *http.Request) {
	err := s.requireAdmin(r)
	q := r.URL.Query()
	limit := 100
	if err == nil {
		limit, err = parseLimit(q, 100)
	}
	var page ShopsPage
	if err == nil {
		page.Shops, page.Next, err = s.store.ListShops(r.Context(), q.Get("cursor"), limit)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if page.Shops == nil {
		page.Shops = []care.Shop{}
	}
	writeJSON(w, http.StatusOK, page)
}

// reissueKey is POST /v1/shops/{shop}/keys/{role} (admin): a new ops or
// agent key replaces every older key of that role, which stop working at once.
func (s *Server) reissueKey(w http.ResponseWriter, r *http.Request) {
	err := s.requireAdmin(r)
	shopID, role := r.PathValue("shop"), care.Role(r.PathValue("role"))
	if err == nil && role != care.RoleOps && role != care.RoleAgent {
		err = care.Invalid("role", "must be ops or agent")
	}
	resp := NewKeyResponse{ShopID: shopID, Role: role, Key: "ock_" + string(role) + "_" + randomToken(32)}
	if err == nil {
		err = s.store.ReplaceKeys(r.Context(), care.APIKey{Hash: care.HashKey(resp.Key), ShopID: shopID, Role: role})
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "key reissued", "shop", shopID, "role", string(role))
	writeJSON(w, http.StatusCreated, resp)
}

// listOrders is GET /v1/orders?status=&cursor=&limit=: the shop's orders,
// most recently updated first.
func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps, care.RoleAgent)
	q := r.URL.Query()
	f := care.OrderFilter{Status: care.Status(q.Get("status"))}
	if err == nil && f.Status != "" && !slices.Contains(orderStatuses, f.Status) {
		err = care.Invalid("status", "must be one of created, paid, shipped, delivered, completed, cancelled")
	}
	limit := 100
	if err == nil {
		limit, err = parseLimit(q, 100)
	}
	var page OrdersPage
	if err == nil {
		page.Orders, page.Next, err = s.store.ListOrders(r.Context(), shopID, f, q.Get("cursor"), limit)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if page.Orders == nil {
		page.Orders = []care.OrderState{}
	}
	writeJSON(w, http.StatusOK, page)
}

// listRecentRuns is GET /v1/runs without order: the shop's runs, most
// recently started first, filtered by ?workflow= and ?status=.
func (s *Server) listRecentRuns(w http.ResponseWriter, r *http.Request, shopID string) {
	q := r.URL.Query()
	f := care.RunFilter{Workflow: care.Workflow(q.Get("workflow")), Status: care.RunStatus(q.Get("status"))}
	var err error
	switch {
	case f.Workflow != "" && !s.known(f.Workflow):
		err = care.Invalid("workflow", "unknown workflow %q", f.Workflow)
	case f.Status != "" && !slices.Contains(runStatuses, f.Status):
		err = care.Invalid("status", "must be one of running, succeeded, stopped, failed")
	}
	limit := 100
	if err == nil {
		limit, err = parseLimit(q, 100)
	}
	var page RunsPage
	if err == nil {
		page.Runs, page.Next, err = s.store.ListRecentRuns(r.Context(), shopID, f, q.Get("cursor"), limit)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if page.Runs == nil {
		page.Runs = []care.Run{}
	}
	writeJSON(w, http.StatusOK, page)
}

// listRecentMessages is GET /v1/messages with no from, since or to: the
// shop's ledger newest first.
func (s *Server) listRecentMessages(w http.ResponseWriter, r *http.Request, shopID string) {
	q := r.URL.Query()
	limit, err := parseLimit(q, 100)
	var page MessagesPage
	if err == nil {
		page.Messages, page.Next, err = s.store.ListRecentMessages(r.Context(), shopID, q.Get("cursor"), limit)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if page.Messages == nil {
		page.Messages = []care.Message{}
	}
	writeJSON(w, http.StatusOK, page)
}

// known reports whether wf is a registered workflow.
func (s *Server) known(wf care.Workflow) bool {
	_, ok := s.workflows.Get(wf)
	return ok
}
