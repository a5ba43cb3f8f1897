package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/sms"
)

// WorkflowInfo is one entry of GET /v1/workflows: a registered workflow and
// the shop's live template version of it (0: the built-in default).
type WorkflowInfo struct {
	Workflow    care.Workflow `json:"workflow"`
	LiveVersion int           `json:"live_version"`
	Enabled     bool          `json:"enabled"`
	UpdatedAt   *time.Time    `json:"updated_at,omitempty"` // when the live version was saved
}

// WorkflowsPage is the answer to GET /v1/workflows.
type WorkflowsPage struct {
	Workflows []WorkflowInfo `json:"workflows"`
}

// listWorkflows is GET /v1/workflows (ops and agents): the registered
// workflows in registry order with the shop's live version of each.
func (s *Server) listWorkflows(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps, care.RoleAgent)
	page := WorkflowsPage{Workflows: []WorkflowInfo{}}
	for _, wf := range s.workflows.Names() {
		if err != nil {
			break
		}
		var t care.Template
		t, err = s.latestTemplate(r, shopID, wf)
		info := WorkflowInfo{Workflow: wf, LiveVersion: t.Version, Enabled: enabled(t.Body)}
		if t.Version > 0 {
			at := t.CreatedAt
			info.UpdatedAt = &at
		}
		page.Workflows = append(page.Workflows, info)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// PreviewRequest is the body of POST /v1/templates/{workflow}/preview.
// Template is a template document (what PUT takes); absent, the shop's live
// version. OrderID renders for that order of the shop (404 if unknown);
// absent, for a sample order. Locales default to zh-CN and en.
type PreviewRequest struct {
	Template json.RawMessage `json:"template,omitempty"`
	OrderID  string          `json:"order_id,omitempty"`
	Locales  []string        `json:"locales,omitempty"`
}

// PreviewScript is one rendered script or reason.
type PreviewScript struct {
	Step   string `json:"step"`
	Field  string `json:"field"`  // script or reason
	Locale string `json:"locale"` // asked for
	Used   string `json:"used"`   // the template's locale it rendered
	Text   string `json:"text,omitempty"`
	Error  string `json:"error,omitempty"`
	Path   string `json:"path,omitempty"` // the field an Error is at, such as steps[2].script.en
	// Characters, Encoding and Segments are a message script as a text
	// message: GSM-7 or UCS-2, and the segments billed (sms.Segments).
	Characters int    `json:"characters,omitempty"`
	Encoding   string `json:"encoding,omitempty"`
	Segments   int    `json:"segments,omitempty"`
}

// Preview is the answer to POST /v1/templates/{workflow}/preview. Nothing
// is stored or sent.
type Preview struct {
	Workflow care.Workflow   `json:"workflow"`
	OrderID  string          `json:"order_id"`
	Sample   bool            `json:"sample"`
	Scripts  []PreviewScript `json:"scripts"`
	Segments int             `json:"segments"` // the message scripts' SMS segments, every locale
}

// sampleOrder is what a preview renders for without an order id.
func sampleOrder(shopID, currency string, now time.Time) care.OrderState {
	placed := now.Add(-20 * time.Minute)
	deadline := placed.Add(72 * time.Hour)
	if currency == "" {
		currency = "CNY"
	}
	return care.OrderState{ShopID: shopID, Status: care.StatusCreated, Order: care.Order{
		ID: "SAMPLE-1001", Total: "688.00", Currency: currency, PaymentMethod: care.PayOnline,
		PlacedAt: &placed, PayDeadline: &deadline,
		Buyer: &care.Buyer{Name: "王芳", Locale: "zh-CN", Timezone: "Asia/Shanghai"},
		Items: []care.Item{{SKU: "TEA-1", Title: "龙井 250g", Quantity: 2, Price: "299.00"}, {SKU: "CUP-1", Title: "青瓷茶杯", Quantity: 1, Price: "90.00"}},
	}}
}

// previewTemplate is POST /v1/templates/{workflow}/preview (ops): every
// step's script (and a call's reason) rendered per locale. A template that
// does not parse is 400 with the field, as PUT answers it.
func (s *Server) previewTemplate(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps)
	var wf care.Workflow
	if err == nil {
		wf, err = s.workflowOf(r)
	}
	var req PreviewRequest
	if err == nil {
		err = decodeStrict(r, &req)
	}
	var shop care.Shop
	if err == nil {
		shop, err = s.store.GetShop(r.Context(), shopID)
	}
	body := []byte(req.Template)
	if err == nil && len(body) == 0 {
		var t care.Template
		t, err = s.latestTemplate(r, shopID, wf)
		body = t.Body
	}
	var tpl *playbook.Template
	if err == nil {
		tpl, err = s.workflows.ParseTemplate(wf, body)
		var fe *care.FieldError
		if errors.As(err, &fe) && len(req.Template) > 0 && fe.Field != "" {
			err = care.Invalid("template."+fe.Field, "%s", fe.Reason)
		}
	}
	var o care.OrderState
	sample := req.OrderID == ""
	if err == nil {
		if sample {
			o = sampleOrder(shopID, shop.Currency, s.now())
		} else {
			o, err = s.store.GetOrder(r.Context(), shopID, req.OrderID)
			if errors.Is(err, care.ErrNotFound) {
				err = &apiError{Status: http.StatusNotFound, Code: "not_found", Field: "order_id", Reason: "order", Message: "no such order in this shop"}
			}
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	locales := req.Locales
	if len(locales) == 0 {
		locales = []string{"zh-CN", "en"}
	}
	loc, lerr := time.LoadLocation(shop.Timezone)
	if lerr != nil {
		loc = time.UTC
	}
	vars := playbook.VarsFor(o, shop.Name, loc)
	p := Preview{Workflow: wf, OrderID: o.Order.ID, Sample: sample, Scripts: []PreviewScript{}}
	for _, st := range tpl.Steps {
		for _, field := range []string{"script", "reason"} {
			if (field == "script" && len(st.Script) == 0) || (field == "reason" && len(st.Reason) == 0) {
				continue
			}
			for _, l := range locales {
				text, used, rerr := tpl.Render(st, field, l, vars)
				ps := PreviewScript{Step: st.ID, Field: field, Locale: l, Used: used, Text: text}
				var fe *care.FieldError
				if errors.As(rerr, &fe) {
					ps.Error, ps.Path = fe.Reason, fe.Field
				} else if rerr != nil {
					ps.Error = rerr.Error()
				}
				if rerr == nil && field == "script" && st.Action == playbook.ActionMessage {
					if slices.Contains(tpl.StepChannels(st), "sms") {
						// as the sms channel sends it to a number of the locale's region (steps.Finisher)
						text = sms.WithRefusal(text, sms.RegionOf(l), st.Marketing())
						ps.Text = text
					}
					c := sms.Segments(text)
					ps.Characters, ps.Encoding, ps.Segments = len([]rune(text)), c.Encoding, c.Segments
					p.Segments += c.Segments
				}
				p.Scripts = append(p.Scripts, ps)
			}
		}
	}
	writeJSON(w, http.StatusOK, p)
}
