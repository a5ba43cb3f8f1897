package httpapi

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ordercare/ordercare/internal/care"
)

// MaliciousRequest is the body of POST /v1/tasks/{id}/malicious: an agent
// marks the review the task is about as malicious, for the platform's
// appeal.
type MaliciousRequest struct {
	Agent string `json:"agent"`
	// ReviewID is the review's platform id; "" for the order's latest review.
	ReviewID string `json:"review_id,omitempty"`
	// Platform overrides the review's platform ("" : the review's, else the
	// order's marketplace).
	Platform string `json:"platform,omitempty"`
	Kind     string `json:"kind"`   // care.AppealKinds
	Reason   string `json:"reason"` // care.AppealReasons(platform)
	// Deadline is the platform's appeal deadline; absent: the review's
	// first post + care.AppealWindow(platform).
	Deadline    *time.Time        `json:"deadline,omitempty"`
	QuoteEvents []string          `json:"quote_events,omitempty"` // buyer.replied event ids to quote
	Statement   string            `json:"statement,omitempty"`
	Files       []care.Attachment `json:"files,omitempty"`
}

// attachmentTypes are the file types an appeal may carry.
var attachmentTypes = []string{"image/png", "image/jpeg", "image/webp", "application/pdf", "text/plain"}

// markMalicious is POST /v1/tasks/{id}/malicious (ops or agent key): it
// validates the mark against the order (the review, the platform's reason
// list, the deadline, the quoted messages, the files' types and sizes),
// stores it on the task (its SLA becomes the deadline) and answers the
// evidence pack (200). 400 names the field; 404 for an unknown task or
// review; 409 for a finished task. Nothing changes on an error.
func (s *Server) markMalicious(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	shopID, err := s.shopScope(r, "", care.RoleOps, care.RoleAgent)
	var req MaliciousRequest
	if err == nil {
		err = decodeStrict(r, &req)
	}
	var pack care.EvidencePack
	if err == nil {
		pack, err = s.mark(ctx, shopID, r.PathValue("id"), req)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pack)
}

func (s *Server) mark(ctx context.Context, shopID, id string, req MaliciousRequest) (care.EvidencePack, error) {
	t, err := s.store.GetTask(ctx, shopID, id)
	if err != nil {
		return care.EvidencePack{}, err
	}
	if t.Status == care.TaskDone || t.Status == care.TaskCancelled {
		return care.EvidencePack{}, fmt.Errorf("task %s is %s: %w", id, t.Status, care.ErrConflict)
	}
	o, err := s.store.GetOrder(ctx, shopID, t.OrderID)
	if err != nil {
		return care.EvidencePack{}, err
	}
	if a := strings.TrimSpace(req.Agent); a == "" || utf8.RuneCountInString(a) > 64 {
		return care.EvidencePack{}, care.Invalid("agent", "required, at most 64 characters")
	}
	rv, err := pickReview(o, req.ReviewID)
	if err != nil {
		return care.EvidencePack{}, err
	}
	platform := strings.ToLower(strings.TrimSpace(req.Platform))
	if platform == "" {
		platform = rv.Platform
	}
	if platform == "" {
		platform = o.Order.ReviewPlatform("")
	}
	if platform == "" {
		return care.EvidencePack{}, care.Invalid("platform", "the review names no platform: say where it was posted")
	}
	if !slices.Contains(care.AppealKinds, req.Kind) {
		return care.EvidencePack{}, care.Invalid("kind", "must be one of %s", strings.Join(care.AppealKinds, ", "))
	}
	if reasons := care.AppealReasons(platform); !slices.Contains(reasons, req.Reason) {
		return care.EvidencePack{}, care.Invalid("reason", "%s's appeal reasons are %s", platform, strings.Join(reasons, ", "))
	}
	now := s.now().UTC()
	deadline := rv.FirstAt.Add(care.AppealWindow(platform)).UTC()
	if req.Deadline != nil {
		deadline = req.Deadline.UTC()
	}
	if !deadline.After(now) {
		return care.EvidencePack{}, care.Invalid("deadline", "the appeal deadline %s has passed", deadline.Format(time.RFC3339))
	}
	hist, err := care.ReadHistory(ctx, s.store, o)
	if err != nil {
		return care.EvidencePack{}, err
	}
	replies := map[string]bool{}
	for _, e := range hist.Replies(nil) {
		replies[e.EventID] = true
	}
	for i, q := range req.QuoteEvents {
		if !replies[q] {
			return care.EvidencePack{}, care.Invalid(fmt.Sprintf("quote_events[%d]", i), "no buyer message %q on this order", q)
		}
	}
	if n := utf8.RuneCountInString(req.Statement); n > 5000 {
		return care.EvidencePack{}, care.Invalid("statement", "at most 5000 characters, not %d", n)
	}
	if err := checkFiles(req.Files); err != nil {
		return care.EvidencePack{}, err
	}
	a := care.Appeal{ReviewID: rv.ID, Platform: platform, Reason: req.Reason, Kind: req.Kind, Deadline: deadline,
		QuoteEvents: req.QuoteEvents, Statement: req.Statement, Files: req.Files, Agent: strings.TrimSpace(req.Agent), MarkedAt: now}
	v, err := s.queue.SetAppeal(ctx, shopID, id, a)
	if err != nil {
		return care.EvidencePack{}, err
	}
	shop, err := s.store.GetShop(ctx, shopID)
	if err != nil {
		return care.EvidencePack{}, err
	}
	return hist.Evidence(shop, v.Task, *rv), nil
}

