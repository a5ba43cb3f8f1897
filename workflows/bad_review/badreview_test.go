package badreview_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	badreview "github.com/ordercare/ordercare/workflows/bad_review"
)

type doc = map[string]any

func defaultDoc(t *testing.T) doc {
	t.Helper()
	var d doc
	if err := json.Unmarshal(badreview.Workflow{}.DefaultTemplate(), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func parse(t *testing.T, d doc) (*playbook.Template, error) {
	t.Helper()
	b, _ := json.Marshal(d)
	return playbook.ParseWith(badreview.Name, b, badreview.Workflow{})
}

func reviseStep(d doc) doc {
	for _, s := range d["steps"].([]any) {
		if s.(doc)["id"] == "revise" {
			return s.(doc)
		}
	}
	return nil
}

// TestParamsErrors: bad params and the workflow's compliance rules are a
// precise field error naming the rule.
func TestParamsErrors(t *testing.T) {
	cases := []struct {
		name          string
		mutate        func(d doc)
		field, reason string
	}{
		{"threshold", func(d doc) { d["params"].(doc)["threshold"] = 5 }, "params.threshold", ""},
		{"watch zero", func(d doc) { d["params"].(doc)["watch"] = "0" }, "params.watch", "positive"},
		{"unknown topic", func(d doc) { d["params"].(doc)["default_topic"] = "vip" }, "params.default_topic", "one of"},
		{"resolved not an outcome", func(d doc) { d["params"].(doc)["resolved"] = []any{"magic"} }, "params.resolved[0]", "no outcome"},
		{"revise ask on trustpilot", func(d doc) { d["params"].(doc)["platform"] = "trustpilot" }, "params.revise_ask", "Trustpilot"},
		{"revise ask on amazon", func(d doc) { d["params"].(doc)["platform"] = "amazon" }, "params.revise_ask", "Amazon"},
		{"revise ask offers a coupon (zh)", func(d doc) {
			reviseStep(d)["script"].(doc)["zh-CN"] = "修改评价后送您一张优惠券"
		}, "steps[3].script.zh-CN", "SAMR"},
		{"revise ask offers cash back (en)", func(d doc) {
			reviseStep(d)["script"].(doc)["en"] = "Update your review and get cash back!"
		}, "steps[3].script.en", "465.4"},
		{"revise ask with a coupon", func(d doc) { reviseStep(d)["coupon"] = "SORRY10" }, "steps[3].coupon", "465.4"},
		{"no appeal outcomes", func(d doc) {
			d["steps"].([]any)[0].(doc)["outcomes"] = []any{"refunded", "reissued", "explained"}
		}, "params.default_topic", "appeal_won"},
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
	// Trustpilot without the revise ask is fine.
	d := defaultDoc(t)
	d["params"].(doc)["platform"], d["params"].(doc)["revise_ask"] = "trustpilot", false
	if _, err := parse(t, d); err != nil {
		t.Errorf("trustpilot without revise ask: %v", err)
	}
}

// TestLint: the default template passes; Lint lists every refusal.
func TestLint(t *testing.T) {
	tpl, err := parse(t, defaultDoc(t))
	if err != nil {
		t.Fatal(err)
	}
	if errs := (badreview.Workflow{}).Lint(tpl); len(errs) != 0 {
		t.Fatalf("default template: %v", errs)
	}
	d := defaultDoc(t)
	d["params"].(doc)["platform"] = "amazon"
	reviseStep(d)["script"].(doc)["zh-CN"] = "改成五星好评返现 10 元红包"
	b, _ := json.Marshal(d)
	raw, err := playbook.Parse(badreview.Name, b) // the core only: Lint reads the params itself
	if err != nil {
		t.Fatal(err)
	}
	errs := (badreview.Workflow{}).Lint(raw)
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	if got := strings.Join(fields, " "); got != "params.revise_ask steps[3].script.zh-CN" {
		t.Errorf("Lint fields %q", got)
	}
}

// TestBadAndTopic: threshold, problem words and topics.
func TestBadAndTopic(t *testing.T) {
	tpl, err := parse(t, defaultDoc(t))
	if err != nil {
		t.Fatal(err)
	}
	pp := tpl.ParsedParams().(badreview.Params)
	rs := func(first, now int, text string) care.ReviewState {
		return care.ReviewState{Review: care.Review{Rating: now, Text: text}, FirstRating: first}
	}
	tests := []struct {
		name  string
		r     care.ReviewState
		bad   bool
		topic string
	}{
		{"one star", rs(1, 1, "meh"), true, care.TagQuality},
		{"three stars", rs(3, 3, "fine"), false, care.TagQuality},
		{"three stars, fake", rs(3, 3, "looks fake"), true, care.TagQuality},
		{"two stars, late", rs(2, 2, "the parcel was late"), true, care.TagLogistics},
		{"revised up", rs(1, 4, "seller fixed it"), true, care.TagService},
		{"物流", rs(2, 2, "快递太慢了"), true, care.TagLogistics},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pp.Bad(tt.r); got != tt.bad {
				t.Errorf("Bad = %v", got)
			}
			if got := pp.Topic(tt.r); got != tt.topic {
				t.Errorf("Topic = %s, want %s", got, tt.topic)
			}
		})
	}
}

// TestSubjects: a run per review id; revised is a stop reason.
func TestSubjects(t *testing.T) {
	o := care.OrderState{Reviews: []care.ReviewState{
		{Review: care.Review{ID: "a", Rating: 4}, FirstRating: 1},
		{Review: care.Review{ID: "", Rating: 1}, FirstRating: 1},
	}}
	w := badreview.Workflow{}
	ev := care.Event{Type: care.ReviewPosted, Review: &care.Review{ID: ""}}
	if got := w.Subjects(o, ev); len(got) != 1 || got[0] != badreview.NoID {
		t.Errorf("Subjects = %v", got)
	}
	for subject, want := range map[string]string{"a": badreview.ReasonRevised, badreview.NoID: "", "zz": badreview.ReasonNoReview} {
		if got := w.SubjectPointless(o, subject); got != want {
			t.Errorf("SubjectPointless(%s) = %q, want %q", subject, got, want)
		}
	}
}
