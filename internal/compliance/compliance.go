// Package compliance holds the review-compliance lint every care template
// goes through before it is stored (steps.Workflows.ParseTemplate): the
// rules against buying or steering reviews that China's SAMR
// 网络反不正当竞争暂行规定 (in force 2024-09-01), the US FTC rule 16 CFR 465
// (in force 2024-10-21), Amazon's and Trustpilot's review policies share.
//
// Lint reads every script of every step (every locale) and every string
// value (and key) of the template's params, and refuses:
//
//   - RuleIncentive: an incentive tied to a review or its rating (好评返现,
//     晒图返现, "leave a review and get 10% off", a red packet, cash back or
//     a coupon for a review);
//   - RulePositiveAsk: an ask for a positive review or a given rating
//     (五星好评, "rate us 5 stars", "leave a positive review");
//   - RuleGatedAsk: wording that makes the ask depend on the buyer's
//     satisfaction or steers unhappy buyers away from reviewing (如果满意请
//     给评价, 不满意请先联系客服, "if you're happy, leave a review",
//     "contact us before leaving a review");
//   - RuleConditionalAsk: a review ask or reminder conditional on the
//     rating, sentiment, replies or complaints: a Liquid branch over such a
//     variable in a message step that asks for a review, or a params key
//     that filters a review ask or reminder by them.
//
// Text not sent to the buyer as written (a call step's script, which the
// agent reads; a notify_shop note) is held only to RuleIncentive and
// RulePositiveAsk for a positive review or rating: it may well speak of a
// bad review, a refund and an unhappy buyer. Reason texts are not linted.
//
// The text rules judge one sentence at a time, with Liquid tags and
// outputs blanked out, after folding full-width characters and case. They
// are tuned against false positives on honest text: a neutral ask for an
// honest review (评价, "we'd love your honest review") passes; so does a
// thank-you coupon in a sentence of its own, or in a sentence that says it
// does not depend on a review ("whether or not you leave a review",
// 无论是否评价); "5 stars" or 五星级 in a product description with no ask
// passes; thanking for a good review (感谢您的好评) passes. The price is
// that a sentence mixing an ask for a review with a coupon is refused even
// when the shop meant them apart, and an ask verb next to "five-star" in
// unrelated text ("give your towels five-star care") is refused: a
// regulator reads one sentence as one offer, and so does this lint.
//
// Everything here is pure: no I/O, no clock.
package compliance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/text/width"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

// A Rule is one thing the lint refuses. Every refusal's reason starts with
// the rule's name and cites its sources.
type Rule string

// The rules.
const (
	RuleIncentive      Rule = "review incentive"
	RulePositiveAsk    Rule = "positive-review ask"
	RuleGatedAsk       Rule = "gated review ask"
	RuleConditionalAsk Rule = "conditional review ask"
)

// Sources names, per rule, the regulations and policies it enforces.
var Sources = map[Rule]string{
	RuleIncentive:      "FTC 16 CFR 465.4 (no incentive conditioned on a review's sentiment); SAMR 网络反不正当竞争暂行规定 (2024) art. 9(5) (no 返现、红包、卡券 for 指定好评); Amazon's Community Guidelines and Trustpilot's guidelines for businesses (no compensation for reviews)",
	RulePositiveAsk:    "Amazon's Community Guidelines and Trustpilot's guidelines for businesses (do not ask for positive reviews); SAMR 网络反不正当竞争暂行规定 (2024) art. 9(5) (指定好评) and FTC 16 CFR 465.4 when anything is offered",
	RuleGatedAsk:       "Trustpilot's guidelines for businesses (invite every customer alike; do not ask customers with a negative experience to contact support before reviewing); Amazon's Community Guidelines (do not ask only happy buyers)",
	RuleConditionalAsk: "Amazon's Community Guidelines (do not ask only happy buyers) and Trustpilot's guidelines for businesses (invite every customer at the same point; do not filter out unhappy ones)",
}

