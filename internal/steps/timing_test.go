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
		other bool
	}{
		{"shop currency", care.Order{ID: "1", Total: "1575.90", Currency: "CNY"}, "1575.90", false},
		{"another currency", care.Order{ID: "1", Total: "1575.90", Currency: "USD"}, "", true},
		{"presented in the shop's currency", care.Order{ID: "1", Total: "1575.90", Currency: "USD",
			PresentmentTotal: "11290.00", PresentmentCurrency: "CNY"}, "11290.00", false},
		{"no total at all", care.Order{ID: "1"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := steps.Timing(care.OrderState{Order: tc.order}, shop, now)
			if got.Total != tc.want || got.OtherCurrency != tc.other {
				t.Errorf("Total, OtherCurrency = %q, %v; want %q, %v", got.Total, got.OtherCurrency, tc.want, tc.other)
			}
		})
	}
}
