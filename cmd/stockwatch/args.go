package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// params are a command's positional arguments, parsed: each in the form
// the server's own rules normalise it to.
type params struct {
	email  string
	ticker string // "" when an optional TICKER is absent
	count  int
	age    time.Duration
	ageArg string // age as given, without surrounding blanks
}

// arg is one kind of positional argument, the same for a command line
// and the menu. Each is checked with the server's own rules before
// anything is sent: a bad one is a usage error of the command, and is
// asked again by the menu.
type arg struct {
	name     string // in a synopsis: "EMAIL"
	prompt   string // the menu's question
	optional bool   // shown as "[NAME]"; may be left out at the end
	// parse stores s in p, or returns what is wrong with it: a message
	// for the user, without the command's name.
	parse func(p *params, s string) error
}

var (
	emailArg = arg{name: "EMAIL", prompt: "E-mail: ", parse: func(p *params, s string) (err error) {
		p.email, err = stock.ParseEmail(s)
		return domainErr(err)
	}}
	tickerArg = arg{name: "TICKER", prompt: "Ticker (e.g. AAPL, BRK-B, ^GSPC, EURUSD=X): ", parse: func(p *params, s string) (err error) {
		p.ticker, err = stock.ParseTicker(s)
		return domainErr(err)
	}}
	countArg = arg{name: "COUNT", prompt: fmt.Sprintf("How many values (%d-%d): ", stock.MinCount, stock.MaxCount), parse: func(p *params, s string) (err error) {
		p.count, err = parseCount(s)
		return err
	}}
	olderThanArg = arg{name: "OLDER_THAN", prompt: "Delete prices older than (e.g. 36h, 30d): ", parse: func(p *params, s string) (err error) {
		p.age, err = parseAge(s)
		p.ageArg = strings.TrimSpace(s)
		return err
	}}
)

// optional returns a, which may be left out.
func optional(a arg) arg {
	a.optional = true
	return a
}

// domainErr shows a validation error by its client-safe message.
func domainErr(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(stock.MessageOf(err))
}

// parseCount parses the number of prices to average: an integer in
// 1…10000 (stock.ValidateCount).
func parseCount(s string) (int, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("count %q is not a whole number", s)
	}
	c, err := stock.ValidateCount(n)
	if err != nil {
		return 0, fmt.Errorf("%s", stock.MessageOf(err))
	}
	return c, nil
}

// parseAge parses the age of a purge: a Go duration ("36h", "90m"), a
// number of days ("30d"), or days followed by a duration ("1d12h"). It
// must be positive (stock.ValidateOlderThan).
func parseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("period %q is not a duration like 36h or 30d", s)
	var d time.Duration
	rest := s
	// Go durations have no unit with a "d", so a "d" is the days unit.
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		days, err := strconv.ParseInt(s[:i], 10, 64)
		switch {
		case err != nil:
			return 0, bad
		case days > int64(math.MaxInt64/(24*time.Hour)):
			return 0, fmt.Errorf("period %q is too long", s)
		}
		d, rest = time.Duration(days)*24*time.Hour, s[i+1:]
		if strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "+") {
			return 0, bad
		}
	}
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, bad
		}
		if r > 0 && d > math.MaxInt64-r {
			return 0, fmt.Errorf("period %q is too long", s)
		}
		d += r
	}
	if err := stock.ValidateOlderThan(d); err != nil {
		return 0, fmt.Errorf("period must be positive, got %q", s)
	}
	return d, nil
}
