package playbook_test

import (
	"bytes"
	"testing"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/workflows"
)

// TestOrderName: scripts may show order.name, the platform's display name
// buyers know ("#1043"), which falls back to the id when the order has none.
func TestOrderName(t *testing.T) {
	body, err := workflows.DefaultTemplate(care.UnpaidChase)
	if err != nil {
		t.Fatal(err)
	}
	body = bytes.ReplaceAll(body, []byte("{{ order.id }}"), []byte("{{ order.name }}"))
	tpl, err := playbook.Parse(care.UnpaidChase, body)
	if err != nil {
		t.Fatalf("a script with order.name: %v", err)
	}
	for _, tc := range []struct {
		name, want string
	}{{"#1043", "#1043"}, {"", "5998017560684"}} {
		o := care.OrderState{Order: care.Order{ID: "5998017560684", Name: tc.name, Total: "9.90", Currency: "USD"}}
		v := playbook.VarsFor(o, "Shop", nil)
		var found bool
		for _, s := range tpl.Steps {
			if _, ok := s.Script["en"]; !ok {
				continue
			}
			text, _, err := tpl.Render(s, "script", "en", v)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains([]byte(text), []byte("order "+tc.want)) {
				found = true
			}
		}
		if !found {
			t.Errorf("name %q: no script shows %q", tc.name, "order "+tc.want)
		}
	}
}