// checkFiles enforces the attachment limits: count, each size, total
// size, a name, an allowed type.
func checkFiles(files []care.Attachment) error {
	if len(files) > care.MaxAttachments {
		return care.Invalid("files", "at most %d files", care.MaxAttachments)
	}
	total := 0
	for i, f := range files {
		if n := strings.TrimSpace(f.Name); n == "" || utf8.RuneCountInString(n) > 200 || strings.ContainsAny(n, "/\\") {
			return care.Invalid(fmt.Sprintf("files[%d].name", i), "required: a file name of at most 200 characters without / or \\")
		}
		if !slices.Contains(attachmentTypes, f.ContentType) {
			return care.Invalid(fmt.Sprintf("files[%d].content_type", i), "must be one of %s", strings.Join(attachmentTypes, ", "))
		}
		if len(f.Data) == 0 || len(f.Data) > care.MaxAttachmentBytes {
			return care.Invalid(fmt.Sprintf("files[%d].data", i), "base64 of 1 to %d bytes, not %d", care.MaxAttachmentBytes, len(f.Data))
		}
		total += len(f.Data)
	}
	if total > care.MaxAttachmentsBytes {
		return care.Invalid("files", "at most %d bytes together, not %d", care.MaxAttachmentsBytes, total)
	}
	return nil
}

// pickReview is the order's review with the platform id, else its latest.
func pickReview(o care.OrderState, id string) (*care.ReviewState, error) {
	if id != "" {
		if r := o.ReviewByID(id); r != nil {
			return r, nil
		}
		return nil, care.Invalid("review_id", "the order has no review %q", id)
	}
	var latest *care.ReviewState
	for i := range o.Reviews {
		if latest == nil || o.Reviews[i].At.After(latest.At) {
			latest = &o.Reviews[i]
		}
	}
	if latest == nil {
		return nil, care.Invalid("review_id", "the order has no review")
	}
	return latest, nil
}

