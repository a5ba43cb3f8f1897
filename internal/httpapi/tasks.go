package httpapi

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
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
	p, err := s.shopPrincipal(r, "", care.RoleOps, care.RoleAgent)
	status := care.TaskStatus(r.URL.Query().Get("status"))
	if status == "" {
		status = care.TaskOpen
	}
	var page TasksPage
	if err == nil {
		page.Tasks, err = s.queue.List(r.Context(), p.ShopID, status)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for i := range page.Tasks {
		page.Tasks[i] = redactTask(p, page.Tasks[i])
	}
	writeJSON(w, http.StatusOK, page)
}

// taskAction runs one POST /v1/tasks/{id}/… action for an agent or ops key
// and answers the task's view (200), 404 for another shop's or an unknown
// task, 409 when the queue's rules refuse it.
func taskAction[Req any](s *Server, do func(r *http.Request, shopID, id string, req Req) (queue.View, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.shopPrincipal(r, "", care.RoleOps, care.RoleAgent)
		var req Req
		if err == nil {
			err = decodeStrict(r, &req)
		}
		if err == nil {
			err = actAs(p, any(&req).(agentField))
		}
		var v queue.View
		if err == nil {
			v, err = do(r, p.ShopID, r.PathValue("id"), req)
			if errors.Is(err, care.ErrConflict) {
				err = s.taskConflict(r, p.ShopID, r.PathValue("id"), err)
			}
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.events.notify(p.ShopID)
		writeJSON(w, http.StatusOK, redactTask(p, v))
	}
}

// taskConflict gives the queue's refusal (care.ErrConflict) of an action on
// task id its reason: the task as it stands now is held by another agent
// (task_held, args agent and until), done (task_done, args agent and
// outcome), cancelled (task_cancelled), or done with its outcome still
// being delivered (task_delivering). The status stays 409 and the code
// "conflict"; the message is the queue's.
func (s *Server) taskConflict(r *http.Request, shopID, id string, err error) error {
	var ae *apiError
	if errors.As(err, &ae) {
		return err
	}
	ae = &apiError{Status: http.StatusConflict, Code: "conflict", Message: err.Error()}
	v, gerr := s.queue.Get(r.Context(), shopID, id)
	if gerr != nil {
		return ae
	}
	switch v.Status {
	case care.TaskClaimed:
		ae.Reason, ae.Args = "task_held", map[string]string{"agent": v.Agent}
		if v.LeaseUntil != nil {
			ae.Args["until"] = v.LeaseUntil.UTC().Format(time.RFC3339)
		}
	case care.TaskDone:
		ae.Reason, ae.Args = "task_done", map[string]string{"agent": v.Agent, "outcome": v.Outcome}
		if !v.Resumed && v.ResumingUntil != nil && s.now().Before(*v.ResumingUntil) {
			ae.Reason = "task_delivering"
		}
	case care.TaskCancelled:
		ae.Reason = "task_cancelled"
	}
	return ae
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

// AppealResultRequest is the body of POST /v1/tasks/{id}/appeal-result:
// the platform's decision on the appeal of a task marked malicious.
type AppealResultRequest struct {
	Agent  string `json:"agent"`
	Result string `json:"result"` // care.AppealWon or care.AppealLost
	Note   string `json:"note,omitempty"`
}

// appealResult records the decision (queue.SetAppealResult), whatever
// the task's status: 400 names the field, 409 for a task not marked
// malicious or with the other result already.
func (s *Server) appealResult(r *http.Request, shopID, id string, req AppealResultRequest) (queue.View, error) {
	return s.queue.SetAppealResult(r.Context(), shopID, id, req.Agent, req.Result, req.Note)
}

// agentField is the agent a task action body names.
type agentField interface{ agent() *string }

func (r *ClaimRequest) agent() *string    { return &r.Agent }
func (r *NoteRequest) agent() *string     { return &r.Agent }
func (r *CompleteRequest) agent() *string { return &r.Agent }

func (r *AppealResultRequest) agent() *string { return &r.Agent }

// actAs records a task action as the signed-in agent: a personal agent key
// or an agent's console session acts as its own agent (an empty body agent
// is filled in) and naming another agent is 403. Ops and the shared agent
// key by bearer name the agent in the body, as before.
func actAs(p principal, f agentField) error {
	if p.AgentID == "" {
		return nil
	}
	a := f.agent()
	if *a != "" && *a != p.AgentID {
		return &apiError{Status: http.StatusForbidden, Code: "forbidden", Field: "agent", Reason: "other_agent", Args: map[string]string{"agent": p.AgentID},
			Message: "signed in as agent " + p.AgentID + ": task actions are recorded as the signed-in agent"}
	}
	*a = p.AgentID
	return nil
}

// redactTask hides the buyer's name and phone from an agent with an identity
// (personal key or console session) who does not hold the task: only the
// holder phones the buyer.
func redactTask(p principal, v queue.View) queue.View {
	if p.Role != care.RoleAgent || p.AgentID == "" {
		return v
	}
	if v.Status == care.TaskClaimed && v.Agent == p.AgentID {
		return v
	}
	if name := v.Order.BuyerName; name != "" { // scripts greet the buyer by name
		v.Script = strings.ReplaceAll(v.Script, name, hiddenName)
		v.Reason = strings.ReplaceAll(v.Reason, name, hiddenName)
	}
	v.Order.BuyerName, v.Order.BuyerPhone = "", ""
	return v
}

// hiddenName stands in for the buyer's name in a task's texts shown to an
// agent who does not hold it.
const hiddenName = "***"

// TaskDetail is the answer to GET /v1/tasks/{id}: the task as the queue
// shows it (buyer contact only to its holder, see redactTask) and the shop's
// other tasks of the same order (earlier calls and their notes).
type TaskDetail struct {
	Task    queue.View   `json:"task"`
	Related []queue.View `json:"related"`
	// Localized is the step's reason and script rendered in the locale
	// asked for with ?locale= (the agent's language), from the template
	// version the order's run uses; absent without ?locale=, or when the
	// step has no text in a template any more. Task.Reason and Task.Script
	// stay as the workflow wrote them (the reason may quote the buyer).
	Localized *LocalizedTask `json:"localized,omitempty"`
}

// LocalizedTask is a task's texts in another locale (TaskDetail.Localized).
type LocalizedTask struct {
	Locale string `json:"locale"` // the template's locale used (the nearest to the one asked)
	Reason string `json:"reason,omitempty"`
	Script string `json:"script,omitempty"`
}

// getTask is GET /v1/tasks/{id} for ops and agents.
func (s *Server) getTask(w http.ResponseWriter, r *http.Request) {
	p, err := s.shopPrincipal(r, "", care.RoleOps, care.RoleAgent)
	var d TaskDetail
	if err == nil {
		d.Task, err = s.queue.Get(r.Context(), p.ShopID, r.PathValue("id"))
	}
	var related []care.Task
	if err == nil {
		related, err = s.store.ListTasks(r.Context(), p.ShopID, care.TaskFilter{OrderID: d.Task.OrderID})
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if loc := r.URL.Query().Get("locale"); loc != "" {
		if len(loc) > 35 {
			s.writeError(w, r, care.Invalid("locale", "a BCP 47 tag such as zh-CN or en"))
			return
		}
		d.Localized = s.localizeTask(r, p.ShopID, d.Task, loc)
	}
	holder := d.Task
	d.Task = redactTask(p, d.Task)
	if d.Localized != nil && d.Task.Order.BuyerName == "" && holder.Order.BuyerName != "" {
		d.Localized.Script = strings.ReplaceAll(d.Localized.Script, holder.Order.BuyerName, hiddenName)
		d.Localized.Reason = strings.ReplaceAll(d.Localized.Reason, holder.Order.BuyerName, hiddenName)
	}
	d.Related = []queue.View{}
	now := s.now()
	for _, t := range related {
		if t.ID != d.Task.ID {
			d.Related = append(d.Related, redactTask(p, queue.Effective(t, now)))
		}
	}
	writeJSON(w, http.StatusOK, d)
}

// localizeTask renders the task's step reason and script in locale with the
// template version of the order's run of the task's workflow (else the
// latest); nil when that cannot be done (the texts stay as stored).
func (s *Server) localizeTask(r *http.Request, shopID string, t queue.View, locale string) *LocalizedTask {
	ctx := r.Context()
	version := 0
	if runs, err := s.store.ListOrderRuns(ctx, shopID, t.OrderID); err == nil {
		for _, run := range runs {
			if run.Workflow == t.Workflow && run.TemplateVersion > 0 {
				version = run.TemplateVersion
			}
		}
	}
	var body []byte
	if tpl, err := s.store.GetTemplate(ctx, shopID, t.Workflow, version); err == nil {
		body = tpl.Body
	} else if def, err := s.latestTemplate(r, shopID, t.Workflow); err == nil {
		body = def.Body
	}
	tpl, err := s.workflows.ParseTemplate(t.Workflow, body)
	if err != nil {
		return nil
	}
	st, _, ok := tpl.Step(t.Step)
	if !ok {
		return nil
	}
	o, err := s.store.GetOrder(ctx, shopID, t.OrderID)
	if err != nil {
		return nil
	}
	shop, err := s.store.GetShop(ctx, shopID)
	if err != nil {
		return nil
	}
	loc, err := time.LoadLocation(shop.Timezone)
	if err != nil {
		loc = time.UTC
	}
	vars := playbook.VarsFor(o, shop.Name, loc)
	out := &LocalizedTask{}
	if len(st.Reason) > 0 {
		out.Reason, out.Locale, _ = tpl.Render(st, "reason", locale, vars)
	}
	if len(st.Script) > 0 {
		var used string
		out.Script, used, _ = tpl.Render(st, "script", locale, vars)
		if out.Locale == "" {
			out.Locale = used
		}
	}
	if out.Reason == "" && out.Script == "" {
		return nil
	}
	return out
}