// advice is what to do instead, per rule.
var advice = map[Rule]string{
	RuleIncentive:      "a thank-you that does not depend on a review goes in a sentence of its own, or says so (\"whether or not you leave a review\", 无论是否评价)",
	RulePositiveAsk:    "ask every buyer for their honest review (\"we'd love your honest review\", 期待您的真实评价)",
	RuleGatedAsk:       "ask every buyer the same way, and offer help without tying it to the review",
	RuleConditionalAsk: "send the same ask and reminders to every eligible buyer; only a posted review, a refund or return, or a cancellation stops them",
}

func refusal(field string, r Rule, what string) *care.FieldError {
	return &care.FieldError{Field: field, Reason: fmt.Sprintf("%s: %s; forbidden by %s; %s", r, what, Sources[r], advice[r])}
}

// Lint returns every refusal of the template's scripts and params, in
// document order (steps in order, each step's script locales sorted, then
// params as written), each a *care.FieldError whose Field is the JSON path
// ("steps[2].script.zh-CN", "params.incentive.text") and whose Reason
// names the rule broken and its sources. None: nil. t is only read.
func Lint(t *playbook.Template) []*care.FieldError {
	var out []*care.FieldError
	for i, s := range t.Steps {
		locales := make([]string, 0, len(s.Script))
		for l := range s.Script {
			locales = append(locales, l)
		}
		sort.Strings(locales)
		ask := false
		for _, l := range locales {
			ask = ask || asksReview(s.Script[l])
		}
		for _, l := range locales {
			field := fmt.Sprintf("steps[%d].script.%s", i, l)
			src := s.Script[l]
			if fe := lintText(field, src, s.Action == playbook.ActionMessage); fe != nil {
				out = append(out, fe)
				continue
			}
			if s.Action == playbook.ActionMessage && ask {
				if v := ratingBranch(src); v != "" {
					out = append(out, refusal(field, RuleConditionalAsk, fmt.Sprintf("the review ask branches on %q", v)))
				}
			}
		}
		if s.Coupon != "" {
			if fe := lintText(fmt.Sprintf("steps[%d].coupon", i), s.Coupon, true); fe != nil {
				out = append(out, fe)
			}
		}
	}
	if len(t.Params) > 0 {
		out = append(out, lintParams(t.Params, solicits(t))...)
	}
	return out
}

// lintText applies the text rules to one script or string, sentence by
// sentence, and returns the first refusal. Text that is not sent to the
// buyer as written (a call step's script for the agent, a note to the
// shop: buyer false) is held only to the incentive and positive-ask rules
// for a positive review or rating: an agent's script may well speak of a
// bad review, the buyer's dissatisfaction and a refund.
func lintText(field, src string, buyer bool) *care.FieldError {
	gate, prev := "", ""
	for _, s := range sentences(normalize(stripLiquid(src))) {
		if r, what := judge(s.text, buyer); r != "" {
			return refusal(field, r, what+" in "+excerpt(s.text))
		}
		// "Happy with your order? Leave us a review": a question about the
		// buyer's satisfaction gates the ask in the sentence after it.
		if buyer && gate != "" && reviewTerm.MatchString(neutralZH.Replace(s.text)) {
			return refusal(field, RuleGatedAsk, fmt.Sprintf("ties the review to the buyer's satisfaction (%q) in %s", gate, excerpt(prev+"? "+s.text)))
		}
		gate, prev = "", s.text
		if s.question {
			gate = gateQuestion.FindString(s.text)
		}
	}
	return nil
}

// gateQuestion: a question about the buyer's satisfaction ("Love it?",
// "Happy with your order?", "Not satisfied?", 满意吗？).
var gateQuestion = regexp.MustCompile(`\b(?:happy|unhappy|satisfied|unsatisfied|dissatisfied|pleased|delighted|love|loving|loved|like|liked|enjoy|enjoying|enjoyed)\b|满意|喜欢`)

