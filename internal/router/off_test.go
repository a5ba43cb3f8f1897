package router_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/router"
	"github.com/ordercare/ordercare/workflows"
)

// TestWorkflowSwitchedOff: a shop whose latest template of a workflow says
// "enabled": false gets no run of it, and the router says why; switching it
// back on starts runs again, and the other workflow is unaffected.
func TestWorkflowSwitchedOff(t *testing.T) {
	f := newFixture(t)
	var logs bytes.Buffer
	f.r.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	def, _ := workflows.DefaultTemplate(care.UnpaidChase)
	put := func(version int, body []byte) {
		t.Helper()
		if err := f.db.PutTemplate(f.ctx, care.Template{ShopID: shopID, Workflow: care.UnpaidChase, Version: version, Body: body, CreatedAt: start}); err != nil {
			t.Fatal(err)
		}
	}
	off := bytes.Replace(def, []byte(`"workflow": "unpaid_chase",`), []byte(`"workflow": "unpaid_chase", "enabled": false,`), 1)
	if bytes.Equal(off, def) {
		t.Fatal("could not switch the default off")
	}
	put(1, off)

	f.handle(f.created("OFF-1", "129.00", care.PayOnline))
	f.handle(f.created("COD-1", "129.00", care.PayCOD))
	if rs := f.runs("OFF-1"); len(rs) != 0 {
		t.Errorf("runs of a switched-off workflow: %+v", rs)
	}
	if rs := f.runs("COD-1"); len(rs) != 1 || rs[0].Workflow != care.CODConfirm {
		t.Errorf("cod_confirm runs: %+v", rs)
	}
	if n := len(f.sfn.Starts()); n != 1 {
		t.Errorf("%d executions started, want 1 (cod_confirm)", n)
	}
	line := logs.String()
	for _, want := range []string{`"reason":"` + router.SkipWorkflowOff + `"`, `"order":"OFF-1"`, `"workflow":"unpaid_chase"`, `"template_version":1`, "switched off"} {
		if !strings.Contains(line, want) {
			t.Errorf("log %s lacks %s", line, want)
		}
	}
	if strings.Contains(line, phone) || strings.Contains(line, "陈晓燕") {
		t.Errorf("log leaks personal data: %s", line)
	}

	put(2, def) // on again
	f.handle(f.created("ON-1", "129.00", care.PayOnline))
	if rs := f.runs("ON-1"); len(rs) != 1 || rs[0].TemplateVersion != 2 {
		t.Errorf("runs after switching on: %+v", rs)
	}
}
