package compliance

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/playbook"
)

// message is a one-step template whose message step says text in locale.
func message(locale, text string) *playbook.Template {
	return &playbook.Template{Workflow: "w", DefaultLocale: locale, Steps: []playbook.Step{
		{ID: "ask", Action: playbook.ActionMessage, Script: map[string]string{locale: text}},
	}}
}

// rule returns the rule of the first refusal ("" for none) and its field.
func rule(t *playbook.Template) (Rule, string) {
	errs := Lint(t)
	if len(errs) == 0 {
		return "", ""
	}
	for _, r := range []Rule{RuleIncentive, RulePositiveAsk, RuleGatedAsk, RuleConditionalAsk} {
		if strings.HasPrefix(errs[0].Reason, string(r)+":") {
			return r, errs[0].Field
		}
	}
	return Rule("?" + errs[0].Reason), errs[0].Field
}

func TestLintText(t *testing.T) {
	tests := []struct {
		name, locale, text string
		want               Rule
	}{
		// zh-CN: refused.
		{"好评返现", "zh-CN", "亲，好评返现5元哦！", RuleIncentive},
		{"晒图返现", "zh-CN", "收到货后晒图返现，联系客服领取", RuleIncentive},
		{"五星好评送", "zh-CN", "五星好评送精美小礼品一份", RuleIncentive},
		{"五星好评+截图", "zh-CN", "五星好评+截图", RulePositiveAsk},
		{"好评送", "zh-CN", "好评送运费险", RuleIncentive},
		{"带图好评", "zh-CN", "麻烦您给个带图好评，谢谢！", RulePositiveAsk},
		{"红包 for 好评", "zh-CN", "给我们好评，截图发客服领红包", RuleIncentive},
		{"评价返现 full width", "zh-CN", "评价后联系客服返现２元", RuleIncentive},
		{"coupon for review zh", "zh-CN", "评价后即可领取10元优惠券", RuleIncentive},
		{"追评送积分", "zh-CN", "追评送100积分", RuleIncentive},
		{"thanks then coupon, one sentence", "zh-CN", "感谢您的好评，送您一张优惠券", RuleIncentive},
		{"期待好评", "zh-CN", "{{ buyer.name }}您好，期待您的五星好评", RulePositiveAsk},
		{"求好评", "zh-CN", "求好评~", RulePositiveAsk},
		{"满分", "zh-CN", "请给我们打个满分", RulePositiveAsk},
		{"满意的话", "zh-CN", "满意的话请给我们评价哦", RuleGatedAsk},
		{"如果满意", "zh-CN", "如果您对商品满意，请留下评价", RuleGatedAsk},
		{"不满意先联系", "zh-CN", "不满意请先联系客服，再评价", RuleGatedAsk},
		{"别给差评", "zh-CN", "有问题找客服，评价时请勿给差评", RuleGatedAsk},
		{"差评前", "zh-CN", "给差评前请先联系我们", RuleGatedAsk},
		{"the seed article's advice", "zh-CN", "邀好评的时间可以给客户红包", RuleIncentive},
		{"晒图 photo for cash", "zh-CN", "带图评价联系客服领3元", RuleIncentive},
		{"满意吗 then ask", "zh-CN", "宝贝还满意吗？满意的话记得来评价哦", RuleGatedAsk},
		{"满意吗？ then 评价", "zh-CN", "对商品满意吗？欢迎留下评价。", RuleGatedAsk},
		{"打5分", "zh-CN", "麻烦给我们打5分", RulePositiveAsk},
		{"确认收货并五星", "zh-CN", "确认收货并给五星好评哦", RulePositiveAsk},
		{"评价满字带图返现", "zh-CN", "评价满15字并带3张图，联系客服返现", RuleIncentive},
		// zh-CN: passed.
		{"neutral 评价", "zh-CN", "您的包裹已送达，期待您的真实评价。", ""},
		{"评价 then help", "zh-CN", "如有任何问题，随时联系我们。欢迎您分享真实评价。", ""},
		{"thank-you coupon alone", "zh-CN", "感谢您的支持，送您一张9折优惠券。欢迎留下您的真实评价。", ""},
		{"coupon with disclaimer", "zh-CN", "送您一张优惠券，无论是否评价都可使用，也欢迎您评价。", ""},
		{"五星级 description", "zh-CN", "五星级酒店同款毛巾，请放心使用", ""},
		{"好评如潮 description", "zh-CN", "这款茶具好评如潮，使用前请用温水清洗", ""},
		{"thanks for 好评", "zh-CN", "感谢您的好评！", ""},
		{"delivered, care", "zh-CN", "{{ buyer.name }}您好，您的订单{{ order.name }}已配送到达，使用中有任何问题请回复本消息。", ""},
		{"送达 not an incentive", "zh-CN", "包裹已送达，欢迎评价", ""},
		// en: refused.
		{"leave a 5-star review and get", "en", "Leave a 5-star review and get 10% off your next order!", RuleIncentive},
		{"for a positive review", "en", "We'll send you a $5 gift card for a positive review.", RuleIncentive},
		{"rate us 5", "en", "Please rate us 5 stars!", RulePositiveAsk},
		{"five-star", "en", "Would you leave us a five-star review?", RulePositiveAsk},
		{"positive review ask", "en", "We'd love a positive review.", RulePositiveAsk},
		{"cash back for review", "en", "Get cash back when you post a review with photos.", RuleIncentive},
		{"red packet", "en", "Review us and receive a red packet.", RuleIncentive},
		{"coupon for honest review", "en", "Write a review and we'll send you a coupon.", RuleIncentive},
		{"review for points", "en", "Earn 100 points for every review.", RuleIncentive},
		{"full width dollar", "en", "Review us for ＄5 off", RuleIncentive},
		{"stars glyphs", "en", "Please give us ★★★★★", RulePositiveAsk},
		{"if happy", "en", "If you're happy with your order, please leave a review.", RuleGatedAsk},
		{"if not happy contact first", "en", "If you're not happy, contact us before leaving a review.", RuleGatedAsk},
		{"before reviewing", "en", "Before you leave a review, reach out to our team.", RuleGatedAsk},
		{"don't leave negative", "en", "Please don't leave a negative review, we can fix it.", RuleGatedAsk},
		{"curly apostrophe", "en", "We’d love a 5-star review", RulePositiveAsk},
		{"love it? then ask", "en", "Love it? Leave us a review!", RuleGatedAsk},
		{"happy with your order? then ask", "en", "Happy with your order? We'd love your feedback.", RuleGatedAsk},
		{"5 emoji stars", "en", "Please give us 5⭐", RulePositiveAsk},
		{"free for review", "en", "Review it and we'll send another one free.", RuleIncentive},
		{"giveaway", "en", "Share your review to enter our monthly giveaway.", RuleIncentive},
		{"photo review for % off", "en", "Post a photo review to get 15% off your next order.", RuleIncentive},
		// en: passed.
		{"star-shaped product, free shipping", "en", "Star-shaped cookie cutters, free shipping on this order.", ""},
		{"star glyph banner", "en", "★ New arrival ★ 20% off", ""},
		{"positive or negative alike", "en", "We welcome all feedback, positive or negative, and read every review.", ""},
		{"您的好评是动力", "zh-CN", "您的好评是我们最大的动力", RulePositiveAsk},
		{"question not about satisfaction", "en", "Did your parcel arrive? We'd love your honest review.", ""},
		{"hassle-free", "en", "Enjoy hassle-free returns, and we'd love your honest review.", ""},
		{"5 minutes not 5 points", "zh-CN", "冲泡5分钟即可饮用，欢迎评价", ""},
		{"honest review", "en", "Hi {{ buyer.name }}, we'd love your honest review of {{ order.name }}.", ""},
		{"feel free", "en", "Feel free to leave a review: it helps other buyers.", ""},
		{"thank-you coupon alone", "en", "Thanks for shopping with us! Here is 10% off your next order: THANKS10. We'd love your honest review.", ""},
		{"coupon with disclaimer", "en", "Here's a coupon whether or not you leave a review, and we'd welcome your feedback.", ""},
		{"5 stars product description", "en", "Our towels were rated 5 stars by Good Housekeeping. Wash them cold before first use.", ""},
		{"thanks for 5-star", "en", "Thanks for the 5-star review!", ""},
		{"help offer", "en", "If anything is wrong with your order, reply to this message and we'll make it right.", ""},
		{"version 5.0", "en", "Update the app to version 5.0. Any feedback is welcome.", ""},
		{"Liquid total not a price", "en", "Your order of {{ order.total }} {{ order.currency }} arrived; we'd love your honest review.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, field := rule(message(tt.locale, tt.text))
			if got != tt.want {
				t.Errorf("%q: rule %q, want %q (%v)", tt.text, got, tt.want, Lint(message(tt.locale, tt.text)))
			}
			if got != "" && field != "steps[0].script."+tt.locale {
				t.Errorf("field %q, want steps[0].script.%s", field, tt.locale)
			}
		})
	}
}