var (
	liquidTag    = regexp.MustCompile(`(?s)\{%.*?%\}`)
	liquidOutput = regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	// sentenceEnd splits text into sentences: full stops, question and
	// exclamation marks, semicolons, line breaks, and Latin full stops
	// followed by a space or the end (so "5.0" and "example.com" stay whole).
	sentenceEnd = regexp.MustCompile(`[。！？；;\n!?]+|\.+(\s+|$)`)
)

// excerpt quotes a sentence for a reason (as the lint read it: lower
// case, Liquid blanked), at most 60 runes.
func excerpt(s string) string {
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// stripLiquid blanks Liquid tags and outputs (their variables are not text
// the buyer reads as written; the Liquid rule reads the tags).
func stripLiquid(s string) string {
	s = liquidTag.ReplaceAllString(s, " ")
	return liquidOutput.ReplaceAllString(s, " x ")
}

// normalize folds full-width forms (５星, ＄) and case, and unifies
// apostrophes and stars, so one pattern covers the spellings.
func normalize(s string) string {
	s = width.Fold.String(s)
	s = strings.NewReplacer("’", "'", "‘", "'", "☆", "★", "⭐", "★", "🌟", "★").Replace(s)
	return strings.ToLower(s)
}

// sentence is one sentence of a text; question: it ended with "?".
type sentence struct {
	text     string
	question bool
}

func sentences(s string) []sentence {
	var out []sentence
	at := 0
	add := func(text, end string) {
		if text = strings.TrimSpace(text); text != "" {
			out = append(out, sentence{text, strings.Contains(end, "?")})
		}
	}
	for _, m := range sentenceEnd.FindAllStringIndex(s, -1) {
		add(s[at:m[0]], s[m[0]:m[1]])
		at = m[1]
	}
	add(s[at:], "")
	return out
}

// neutralZH are compounds whose characters look like an incentive (送 in
// 送达, the delivery) or a rating (五星级, a hotel grade) but are neither.
var neutralZH = strings.NewReplacer(
	"送达", "到达", "配送", "运输", "发送", "发出", "运送", "运输", "送货", "运货", "寄送", "寄出",
	"送到", "到达", "递送", "运输", "传送", "传输", "送出", "发出", "护送", "陪同",
	"五星级", "高档", "5星级", "高档", "免费咨询", "咨询", "免费退换", "退换", "免费维修", "维修",
)

var (
	// reviewTerm: the sentence is about a review or a rating.
	reviewTerm = regexp.MustCompile(`\b(?:reviews?|reviewing|reviewed|feedback|ratings?|rate us|rate (?:the|your|this|our|it)|testimonials?|(?:\d|one|two|three|four|five)[- ]?stars?|star ratings?)\b|★{2,}|\d ?★|好评|差评|中评|评价|评论|点评|追评|晒图|晒单|五星|5星|满分|打分|评分|带图|打\d分|打[一二三四五]分|给个?[5五]分`)
	// incentive: something of value.
	incentive = regexp.MustCompile(`\b(?:cash ?back|rebates?|red (?:packet|envelope)s?|hongbao|coupons?|vouchers?|discount(?:s|ed)?|promo codes?|gift cards?|free (?:gift|sample|product|item|shipping|delivery|order)s?|(?:a|small|little) (?:thank[- ]you )?gift (?:for|in return|as)|for free|\bfree\b|rewards?|loyalty points|bonus points|points|store credit|money back|bonus(?:es)?|prizes?|giveaways?|sweepstakes?|lucky draw|raffle|compensat\w*|pay you|get paid|refund (?:after|once|when|for)|\d+ ?% off)\b|[$€£¥] ?\d|\d+ ?(?:usd|dollars?|rmb)\b|返现|返款|返利|返\d|现金|红包|优惠券|优惠码|代金|券|礼品|礼包|赠品|赠送|有礼|有奖|奖励|积分|包邮|免单|抽奖|立减|减\d|折扣|打折|\d+ ?元|\d+ ?块|好处|福利|送(?:您|你|一|个|张|份|\d|红包|券|礼|小)|(?:就|即|立|再|可|还|好评|评价|晒图|追评|五星)送`)
	// disclaimer: the sentence says the value does not depend on a review.
	disclaimer = regexp.MustCompile(`whether or not you (?:leave|write|post|review)|regardless of (?:whether|your|what|the)|not (?:tied|conditional|conditioned|dependent|linked) (?:to|on)|(?:doesn't|does not|don't|do not) depend on|no matter (?:what|how) you (?:write|say|rate|review)|with or without a review|无论是否|无论您?(?:评价|评论)与否|不论是否|与(?:评价|评论|评分)无关|不以(?:评价|好评|评论)为条件|无需评价|不需要评价`)
	// positiveRating: a positive review or a given rating.
	positiveRating = regexp.MustCompile(`\b(?:5|five)[- ]?stars?\b|\b(?:5|five) ?★|★★★★★|\b(?:positive|good|great|glowing|excellent|favou?rable|stellar|perfect|top|nice|awesome|amazing|happy|5-star|five-star) (?:review|rating|feedback|comment)s?\b|\brate us (?:5|five|10|ten|highly|well|high)\b|\bfull marks\b|\b(?:give|leave) us (?:5|five|a 5|a five)\b|\b5/5\b|\b10/10\b|好评|五星|5星|五颗星|5颗星|满分|全五|高分|打[5五]分|给个?[5五]分|[5五]分好评`)
	// askEN / askZH: the sentence asks something of the buyer.
	askEN = regexp.MustCompile(`\b(?:please|pls|plz|kindly|would you|could you|can you|will you|would (?:love|appreciate)|we'?d (?:love|appreciate)|leave|give|write|post|drop|share|rate us|consider|help us|don'?t forget|remember to|take a (?:moment|minute|second)|click|tap)\b`)
	askZH = regexp.MustCompile(`请|求|给|期待|麻烦|希望|帮忙|帮我|留|点个|点亮|打个|赏|动动|记得|别忘|辛苦|支持一下`)
	// gated: the ask depends on the buyer's satisfaction, or steers unhappy buyers away.
	gatedEN = regexp.MustCompile(`\bif (?:you(?:'re| are| were|'ve been| have been)?|you) (?:happy|satisfied|pleased|delighted|enjoying|loving|thrilled|love|loved|like|liked|enjoy|enjoyed)\b|\bonly (?:if|when) you(?:'re| are)? (?:happy|satisfied)\b|\bbefore (?:leaving|writing|posting|giving|you leave|you write|you post)\b|\binstead of (?:leaving|writing|posting|giving)\b|\b(?:don't|do not|never|please don't) (?:leave|write|post|give)(?: us)? (?:a |an |any )?(?:negative|bad|poor|low|1-star|one-star|2-star|two-star|neutral)\b|\bif (?:you're |you are |you were )?(?:not|un)(?:happy|satisfied)\b`)
	gatedZH = regexp.MustCompile(`(?:如果|若|要是|假如|倘若)[^，,]{0,8}(?:满意|喜欢)|满意的话|喜欢的话|满意(?:就|请|再|后)|不满意|(?:不要|别|勿|千万别|请勿|不要给|别给)(?:给|打)?(?:中差评|差评|低分|中评|负评|一星|1星)|(?:给|打)?差评(?:之)?前|先联系[^。]{0,12}(?:再|后)(?:评价|评论|评)`)
	// thanks: thanking for a review already given, not asking for one.
	thanks = regexp.MustCompile(`\bthank(?:s| you)\b|感谢|谢谢|多谢`)
)

// neutralEN are phrases whose "free" offers nothing ("feel free",
// "hassle-free").
var neutralEN = regexp.MustCompile(`\bfeel free\b|\bfree to\b|\b[a-z]+-free\b`)

// judge applies the text rules to one normalized sentence: the rule
// broken and what in the sentence broke it, or "". buyer: see lintText.
func judge(s string, buyer bool) (Rule, string) {
	z := neutralEN.ReplaceAllString(neutralZH.Replace(s), " ")
	if !reviewTerm.MatchString(z) {
		return "", ""
	}
	rev := reviewTerm.FindString(z)
	if !buyer {
		if rev = positiveRating.FindString(z); rev == "" || description.MatchString(z) {
			return "", ""
		}
	}
	if inc := incentive.FindString(z); inc != "" && !disclaimer.MatchString(z) {
		return RuleIncentive, fmt.Sprintf("offers %q for a review (%q)", inc, rev)
	}
	if g := gatedEN.FindString(z); buyer && g != "" {
		return RuleGatedAsk, fmt.Sprintf("ties the review to the buyer's satisfaction (%q)", g)
	}
	if g := gatedZH.FindString(z); buyer && g != "" {
		return RuleGatedAsk, fmt.Sprintf("ties the review to the buyer's satisfaction (%q)", g)
	}
	if p := positiveRating.FindString(z); p != "" && !description.MatchString(z) {
		// An ask beside a positive rating counts; without one, 五星好评+截图
		// still asks, "thanks for your 5-star review" and "rated 5 stars" do not.
		if askEN.MatchString(z) || askZH.MatchString(z) || isChinese(p) && !thanks.MatchString(z) {
			return RulePositiveAsk, fmt.Sprintf("asks for %q", p)
		}
	}
	return "", ""
}

// isChinese reports whether s holds a Han character.
func isChinese(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}

// description: 好评如潮 / 好评率 describe a product's reception, no ask.
var description = regexp.MustCompile(`好评如潮|好评率|好评度|广受好评|备受好评|深受好评|获得好评|一致好评`)

// asksReview reports whether a script asks the buyer for a review.
func asksReview(src string) bool {
	return askReview.MatchString(normalize(stripLiquid(src)))
}

var askReview = regexp.MustCompile(`\b(?:reviews?|feedback|rate us|rate your|rating)\b|评价|评论|点评|追评|好评|打分|评分|晒图|晒单`)

var (
	branchTag = regexp.MustCompile(`(?s)\{%-?\s*(?:if|elsif|unless|case|when)\b(.*?)-?%\}`)
	ident     = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*`)
	// gateVar: a variable about the buyer's opinion or contact with the shop.
	gateVar = regexp.MustCompile(`(?i)(?:^|[._])(?:rating|ratings|stars?|score|sentiment|mood|happy|unhappy|satisf\w*|nps|csat|repl(?:y|ies|ied)|complain\w*|complaints?|tasks?|tickets?|disputes?)(?:$|[._])`)
	quoted  = regexp.MustCompile(`"[^"]*"|'[^']*'`)
)

