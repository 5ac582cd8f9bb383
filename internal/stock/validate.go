package stock

import (
	"fmt"
	"math"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of the API's inputs.
const (
	MaxEmailLen     = 254
	MinCount        = 1
	MaxCount        = 10000
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// ParseEmail trims and lower-cases s and checks that it is a bare e-mail
// address (no display name, no angle brackets, no comments) of at most 254
// characters, without invisible or control characters. It returns an
// error of KindInvalid otherwise.
//
// No provider-specific rewriting is done: dots and +tags are kept.
func ParseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", Errorf(KindInvalid, "email is required")
	case utf8.RuneCountInString(s) > MaxEmailLen:
		return "", Errorf(KindInvalid, "email is longer than %d characters", MaxEmailLen)
	}
	if i := strings.IndexFunc(s, invisible); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return "", Errorf(KindInvalid, "email %q contains an invisible or control character (%U)", s, r)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", Errorf(KindInvalid, "email %q is not a valid address", s)
	}
	return strings.ToLower(s), nil
}

// invisible reports whether r shows as nothing (or as something else) in
// a listing, so that two addresses differing by it would look the same:
// controls (C0, C1), format characters (zero-width space and joiners,
// bidi overrides and isolates, soft hyphen, BOM), spaces other than ' '
// and line or paragraph separators (net/mail takes them all), private-use
// and unassigned code points (none of which unicode.IsPrint accepts), and
// the printable fillers and variation selectors that render as nothing.
func invisible(r rune) bool {
	return !unicode.IsPrint(r) || unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}

var tickerRE = regexp.MustCompile(`^\^?[A-Z0-9][A-Z0-9.&-]{0,31}(=[A-Z])?$`)

// ParseTicker trims and upper-cases s and checks it against the ticker
// syntax (AAPL, BRK-B, ^GSPC, EURUSD=X, GC=F, 0700.HK). It returns an error
// of KindInvalid otherwise.
func ParseTicker(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	switch {
	case s == "":
		return "", Errorf(KindInvalid, "ticker is required")
	case !tickerRE.MatchString(s):
		return "", Errorf(KindInvalid, "ticker %q is not a valid symbol", truncate(s, 40))
	}
	return s, nil
}

// ValidateRequestID accepts an empty id (no deduplication) or a UUID in its
// 36-character text form, and returns it lower-cased so that one id has one
// spelling. It returns an error of KindInvalid otherwise.
func ValidateRequestID(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if len(s) != 36 || !isUUID(s) {
		return "", Errorf(KindInvalid, "request_id %q is not a UUID", truncate(s, 40))
	}
	return strings.ToLower(s), nil
}

func isUUID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// ValidateCount checks the number of prices asked of an average: 1…10000.
// It returns an error of KindInvalid otherwise.
func ValidateCount(n int64) (int, error) {
	if n < MinCount || n > MaxCount {
		return 0, Errorf(KindInvalid, "count must be between %d and %d, got %d", MinCount, MaxCount, n)
	}
	return int(n), nil
}

// PageSize maps a requested page size to the one served: 0 means
// DefaultPageSize, and above MaxPageSize means MaxPageSize (as Google's
// AIP-158 asks: a client that wants "as many as possible" gets a full
// page, not an error); negative is an error of KindInvalid.
func PageSize(n int32) (int, error) {
	switch {
	case n == 0:
		return DefaultPageSize, nil
	case n < 0:
		return 0, Errorf(KindInvalid, "page_size must not be negative, got %d", n)
	}
	return min(int(n), MaxPageSize), nil
}

// ValidateOlderThan checks the age of a price purge: positive.
// It returns an error of KindInvalid otherwise.
func ValidateOlderThan(d time.Duration) error {
	if d <= 0 {
		return Errorf(KindInvalid, "older_than must be positive, got %s", d)
	}
	return nil
}

// MaxOlderThan is the longest age of a price purge: the longest
// time.Duration, about 292 years.
const MaxOlderThan = time.Duration(math.MaxInt64)

// OlderThan returns the age of a price purge given as whole seconds and
// nanoseconds (|nanos| < 1e9, as in a protobuf Duration), checked: positive
// and at most MaxOlderThan. A longer age is refused rather than cut to
// MaxOlderThan, so that two different requests never become one. It
// returns an error of KindInvalid otherwise.
func OlderThan(seconds int64, nanos int32) (time.Duration, error) {
	const maxSeconds = int64(MaxOlderThan / time.Second)
	switch {
	case seconds > maxSeconds || seconds == maxSeconds && time.Duration(nanos) > MaxOlderThan%time.Second:
		return 0, Errorf(KindInvalid, "older_than must be at most %s (about 292 years)", MaxOlderThan)
	case seconds <= -maxSeconds: // negative either way; and the sum below could overflow
		return 0, Errorf(KindInvalid, "older_than must be positive, got %ds", seconds)
	}
	d := time.Duration(seconds)*time.Second + time.Duration(nanos)
	return d, ValidateOlderThan(d)
}

// MaxQuoteSkew is how far ahead of the clock a quote's market time may be
// and still be stored: clocks disagree by seconds, and a quote that is
// later still would stay the ticker's latest price until the clock caught
// up with it (for a bogus year 9999, for good).
const MaxQuoteSkew = 5 * time.Minute

// minQuoteTime is the earliest market time stored. Anything older is a
// broken timestamp, not a stale quote: a ticker halted for months still
// has its last real market time, which is stored as it is.
var minQuoteTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// CheckQuoteTime tells whether q's market time can be right at now, the
// clock of whoever is about to store q. It returns an error matching
// ErrFutureQuote for a market time more than MaxQuoteSkew after now, and
// one matching ErrPastQuote for one before 2000-01-01; nil otherwise.
func CheckQuoteTime(q Quote, now time.Time) error {
	switch mt := q.MarketTime.UTC(); {
	case mt.After(now.Add(MaxQuoteSkew)):
		return fmt.Errorf("%w: %s market time %s is more than %s after the clock's %s",
			ErrFutureQuote, q.Ticker, mt.Format(time.RFC3339), MaxQuoteSkew, now.UTC().Format(time.RFC3339))
	case mt.Before(minQuoteTime):
		return fmt.Errorf("%w: %s market time %s is before %s",
			ErrPastQuote, q.Ticker, mt.Format(time.RFC3339), minQuoteTime.Format(time.RFC3339))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
