package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// The arguments are checked with the server's own rules before anything
// is sent; a bad one is a usage error.

func emailArg(cmd, s string) (string, error) {
	e, err := stock.ParseEmail(s)
	if err != nil {
		return "", usagef(cmd, "%s", stock.MessageOf(err))
	}
	return e, nil
}

func tickerArg(cmd, s string) (string, error) {
	t, err := stock.ParseTicker(s)
	if err != nil {
		return "", usagef(cmd, "%s", stock.MessageOf(err))
	}
	return t, nil
}

func countArg(cmd, s string) (int, error) {
	n, err := parseCount(s)
	if err != nil {
		return 0, usagef(cmd, "%s", err)
	}
	return n, nil
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
