package playbook

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ordercare/ordercare/internal/care"
)

// doc is a template as generic JSON, for mutation in tests.
type doc = map[string]any

func defaultDoc(t *testing.T, wf care.Workflow) doc {
	t.Helper()
	b, err := defaultTemplate(wf)
	if err != nil {
		t.Fatal(err)
	}
	var d doc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func step(d doc, i int) doc { return d["steps"].([]any)[i].(doc) }

func mustParse(t *testing.T, wf care.Workflow, body []byte) *Template {
	t.Helper()
	tp, err := Parse(wf, body)
	if err != nil {
		t.Fatalf("Parse(%s): %v", wf, err)
	}
	return tp
}

func TestDefaultTemplatesParse(t *testing.T) {
	for _, wf := range care.Workflows {
		t.Run(string(wf), func(t *testing.T) {
			b, err := defaultTemplate(wf)
			if err != nil {
				t.Fatal(err)
			}
			tp := mustParse(t, wf, b)
			if tp.Workflow != wf || tp.DefaultLocale != "zh-CN" {
				t.Errorf("workflow %q default_locale %q", tp.Workflow, tp.DefaultLocale)
			}
			for _, s := range tp.Steps {
				for _, loc := range []string{"zh-CN", "en"} {
					if _, ok := s.Script[loc]; !ok {
						t.Errorf("step %s has no %s script", s.ID, loc)
					}
				}
			}
		})
	}
}

func schemaValidator(t *testing.T) *jsonschema.Schema {
	t.Helper()
	sd, err := jsonschema.UnmarshalJSON(bytes.NewReader(TemplateSchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("template.schema.json", sd); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("template.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func schemaAccepts(t *testing.T, s *jsonschema.Schema, body []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

type parseCase struct {
	name       string
	wf         care.Workflow // the workflow Parse is called for (default: the document's)
	base       care.Workflow
	mutate     func(d doc)
	field      string
	reason     string // substring
	structural bool   // the JSON Schema alone rejects it
}

var parseCases = []parseCase{
	// Liquid
	{name: "unknown variable", base: care.UnpaidChase, mutate: func(d doc) {
		step(d, 0)["script"].(doc)["en"] = "Hi {{ buyer.name }}, pay {{ order.totl }} now"
	}, field: "steps[0].script.en", reason: "unknown variable {{ order.totl }}"},
	{name: "unknown top-level variable", base: care.UnpaidChase, mutate: func(d doc) {
		step(d, 2)["script"].(doc)["zh-CN"] = "{{ coupon }}"
	}, field: "steps[2].script.zh-CN", reason: "unknown variable {{ coupon }}"},
	{name: "unknown variable in a tag", base: care.UnpaidChase, mutate: func(d doc) {
		step(d, 0)["script"].(doc)["en"] = "{% if order.totl != \"\" %}x{% endif %}"
	}, field: "steps[0].script.en", reason: "unknown variable order.totl in {% if order.totl != \"\" %}"},
	{name: "unknown variable in an untaken branch", base: care.UnpaidChase, mutate: func(d doc) {
		step(d, 0)["script"].(doc)["en"] = "{% if order.pay_deadline == \"2000-01-01\" %}{{ order.totl }}{% endif %}"
	}, field: "steps[0].script.en", reason: "unknown variable {{ order.totl }}"},
	{name: "unknown top-level name in an untaken branch", base: care.UnpaidChase, mutate: func(d doc) {
		step(d, 0)["script"].(doc)["en"] = "{% if false %}{{ coupon | upcase }}{% endif %}"
	}, field: "steps[0].script.en", reason: "unknown variable {{ coupon | upcase }}"},
	{name: "cutoff in a template without one", base: care.CODConfirm, mutate: func(d doc) {
		step(d, 0)["script"].(doc)["en"] = "before {{ cutoff }}"
	}, field: "steps[0].script.en", reason: "unknown variable {{ cutoff }}"},
	{name: "include is refused", base: care.UnpaidChase, mutate: func(d doc) {
		step(d, 0)["script"].(doc)["en"] = "{% include \"/etc/passwd\" %}"
	}, field: "steps[0].script.en", reason: "include tag is not allowed"},
	{name: "coupon on a step without one", base: care.UnpaidChase, mutate: func(d doc) {
		step(d, 0)["script"].(doc)["en"] = "use {{ step.coupon }}"
	}, field: "steps[0].script.en", reason: "unknown variable {{ step.coupon }}"},
	{name: "phone is not exposed", base: care.CODConfirm, mutate: func(d doc) {
		step(d, 1)["script"].(doc)["en"] = "call {{ buyer.phone }}"
	}, field: "steps[1].script.en", reason: "unknown variable {{ buyer.phone }}"},
	{name: "address is not exposed", base: care.CODConfirm, mutate: func(d doc) {
		step(d, 1)["reason"].(doc)["zh-CN"] = "{{ order.shipping_address.city }}"
	}, field: "steps[1].reason.zh-CN", reason: "unknown variable"},
	{name: "liquid syntax", base: care.UnpaidChase, mutate: func(d doc) {
		step(d, 1)["script"].(doc)["zh-CN"] = "{% if order.total %}today"
	}, field: "steps[1].script.zh-CN", reason: "Liquid syntax"},
	{name: "stray endif", base: care.UnpaidChase, mutate: func(d doc) {
		step(d, 1)["script"].(doc)["en"] = "pay {{ order.total }}{% endif %}"
	}, field: "steps[1].script.en", reason: "Liquid syntax"},
	{name: "missing default locale in script", base: care.UnpaidChase, mutate: func(d doc) {
		delete(step(d, 2)["script"].(doc), "zh-CN")
	}, field: "steps[2].script", reason: "missing the default locale zh-CN"},
	{name: "missing default locale in reason", base: care.UnpaidChase, mutate: func(d doc) {
		delete(step(d, 3)["reason"].(doc), "zh-CN")
	}, field: "steps[3].reason", reason: "missing the default locale zh-CN"},
	{name: "bad locale key", base: care.UnpaidChase, mutate: func(d doc) {
		step(d, 0)["script"].(doc)["english"] = "hi"
	}, field: "steps[0].script.english", reason: "BCP 47", structural: true},
	{name: "empty script", base: care.UnpaidChase, mutate: func(d doc) {
		step(d, 0)["script"].(doc)["en"] = ""
	}, field: "steps[0].script.en", structural: true},
	// timing
	{name: "negative delay", base: care.UnpaidChase, mutate: func(d doc) { step(d, 0)["after"] = "-10m" },
		field: "steps[0].after", reason: "negative", structural: true},
	{name: "not a duration", base: care.UnpaidChase, mutate: func(d doc) { step(d, 0)["after"] = "10 minutes" },
		field: "steps[0].after", reason: "not a duration", structural: true},
	{name: "duration as a number", base: care.UnpaidChase, mutate: func(d doc) { step(d, 0)["after"] = 600 },
		field: "steps[0].after", reason: "must be string", structural: true},
	{name: "before_cutoff without cutoff", base: care.UnpaidChase, mutate: func(d doc) { delete(d, "cutoff") },
		field: "steps[1].before_cutoff", reason: "cutoff"},
	{name: "before_cutoff zero", base: care.UnpaidChase, mutate: func(d doc) { step(d, 1)["before_cutoff"] = "0s" },
		field: "steps[1].before_cutoff", reason: "must be positive"},
	{name: "bad cutoff", base: care.UnpaidChase, mutate: func(d doc) { d["cutoff"] = "4pm" },
		field: "cutoff", reason: "HH:MM", structural: true},
	{name: "bad quiet hour", base: care.UnpaidChase, mutate: func(d doc) { d["quiet_hours"].(doc)["from"] = "24:00" },
		field: "quiet_hours.from", reason: "HH:MM", structural: true},
	{name: "empty quiet hours", base: care.UnpaidChase, mutate: func(d doc) { d["quiet_hours"].(doc)["to"] = "22:00" },
		field: "quiet_hours.to", reason: "empty"},
	{name: "quiet hours without to", base: care.UnpaidChase, mutate: func(d doc) { delete(d["quiet_hours"].(doc), "to") },
		field: "quiet_hours.to", reason: "required", structural: true},
	// steps
	{name: "duplicate id", base: care.UnpaidChase, mutate: func(d doc) { step(d, 2)["id"] = "nudge" },
		field: "steps[2].id", reason: "duplicate id"},
	{name: "bad id", base: care.UnpaidChase, mutate: func(d doc) { step(d, 2)["id"] = "Coupon-1" },
		field: "steps[2].id", reason: "a-z", structural: true},
	{name: "unknown action", base: care.UnpaidChase, mutate: func(d doc) { step(d, 0)["action"] = "sms" },
		field: "steps[0].action", reason: "must be one of", structural: true},
	{name: "bad tag", base: care.UnpaidChase, mutate: func(d doc) { step(d, 3)["tag"] = "urgent" },
		field: "steps[3].tag", reason: "must be one of", structural: true},
	{name: "priority 0", base: care.UnpaidChase, mutate: func(d doc) { step(d, 3)["priority"] = 0 },
		field: "steps[3].priority", reason: "1 (most urgent) to 5", structural: true},
	{name: "priority 6", base: care.UnpaidChase, mutate: func(d doc) { step(d, 3)["priority"] = 6 },
		field: "steps[3].priority", structural: true},
	{name: "priority not integer", base: care.UnpaidChase, mutate: func(d doc) { step(d, 3)["priority"] = 1.5 },
		field: "steps[3].priority", structural: true},
	{name: "sla zero", base: care.UnpaidChase, mutate: func(d doc) { step(d, 3)["sla"] = "0s" },
		field: "steps[3].sla", reason: "positive"},
	{name: "no outcomes", base: care.UnpaidChase, mutate: func(d doc) { step(d, 3)["outcomes"] = []any{} },
		field: "steps[3].outcomes", structural: true},
	{name: "repeated outcome", base: care.UnpaidChase, mutate: func(d doc) { step(d, 3)["outcomes"] = []any{"will_pay", "will_pay"} },
		field: "steps[3].outcomes[1]", reason: "repeats", structural: true},
	{name: "call without reason", base: care.UnpaidChase, mutate: func(d doc) { delete(step(d, 3), "reason") },
		field: "steps[3].reason", reason: "required in a call step", structural: true},
	{name: "call without tag", base: care.UnpaidChase, mutate: func(d doc) { delete(step(d, 3), "tag") },
		field: "steps[3].tag", reason: "required", structural: true},
	{name: "message with a tag", base: care.UnpaidChase, mutate: func(d doc) { step(d, 0)["tag"] = "vip" },
		field: "steps[0].tag", reason: "not allowed in a message step", structural: true},
	{name: "call with a channel", base: care.UnpaidChase, mutate: func(d doc) { step(d, 3)["channel"] = "outbox" },
		field: "steps[3].channel", reason: "not allowed in a call step", structural: true},
	{name: "bad channel", base: care.UnpaidChase, mutate: func(d doc) { step(d, 0)["channel"] = "pigeon" },
		field: "steps[0].channel", structural: true},
	{name: "bad channel in channels", base: care.UnpaidChase, mutate: func(d doc) { step(d, 0)["channels"] = []any{"sms", "pigeon"} },
		field: "steps[0].channels[1]", structural: true},
	{name: "channels twice", base: care.UnpaidChase, mutate: func(d doc) { step(d, 0)["channels"] = []any{"sms", "sms"} },
		field: "steps[0].channels[1]", reason: "repeats", structural: true},
	{name: "bad class", base: care.UnpaidChase, mutate: func(d doc) { step(d, 0)["class"] = "promo" },
		field: "steps[0].class", structural: true},
	{name: "call with a class", base: care.UnpaidChase, mutate: func(d doc) { step(d, 3)["class"] = "marketing" },
		field: "steps[3].class", reason: "not allowed in a call step", structural: true},
	{name: "bad min_total", base: care.UnpaidChase, mutate: func(d doc) { step(d, 3)["min_total"] = "-500" },
		field: "steps[3].min_total", reason: "decimal", structural: true},
	{name: "min_total as a number", base: care.UnpaidChase, mutate: func(d doc) { step(d, 3)["min_total"] = 500 },
		field: "steps[3].min_total", structural: true},
	{name: "unknown step field", base: care.UnpaidChase, mutate: func(d doc) { step(d, 1)["delay"] = "1h" },
		field: "steps[1].delay", reason: "unknown field", structural: true},
	{name: "unknown top-level field", base: care.UnpaidChase, mutate: func(d doc) { d["promo"] = "618" },
		field: "promo", reason: "unknown field", structural: true},
	{name: "no steps", base: care.UnpaidChase, mutate: func(d doc) { d["steps"] = []any{} },
		field: "steps", structural: true},
	{name: "contact budget 0", base: care.UnpaidChase, mutate: func(d doc) { d["contact_budget"] = 0 },
		field: "contact_budget", reason: "1 to 20", structural: true},
	{name: "contact budget 21", base: care.UnpaidChase, mutate: func(d doc) { d["contact_budget"] = 21 },
		field: "contact_budget", structural: true},
	{name: "bad default locale", base: care.UnpaidChase, mutate: func(d doc) { d["default_locale"] = "chinese!" },
		field: "default_locale", structural: true},
	{name: "unknown workflow value", base: care.UnpaidChase, mutate: func(d doc) { d["workflow"] = "review_ask" },
		wf: care.UnpaidChase, field: "workflow", reason: "stored for \"unpaid_chase\""},
	{name: "not a workflow name", base: care.UnpaidChase, mutate: func(d doc) { d["workflow"] = "Review Ask" },
		wf: care.UnpaidChase, field: "workflow", structural: true},
	{name: "workflow mismatch", base: care.UnpaidChase, wf: care.CODConfirm,
		field: "workflow", reason: "stored for \"cod_confirm\""},
	{name: "cod notify_shop with a tag", base: care.CODConfirm, mutate: func(d doc) { step(d, 2)["tag"] = "vip" },
		field: "steps[2].tag", reason: "not allowed in a notify_shop step", structural: true},
}

// TestParseErrors checks the field and reason of each invalid template, and
// that the JSON Schema alone rejects exactly the structural ones (so the
// schema and Parse agree), while Parse rejects all.
func TestParseErrors(t *testing.T) {
	sch := schemaValidator(t)
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			d := defaultDoc(t, tc.base)
			if tc.mutate != nil {
				tc.mutate(d)
			}
			body, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			wf := tc.wf
			if wf == "" {
				wf = tc.base
			}
			_, err = Parse(wf, body)
			var fe *care.FieldError
			if !errors.As(err, &fe) || !errors.Is(err, care.ErrInvalid) {
				t.Fatalf("Parse error = %v, want a *care.FieldError", err)
			}
			if fe.Field != tc.field || !strings.Contains(fe.Reason, tc.reason) {
				t.Errorf("Parse error = {%q, %q}, want {%q, …%q…}", fe.Field, fe.Reason, tc.field, tc.reason)
			}
			serr := schemaAccepts(t, sch, body)
			if tc.structural && serr == nil {
				t.Errorf("the schema accepts a document Parse rejects structurally")
			}
			if !tc.structural && serr != nil {
				t.Errorf("the schema rejects a semantic case: %v", serr)
			}
		})
	}
}

func TestSchemaAcceptsDefaults(t *testing.T) {
	sch := schemaValidator(t)
	for _, wf := range care.Workflows {
		b, _ := defaultTemplate(wf)
		if err := schemaAccepts(t, sch, b); err != nil {
			t.Errorf("%s: %v", wf, err)
		}
	}
}

func TestSchemaTagsAreTaskTags(t *testing.T) {
	var s struct {
		Defs struct {
			Step struct {
				Properties struct {
					Tag struct {
						Enum []string `json:"enum"`
					} `json:"tag"`
				} `json:"properties"`
			} `json:"step"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(TemplateSchema(), &s); err != nil {
		t.Fatal(err)
	}
	if strings.Join(s.Defs.Step.Properties.Tag.Enum, ",") != strings.Join(care.TaskTags, ",") {
		t.Errorf("schema tags %v, care.TaskTags %v", s.Defs.Step.Properties.Tag.Enum, care.TaskTags)
	}
}

// minimal is a small valid unpaid_chase template, for raw-text cases.
const minimalHead = `{"workflow":"unpaid_chase","default_locale":"en","channel":"outbox","pay_window":"24h","contact_budget":2,`

func TestParseRawErrors(t *testing.T) {
	cases := []struct {
		name, body, field, reason string
	}{
		{"not JSON", `{"workflow":`, "workflow", "not valid JSON"},
		{"not an object", `[]`, "", "must be object"},
		{"trailing data", minimalHead + `"steps":[{"id":"a","action":"message","script":{"en":"hi"}}]} {}`, "", "after the template"},
		{"duplicate key", `{"workflow":"unpaid_chase","workflow":"cod_confirm"}`, "workflow", "duplicate key"},
		{"first error in document order: steps before quiet_hours",
			minimalHead + `"steps":[{"id":"a","action":"message","after":"-1h","script":{"en":"hi"}}],"quiet_hours":{"from":"9pm","to":"08:00"}}`,
			"steps[0].after", "negative"},
		{"first error in document order: quiet_hours before steps",
			minimalHead + `"quiet_hours":{"from":"9pm","to":"08:00"},"steps":[{"id":"a","action":"message","after":"-1h","script":{"en":"hi"}}]}`,
			"quiet_hours.from", "HH:MM"},
		{"first semantic error in document order",
			minimalHead + `"steps":[{"id":"a","action":"message","script":{"fr":"{{ x }}","en":"{{ y }}"}},{"id":"a","action":"message","script":{"en":"hi"}}]}`,
			"steps[0].script.fr", "unknown variable {{ x }}"},
		{"missing field named by its path",
			minimalHead + `"steps":[{"id":"a","action":"message"}]}`, "steps[0].script", "required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(care.UnpaidChase, []byte(tc.body))
			var fe *care.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error = %v, want a *care.FieldError", err)
			}
			if fe.Field != tc.field || !strings.Contains(fe.Reason, tc.reason) {
				t.Errorf("error = {%q, %q}, want {%q, …%q…}", fe.Field, fe.Reason, tc.field, tc.reason)
			}
		})
	}
	if _, err := Parse("review_ask", []byte(`{}`)); !errors.Is(err, care.ErrInvalid) {
		t.Errorf("unknown workflow argument: %v", err)
	}
}

func TestParseDeterministic(t *testing.T) {
	body := minimalHead + `"steps":[{"id":"a","action":"message","after":"-1h","script":{"en":"hi","english":"x"},"tag":"vip","foo":1}]}`
	var first string
	for i := 0; i < 20; i++ {
		_, err := Parse(care.UnpaidChase, []byte(body))
		if err == nil {
			t.Fatal("accepted")
		}
		if i == 0 {
			first = err.Error()
		} else if err.Error() != first {
			t.Fatalf("run %d: %v, first run: %s", i, err, first)
		}
	}
}

func TestParseAcceptsLocalLiquidNames(t *testing.T) {
	for _, src := range []string{
		`{% assign n = order.item_count | plus: 1 %}{{ n }} {{ "x" | upcase }} {{ 12 }}`,
		`{% for it in order.items %}{{ forloop.index }}. {{ it.title }} × {{ it.quantity }}{% endfor %}`,
		`{% capture who %}{{ buyer.name }}{% endcapture %}{{ who }}{% if order.cod_fee != "" %}+{{ order.cod_fee }}{% endif %}`,
		`{{- order.total -}} {{ order.items | size }} {{ order.placed_at }} {{ shop.name | default: "us" }}`,
	} {
		body := minimalHead + `"steps":[{"id":"a","action":"message","script":{"en":` + strconvQuote(src) + `}}]}`
		_, err := Parse(care.UnpaidChase, []byte(body))
		if err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestTemplateRoundTrip(t *testing.T) {
	for _, wf := range care.Workflows {
		b, _ := defaultTemplate(wf)
		tp := mustParse(t, wf, b)
		out, err := json.Marshal(tp)
		if err != nil {
			t.Fatal(err)
		}
		again := mustParse(t, wf, out)
		if d := cmp.Diff(tp, again, cmpopts.IgnoreUnexported(Template{})); d != "" {
			t.Errorf("%s round trip (-first +second):\n%s", wf, d)
		}
	}
}

// TestOldShapeLifted: a template of the old shape (a workflow's fields at
// the top level, no params) is read with those fields as its params, in
// place, so errors keep document order; with params present nothing moves.
func TestOldShapeLifted(t *testing.T) {
	body := minimalHead + `"steps":[{"id":"a","action":"message","script":{"en":"hi"}}]}`
	tp := mustParse(t, care.UnpaidChase, []byte(body))
	if got, want := string(tp.Params), `{"pay_window":"24h"}`; got != want {
		t.Errorf("params = %s, want %s", got, want)
	}
	got := string(liftLegacy([]byte(`{"workflow":"x","a":1,"channel":"outbox","b":[2]}`)))
	if want := `{"workflow":"x","params":{"a":1,"b":[2]},"channel":"outbox"}`; got != want {
		t.Errorf("lifted = %s, want %s", got, want)
	}
	both := `{"workflow":"unpaid_chase","default_locale":"en","channel":"outbox","contact_budget":2,"params":{"pay_window":"24h"},"pay_window":"24h","steps":[{"id":"a","action":"message","script":{"en":"hi"}}]}`
	_, err := Parse(care.UnpaidChase, []byte(both))
	var fe *care.FieldError
	if !errors.As(err, &fe) || fe.Field != "pay_window" || !strings.Contains(fe.Reason, "unknown field") {
		t.Errorf("params and an old-shape field: %v, want pay_window unknown field", err)
	}
}
