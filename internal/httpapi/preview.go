package httpapi

import (
	"net/http"
	"sort"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/sms"
)

// PreviewStep is one message step of a template rendered in one locale,
// with what it costs as a text message.
type PreviewStep struct {
	Step     string   `json:"step"`
	Locale   string   `json:"locale"`
	Channels []string `json:"channels"`
	Class    string   `json:"class"`
	Text     string   `json:"text,omitempty"`
	Error    string   `json:"error,omitempty"` // why it did not render for this order
	// Characters, Encoding and Segments are the text as an SMS: GSM-7 or
	// UCS-2, and the segments billed (sms.Segments).
	Characters int    `json:"characters"`
	Encoding   string `json:"encoding,omitempty"`
	Segments   int    `json:"segments"`
}

// TemplatePreview answers GET /v1/templates/{workflow}/preview.
type TemplatePreview struct {
	Workflow care.Workflow `json:"workflow"`
	Version  int           `json:"version"` // 0: the built-in default
	OrderID  string        `json:"order_id"`
	Steps    []PreviewStep `json:"steps"`
	Segments int           `json:"segments"` // all steps, every locale
}

// previewTemplate is GET /v1/templates/{workflow}/preview?order= (ops,
// agent): every message step of the shop's current template rendered in
// each of its locales for the order (else a sample order in the shop's
// currency), with its length and SMS segments.
func (s *Server) previewTemplate(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps, care.RoleAgent)
	var wf care.Workflow
	if err == nil {
		wf, err = s.workflowOf(r)
	}
	var shop care.Shop
	if err == nil {
		shop, err = s.store.GetShop(r.Context(), shopID)
	}
	var t care.Template
	if err == nil {
		t, err = s.latestTemplate(r, shopID, wf)
	}
	var tpl *playbook.Template
	if err == nil {
		tpl, err = s.workflows.ParseTemplate(wf, t.Body)
	}
	var o care.OrderState
	if err == nil {
		o, err = s.previewOrder(r, shop)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	loc, lerr := time.LoadLocation(shop.Timezone)
	if lerr != nil {
		loc = time.UTC
	}
	out := TemplatePreview{Workflow: wf, Version: t.Version, OrderID: o.Order.ID, Steps: []PreviewStep{}}
	vars := playbook.VarsFor(o, shop.Name, loc)
	for _, st := range tpl.Steps {
		if st.Action != playbook.ActionMessage {
			continue
		}
		locales := make([]string, 0, len(st.Script))
		for l := range st.Script {
			locales = append(locales, l)
		}
		sort.Strings(locales)
		class := playbook.ClassTransactional
		if st.Marketing() {
			class = playbook.ClassMarketing
		}
		for _, l := range locales {
			p := PreviewStep{Step: st.ID, Locale: l, Channels: tpl.StepChannels(st), Class: class}
			text, _, rerr := tpl.Render(st, "script", l, vars)
			if rerr != nil {
				p.Error = rerr.Error()
			} else {
				c := sms.Segments(text)
				p.Text, p.Characters, p.Encoding, p.Segments = text, len([]rune(text)), c.Encoding, c.Segments
				out.Segments += c.Segments
			}
			out.Steps = append(out.Steps, p)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// previewOrder is the order named by ?order=, else a sample one.
func (s *Server) previewOrder(r *http.Request, shop care.Shop) (care.OrderState, error) {
	if id := r.URL.Query().Get("order"); id != "" {
		return s.store.GetOrder(r.Context(), shop.ID, id)
	}
	now := s.now().UTC()
	deadline := now.Add(72 * time.Hour)
	cur := shop.Currency
	if cur == "" {
		cur = "USD"
	}
	return care.OrderState{ShopID: shop.ID, Order: care.Order{ID: "1001", PlacedAt: &now, PayDeadline: &deadline, Total: "129.00",
		Currency: cur, PaymentMethod: care.PayCOD, CODFee: "8.00", Buyer: &care.Buyer{Name: "Alex"},
		Items: []care.Item{{SKU: "SKU-1", Title: "Item", Quantity: 1, Price: "129.00"}}}}, nil
}
