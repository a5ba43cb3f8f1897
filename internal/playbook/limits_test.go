package playbook

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// withScript returns the default unpaid_chase template with step 0's en
// script replaced by src.
func withScript(t *testing.T, src string) []byte {
	t.Helper()
	d := defaultDoc(t, care.UnpaidChase)
	step(d, 0)["script"].(doc)["en"] = src
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseBoundsRendering: scripts that would render without bound are
// refused at validation, quickly, naming the script and the bound.
func TestParseBoundsRendering(t *testing.T) {
	long := strings.Repeat("x", 1900)
	tests := []struct {
		name, src, reason string
	}{
		{"huge literal loop", `{% for i in (1..4000000) %}xxxxxxxxxx{% endfor %}`, "line 1, column 1: the loop over (1..4000000) runs more than 10000 iterations"},
		{"literal loop with too much output", `{% for i in (1..4000) %}xxxxxxxxxx{% endfor %}`, "rendering exceeded 2000 characters"},
		{"silent loops over the budget together", `{% for i in (1..9000) %}{% endfor %}{% for i in (1..9000) %}{% endfor %}ok`, "loops ran more than 10000 iterations"},
		{"nested loops", `{% for i in (1..2000) %}{% for j in (1..2000) %}{% endfor %}{% endfor %}`, "loops ran more than 10000 iterations"},
		{"nested loops with output", `{% for i in (1..2000) %}{% for j in (1..2000) %}x{% endfor %}{% endfor %}`, "rendering exceeded 2000 characters"},
		{"range from a variable", `{% assign n = 4000000 %}{% for i in (1..n) %}{% endfor %}`, "loops ran more than 10000 iterations"},
		{"nested range from a variable", `{% for i in (1..order.item_count) %}{% for j in (i..4000000) %}{% endfor %}{% endfor %}`, "loops ran more than 10000 iterations"},
		{"append doubling from a seed", `{% assign s = "xxxxxxxxxx" %}` + strings.Repeat(`{% assign s = s | append: s %}`, 20) + `{{ s.size }}`, "the append filter would make a value longer than 10000"},
		{"replace blow-up", `{% assign s = "` + strings.Repeat("y", 200) + `" %}{% assign s = s | replace: "", s %}{% assign s = s | replace: "", s %}{{ s.size }}`, "the replace filter would make a value longer than 10000"},
		{"join blow-up", `{% assign a = "` + strings.Repeat("y,", 300) + `" | split: "," %}{% assign s = a | join: "` + strings.Repeat("z", 500) + `" %}{{ s.size }}`, "the join filter would make a value longer than 10000"},
		{"capture doubling", `{% capture s %}xxxxxxxxxx{% endcapture %}` + strings.Repeat(`{% capture s %}{{ s }}{{ s }}{% endcapture %}`, 12) + `{{ s.size }}`, "capture s made a value longer than 10000 characters"},
		{"text over the channel's length", long + `{% for i in (1..30) %}{{ order.id }}{% endfor %}`, "rendering exceeded 2000 characters (the most a message on the outbox channel may have)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := Parse(care.UnpaidChase, withScript(t, tt.src))
			took := time.Since(start)
			var fe *care.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse = %v, want a field error", err)
			}
			if fe.Field != "steps[0].script.en" || !strings.Contains(fe.Reason, tt.reason) {
				t.Errorf("error %s: %q, want steps[0].script.en: …%s…", fe.Field, fe.Reason, tt.reason)
			}
			if took > 2*time.Second {
				t.Errorf("refused after %s", took)
			}
		})
	}
}

