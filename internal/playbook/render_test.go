package playbook

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
)

func TestAtLeast(t *testing.T) {
	cases := []struct {
		total, min string
		want       bool
	}{
		{"500", "500", true}, {"500.00", "500", true}, {"499.99", "500", false},
		{"1200", "500", true}, {"", "500", false}, {"x", "500", false}, {"0", "0", true},
	}
	for _, tc := range cases {
		if got := atLeast(care.Decimal(tc.total), care.Decimal(tc.min)); got != tc.want {
			t.Errorf("atLeast(%q, %q) = %v", tc.total, tc.min, got)
		}
	}
}

func TestVarsFor(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	placed := time.Date(2026, 11, 11, 2, 5, 0, 0, time.UTC)
	deadline := placed.Add(30 * time.Minute)
	o := care.OrderState{Order: care.Order{
		ID: "4200001", PlacedAt: &placed, PayDeadline: &deadline, Total: "129.90", Currency: "CNY",
		PaymentMethod: care.PayCOD, CODFee: "8.00",
		Buyer:           &care.Buyer{Name: "王芳", Phone: "+8613800138000", Email: "w@example.com"},
		ShippingAddress: &care.Address{City: "杭州", Line1: "西湖区 1 号"},
		Items:           []care.Item{{Title: "龙井 250g", Quantity: 2, Price: "49.95"}, {Title: "茶杯", Quantity: 1, Price: "30.00"}},
	}}
	got := VarsFor(o, "西湖茶庄", sh)
	want := Vars{OrderID: "4200001", OrderName: "4200001", Total: "129.90", Currency: "CNY", CODFee: "8.00", CODTotal: "137.90",
		PayDeadline: "2026-11-11 10:35", PlacedAt: "2026-11-11 10:05",
		Items: []ItemVars{{"龙井 250g", 2}, {"茶杯", 1}}, ItemCount: 3, BuyerName: "王芳", ShopName: "西湖茶庄"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("VarsFor (-want +got):\n%s", d)
	}

	// No fee stated (Shopify sends none), or a zero fee: cod_fee stays
	// empty, so the default scripts state no fee rather than a false 0.00.
	for _, fee := range []care.Decimal{"", "0.00"} {
		o.Order.CODFee = fee
		if v := VarsFor(o, "s", nil); v.CODFee != "" || v.CODTotal != "129.90" || v.PlacedAt != "2026-11-11 02:05" {
			t.Errorf("COD with fee %q: %+v", fee, v)
		}
	}
	o.Order.PaymentMethod, o.Order.PayDeadline = care.PayOnline, nil
	if v := VarsFor(o, "s", sh); v.CODFee != "" || v.CODTotal != "129.90" || v.PayDeadline != "" {
		t.Errorf("online order: %+v", v)
	}
	if v := VarsFor(care.OrderState{Order: care.Order{ID: "x"}}, "s", sh); v.OrderID != "x" || v.CODTotal != "" || v.BuyerName != "" {
		t.Errorf("bare order: %+v", v)
	}
}

func TestResolveLocale(t *testing.T) {
	have := []string{"en", "zh-CN", "zh-TW"}
	cases := map[string]string{
		"zh-CN": "zh-CN", "zh-cn": "zh-CN", "zh_CN": "zh-CN", "zh-Hans-CN": "zh-CN", "zh": "zh-CN",
		"zh-Hans": "zh-CN", "zh-SG": "zh-CN", "zh-Hant-TW": "zh-TW", "zh-HK": "zh-TW", "zh-TW": "zh-TW",
		"en": "en", "en-GB": "en", "EN-us": "en", "ru": "zh-CN", "": "zh-CN", "es-419": "zh-CN",
	}
	for in, want := range cases {
		if got := resolveLocale(in, have, "zh-CN"); got != want {
			t.Errorf("resolveLocale(%q) = %q, want %q", in, got, want)
		}
	}
	if got := resolveLocale("en-GB", []string{"en-US", "zh-CN"}, "zh-CN"); got != "en-US" {
		t.Errorf("en-GB among en-US = %q", got)
	}
}

