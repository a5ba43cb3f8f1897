package httpapi

import (
	"net/http"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/queue"
)

// TasksPage is the answer to GET /v1/tasks: the tasks of one effective
// status, most urgent first (priority, then due time, then id). The Step
// Functions token of a task is never part of it.
type TasksPage struct {
	Tasks []queue.View `json:"tasks"`
}

// ClaimRequest is the body of POST /v1/tasks/{id}/claim.
type ClaimRequest struct {
	Agent string `json:"agent"`
}

// NoteRequest is the body of POST /v1/tasks/{id}/notes.
type NoteRequest struct {
	Agent string `json:"agent"`
	Text  string `json:"text"`
}

// CompleteRequest is the body of POST /v1/tasks/{id}/complete.
type CompleteRequest struct {
	Agent   string `json:"agent"`
	Outcome string `json:"outcome"`
	Note    string `json:"note,omitempty"`
}

// listTasks is GET /v1/tasks?status=open|claimed|done|cancelled (default open).
func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps, care.RoleAgent)
	status := care.TaskStatus(r.URL.Query().Get("status"))
	if status == "" {
		status = care.TaskOpen
	}
	var page TasksPage
	if err == nil {
		page.Tasks, err = s.queue.List(r.Context(), shopID, status)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// taskAction runs one POST /v1/tasks/{id}/… action for an agent or ops key
// and answers the task's view (200), 404 for another shop's or an unknown
// task, 409 when the queue's rules refuse it.
func taskAction[Req any](s *Server, do func(r *http.Request, shopID, id string, req Req) (queue.View, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		shopID, err := s.shopScope(r, "", care.RoleOps, care.RoleAgent)
		var req Req
		if err == nil {
			err = decodeStrict(r, &req)
		}
		var v queue.View
		if err == nil {
			v, err = do(r, shopID, r.PathValue("id"), req)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

func (s *Server) claimTask(r *http.Request, shopID, id string, req ClaimRequest) (queue.View, error) {
	return s.queue.Claim(r.Context(), shopID, id, req.Agent)
}

func (s *Server) noteTask(r *http.Request, shopID, id string, req NoteRequest) (queue.View, error) {
	return s.queue.AddNote(r.Context(), shopID, id, req.Agent, req.Text)
}

func (s *Server) completeTask(r *http.Request, shopID, id string, req CompleteRequest) (queue.View, error) {
	return s.queue.Complete(r.Context(), shopID, id, req.Agent, req.Outcome, req.Note)
}
