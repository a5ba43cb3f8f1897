package care

import "testing"

func TestAddDecimals(t *testing.T) {
	for _, tc := range []struct {
		in   []Decimal
		want Decimal
	}{
		{[]Decimal{"129.90", "8"}, "137.90"},
		{[]Decimal{"0.1", "0.2"}, "0.3"},
		{[]Decimal{"1999.99", "0.01", "0.005"}, "2000.005"},
		{nil, "0"},
		{[]Decimal{"", "x", "5"}, "5"},
	} {
		if got := AddDecimals(tc.in...); got != tc.want {
			t.Errorf("AddDecimals(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if Decimal("500").Cmp("499.99") != 1 || Decimal("500.00").Cmp("500") != 0 || Decimal("1").Cmp("1e9") != 1 {
		t.Error("Cmp")
	}
}
