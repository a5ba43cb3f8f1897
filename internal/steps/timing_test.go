package steps_test

import (
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
)

// TestTimingTotalInShopCurrency: thresholds compare amounts in the shop's
// currency only; an order in another currency has an unknown total.
func TestTimingTotalInShopCurrency(t *testing.T) {
	shop := care.Shop{ID: "s", Timezone: "Asia/Shanghai", Currency: "CNY"}
	now := time.Date(2026, 11, 11, 1, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		order care.Order
		want  care.Decimal
	}{
		{"shop currency", care.Order{ID: "1", Total: "1575.90", Currency: "CNY"}, "1575.90"},
		{"another currency", care.Order{ID: "1", Total: "1575.90", Currency: "USD"}, ""},
		{"presented in the shop's currency", care.Order{ID: "1", Total: "1575.90", Currency: "USD",
			PresentmentTotal: "11290.00", PresentmentCurrency: "CNY"}, "11290.00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := steps.Timing(care.OrderState{Order: tc.order}, shop, now).Total; got != tc.want {
				t.Errorf("Total = %q, want %q", got, tc.want)
			}
		})
	}
}