// TestParseRefusesUnboundedConstructs: constructs whose output escapes the
// bounds are refused by name and position.
func TestParseRefusesUnboundedConstructs(t *testing.T) {
	tests := []struct{ name, src, reason string }{
		{"range outside a for", `{{ (1..100000000) | join: "," }}`, "line 1, column 1: a range (a..b) may only be the collection of a for loop"},
		{"range in assign", `hi {% assign r = (1..100000000) %}{{ r | size }}`, "line 1, column 4: a range (a..b) may only be the collection of a for loop"},
		{"loop in capture", `{% capture s %}{% for i in (1..3) %}x{% endfor %}{% endcapture %}{{ s }}`, "a for loop inside a capture block is not allowed"},
		{"tablerow", `{% tablerow i in order.items %}x{% endtablerow %}`, "the tablerow tag is not allowed"},
		{"engine tag", `{% ordercare_loop_tick %}`, `unknown tag "ordercare_loop_tick"`},
		{"huge literal loop in an untaken branch", "{% if order.total == \"1\" %}\n  {% for i in (1..4000000) %}x{% endfor %}{% endif %}",
			"line 2, column 3: the loop over (1..4000000) runs more than 10000 iterations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(care.UnpaidChase, withScript(t, tt.src))
			var fe *care.FieldError
			if !errors.As(err, &fe) || fe.Field != "steps[0].script.en" || !strings.Contains(fe.Reason, tt.reason) {
				t.Errorf("Parse = %v, want steps[0].script.en: …%s…", err, tt.reason)
			}
		})
	}
	// A range loop that stays inside the bounds is fine.
	if _, err := Parse(care.UnpaidChase, withScript(t, `{% for i in (1..3) %}{{ i }}{% endfor %} {{ "a..b" }}`)); err != nil {
		t.Errorf("small range loop refused: %v", err)
	}
}

// TestParseSyntaxPositions: broken Liquid is refused with line and column,
// not stored to be sent as written.
func TestParseSyntaxPositions(t *testing.T) {
	tests := []struct{ name, src, reason string }{
		{"unclosed output", "亲，{{ order.total }", "line 1, column 3: {{ is not closed by }}"},
		{"unclosed output, second line", "亲，\n订单 {{ order.id", "line 2, column 4: {{ is not closed by }}"},
		{"unclosed tag", "{% if order.total %}x", "Liquid syntax error at line 1"},
		{"unclosed tag markup", "a {% if order.total", "line 1, column 3: {% is not closed by %}"},
		{"stray closer", "order.total }} left", "line 1, column 13: }} closes nothing"},
		{"output split by a closer", "{{ order.total } and {{ shop.name }}", "Liquid syntax error at line 1, column 1"},
		{"bad filter", "line one\n{{ order.total | }}", "Liquid syntax error at line 2, column 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(care.UnpaidChase, withScript(t, tt.src))
			var fe *care.FieldError
			if !errors.As(err, &fe) || fe.Field != "steps[0].script.en" || !strings.Contains(fe.Reason, tt.reason) {
				t.Errorf("Parse = %v, want steps[0].script.en: …%s…", err, tt.reason)
			}
		})
	}
	// Inside raw, braces are text.
	if _, err := Parse(care.UnpaidChase, withScript(t, `{% raw %}a }} b {% endraw %} {{ order.id }}`)); err != nil {
		t.Errorf("raw text refused: %v", err)
	}
}

// TestCacheRefusesBrokenStoredScript: a version stored before validation
// parsed every script fails to load, so nothing renders it literally.
func TestCacheRefusesBrokenStoredScript(t *testing.T) {
	var c Cache
	body := withScript(t, "亲，{{ order.total }")
	_, err := c.Parse(care.Template{ShopID: "s", Workflow: care.UnpaidChase, Version: 3, Body: body}, nil)
	if !errors.Is(err, care.ErrInvalid) || !strings.Contains(err.Error(), "column 3") {
		t.Errorf("Cache.Parse = %v, want a syntax error with its position", err)
	}
}

