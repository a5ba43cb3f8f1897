package workflows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/workflows"
)

// TestFulfilmentTone: the default scripts of the four fulfilment workflows
// read as a good shop writes, in every locale, also for an order whose
// buyer gave no name: no dangling greeting ("Hello ,", "is this ?"), and
// no word that blames the buyer, presses them or claims what the shop
// cannot know ("today" for a failed delivery reported hours earlier).
func TestFulfilmentTone(t *testing.T) {
	bad := []string{"Hello ,", "Hello  ", "is this ?", "请问是吗", "您好，，",
		// blame, pressure
		"in time", "your fault", "you failed", "you did not", "must ", "immediately", "otherwise",
		"超过了", "未按时", "必须", "立即", "否则", "您未",
		// a claim the notice cannot make
		"今天", "today"}
	placed := time.Date(2026, 11, 11, 1, 0, 0, 0, time.UTC)
	noName := care.OrderState{Order: care.Order{ID: "1", Name: "#1043", PlacedAt: &placed, Total: "20.00", Currency: "CNY",
		Items: []care.Item{{SKU: "T", Title: "Longjing", Quantity: 1, Price: "20.00"}}}}
	named := noName
	named.Order.Buyer = &care.Buyer{Name: "Li Lei"}
	for _, wf := range []care.Workflow{"preship_check", "shipping_notice", "stalled_parcel", "pickup_nudge"} {
		t.Run(string(wf), func(t *testing.T) {
			b, err := workflows.DefaultTemplate(wf)
			if err != nil {
				t.Fatal(err)
			}
			tpl, err := workflows.All().ParseTemplate(wf, b)
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range tpl.Steps {
				if st.Action == playbook.ActionNotifyShop {
					continue // to the shop, not the buyer
				}
				for loc := range st.Script {
					for _, o := range []care.OrderState{noName, named} {
						v := playbook.VarsFor(o, "西湖茶庄", time.UTC)
						text, _, err := tpl.Render(st, "script", loc, v)
						if err != nil {
							t.Fatalf("%s.%s: %v", st.ID, loc, err)
						}
						for _, w := range bad {
							if strings.Contains(text, w) {
								t.Errorf("%s.%s has %q: %s", st.ID, loc, w, text)
							}
						}
					}
				}
			}
		})
	}
}
