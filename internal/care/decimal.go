package care

import (
	"math/big"
	"strings"
)

// Rat returns d as an exact rational; ok is false when d is not a decimal
// number ("" included).
func (d Decimal) Rat() (r *big.Rat, ok bool) {
	s := string(d)
	if s == "" || strings.ContainsAny(s, "eE/") {
		return nil, false
	}
	return new(big.Rat).SetString(s)
}

// Cmp compares d with e as numbers (-1, 0, +1); an invalid side counts as zero.
func (d Decimal) Cmp(e Decimal) int {
	return ratOrZero(d).Cmp(ratOrZero(e))
}

// AddDecimals returns the exact sum of ds, written with as many decimal
// places as the most precise term ("129.90" + "8" = "137.90"). Invalid or
// empty terms count as zero.
func AddDecimals(ds ...Decimal) Decimal {
	sum, places := new(big.Rat), 0
	for _, d := range ds {
		sum.Add(sum, ratOrZero(d))
		if _, frac, ok := strings.Cut(string(d), "."); ok && len(frac) > places {
			places = len(frac)
		}
	}
	return Decimal(sum.FloatString(places))
}

func ratOrZero(d Decimal) *big.Rat {
	if r, ok := d.Rat(); ok {
		return r
	}
	return new(big.Rat)
}
