package unpaidchase_test

import (
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
	unpaidchase "github.com/ordercare/ordercare/workflows/unpaid_chase"
)

func order(method care.PaymentMethod, statuses ...care.Status) care.OrderState {
	o := care.OrderState{ShopID: "tea", Order: care.Order{ID: "1", PaymentMethod: method}}
	for _, s := range statuses {
		o.History = append(o.History, care.Milestone{Status: s, At: time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)})
	}
	return o
}

// TestStartsAndStops: an order created unpaid is chased; paid ends the
// chase, and so does learning the order is cash on delivery (it is
// confirmed instead); only paid counts as recovered.
func TestStartsAndStops(t *testing.T) {
	w := unpaidchase.Workflow{}
	tests := []struct {
		name      string
		o         care.OrderState
		wants     bool
		pointless string
	}{
		{"unpaid online", order(care.PayOnline, care.StatusCreated), true, ""},
		{"paid", order(care.PayOnline, care.StatusCreated, care.StatusPaid), false, steps.ReasonPaid},
		{"cash on delivery", order(care.PayCOD, care.StatusCreated), false, steps.ReasonCOD},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := w.Wants(tt.o); got != tt.wants {
				t.Errorf("Wants = %v, want %v", got, tt.wants)
			}
			if got := w.Pointless(tt.o); got != tt.pointless {
				t.Errorf("Pointless = %q, want %q", got, tt.pointless)
			}
		})
	}
	if !w.Recovers(steps.ReasonPaid) || w.Recovers(steps.ReasonCancelled) || w.Recovers(steps.ReasonCOD) {
		t.Error("only a chase stopped because the order was paid recovers a payment")
	}
}
