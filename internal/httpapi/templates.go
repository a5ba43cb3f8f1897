package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/workflows"
)

// TemplateResponse is the answer to GET /v1/templates/{workflow}: the
// latest stored version, or the built-in default (version 0, default true)
// while ops have stored none.
type TemplateResponse struct {
	Workflow  care.Workflow   `json:"workflow"`
	Version   int             `json:"version"`
	Default   bool            `json:"default"`
	CreatedAt *time.Time      `json:"created_at,omitempty"`
	Body      json.RawMessage `json:"body"`
}

// TemplateVersion is the answer (201) to PUT /v1/templates/{workflow}.
type TemplateVersion struct {
	Workflow  care.Workflow `json:"workflow"`
	Version   int           `json:"version"`
	CreatedAt time.Time     `json:"created_at"`
}

// putAttempts bounds the retries of a template write that lost to a
// concurrent editor.
const putAttempts = 5

// workflowOf returns the path's workflow, or a 404 for an unknown one.
func workflowOf(r *http.Request) (care.Workflow, error) {
	wf := care.Workflow(r.PathValue("workflow"))
	if !slices.Contains(care.Workflows, wf) {
		return "", &apiError{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("unknown workflow %q", wf)}
	}
	return wf, nil
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps, care.RoleAgent)
	var wf care.Workflow
	if err == nil {
		wf, err = workflowOf(r)
	}
	var resp TemplateResponse
	if err == nil {
		resp, err = s.template(r, shopID, wf)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) template(r *http.Request, shopID string, wf care.Workflow) (TemplateResponse, error) {
	t, err := s.store.GetTemplate(r.Context(), shopID, wf, 0)
	if err == nil {
		at := t.CreatedAt
		return TemplateResponse{Workflow: wf, Version: t.Version, CreatedAt: &at, Body: t.Body}, nil
	}
	if !errors.Is(err, care.ErrNotFound) {
		return TemplateResponse{}, err
	}
	body, err := workflows.DefaultTemplate(wf)
	if err != nil {
		return TemplateResponse{}, fmt.Errorf("default template %s: %w", wf, err)
	}
	return TemplateResponse{Workflow: wf, Version: 0, Default: true, Body: body}, nil
}

// putTemplate is PUT /v1/templates/{workflow}: the body is the template
// document. It is validated by playbook.Parse (400 naming the exact JSON
// path) and stored as the next version. Runs already started keep the
// version they pinned; only runs started later use the new one.
func (s *Server) putTemplate(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps)
	var wf care.Workflow
	if err == nil {
		wf, err = workflowOf(r)
	}
	if err == nil {
		err = requireJSON(r)
	}
	var body []byte
	if err == nil {
		body, err = readBody(r)
	}
	if err == nil {
		_, err = playbook.Parse(wf, body)
	}
	var v TemplateVersion
	if err == nil {
		v, err = s.storeTemplate(r, shopID, wf, body)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

// storeTemplate stores body as the version after the latest, retrying when
// a concurrent editor took that number first.
func (s *Server) storeTemplate(r *http.Request, shopID string, wf care.Workflow, body []byte) (TemplateVersion, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		return TemplateVersion{}, care.Invalid("", "malformed JSON: %v", err)
	}
	ctx := r.Context()
	for range putAttempts {
		next := 1
		latest, err := s.store.GetTemplate(ctx, shopID, wf, 0)
		switch {
		case err == nil:
			next = latest.Version + 1
		case !errors.Is(err, care.ErrNotFound):
			return TemplateVersion{}, err
		}
		t := care.Template{ShopID: shopID, Workflow: wf, Version: next, Body: json.RawMessage(compact.Bytes()), CreatedAt: s.now().UTC()}
		err = s.store.PutTemplate(ctx, t)
		if errors.Is(err, care.ErrConflict) {
			continue
		}
		if err != nil {
			return TemplateVersion{}, err
		}
		return TemplateVersion{Workflow: wf, Version: next, CreatedAt: t.CreatedAt}, nil
	}
	return TemplateVersion{}, fmt.Errorf("template %s: concurrent editors kept winning; try again: %w", wf, care.ErrConflict)
}