func TestRenderDefaults(t *testing.T) {
	placed := time.Date(2026, 11, 11, 2, 5, 0, 0, time.UTC)
	o := care.OrderState{Order: care.Order{ID: "4200001", PlacedAt: &placed, Total: "129.90", Currency: "CNY",
		PaymentMethod: care.PayCOD, CODFee: "8.00", Buyer: &care.Buyer{Name: "王芳"},
		Items: []care.Item{{Title: "龙井 250g", Quantity: 2, Price: "64.95"}}}}
	sh, _ := time.LoadLocation("Asia/Shanghai")
	v := VarsFor(o, "西湖茶庄", sh)
	cod := codTemplate(t)
	ask, _, _ := cod.Step("ask")
	cases := []struct {
		field, locale, wantLocale string
		contains                  []string
	}{
		{"script", "zh-CN", "zh-CN", []string{"129.90 CNY", "8.00 CNY", "137.90 CNY", "4200001", "西湖茶庄"}},
		{"script", "zh-Hans-CN", "zh-CN", []string{"137.90 CNY"}},
		{"script", "en-GB", "en", []string{"pay 137.90 CNY", "COD fee of 8.00", "王芳"}},
		{"script", "ru", "zh-CN", []string{"137.90"}},
	}
	for _, tc := range cases {
		text, used, err := cod.Render(ask, tc.field, tc.locale, v)
		if err != nil || used != tc.wantLocale {
			t.Fatalf("Render(ask, %s, %s) = %q, %q, %v", tc.field, tc.locale, text, used, err)
		}
		for _, c := range tc.contains {
			if !strings.Contains(text, c) {
				t.Errorf("Render(ask, %s): %q lacks %q", tc.locale, text, c)
			}
		}
	}
	call, _, _ := cod.Step("call")
	if text, _, err := cod.Render(call, "reason", "en", v); err != nil || !strings.Contains(text, "137.90 CNY due on delivery") {
		t.Errorf("call reason = %q, %v", text, err)
	}
	if _, _, err := cod.Render(ask, "reason", "en", v); err == nil {
		t.Error("a message step rendered a reason")
	}
	if _, _, err := cod.Render(ask, "title", "en", v); err == nil {
		t.Error("unknown field rendered")
	}
	if _, _, err := cod.Render(Step{ID: "other", Script: map[string]string{"zh-CN": "x"}}, "script", "en", v); err == nil {
		t.Error("a foreign step rendered")
	}

	b, _ := defaultTemplate(care.UnpaidChase)
	up := mustParse(t, care.UnpaidChase, b)
	coupon, _, _ := up.Step("coupon")
	text, _, err := up.Render(coupon, "script", "zh-CN", v)
	if err != nil || strings.Contains(text, "券") || strings.Contains(text, "自动关闭") || !strings.Contains(text, "还在等待付款") {
		t.Errorf("last reminder (no coupon by default) without pay deadline = %q, %v", text, err)
	}
	today, _, _ := up.Step("ships_today")
	if text, _, err := up.Render(today, "script", "en", v); err != nil || !strings.Contains(text, "before 16:00 today") {
		t.Errorf("ships_today = %q, %v", text, err)
	}
	nudge, _, _ := up.Step("nudge")
	if text, _, err := up.Render(nudge, "script", "zh-CN", v); err != nil || !strings.Contains(text, "龙井 250g×2还没有付款") {
		t.Errorf("nudge = %q, %v", text, err)
	}
}

func TestRenderConcurrent(t *testing.T) {
	cod := codTemplate(t)
	words := codWords(t)
	ask, _, _ := cod.Step("ask")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				if _, _, err := cod.Render(ask, "script", "en", sampleVars()); err != nil {
					t.Error(err)
					return
				}
				words.Classify("yes", "en")
				b, _ := defaultTemplate(care.UnpaidChase)
				if _, err := Parse(care.UnpaidChase, b); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestStep(t *testing.T) {
	cod := codTemplate(t)
	s, i, ok := cod.Step("declined")
	if !ok || i != 3 || s.Action != ActionNotifyShop {
		t.Errorf("Step(declined) = %v, %d, %v", s.ID, i, ok)
	}
	if _, i, ok := cod.Step("nope"); ok || i != -1 {
		t.Errorf("Step(nope) = %d, %v", i, ok)
	}
	if cod.StepChannel(s) != ChannelOutbox {
		t.Errorf("channel %q", cod.StepChannel(s))
	}
	c, _, _ := cod.Step("call")
	if c.SLA.Std() != 4*time.Hour || c.Priority != 2 || c.Tag != care.TagService { // confirming the order is a service call
		t.Errorf("call = %+v", c)
	}
}