// ratingBranch returns the first variable about the buyer's opinion (the
// rating, sentiment, replies, complaints, tasks) a Liquid branch of src
// reads, or "".
func ratingBranch(src string) string {
	for _, m := range branchTag.FindAllStringSubmatch(src, -1) {
		cond := quoted.ReplaceAllString(m[1], " ")
		for _, id := range ident.FindAllString(cond, -1) {
			if gateVar.MatchString(id) {
				return id
			}
		}
	}
	return ""
}

var (
	// askKey: a params key about the review ask or its reminders.
	askKey = regexp.MustCompile(`(?i)(?:^|_)(?:ask|asks|request|requests|remind|reminder|reminders|invite|invites|invitation|invitations|solicit\w*|review_ask|review_request)(?:$|_)`)
	// reviseKey: revise asks (bad_review) are their workflow's own rules (steps.Linter).
	reviseKey = regexp.MustCompile(`(?i)revis|amend|update`)
	// opinionKey: a params key about the buyer's opinion or contact with the
	// shop; filterWord: one that filters by it ("min_rating",
	// "skip_if_replied", "ask_only_positive"); a key that is the opinion
	// alone ("sentiment": "positive") filters too. "complaint_keywords"
	// does not.
	opinionKey   = regexp.MustCompile(`(?i)(?:^|_)(?:rating|ratings|stars?|score|sentiment|mood|happy|unhappy|positive|negative|satisf\w*|unsatisf\w*|dissatisf\w*|nps|csat|replied|replies|complain\w*|complaints?|tasks?|tickets?)(?:$|_)`)
	filterWord   = regexp.MustCompile(`(?i)(?:^|_)(?:min|max|minimum|maximum|only|skip|exclude|excluding|except|require|required|requires|if|unless|threshold|least|above|below|over|under|filter|gate|gated|when|without|no|not|positive|negative|happy|unhappy|satisfied)(?:$|_)`)
	opinionAlone = regexp.MustCompile(`(?i)^(?:rating|ratings|stars?|score|sentiment|mood|nps|csat|satisfaction)$`)
	// filterExpr: a string value that compares such a thing.
	filterExpr = regexp.MustCompile(`(?i)\b(?:rating|stars?|score|sentiment|nps|csat)\b\s*(?:[<>]=?|==|!=|=|\bis\b|\bat least\b|\babove\b|\bbelow\b)`)
)