func TestLintLiquidBranch(t *testing.T) {
	tests := []struct {
		name   string
		action playbook.Action
		text   string
		want   Rule
	}{
		{"ask gated on rating", playbook.ActionMessage, "{% if review.rating >= 4 %}Please leave a review of {{ order.name }}.{% endif %}", RuleConditionalAsk},
		{"reminder gated on sentiment", playbook.ActionMessage, "{% unless reply.sentiment == \"negative\" %}A reminder: we'd love your honest review.{% endunless %}", RuleConditionalAsk},
		{"elsif on complaints", playbook.ActionMessage, "{% if order.item_count > 1 %}Review each item.{% elsif buyer.complaints > 0 %}Sorry!{% else %}We'd love your feedback.{% endif %}", RuleConditionalAsk},
		{"case on stars zh", playbook.ActionMessage, "{% case review.stars %}{% when 5 %}欢迎评价{% endcase %}", RuleConditionalAsk},
		{"branch on items passes", playbook.ActionMessage, "{% if order.item_count > 1 %}Review each item{% else %}Review your item{% endif %}: we'd love your honest feedback.", ""},
		{"string literal not a variable", playbook.ActionMessage, "{% if shop.name == \"rating co\" %}x{% endif %} We'd love your honest review.", ""},
		{"agent task may branch", playbook.ActionCall, "{% if review.rating <= 2 %}Call first{% endif %} about the review.", ""},
		{"care message, no ask, may branch", playbook.ActionMessage, "{% if reply.sentiment == \"negative\" %}Sorry to hear that.{% endif %} Reply if you need help.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := message("en", tt.text)
			tpl.Steps[0].Action = tt.action
			if got, _ := rule(tpl); got != tt.want {
				t.Errorf("rule %q, want %q (%v)", got, tt.want, Lint(tpl))
			}
		})
	}
}

