package money_test

import (
	"testing"

	"github.com/stockwatch/stockwatch/internal/money"
)

func TestFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    float64
		cur  string
		want string
	}{
		{187.456, "USD", "187.46 USD"},
		{7010.5, "GBp", "7010.50 GBp"},
		{187.42, "USD", "187.42 USD"},
		{187.256666, "USD", "187.26 USD"},
		{100, "EUR", "100.00 EUR"},
		{72.34, "GBp", "72.34 GBp"}, // pence: not GBP
		{1234.6, "JPY", "1235 JPY"},
		{12.3456, "KWD", "12.346 KWD"},
		{1.08345, "USD", "1.0835 USD"}, // an exchange rate: below 10, 4 decimals
		{0.00012, "USD", "0.0001 USD"},
		{5.5, "JPY", "5.5000 JPY"},
		{42.1, "XYZ", "42.10 XYZ"}, // unknown code: 2
		{42.1, "", "42.10"},
	}
	for _, tt := range tests {
		if got := money.Format(tt.v, tt.cur); got != tt.want {
			t.Errorf("Format(%v, %q) = %q, want %q", tt.v, tt.cur, got, tt.want)
		}
	}
}
