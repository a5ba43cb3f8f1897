package httpapi_test

import (
	"encoding/json"
	"testing"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/httpapi"
)

func TestTemplatePreview(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	r := e.do("GET", "/v1/templates/cod_confirm/preview", shop.Keys[care.RoleAgent], nil, nil)
	if r.Status != 200 {
		t.Fatalf("preview: %d %s", r.Status, r.Body)
	}
	var p httpapi.TemplatePreview
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	var ask *httpapi.PreviewStep
	for i := range p.Steps {
		if p.Steps[i].Step == "ask" && p.Steps[i].Locale == "zh-CN" {
			ask = &p.Steps[i]
		}
	}
	if ask == nil || ask.Encoding != "UCS-2" || ask.Segments < 1 || ask.Characters == 0 || ask.Text == "" || p.Segments < ask.Segments || p.Version != 0 {
		t.Fatalf("preview %+v (ask %+v)", p, ask)
	}
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/v1/templates/nope/preview", 404},
		{"/v1/templates/cod_confirm/preview?order=missing", 404},
	} {
		if r := e.do("GET", tc.path, shop.Keys[care.RoleOps], nil, nil); r.Status != tc.want {
			t.Errorf("GET %s: %d, want %d", tc.path, r.Status, tc.want)
		}
	}
}
