package playbook

import (
	"encoding/json"
	"testing"

	"github.com/ordercare/ordercare/internal/care"
)

func codTemplate(t *testing.T) *Template {
	t.Helper()
	b, err := defaultTemplate(care.CODConfirm)
	if err != nil {
		t.Fatal(err)
	}
	return mustParse(t, care.CODConfirm, b)
}

// codWords are the reply keywords of cod_confirm's default template (its
// params.replies), compiled.
func codWords(tb testing.TB) *ReplyWords {
	tb.Helper()
	b, err := defaultTemplate(care.CODConfirm)
	if err != nil {
		tb.Fatal(err)
	}
	tp, err := Parse(care.CODConfirm, b)
	if err != nil {
		tb.Fatal(err)
	}
	var p struct {
		Replies map[string]Keywords `json:"replies"`
	}
	if err := json.Unmarshal(tp.Params, &p); err != nil {
		tb.Fatal(err)
	}
	w, err := CompileReplies(p.Replies, tp.DefaultLocale, "params.replies")
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

func TestClassify(t *testing.T) {
	tp := codWords(t)
	cases := []struct {
		locale, text string
		want         Answer
	}{
		// zh-CN: confirming
		{"zh-CN", "是的", AnswerYes},
		{"zh-CN", "是", AnswerYes},
		{"zh-CN", "确认", AnswerYes},
		{"zh-CN", "确认！", AnswerYes},
		{"zh-CN", "好的可以", AnswerYes},
		{"zh-CN", "好的，谢谢", AnswerYes},
		{"zh-CN", "好吧", AnswerYes},
		{"zh-CN", "可以的", AnswerYes},
		{"zh-CN", "嗯嗯", AnswerYes},
		{"zh-CN", "没问题", AnswerYes},
		{"zh-CN", "1", AnswerYes},
		{"zh-CN", "１", AnswerYes},
		{"zh-CN", " 确定要的 😊", AnswerYes},
		{"zh-CN", "对的，货到付款", AnswerYes},
		{"zh-CN", "同意", AnswerYes},
		{"zh-Hans-CN", "是的是的", AnswerYes},
		{"zh-CN", "是我下的单，发吧", AnswerYes},
		{"zh-CN", "没错", AnswerYes},
		{"zh-CN", "我要", AnswerYes},
		{"zh-CN", "不好意思，可以的", AnswerYes},
		{"zh-CN", "确认，但是能不能明天发", AnswerYes},
		{"zh-CN", "OK", AnswerYes},
		{"zh-CN", "对不起，不需要了", AnswerNo},
		{"zh-CN", "我不要", AnswerNo},
		{"zh-CN", "不是我", AnswerNo},
		{"zh-CN", "好的，不过不要发顺丰", AnswerUnclear},
		// zh-CN: refusing
		{"zh-CN", "不要了", AnswerNo},
		{"zh-CN", "取消吧", AnswerNo},
		{"zh-CN", "不确认", AnswerNo},
		{"zh-CN", "不要", AnswerNo},
		{"zh-CN", "否", AnswerNo},
		{"zh-CN", "2", AnswerNo},
		{"zh-CN", "不是我买的", AnswerNo},
		{"zh-CN", "我没下过单", AnswerNo},
		{"zh-CN", "算了，不买了", AnswerNo},
		{"zh-CN", "不需要，谢谢", AnswerNo},
		{"zh-CN", "不可以", AnswerNo},
		{"zh-CN", "没同意过", AnswerNo},
		{"zh-CN", "拒收", AnswerNo},
		{"zh-CN", "不用了", AnswerNo},
		{"zh-CN", "不", AnswerNo},
		// zh-CN: opt-out
		{"zh-CN", "退订", AnswerStop},
		{"zh-CN", "TD", AnswerStop},
		{"zh-CN", "ｔｄ", AnswerStop},
		{"zh-CN", "T", AnswerStop},
		{"zh-CN", "回复退订", AnswerStop},
		// zh-CN: unclear
		{"zh-CN", "多少钱？", AnswerUnclear},
		{"zh-CN", "这是什么", AnswerUnclear},
		{"zh-CN", "好贵", AnswerUnclear},
		{"zh-CN", "可以不要运费吗", AnswerUnclear},
		{"zh-CN", "什么时候发货", AnswerUnclear},
		{"zh-CN", "👍", AnswerUnclear},
		{"zh-CN", "   ", AnswerUnclear},
		// en
		{"en", "yes please", AnswerYes},
		{"en", "Yes!", AnswerYes},
		{"en", "YES 👍", AnswerYes},
		{"en", "Ｙｅｓ", AnswerYes},
		{"en", "ok", AnswerYes},
		{"en", "OK的", AnswerYes},
		{"en", "y", AnswerYes},
		{"en", "Y.", AnswerYes},
		{"en", "Sure, go ahead", AnswerYes},
		{"en", "Confirmed, thanks", AnswerYes},
		{"en", "yep", AnswerYes},
		{"en", "no problem", AnswerYes},
		{"en-GB", "Okay", AnswerYes},
		{"en-US", "1", AnswerYes},
		{"en", "no thanks", AnswerNo},
		{"en", "nope", AnswerNo},
		{"en", "n", AnswerNo},
		{"en", "No.", AnswerNo},
		{"en", "I did not order this", AnswerNo},
		{"en", "I didn't order this", AnswerNo},
		{"en", "I didn’t order this!", AnswerNo},
		{"en", "please cancel", AnswerNo},
		{"en", "I don't want it", AnswerNo},
		{"en", "not ok", AnswerNo},
		{"en", "don't confirm", AnswerNo},
		{"en", "Not mine", AnswerNo},
		{"en", "STOP", AnswerStop},
		{"en", "stop!!", AnswerStop},
		{"en", "Unsubscribe me", AnswerStop},
		{"en", "yes but cancel the cup", AnswerUnclear},
		{"en", "what is COD?", AnswerUnclear},
		{"en", "token", AnswerUnclear},
		{"en", "know", AnswerUnclear},
		{"en", "yesterday", AnswerUnclear},
		// an English buyer answering in Chinese, and the default locale for an unknown one
		{"en", "好的", AnswerYes},
		{"en", "不要了", AnswerNo},
		{"fr", "确认", AnswerYes},
		{"", "yes", AnswerYes},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.locale+"/"+tc.text, func(t *testing.T) {
			if got := tp.Classify(tc.text, tc.locale); got != tc.want {
				t.Errorf("Classify(%q, %q) = %s, want %s (normalised %q)", tc.text, tc.locale, got, tc.want, normalize(tc.text))
			}
		})
	}
}

func TestClassifyWithoutReplies(t *testing.T) {
	var tp *ReplyWords // a workflow without reply keywords
	if got := tp.Classify("退订", "zh-CN"); got != AnswerStop {
		t.Errorf("退订 = %s", got)
	}
	if got := tp.Classify("yes", "en"); got != AnswerUnclear {
		t.Errorf("yes without keywords = %s", got)
	}
}

func TestNormalize(t *testing.T) {
	cases := map[string]string{
		"  Yes!!  ":   "yes",
		"Ｙｅｓ，ＯＫ":      "yes ok",
		"don't":       "dont",
		"好的😊👍🏻":       "好的",
		"是的。\u3000确认": "是的 确认",
		"❤️ ok ❤️":    "ok",
	}
	for in, want := range cases {
		if got := normalize(in); got != want {
			t.Errorf("normalize(%q) = %q, want %q", in, got, want)
		}
	}
}
