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

// TestAddDecimalsExact: sums keep the larger number of decimal places and
// never round; malformed terms are not decimals (Rat reports it).
func TestAddDecimalsExact(t *testing.T) {
	for _, tc := range []struct{ a, b, want Decimal }{
		{"129.90", "8.00", "137.90"},
		{"129.9", "8", "137.9"},
		{"0.1", "0.2", "0.3"},
		{"99.99", "0.01", "100.00"},
		{"10", "5", "15"},
		{"12345678901234567890.05", "0.95", "12345678901234567891.00"},
		{"1.005", "2.1", "3.105"},
	} {
		if got := AddDecimals(tc.a, tc.b); got != tc.want {
			t.Errorf("%s + %s = %q; want %q", tc.a, tc.b, got, tc.want)
		}
	}
	for _, bad := range []Decimal{"1e3", "", "1/2", "abc"} {
		if _, ok := bad.Rat(); ok {
			t.Errorf("%q accepted as a decimal", bad)
		}
	}
}
