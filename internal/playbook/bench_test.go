package playbook

import (
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

func BenchmarkParseUnpaidChase(b *testing.B) {
	body, _ := defaultTemplate(care.UnpaidChase)
	for b.Loop() {
		if _, err := Parse(care.UnpaidChase, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderAsk(b *testing.B) {
	body, _ := defaultTemplate(care.CODConfirm)
	tp, err := Parse(care.CODConfirm, body)
	if err != nil {
		b.Fatal(err)
	}
	ask, _, _ := tp.Step("ask")
	v := sampleVars()
	for b.Loop() {
		if _, _, err := tp.Render(ask, "script", "zh-CN", v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlan(b *testing.B) {
	body, _ := defaultTemplate(care.UnpaidChase)
	tp, _ := Parse(care.UnpaidChase, body)
	sh, _ := time.LoadLocation("Asia/Shanghai")
	placed := time.Date(2026, 11, 23, 21, 0, 0, 0, sh)
	in := Timing{PlacedAt: placed, Now: placed, Total: "900", ShopLoc: sh}
	for b.Loop() {
		tp.Plan("nudge", in)
	}
}

func BenchmarkClassify(b *testing.B) {
	tp := codWords(b)
	for b.Loop() {
		tp.Classify("好的，不过不要发顺丰", "zh-CN")
	}
}
