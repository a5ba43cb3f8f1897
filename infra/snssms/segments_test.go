package snssms

import (
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/sms"
	"github.com/ordercare/ordercare/workflows"
)

// TestDefaultTemplateSegments renders every message step of every default
// template for a typical order (a Chinese shop and buyer for zh-CN, an
// English-speaking one for en), and prints its SMS cost in
// segments (go test -v -run DefaultTemplateSegments ./infra/snssms/). Each
// must fit in 3 segments: a default that costs more is a template bug.
func TestDefaultTemplateSegments(t *testing.T) {
	placed := time.Date(2026, 11, 11, 1, 0, 0, 0, time.UTC)
	deadline := placed.Add(72 * time.Hour)
	o := care.OrderState{ShopID: "tea", Order: care.Order{ID: "TB-100123", PlacedAt: &placed, PayDeadline: &deadline, Total: "129.00", Currency: "CNY",
		PaymentMethod: care.PayCOD, CODFee: "8.00", Buyer: &care.Buyer{Name: "陈晓燕", Phone: "+8613912345678"},
		Items: []care.Item{{SKU: "LJ-250", Title: "明前龙井 250g", Quantity: 1, Price: "129.00"}}}}
	en := o
	en.Order.Buyer = &care.Buyer{Name: "Jane Doe", Phone: "+12015550123"}
	en.Order.Items = []care.Item{{SKU: "LJ-250", Title: "Longjing green tea 250g", Quantity: 1, Price: "129.00"}}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	ws := workflows.All()
	for _, wf := range ws.Names() {
		body, err := ws.DefaultTemplate(wf)
		if err != nil {
			t.Fatal(err)
		}
		tpl, err := ws.ParseTemplate(wf, body)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range tpl.Steps {
			if st.Action != playbook.ActionMessage {
				continue
			}
			for _, locale := range []string{"zh-CN", "en"} {
				v := playbook.VarsFor(o, "茶屋", loc)
				if locale == "en" {
					v = playbook.VarsFor(en, "Tea House", loc)
				}
				text, used, err := tpl.Render(st, "script", locale, v)
				if err != nil || used != locale {
					continue // a locale the template lacks, or variables this order lacks
				}
				c := sms.Segments(text)
				t.Logf("%-16s %-14s %-5s %3d units %-5s %d segment(s)", wf, st.ID, locale, c.Units, c.Encoding, c.Segments)
				if c.Segments > 3 {
					t.Errorf("%s %s %s: %d segments", wf, st.ID, locale, c.Segments)
				}
			}
		}
	}
}
