package badreview

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

// Rules the revise ask breaks, named in refusals.
const (
	RuleFTC   = "FTC 16 CFR 465.4 (no incentive conditioned on a review's sentiment)"
	RuleSAMR  = "SAMR 网络反不正当竞争暂行规定 (2024) art. 9(5) (no cash-back, red packet or coupon for a specified review)"
	RuleRevis = "the platform's review policy forbids asking to change a review"
)

// offerWords are words of an offer in a revise ask (zh-CN and en): a revise
// ask that offers anything for the revision is an incentive tied to the
// review.
var offerWords = []string{"返现", "红包", "优惠券", "券", "补偿", "赠送", "送您", "礼品", "积分", "折扣", "免费",
	"coupon", "voucher", "discount", "cash back", "cashback", "gift", "reward", "for free", "points", "% off", "compensat"}

// Lint implements the optional per-workflow compliance hook: bad_review's
// own rules on the revise ask (issue 11, "a revise ask on a platform that
// forbids it, or one that offers anything"). It returns every refusal, each
// a *care.FieldError whose Reason names the rule broken; nil when the
// template complies. tpl must have been parsed with this workflow's params
// (else only the scripts are checked).
func (w Workflow) Lint(tpl *playbook.Template) []*care.FieldError {
	p, _ := tpl.ParsedParams().(Params)
	if tpl.ParsedParams() == nil && len(tpl.Params) > 0 {
		_ = json.Unmarshal(tpl.Params, &p)
	}
	return w.lint(tpl, p)
}

func (Workflow) lint(tpl *playbook.Template, p Params) []*care.FieldError {
	var out []*care.FieldError
	s, i, ok := tpl.Step(StepRevise)
	if p.ReviseAsk && !ok {
		out = append(out, &care.FieldError{Field: "params.revise_ask", Reason: "the template has no revise step"})
	}
	if !ok {
		return out
	}
	if r := care.RulesOf(p.Platform); r.NoReviseAsk && p.ReviseAsk {
		out = append(out, &care.FieldError{Field: "params.revise_ask",
			Reason: fmt.Sprintf("%s does not allow asking a buyer to revise a review (%s: %s)", p.Platform, RuleRevis, r.Policy)})
	}
	if s.Coupon != "" {
		out = append(out, &care.FieldError{Field: fmt.Sprintf("steps[%d].coupon", i),
			Reason: "a revise ask offers nothing for the revision (" + RuleFTC + "; " + RuleSAMR + ")"})
	}
	for _, loc := range sortedKeys(s.Script) {
		text := strings.ToLower(s.Script[loc])
		for _, wd := range offerWords {
			if strings.Contains(text, wd) {
				out = append(out, &care.FieldError{Field: fmt.Sprintf("steps[%d].script.%s", i, loc),
					Reason: fmt.Sprintf("the revise ask offers something (%q): %s; %s", wd, RuleFTC, RuleSAMR)})
				break
			}
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
