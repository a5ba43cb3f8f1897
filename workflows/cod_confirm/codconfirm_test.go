package codconfirm_test

import (
	"testing"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	codconfirm "github.com/ordercare/ordercare/workflows/cod_confirm"
)

// TestStartsAndInterprets: every cash-on-delivery order is confirmed and
// nothing but cancellation (the kernel's) ends the confirmation early; the
// workflow reads replies with its template's words.
func TestStartsAndInterprets(t *testing.T) {
	w := codconfirm.Workflow{}
	cod := care.OrderState{Order: care.Order{ID: "1", PaymentMethod: care.PayCOD}}
	online := care.OrderState{Order: care.Order{ID: "2", PaymentMethod: care.PayOnline}}
	if !w.Wants(cod) || w.Wants(online) {
		t.Errorf("Wants(cod) = %v, Wants(online) = %v; want true, false", w.Wants(cod), w.Wants(online))
	}
	if r := w.Pointless(cod); r != "" {
		t.Errorf("Pointless = %q, want none", r)
	}
	tpl, err := playbook.ParseWith(codconfirm.Name, w.DefaultTemplate(), w)
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]playbook.Answer{"好的，确认": playbook.AnswerYes, "不要了": playbook.AnswerNo, "退订": playbook.AnswerStop} {
		if got := w.Interpret(tpl, text, "zh-CN"); got != want {
			t.Errorf("Interpret(%q) = %q, want %q", text, got, want)
		}
	}
	if w.AwaitKey() != codconfirm.AwaitKey {
		t.Errorf("AwaitKey() = %q, want %q", w.AwaitKey(), codconfirm.AwaitKey)
	}
}
