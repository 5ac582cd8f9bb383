// Package money writes prices the way people read them, with the one rule
// every text form of Stockwatch uses (the client's output and menu, the web
// dashboard): the currency's usual number of decimals, and the currency
// code after the number. Machine formats (JSON) keep full precision and do
// not use it.
package money

import (
	"math"
	"strconv"
	"strings"

	"golang.org/x/text/currency"
)

// Amount writes v with the decimals usual for currency cur: ISO 4217's
// (2 for USD, 0 for JPY, 3 for KWD), 2 for a code that is not ISO's or not
// upper case (Yahoo's "GBp", pence), and at least 4 below 10, where exchange
// rates (EURUSD=X at 1.0834) need them.
func Amount(v float64, cur string) string {
	d := 2
	if u, err := currency.ParseISO(cur); err == nil && cur == strings.ToUpper(cur) {
		d, _ = currency.Standard.Rounding(u)
	}
	if math.Abs(v) < 10 && d < 4 {
		d = 4
	}
	return strconv.FormatFloat(v, 'f', d, 64)
}

// Format writes v as Amount does, then the currency code: "187.42 USD".
func Format(v float64, cur string) string {
	return strings.TrimSpace(Amount(v, cur) + " " + cur)
}
