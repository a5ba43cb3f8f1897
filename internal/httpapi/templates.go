package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// A template is read and written as the same document: GET
// /v1/templates/{workflow} answers the bare template (what PUT takes), and
// says which version it is in headers, so GET, edit, PUT of the same JSON
// works:
//
//	ETag: "3"              the version ("0" for the built-in default)
//	Template-Version: 3
//	Template-Default: true (only for the built-in default, never stored)
//	Template-Created-At: 2026-11-11T08:00:00Z (stored versions)
//
// PUT may send If-Match with that ETag: the version is stored only if it is
// still the latest (else 412), so two editors cannot overwrite each other.

// Template headers.
const (
	HeaderTemplateVersion   = "Template-Version"
	HeaderTemplateDefault   = "Template-Default"
	HeaderTemplateCreatedAt = "Template-Created-At"
)

// TemplateVersion is the answer (201) to PUT /v1/templates/{workflow}, and
// one entry of a version list.
type TemplateVersion struct {
	Workflow  care.Workflow `json:"workflow"`
	Version   int           `json:"version"`
	CreatedAt time.Time     `json:"created_at"`
	// Enabled is false for a version that switches the workflow off ("enabled": false).
	Enabled bool `json:"enabled"`
}

// TemplateVersions is the answer to GET /v1/templates/{workflow}/versions:
// the stored versions, newest first, a page at a time. Latest is 0 while the
// shop runs the built-in default. Next, when there are older versions, is the
// path of the next page.
type TemplateVersions struct {
	Workflow care.Workflow     `json:"workflow"`
	Latest   int               `json:"latest"`
	Versions []TemplateVersion `json:"versions"`
	Next     string            `json:"next,omitempty"`
}

// putAttempts bounds the retries of a template write that lost to a
// concurrent editor.
const putAttempts = 5

// workflowOf returns the path's workflow, or a 404 for an unknown one.
func (s *Server) workflowOf(r *http.Request) (care.Workflow, error) {
	wf := care.Workflow(r.PathValue("workflow"))
	if _, ok := s.workflows.Get(wf); !ok {
		return "", &apiError{Status: http.StatusNotFound, Code: "not_found", Field: "workflow", Reason: "unknown_workflow", Args: map[string]string{"workflow": string(wf)}, Message: fmt.Sprintf("unknown workflow %q", wf)}
	}
	return wf, nil
}

// getTemplate is GET /v1/templates/{workflow}: the latest version, or the
// built-in default while the shop has stored none.
func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps, care.RoleAgent)
	var wf care.Workflow
	if err == nil {
		wf, err = s.workflowOf(r)
	}
	var t care.Template
	if err == nil {
		t, err = s.latestTemplate(r, shopID, wf)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeTemplate(w, t)
}

// latestTemplate is the shop's latest stored version, else the built-in
// default as version 0.
func (s *Server) latestTemplate(r *http.Request, shopID string, wf care.Workflow) (care.Template, error) {
	t, err := s.store.GetTemplate(r.Context(), shopID, wf, 0)
	if !errors.Is(err, care.ErrNotFound) {
		return t, err
	}
	body, err := s.workflows.DefaultTemplate(wf)
	if err != nil {
		return care.Template{}, fmt.Errorf("default template %s: %w", wf, err)
	}
	return care.Template{ShopID: shopID, Workflow: wf, Version: 0, Body: body}, nil
}

