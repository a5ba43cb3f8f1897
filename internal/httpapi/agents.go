package httpapi

import (
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ordercare/ordercare/internal/care"
)

// AgentView is an agent as the API shows it (never the key or its hash).
type AgentView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// AgentsPage is the answer to GET /v1/agents.
type AgentsPage struct {
	Agents []AgentView `json:"agents"`
}

// NewAgentRequest is the body of POST /v1/agents.
type NewAgentRequest struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// AgentKeyView answers POST /v1/agents (201) and POST /v1/agents/{id}/key:
// the agent and its personal key, shown this once.
type AgentKeyView struct {
	Agent AgentView `json:"agent"`
	Key   string    `json:"key"`
}

// PatchAgentRequest is the body of PATCH /v1/agents/{id}: rename and/or
// (de)activate; absent fields are unchanged. Deactivating ends the agent's
// sessions and refuses its key at once.
type PatchAgentRequest struct {
	Name   *string `json:"name,omitempty"`
	Active *bool   `json:"active,omitempty"`
}

func agentView(a care.Agent) AgentView {
	return AgentView{ID: a.ID, Name: a.Name, Active: a.Active, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

func validAgentName(name string) error {
	if strings.TrimSpace(name) == "" || utf8.RuneCountInString(name) > 80 || strings.ContainsRune(name, 0) {
		return care.Invalid("name", "required, at most 80 characters")
	}
	return nil
}

// listAgents is GET /v1/agents (ops).
func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps)
	var list []care.Agent
	if err == nil {
		list, err = s.store.ListAgents(r.Context(), shopID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page := AgentsPage{Agents: []AgentView{}}
	for _, a := range list {
		page.Agents = append(page.Agents, agentView(a))
	}
	writeJSON(w, http.StatusOK, page)
}

// createAgent is POST /v1/agents (ops): 201 with the personal key, 409 when
// the id is taken.
func (s *Server) createAgent(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps)
	var req NewAgentRequest
	if err == nil {
		err = decodeStrict(r, &req)
	}
	if err == nil {
		err = care.ValidateAgentID("id", req.ID)
	}
	if err == nil {
		err = validAgentName(req.Name)
	}
	now := s.now()
	key := care.NewAgentKey(shopID, req.ID)
	a := care.Agent{ShopID: shopID, ID: req.ID, Name: strings.TrimSpace(req.Name), Active: true, KeyHash: care.HashKey(key), CreatedAt: now, UpdatedAt: now}
	if err == nil {
		err = s.store.CreateAgent(r.Context(), a)
	}
	if err != nil {
		if isConflict(err) {
			err = &apiError{Status: http.StatusConflict, Code: "conflict", Field: "id", Reason: "agent_exists", Message: "an agent with this id exists"}
		}
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, AgentKeyView{Agent: agentView(a), Key: key})
}

// patchAgent is PATCH /v1/agents/{id} (ops).
func (s *Server) patchAgent(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps)
	var req PatchAgentRequest
	if err == nil {
		err = decodeStrict(r, &req)
	}
	if err == nil && req.Name == nil && req.Active == nil {
		err = care.Invalid("", "name or active is required")
	}
	if err == nil && req.Name != nil {
		err = validAgentName(*req.Name)
	}
	var a care.Agent
	if err == nil {
		a, err = s.store.GetAgent(r.Context(), shopID, r.PathValue("id"))
	}
	if err == nil {
		if req.Name != nil {
			a.Name = strings.TrimSpace(*req.Name)
		}
		if req.Active != nil {
			a.Active = *req.Active
		}
		a.UpdatedAt = s.now()
		err = s.store.UpdateAgent(r.Context(), a)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, agentView(a))
}

// reissueAgentKey is POST /v1/agents/{id}/key (ops): a new personal key; the
// old one and every session made with it stop working.
func (s *Server) reissueAgentKey(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps)
	var a care.Agent
	if err == nil {
		a, err = s.store.GetAgent(r.Context(), shopID, r.PathValue("id"))
	}
	key := care.NewAgentKey(shopID, a.ID)
	if err == nil {
		a.KeyHash, a.UpdatedAt = care.HashKey(key), s.now()
		err = s.store.UpdateAgent(r.Context(), a)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, AgentKeyView{Agent: agentView(a), Key: key})
}

func isConflict(err error) bool { return errors.Is(err, care.ErrConflict) }
