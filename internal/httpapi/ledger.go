package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/metrics"
)

// MessagesPage is the answer to GET /v1/messages and GET /v1/orders/{id}/messages.
type MessagesPage struct {
	Messages []care.Message `json:"messages"`
	Next     string         `json:"next_cursor,omitempty"` // cursor of the next page, absent at the end
}

// RunsPage is the answer to GET /v1/runs.
type RunsPage struct {
	Runs []care.Run `json:"runs"`
	Next string     `json:"next_cursor,omitempty"` // without ?order=: cursor of the next page, absent at the end
}

// DefaultWindow is the reporting window when a query gives no from (or since).
const DefaultWindow = 24 * time.Hour

// window reads from (alias since) and to as RFC 3339 times: to defaults to
// the server's now, from to to − DefaultWindow; to must be after from. A
// window that is empty or reversed is an error on from (or since) when to
// was not given, else on to.
func (s *Server) window(q url.Values) (from, to time.Time, err error) {
	to = s.now().UTC()
	if v := q.Get("to"); v != "" {
		if to, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return from, to, care.Invalid("to", "must be an RFC 3339 time")
		}
	}
	fv, field := q.Get("from"), "from"
	if sv := q.Get("since"); sv != "" {
		if fv != "" {
			return from, to, care.Invalid("since", "give from or since (its alias), not both")
		}
		fv, field = sv, "since"
	}
	from = to.Add(-DefaultWindow)
	if fv != "" {
		if from, err = time.Parse(time.RFC3339Nano, fv); err != nil {
			return from, to, care.Invalid(field, "must be an RFC 3339 time")
		}
	}
	if !to.After(from) {
		if q.Get("to") == "" { // the caller gave only from: the error is theirs, not to's
			return from, to, care.Invalid(field, "must be before to, which defaults to the server's now (%s)", to.Format(time.RFC3339))
		}
		return from, to, care.Invalid("to", "must be after %s", field)
	}
	return from, to, nil
}

// parseLimit reads ?limit= (1..1000, default def).
func parseLimit(q url.Values, def int) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, care.Invalid("limit", "must be an integer from 1 to 1000")
	}
	return n, nil
}

// listOrderMessages is GET /v1/orders/{id}/messages: the order's ledger
// entries oldest first; 404 for an unknown order.
func (s *Server) listOrderMessages(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps, care.RoleAgent)
	id := r.PathValue("id")
	if err == nil {
		_, err = s.store.GetOrder(r.Context(), shopID, id)
	}
	var page MessagesPage
	if err == nil {
		page.Messages, err = s.store.ListOrderMessages(r.Context(), shopID, id)
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

// listMessages is GET /v1/messages?from=&to=&cursor=&limit=: the shop's
// ledger entries with At in [from, to), oldest first. Without from, since
// and to it lists the most recent entries, newest first.
func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps)
	q := r.URL.Query()
	if err == nil && !q.Has("from") && !q.Has("since") && !q.Has("to") {
		s.listRecentMessages(w, r, shopID)
		return
	}
	var from, to time.Time
	if err == nil {
		from, to, err = s.window(q)
	}
	limit := 100
	if err == nil {
		limit, err = parseLimit(q, 100)
	}
	var page MessagesPage
	if err == nil {
		page.Messages, page.Next, err = s.store.ListMessages(r.Context(), shopID, from, to, q.Get("cursor"), limit)
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

// listRuns is GET /v1/runs?order={id}: the order's workflow runs, oldest
// first; without order, the shop's recent runs (listRecentRuns).
func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps, care.RoleAgent)
	order := r.URL.Query().Get("order")
	if err == nil && order == "" {
		s.listRecentRuns(w, r, shopID)
		return
	}
	var page RunsPage
	if err == nil {
		page.Runs, err = s.store.ListOrderRuns(r.Context(), shopID, order)
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

// getMetrics is GET /v1/metrics?from=&to=&workflow=: metrics.Compute over
// the window (defaults as for /v1/messages).
func (s *Server) getMetrics(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps)
	q := r.URL.Query()
	var from, to time.Time
	if err == nil {
		from, to, err = s.window(q)
	}
	var rep metrics.Report
	if err == nil {
		rep, err = metrics.Compute(r.Context(), s.store, s.workflows, shopID, from, to, care.Workflow(q.Get("workflow")))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