// TestRenderBoundsAtSend: an order much larger than the samples makes a
// valid script exceed the channel's length at send time: a precise error,
// not a 40-million-character message.
func TestRenderBoundsAtSend(t *testing.T) {
	tp := mustParse(t, care.UnpaidChase, withScript(t, `{% for item in order.items %}{{ item.title }};{% endfor %}`))
	v := sampleVars()
	for i := 0; i < 20_000; i++ {
		v.Items = append(v.Items, ItemVars{Title: "Longjing", Quantity: 1})
	}
	s, _, _ := tp.Step("nudge")
	start := time.Now()
	text, _, err := tp.Render(s, "script", "en", v)
	var fe *care.FieldError
	if !errors.As(err, &fe) || fe.Field != "steps[0].script.en" || !strings.Contains(fe.Reason, "rendering exceeded 2000 characters") {
		t.Errorf("Render = %d chars, %v; want steps[0].script.en: rendering exceeded 2000 characters", len(text), err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %s", took)
	}

	// Loop iterations are bounded at send too.
	tp = mustParse(t, care.UnpaidChase, withScript(t, `{% for item in order.items %}{% endfor %}ok`))
	s, _, _ = tp.Step("nudge")
	if _, _, err := tp.Render(s, "script", "en", v); err == nil || !strings.Contains(err.Error(), "loops ran more than 10000 iterations") {
		t.Errorf("Render = %v, want the iteration bound", err)
	}
}

func TestMaxLength(t *testing.T) {
	for ch, want := range map[string]int{ChannelOutbox: 2000, ChannelWebhook: 2000, "pigeon": 2000} {
		if got := MaxLength(ch); got != want {
			t.Errorf("MaxLength(%q) = %d, want %d", ch, got, want)
		}
	}
}

// TestRenderStripsControls: NUL, other C0 controls and bidirectional
// overrides in any variable or in the script never reach the text.
func TestRenderStripsControls(t *testing.T) {
	src := "Hi {{ buyer.name }} from {{ shop.name }}: {% for item in order.items %}{{ item.title }}{% endfor %} {{ order.id }}\u202e!\ttab\nline"
	tp := mustParse(t, care.UnpaidChase, withScript(t, src))
	s, _, _ := tp.Step("nudge")
	v := sampleVars()
	v.BuyerName = "Li\x00\u202eLei\u2066\u2069\u200f"
	v.ShopName = "Tea\u202a\u202b\u202c\u202d\u2067\u2068\u200e\x07\x1b\r Shop\x7f\u0085"
	v.Items = []ItemVars{{Title: "Long\x00jing\ufeff", Quantity: 1}}
	v.OrderID = "A\u061c1"
	text, _, err := tp.Render(s, "script", "en", v)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Hi LiLei from Tea Shop: Longjing A1!\ttab\nline"; text != want {
		t.Errorf("text %q, want %q", text, want)
	}
}

func TestStripControls(t *testing.T) {
	tests := map[string]string{
		"plain 美林 😀":                          "plain 美林 😀",
		"a\x00b\x01c\x1fd":                    "abcd",
		"tab\tnew\nline\rcr":                  "tab\tnew\nlinecr",
		"\u202aL\u202bR\u202cP\u202dO\u202eX": "LRPOX",
		"\u2066i\u2067j\u2068k\u2069":         "ijk",
		"\u200em\u200fn\u061co":               "mno",
		"zw\u200dj":                           "zw\u200dj", // joiners build emoji: kept
	}
	for in, want := range tests {
		if got := StripControls(in); got != want {
			t.Errorf("StripControls(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRenderTimeBudget: a render that runs out of time fails with the time
// bound, at validation and at send.
func TestRenderTimeBudget(t *testing.T) {
	tp := mustParse(t, care.UnpaidChase, withScript(t, `{% for item in order.items %}{{ item.title }}{% endfor %}`))
	s, _, _ := tp.Step("nudge")
	defer func(d time.Duration) { renderTimeout = d }(renderTimeout)
	renderTimeout = -time.Second // already over when rendering starts
	if _, _, err := tp.Render(s, "script", "en", sampleVars()); err == nil || !strings.Contains(err.Error(), "rendering took longer than") {
		t.Errorf("Render = %v, want the time bound", err)
	}
	_, err := Parse(care.UnpaidChase, withScript(t, `{% for item in order.items %}x{% endfor %}`))
	if err == nil || !strings.Contains(err.Error(), "rendering took longer than") {
		t.Errorf("Parse = %v, want the time bound", err)
	}
}