// getEvidence is GET /v1/tasks/{id}/evidence (JSON) and
// /v1/tasks/{id}/evidence.html (a printable page): the evidence pack of a
// task marked malicious, built from the order as it is now. 404 for an
// unknown task or one with no mark.
func (s *Server) getEvidence(html bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		shopID, err := s.shopScope(r, "", care.RoleOps, care.RoleAgent)
		var pack care.EvidencePack
		if err == nil {
			pack, err = s.evidence(ctx, shopID, r.PathValue("id"))
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !html {
			w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="evidence-%s.json"`, safeName(pack.OrderID)))
			writeJSON(w, http.StatusOK, pack)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_ = evidencePage.Execute(w, pack)
	}
}

func (s *Server) evidence(ctx context.Context, shopID, id string) (care.EvidencePack, error) {
	t, err := s.store.GetTask(ctx, shopID, id)
	if err != nil {
		return care.EvidencePack{}, err
	}
	if t.Appeal == nil {
		return care.EvidencePack{}, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "task " + id + " is not marked malicious"}
	}
	o, err := s.store.GetOrder(ctx, shopID, t.OrderID)
	if err != nil {
		return care.EvidencePack{}, err
	}
	hist, err := care.ReadHistory(ctx, s.store, o)
	if err != nil {
		return care.EvidencePack{}, err
	}
	shop, err := s.store.GetShop(ctx, shopID)
	if err != nil {
		return care.EvidencePack{}, err
	}
	var rv care.ReviewState
	if r := o.ReviewByID(t.Appeal.ReviewID); r != nil {
		rv = *r
	}
	return hist.Evidence(shop, t, rv), nil
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e || strings.ContainsRune(`"\/`, r) {
			return '_'
		}
		return r
	}, s)
}

var evidencePage = template.Must(template.New("evidence").Funcs(template.FuncMap{
	"t": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Evidence — order {{.OrderID}}</title>
<style>body{font:14px/1.5 system-ui,sans-serif;max-width:50em;margin:2em auto}h1{font-size:1.4em}h2{font-size:1.1em;border-bottom:1px solid #999;margin-top:1.5em}
table{border-collapse:collapse;width:100%}td{vertical-align:top;padding:2px 6px;border-bottom:1px solid #ddd}td:first-child{white-space:nowrap;width:11em}
.q{background:#fff3c4;font-weight:bold}@media print{a{color:black}}</style></head><body>
<h1>Appeal evidence: review {{.Review.ID}} on {{.Platform}}</h1>
<p>Shop: {{.ShopName}} · Order: {{.OrderID}}{{if .OrderName}} ({{.OrderName}}){{end}}{{if .PlacedAt}} · placed {{t .PlacedAt}}{{end}}</p>
<p><b>Appeal reason:</b> {{.Reason}} ({{.Kind}}) · <b>Deadline:</b> {{t .Deadline}} · marked by {{.MarkedBy}} at {{t .MarkedAt}}</p>
<h2>The review</h2>
<p>★{{.Review.Rating}}{{if ne .Review.FirstRating .Review.Rating}} (first ★{{.Review.FirstRating}}){{end}} · posted {{t .Review.FirstAt}}</p>
<blockquote>{{if .Review.Title}}<b>{{.Review.Title}}</b><br>{{end}}{{.Review.Text}}</blockquote>
{{if .Statement}}<h2>Statement</h2><p>{{.Statement}}</p>{{end}}
<h2>Items</h2><ul>{{range .Items}}<li>{{.}}</li>{{end}}</ul>
<h2>Order timeline</h2><table>{{range .Timeline}}<tr><td>{{t .At}}</td><td>{{.Text}}</td></tr>{{end}}</table>
<h2>Carrier trail</h2><table>{{range .CarrierTrail}}<tr><td>{{t .At}}</td><td>{{.Text}}</td></tr>{{else}}<tr><td colspan=2>none</td></tr>{{end}}</table>
<h2>Buyer's messages</h2><table>{{range .BuyerMessage}}<tr{{if .Quoted}} class="q"{{end}}><td>{{t .At}}</td><td>{{.Text}}</td></tr>{{else}}<tr><td colspan=2>none</td></tr>{{end}}</table>
<h2>Shop's messages</h2><table>{{range .ShopMessages}}<tr><td>{{t .At}}</td><td>{{.Text}}</td></tr>{{else}}<tr><td colspan=2>none</td></tr>{{end}}</table>
<h2>Agent notes</h2><table>{{range .AgentNotes}}<tr><td>{{t .At}}</td><td>{{.Text}}</td></tr>{{else}}<tr><td colspan=2>none</td></tr>{{end}}</table>
{{if .Files}}<h2>Attached files</h2><ul>{{range .Files}}<li>{{.Name}} ({{.ContentType}}, {{len .Data}} bytes; in the JSON pack)</li>{{end}}</ul>{{end}}
</body></html>
`))