// TestLintAgentText: a call step's script (for the agent) and a note to
// the shop may speak of a bad review, dissatisfaction and a refund; they
// may not offer anything for, or ask for, a positive review.
func TestLintAgentText(t *testing.T) {
	tests := []struct {
		name   string
		action playbook.Action
		text   string
		want   Rule
	}{
		{"bad review, refund", playbook.ActionCall, "买家给了差评，对商品不满意：请联系买家，可退款5元。", ""},
		{"bad review en", playbook.ActionCall, "1-star review: the buyer is not happy with the parcel; offer a $5 refund or a reissue.", ""},
		{"shop note", playbook.ActionNotifyShop, "差评前买家曾投诉物流慢。", ""},
		{"agent offers cash for 好评", playbook.ActionCall, "请告诉买家：改成五星好评返现10元", RuleIncentive},
		{"agent asks 5 stars", playbook.ActionCall, "Ask the buyer to give us 5 stars.", RulePositiveAsk},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := message("zh-CN", tt.text)
			tpl.Steps[0].Action = tt.action
			if got, _ := rule(tpl); got != tt.want {
				t.Errorf("rule %q, want %q (%v)", got, tt.want, Lint(tpl))
			}
		})
	}
}

func TestLintParams(t *testing.T) {
	ask := message("en", "We'd love your honest review.")
	care := message("en", "Reply if you need help.")
	tests := []struct {
		name   string
		tpl    *playbook.Template
		params string
		want   []string // fields refused
	}{
		{"incentive text", care, `{"incentive":{"text":"好评返现5元","disclosed":true}}`, []string{"params.incentive.text"}},
		{"script by sku", care, `{"scripts":{"TEA-*":{"zh-CN":"泡茶前请温杯。五星好评送茶包"},"*":{"en":"Enjoy."}}}`, []string{`params.scripts["TEA-*"].zh-CN`}},
		{"list item", care, `{"notes":["ok","Leave a 5-star review and get a gift card"]}`, []string{"params.notes[1]"}},
		{"reminder filtered by rating", care, `{"reminders":{"count":2,"skip_if_rating_below":4}}`, []string{"params.reminders.skip_if_rating_below"}},
		{"ask key with sentiment", care, `{"ask_only_positive":true}`, []string{"params.ask_only_positive"}},
		{"review ask template: any rating filter", ask, `{"delay":"7d","min_rating":4,"exclude_complained":true}`, []string{"params.min_rating", "params.exclude_complained"}},
		{"condition string", ask, `{"reminder":{"when":"rating >= 4"}}`, []string{"params.reminder.when"}},
		{"opinion alone", care, `{"reminder":{"sentiment":"positive"}}`, []string{"params.reminder.sentiment"}},
		{"complaint keywords are not a filter", ask, `{"complaint_keywords":["broken","破损"],"reply_tag":"quality"}`, nil},
		{"bad review threshold is not an ask", care, `{"rating_threshold":2,"keywords":["破损","broken","差评"]}`, nil},
		{"revise ask rules are the workflow's", care, `{"revise_ask":{"max_rating":3}}`, nil},
		{"honest incentive disclosed", ask, `{"incentive":{"text":"Every order gets a 5% thank-you code, whether or not you leave a review.","disclosed":true}}`, nil},
		{"neutral reminders", ask, `{"reminders":2,"reminder_gap":"3d","per":"parcel"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := *tt.tpl
			tpl.Params = json.RawMessage(tt.params)
			var got []string
			for _, fe := range Lint(&tpl) {
				got = append(got, fe.Field)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("refused fields (-want +got):\n%s\n%v", diff, Lint(&tpl))
			}
		})
	}
}

func TestReasonNamesRuleAndSource(t *testing.T) {
	errs := Lint(message("zh-CN", "好评返现"))
	if len(errs) != 1 {
		t.Fatalf("Lint: %v, want one refusal", errs)
	}
	for _, want := range []string{"review incentive", "返现", "FTC 16 CFR 465.4", "SAMR", "art. 9(5)", "Amazon"} {
		if !strings.Contains(errs[0].Reason, want) {
			t.Errorf("reason %q lacks %q", errs[0].Reason, want)
		}
	}
}

func TestLintOrder(t *testing.T) {
	tpl := &playbook.Template{Steps: []playbook.Step{
		{ID: "a", Action: playbook.ActionMessage, Script: map[string]string{"zh-CN": "好评返现", "en": "Rate us 5 stars please"}},
		{ID: "b", Action: playbook.ActionMessage, Script: map[string]string{"en": "Hello"}, Coupon: "5 stars review = 5% off"},
	}, Params: json.RawMessage(`{"z":"晒图返现","a":"ok"}`)}
	var got []string
	for _, fe := range Lint(tpl) {
		got = append(got, fe.Field)
	}
	want := []string{"steps[0].script.en", "steps[0].script.zh-CN", "steps[1].coupon", "params.z"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

// BenchmarkLint lints a template of 10 message steps, each with a 600-rune
// script in zh-CN and en, and a params object of 20 strings: a large
// template, as PUT sees it.
func BenchmarkLint(b *testing.B) {
	zh := strings.Repeat("亲，您的包裹已送达，使用中有任何问题请回复本消息，期待您的真实评价。", 20)
	en := strings.Repeat("Hi {{ buyer.name }}, your parcel arrived. We'd love your honest review. ", 8)
	tpl := &playbook.Template{}
	for i := 0; i < 10; i++ {
		tpl.Steps = append(tpl.Steps, playbook.Step{ID: "s", Action: playbook.ActionMessage, Script: map[string]string{"zh-CN": zh, "en": en}})
	}
	notes := make([]string, 20)
	for i := range notes {
		notes[i] = "Wash cold before first use; any feedback is welcome."
	}
	p, _ := json.Marshal(map[string]any{"notes": notes})
	tpl.Params = p
	b.ReportAllocs()
	for b.Loop() {
		if errs := Lint(tpl); errs != nil {
			b.Fatal(errs)
		}
	}
}

// FuzzLint: any script and params string is linted without a panic, the
// same way twice, and a refusal names a path of the template.
func FuzzLint(f *testing.F) {
	for _, s := range []string{"好评返现", "Love it? Leave us a review!", "{% if review.rating > 3 %}review{% endif %}", "期待您的真实评价。", "", "?", "{%", "5★"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tpl := message("zh-CN", s)
		p, _ := json.Marshal(map[string]any{"reminders": map[string]any{"text": s, "min_rating": 4}})
		tpl.Params = p
		a, b := Lint(tpl), Lint(tpl)
		if diff := cmp.Diff(a, b); diff != "" {
			t.Fatalf("not deterministic:\n%s", diff)
		}
		filter := false
		for _, fe := range a {
			if fe.Field != "steps[0].script.zh-CN" && !strings.HasPrefix(fe.Field, "params.reminders.") {
				t.Errorf("field %q", fe.Field)
			}
			filter = filter || fe.Field == "params.reminders.min_rating"
		}
		if !filter {
			t.Errorf("min_rating under reminders not refused: %v", a)
		}
	})
}