// writeTemplate answers the bare document with its version in headers.
func writeTemplate(w http.ResponseWriter, t care.Template) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("ETag", strconv.Quote(strconv.Itoa(t.Version)))
	h.Set(HeaderTemplateVersion, strconv.Itoa(t.Version))
	if t.Version == 0 {
		h.Set(HeaderTemplateDefault, "true")
	} else {
		h.Set(HeaderTemplateCreatedAt, t.CreatedAt.UTC().Format(time.RFC3339))
	}
	body := t.Body
	if !bytes.ContainsRune(body, '\n') { // stored compact: indent for the person editing it
		var b bytes.Buffer
		if json.Indent(&b, body, "", "  ") == nil {
			body = append(b.Bytes(), '\n')
		}
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// getTemplateVersion is GET /v1/templates/{workflow}/versions/{version}:
// one stored version, as GET /v1/templates/{workflow} answers it; 404 for a
// version that was never stored.
func (s *Server) getTemplateVersion(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps, care.RoleAgent)
	var wf care.Workflow
	if err == nil {
		wf, err = s.workflowOf(r)
	}
	var t care.Template
	if err == nil {
		n, perr := strconv.Atoi(r.PathValue("version"))
		switch {
		case perr != nil || n < 1:
			err = care.Invalid("version", "must be a version number from 1, not %q", r.PathValue("version"))
		default:
			t, err = s.store.GetTemplate(r.Context(), shopID, wf, n)
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeTemplate(w, t)
}

// maxVersionPage is the largest page of a version list.
const maxVersionPage = 100

// listTemplateVersions is GET /v1/templates/{workflow}/versions?limit=&before=:
// stored versions newest first (limit 1..100, default 20), those below
// before when given. Versions are numbered 1, 2, … without gaps.
func (s *Server) listTemplateVersions(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps, care.RoleAgent)
	var wf care.Workflow
	if err == nil {
		wf, err = s.workflowOf(r)
	}
	q := r.URL.Query()
	limit, before := 20, 0
	if v := q.Get("limit"); v != "" && err == nil {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxVersionPage {
			err = care.Invalid("limit", "must be an integer from 1 to %d", maxVersionPage)
		}
	}
	if v := q.Get("before"); v != "" && err == nil {
		if before, err = strconv.Atoi(v); err != nil || before < 1 {
			err = care.Invalid("before", "must be a version number from 1")
		}
	}
	var out TemplateVersions
	if err == nil {
		out, err = s.templateVersions(r, shopID, wf, limit, before)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) templateVersions(r *http.Request, shopID string, wf care.Workflow, limit, before int) (TemplateVersions, error) {
	out := TemplateVersions{Workflow: wf, Versions: []TemplateVersion{}}
	latest, err := s.store.GetTemplate(r.Context(), shopID, wf, 0)
	if errors.Is(err, care.ErrNotFound) {
		return out, nil
	} else if err != nil {
		return out, err
	}
	out.Latest = latest.Version
	top := latest.Version
	if before > 0 && before-1 < top {
		top = before - 1
	}
	v := top
	for ; v >= 1 && len(out.Versions) < limit; v-- {
		t := latest
		if v != latest.Version {
			if t, err = s.store.GetTemplate(r.Context(), shopID, wf, v); err != nil {
				return out, fmt.Errorf("template %s version %d: %w", wf, v, err)
			}
		}
		out.Versions = append(out.Versions, TemplateVersion{Workflow: wf, Version: v, CreatedAt: t.CreatedAt.UTC(), Enabled: enabled(t.Body)})
	}
	if v >= 1 {
		out.Next = fmt.Sprintf("/v1/templates/%s/versions?limit=%d&before=%d", wf, limit, v+1)
	}
	return out, nil
}

// enabled reads a stored body's "enabled" (absent means on).
func enabled(body []byte) bool {
	var d struct {
		Enabled *bool `json:"enabled"`
	}
	_ = json.Unmarshal(body, &d)
	return d.Enabled == nil || *d.Enabled
}

// putTemplate is PUT /v1/templates/{workflow}: the body is the template
// document. It is validated by the workflow registry (steps.Workflows.ParseTemplate: the common core and the workflow's params; 400 naming the exact JSON
// path; then the review-compliance lint, 422 naming the path and the rule
// broken) and stored as the next version. Runs already started keep the
// version they pinned; only runs started later use the new one.
func (s *Server) putTemplate(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps)
	var wf care.Workflow
	if err == nil {
		wf, err = s.workflowOf(r)
	}
	if err == nil {
		err = requireJSON(r)
	}
	var body []byte
	if err == nil {
		body, err = readBody(r)
	}
	if err == nil {
		err = notAnEnvelope(body)
	}
	if err == nil {
		_, err = s.workflows.ParseTemplate(wf, body)
	}
	ifMatch := -1
	if err == nil {
		ifMatch, err = parseIfMatch(r)
	}
	var v TemplateVersion
	if err == nil {
		v, err = s.storeTemplate(r, shopID, wf, body, ifMatch)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(v.Version)))
	w.Header().Set("Location", fmt.Sprintf("/v1/templates/%s/versions/%d", wf, v.Version))
	writeJSON(w, http.StatusCreated, v)
}

// notAnEnvelope refuses a body that wraps the document ({"body": {...}},
// the answer of GET before it returned the bare document) with a reason
// that says what to send.
func notAnEnvelope(body []byte) error {
	var d map[string]json.RawMessage
	if json.Unmarshal(body, &d) != nil {
		return nil // Parse names the JSON error
	}
	if _, wrapped := d["body"]; wrapped {
		if _, bare := d["steps"]; !bare {
			return care.Invalid("body", "send the template document itself (what GET /v1/templates/{workflow} answers), not an object wrapping it in body")
		}
	}
	return nil
}

// parseIfMatch reads If-Match: "N" (the ETag of GET); -1 when absent.
func parseIfMatch(r *http.Request) (int, error) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		return -1, nil
	}
	n, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(v, "W/"), `"`))
	if err != nil || n < 0 {
		return 0, care.Invalid("If-Match", "must be the ETag of GET /v1/templates/{workflow}, such as \"3\", not %s", v)
	}
	return n, nil
}

// storeTemplate stores body as the version after the latest, retrying when
// a concurrent editor took that number first. With ifMatch ≥ 0 the latest
// must be that version (0: none stored), else 412.
func (s *Server) storeTemplate(r *http.Request, shopID string, wf care.Workflow, body []byte, ifMatch int) (TemplateVersion, error) {
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
		if ifMatch >= 0 && ifMatch != next-1 {
			return TemplateVersion{}, &apiError{Status: http.StatusPreconditionFailed, Code: "precondition_failed", Field: "If-Match", Reason: "stale_version",
				Message: fmt.Sprintf("the latest version is %d, not %d: someone saved since you read it; GET it again and reapply your edit", next-1, ifMatch)}
		}
		t := care.Template{ShopID: shopID, Workflow: wf, Version: next, Body: json.RawMessage(compact.Bytes()), CreatedAt: s.now().UTC()}
		err = s.store.PutTemplate(ctx, t)
		if errors.Is(err, care.ErrConflict) {
			continue
		}
		if err != nil {
			return TemplateVersion{}, err
		}
		return TemplateVersion{Workflow: wf, Version: next, CreatedAt: t.CreatedAt, Enabled: enabled(body)}, nil
	}
	return TemplateVersion{}, fmt.Errorf("template %s: concurrent editors kept winning; try again: %w", wf, care.ErrConflict)
}
