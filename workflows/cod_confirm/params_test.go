package codconfirm_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	codconfirm "github.com/ordercare/ordercare/workflows/cod_confirm"
)

type doc = map[string]any

func defaultDoc(t *testing.T) doc {
	t.Helper()
	var d doc
	if err := json.Unmarshal(codconfirm.Workflow{}.DefaultTemplate(), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func step(d doc, i int) doc { return d["steps"].([]any)[i].(doc) }

func replies(d doc) doc { return d["params"].(doc)["replies"].(doc) }

func parse(t *testing.T, d doc) (*playbook.Template, error) {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return playbook.ParseWith(codconfirm.Name, b, codconfirm.Workflow{})
}

// TestParamsErrors: reply_timeout, the reply words and the shape of the
// steps are cod_confirm's to validate.
func TestParamsErrors(t *testing.T) {
	cases := []struct {
		name          string
		mutate        func(d doc)
		field, reason string
	}{
		{"params missing", func(d doc) { delete(d, "params") }, "params", "required"},
		{"without reply_timeout", func(d doc) { delete(d["params"].(doc), "reply_timeout") }, "params.reply_timeout", "required"},
		{"reply_timeout zero", func(d doc) { d["params"].(doc)["reply_timeout"] = "0s" }, "params.reply_timeout", "positive"},
		{"unpaid_chase's field", func(d doc) { d["params"].(doc)["pay_window"] = "72h" }, "params.pay_window", "unknown field"},
		{"step with after", func(d doc) { step(d, 0)["after"] = "10m" }, "steps[0].after", "not allowed in a cod_confirm template"},
		{"step with min_total", func(d doc) { step(d, 1)["min_total"] = "100" }, "steps[1].min_total", "not allowed in a cod_confirm template"},
		{"unknown step", func(d doc) { step(d, 0)["id"] = "ask_again" }, "steps[0].id", "ask (message), call (call), declined"},
		{"missing declined", func(d doc) { d["steps"] = d["steps"].([]any)[:2] }, "steps", "needs a step \"declined\""},
		{"declined as message", func(d doc) { step(d, 3)["action"] = "message" }, "steps[3].action", "must be a notify_shop"},
		{"call outcomes", func(d doc) { step(d, 1)["outcomes"] = []any{"confirmed", "declined", "busy"} }, "steps[1].outcomes", "exactly"},
		{"replies missing", func(d doc) { delete(d["params"].(doc), "replies") }, "params.replies", "required"},
		{"replies without default locale", func(d doc) { delete(replies(d), "zh-CN") }, "params.replies", "missing the default locale"},
		{"keyword both yes and no", func(d doc) {
			r := replies(d)["en"].(doc)
			r["no"] = append(r["no"].([]any), "OK!")
		}, "params.replies.en.no[14]", "also a yes keyword"},
		{"keyword of punctuation", func(d doc) { replies(d)["en"].(doc)["yes"] = []any{"yes", "👍"} }, "params.replies.en.yes[1]", "no letters or digits"},
		{"replies without no", func(d doc) { delete(replies(d)["en"].(doc), "no") }, "params.replies.en.no", "required"},
		{"bad locale key", func(d doc) { replies(d)["english"] = doc{"yes": []any{"y"}, "no": []any{"n"}} }, "params.replies.english", "BCP 47"},
		{"old shape, no reply words", func(d doc) {
			p := d["params"].(doc)
			delete(d, "params")
			d["reply_timeout"] = p["reply_timeout"]
		}, "params.replies", "required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := defaultDoc(t)
			tc.mutate(d)
			_, err := parse(t, d)
			var fe *care.FieldError
			if !errors.As(err, &fe) || !errors.Is(err, care.ErrInvalid) {
				t.Fatalf("error = %v, want a *care.FieldError", err)
			}
			if fe.Field != tc.field || !strings.Contains(fe.Reason, tc.reason) {
				t.Errorf("error = {%q, %q}, want {%q, …%q…}", fe.Field, fe.Reason, tc.field, tc.reason)
			}
		})
	}
}

// TestOldShape: a version stored before params (reply_timeout and replies
// at the top level) still parses, times the wait and reads replies.
func TestOldShape(t *testing.T) {
	old := `{"workflow":"cod_confirm","default_locale":"en","channel":"outbox","contact_budget":2,
	"reply_timeout":"90m","replies":{"en":{"yes":["yes","ok"],"no":["no"]}},
	"steps":[
	 {"id":"ask","action":"message","script":{"en":"Confirm {{ order.name }}?"}},
	 {"id":"call","action":"call","tag":"logistics","priority":2,"sla":"4h","outcomes":["confirmed","declined","unreachable"],
	  "reason":{"en":"not confirmed"},"script":{"en":"Hello"}},
	 {"id":"declined","action":"notify_shop","script":{"en":"Declined"}}]}`
	w := codconfirm.Workflow{}
	tpl, err := playbook.ParseWith(codconfirm.Name, []byte(old), w)
	if err != nil {
		t.Fatalf("old shape: %v", err)
	}
	p, ok := tpl.ParsedParams().(codconfirm.Params)
	if !ok || p.ReplyTimeout.Std() != 90*time.Minute {
		t.Errorf("params = %#v, want reply_timeout 90m", tpl.ParsedParams())
	}
	for text, want := range map[string]playbook.Answer{"ok": playbook.AnswerYes, "no": playbook.AnswerNo, "maybe": playbook.AnswerUnclear} {
		if got := w.Interpret(tpl, text, "en"); got != want {
			t.Errorf("Interpret(%q) = %q, want %q", text, got, want)
		}
	}
	var back map[string]json.RawMessage
	if err := json.Unmarshal(tpl.Params, &back); err != nil || len(back) != 2 {
		t.Errorf("params read from the old shape = %s (%v), want reply_timeout and replies", tpl.Params, err)
	}
}