// solicits reports whether the template's purpose includes a review ask:
// a message step that asks for a review and is not a revise ask (its id
// says revise, amend or update; those are their workflow's own rules).
// Then every params key is about that ask.
func solicits(t *playbook.Template) bool {
	for _, s := range t.Steps {
		if s.Action != playbook.ActionMessage || reviseKey.MatchString(s.ID) {
			continue
		}
		for _, src := range s.Script {
			if asksReview(src) {
				return true
			}
		}
	}
	return false
}

// lintParams walks the params object in document order: every key and
// string value. askCtx: the whole template is a review ask (solicits).
func lintParams(raw json.RawMessage, askCtx bool) []*care.FieldError {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out []*care.FieldError
	var walk func(path string, askCtx bool) error
	walk = func(path string, askCtx bool) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				for dec.More() {
					kt, err := dec.Token()
					if err != nil {
						return err
					}
					k := kt.(string)
					p := path + keyPath(k)
					ctx := askCtx || askKey.MatchString(k)
					if reviseKey.MatchString(k) {
						ctx = false
					}
					if ctx && opinionKey.MatchString(k) && (filterWord.MatchString(k) || opinionAlone.MatchString(k)) {
						out = append(out, refusal(p, RuleConditionalAsk, fmt.Sprintf("the key %q filters the review ask or its reminders by the buyer's rating, sentiment, replies or complaints", k)))
						if err := skip(dec); err != nil {
							return err
						}
						continue
					}
					if err := walk(p, ctx); err != nil {
						return err
					}
				}
			case '[':
				for i := 0; dec.More(); i++ {
					if err := walk(fmt.Sprintf("%s[%d]", path, i), askCtx); err != nil {
						return err
					}
				}
			}
			_, err := dec.Token() // the closing delimiter
			return err
		case string:
			if fe := lintText(path, v, true); fe != nil {
				out = append(out, fe)
			} else if askCtx && filterExpr.MatchString(v) {
				out = append(out, refusal(path, RuleConditionalAsk, fmt.Sprintf("the review ask or its reminders depend on %q", filterExpr.FindString(v))))
			}
		}
		return nil
	}
	if err := walk("params", askCtx); err != nil {
		// Params were parsed already; a decode error here is a defect.
		return append(out, care.Invalid("params", "%v", err).(*care.FieldError))
	}
	return out
}

// skip consumes one JSON value.
func skip(dec *json.Decoder) error {
	var v json.RawMessage
	return dec.Decode(&v)
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// keyPath writes a params key as a path element: ".key", or ["key"] for
// keys such as SKU patterns.
func keyPath(k string) string {
	if plainKey.MatchString(k) {
		return "." + k
	}
	b, _ := json.Marshal(k)
	return "[" + string(b) + "]"
}
