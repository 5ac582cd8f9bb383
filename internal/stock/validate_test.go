package stock_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// parseCase is an input and the wanted result: the value, or the error's
// message.
type parseCase struct{ in, want, wantErr string }

// runParse marks t parallel and checks parse on each case in a subtest
// named for the input.
func runParse(t *testing.T, parse func(string) (string, error), cases []parseCase) {
	t.Helper()
	t.Parallel()
	for _, tt := range cases {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parse(tt.in)
			checkParse(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestParseEmail(t *testing.T) {
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com" // 254
	tests := []parseCase{
		{" Alice@X.com ", "alice@x.com", ""},
		{"first.last+tag@example.co.uk", "first.last+tag@example.co.uk", ""},
		{long, long, ""},
		{"", "", "email is required"},
		{long + "x", "", "email is longer than 254 characters"},
		{"Bob <b@x.com>", "", `email "Bob <b@x.com>" is not a valid address`},
		{"<b@x.com>", "", `email "<b@x.com>" is not a valid address`},
		{"not-an-email", "", `email "not-an-email" is not a valid address`},
		{"a@b@c", "", `email "a@b@c" is not a valid address`},
		{"x@y.com'; DROP TABLE users;--", "", `email "x@y.com'; DROP TABLE users;--" is not a valid address`},
		{"é@x.com", "é@x.com", ""},
		{"a@x.com\n", "a@x.com", ""}, // trailing white space is trimmed first
		{"a b@x.com", "", `email "a b@x.com" is not a valid address`},
		// Invisible, control and look-alike characters, which net/mail
		// would take, so that two users cannot look the same in a listing.
		{"a\u200b@x.com", "", `email "a\u200b@x.com" contains an invisible or control character (U+200B)`},          // zero width space
		{"a\u200d@x.com", "", `email "a\u200d@x.com" contains an invisible or control character (U+200D)`},          // zero width joiner
		{"a\u200c@x.com", "", `email "a\u200c@x.com" contains an invisible or control character (U+200C)`},          // zero width non-joiner
		{"a@x\u200b.com", "", `email "a@x\u200b.com" contains an invisible or control character (U+200B)`},          // in the domain
		{"moc.x@\u202ea", "", `email "moc.x@\u202ea" contains an invisible or control character (U+202E)`},          // right-to-left override
		{"a\u2066b@x.com", "", `email "a\u2066b@x.com" contains an invisible or control character (U+2066)`},        // left-to-right isolate
		{"a\u2069@x.com", "", `email "a\u2069@x.com" contains an invisible or control character (U+2069)`},          // pop directional isolate
		{"\ufeffa@x.com", "", `email "\ufeffa@x.com" contains an invisible or control character (U+FEFF)`},          // byte order mark
		{"a\u00adb@x.com", "", `email "a\u00adb@x.com" contains an invisible or control character (U+00AD)`},        // soft hyphen
		{"a\u2060@x.com", "", `email "a\u2060@x.com" contains an invisible or control character (U+2060)`},          // word joiner
		{"a\x00b@x.com", "", `email "a\x00b@x.com" contains an invisible or control character (U+0000)`},            // C0
		{"a\tb@x.com", "", `email "a\tb@x.com" contains an invisible or control character (U+0009)`},                // C0, inside
		{"a\u0085b@x.com", "", `email "a\u0085b@x.com" contains an invisible or control character (U+0085)`},        // C1
		{"a\u009fb@x.com", "", `email "a\u009fb@x.com" contains an invisible or control character (U+009F)`},        // C1
		{"a\u00a0b@x.com", "", `email "a\u00a0b@x.com" contains an invisible or control character (U+00A0)`},        // no-break space
		{"a\u3000b@x.com", "", `email "a\u3000b@x.com" contains an invisible or control character (U+3000)`},        // ideographic space
		{"a\u2028b@x.com", "", `email "a\u2028b@x.com" contains an invisible or control character (U+2028)`},        // line separator
		{"a\ue000@x.com", "", `email "a\ue000@x.com" contains an invisible or control character (U+E000)`},          // private use
		{"a\u3164@x.com", "", "email \"a\u3164@x.com\" contains an invisible or control character (U+3164)"},        // Hangul filler (printable)
		{"a\u034f@x.com", "", "email \"a\u034f@x.com\" contains an invisible or control character (U+034F)"},        // combining grapheme joiner
		{"a\ufe0f@x.com", "", "email \"a\ufe0f@x.com\" contains an invisible or control character (U+FE0F)"},        // variation selector
		{"a\U000e0041@x.com", "", `email "a\U000e0041@x.com" contains an invisible or control character (U+E0041)`}, // tag
	}
	runParse(t, stock.ParseEmail, tests)
}

func TestParseTicker(t *testing.T) {
	tests := []parseCase{
		{"aapl", "AAPL", ""},
		{" BRK-B ", "BRK-B", ""},
		{"^GSPC", "^GSPC", ""},
		{"EURUSD=X", "EURUSD=X", ""},
		{"GC=F", "GC=F", ""},
		{"0700.HK", "0700.HK", ""},
		{"M&M.NS", "M&M.NS", ""},
		{"", "", "ticker is required"},
		{"AAPL$", "", `ticker "AAPL$" is not a valid symbol`},
		{"-AAPL", "", `ticker "-AAPL" is not a valid symbol`},
		{"AAPL=XX", "", `ticker "AAPL=XX" is not a valid symbol`},
		{"A'; DROP TABLE users;--", "", `ticker "A'; DROP TABLE USERS;--" is not a valid symbol`},
		{strings.Repeat("A", 33), "", `ticker "` + strings.Repeat("A", 33) + `" is not a valid symbol`},
	}
	runParse(t, stock.ParseTicker, tests)
}

func TestValidateRequestID(t *testing.T) {
	tests := []parseCase{
		{"", "", ""},
		{"6F1C2D3E-4A5B-4C6D-8E7F-9A0B1C2D3E4F", "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f", ""},
		{"abc", "", `request_id "abc" is not a UUID`},
		{"6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4g", "", `request_id "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4g" is not a UUID`},
		{"6f1c2d3e04a5b04c6d08e7f09a0b1c2d3e4f", "", `request_id "6f1c2d3e04a5b04c6d08e7f09a0b1c2d3e4f" is not a UUID`},
	}
	runParse(t, stock.ValidateRequestID, tests)
}

func TestOlderThan(t *testing.T) {
	t.Parallel()
	const atMost = "older_than must be at most 2562047h47m16.854775807s (about 292 years)"
	tests := []struct {
		name    string
		seconds int64
		nanos   int32
		want    time.Duration
		wantErr string
	}{
		{"OK/OneNanosecond", 0, 1, 1, ""},
		{"OK/ThirtyDays", 30 * 86400, 0, 30 * 24 * time.Hour, ""},
		{"OK/Max", 9223372036, 854775807, stock.MaxOlderThan, ""},
		{"OK/MaxLessOne", 9223372036, 854775806, stock.MaxOlderThan - 1, ""},
		{"TooLong/MaxPlusOne", 9223372036, 854775808, 0, atMost},
		{"TooLong/10e9s", 10e9, 0, 0, atMost},
		{"TooLong/300e9s", 300e9, 0, 0, atMost},
		{"NotPositive/Zero", 0, 0, 0, "older_than must be positive, got 0s"},
		{"NotPositive/MinusOneNanosecond", 0, -1, 0, "older_than must be positive, got -1ns"},
		{"NotPositive/MinusOneHour", -3600, 0, 0, "older_than must be positive, got -1h0m0s"},
		{"NotPositive/Min", -9223372036, -854775808, 0, "older_than must be positive, got -9223372036s"},
		{"NotPositive/BeyondMin", -9223372036, -999999999, 0, "older_than must be positive, got -9223372036s"},
		{"NotPositive/-300e9s", -300e9, 0, 0, "older_than must be positive, got -300000000000s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := stock.OlderThan(tt.seconds, tt.nanos)
			if tt.wantErr != "" {
				if stock.KindOf(err) != stock.KindInvalid || err.Error() != tt.wantErr {
					t.Fatalf("OlderThan(%d, %d) error = %v (kind %s), want %s %q", tt.seconds, tt.nanos, err, stock.KindOf(err), stock.KindInvalid, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("OlderThan(%d, %d) = %v, %v; want %v", tt.seconds, tt.nanos, got, err, tt.want)
			}
		})
	}
}

func TestCheckQuoteTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 21, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		market  time.Time
		wantIs  error
		wantErr string
	}{
		{"OK/Now", now, nil, ""},
		{"OK/SkewAllowed", now.Add(stock.MaxQuoteSkew), nil, ""},
		{"OK/LastFridaysClose", now.Add(-3 * 24 * time.Hour), nil, ""},
		{"OK/HaltedForYears", time.Date(2021, 3, 1, 16, 0, 0, 0, time.UTC), nil, ""},
		{"OK/Floor", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), nil, ""},
		{"OK/OtherZone", now.Add(4 * time.Minute).In(time.FixedZone("EST", -5*3600)), nil, ""},
		{"Future/BeyondSkew", now.Add(stock.MaxQuoteSkew + time.Second), stock.ErrFutureQuote,
			"quote from the future: VOD.L market time 2026-11-29T21:05:01Z is more than 5m0s after the clock's 2026-11-29T21:00:00Z"},
		{"Future/Year9999", time.Unix(253402300799, 0), stock.ErrFutureQuote,
			"quote from the future: VOD.L market time 9999-12-31T23:59:59Z is more than 5m0s after the clock's 2026-11-29T21:00:00Z"},
		{"Past/BeforeFloor", time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC), stock.ErrPastQuote,
			"quote from the distant past: VOD.L market time 1999-12-31T23:59:59Z is before 2000-01-01T00:00:00Z"},
		{"Past/Epoch", time.Unix(1, 0), stock.ErrPastQuote,
			"quote from the distant past: VOD.L market time 1970-01-01T00:00:01Z is before 2000-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := stock.CheckQuoteTime(stock.Quote{Ticker: "VOD.L", Price: 70, Currency: "GBp", MarketTime: tt.market}, now)
			if tt.wantIs == nil {
				if err != nil {
					t.Fatalf("CheckQuoteTime(%v) = %v, want nil", tt.market, err)
				}
				return
			}
			if !errors.Is(err, tt.wantIs) || err.Error() != tt.wantErr {
				t.Fatalf("CheckQuoteTime(%v) = %v, want %q matching %v", tt.market, err, tt.wantErr, tt.wantIs)
			}
		})
	}
}

func checkParse(t *testing.T, got string, err error, want, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if stock.KindOf(err) != stock.KindInvalid || err.Error() != wantErr {
			t.Fatalf("error = %v (kind %s), want %s %q", err, stock.KindOf(err), stock.KindInvalid, wantErr)
		}
		return
	}
	if err != nil || got != want {
		t.Fatalf("= %q, %v; want %q", got, err, want)
	}
}

// fuzzParse fuzzes parse, named name, from seeds: any input either fails
// with KindInvalid or yields a value that parses to itself and that ok
// accepts (not, the fault ok finds otherwise).
func fuzzParse(f *testing.F, name string, parse func(string) (string, error), ok func(string) bool, not string, seeds ...string) {
	f.Helper()
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parse(s)
		if err != nil {
			if stock.KindOf(err) != stock.KindInvalid {
				t.Fatalf("%s(%q) error kind %s", name, s, stock.KindOf(err))
			}
			return
		}
		if !ok(got) {
			t.Fatalf("%s(%q) = %q: %s", name, s, got, not)
		}
		if again, err := parse(got); err != nil || again != got {
			t.Fatalf("%s(%s(%q)) = %q, %v; want %q", name, name, s, again, err, got)
		}
	})
}

// FuzzParseEmail: any input either fails with KindInvalid or yields a
// normalised address that parses to itself.
func FuzzParseEmail(f *testing.F) {
	normalised := func(got string) bool {
		return got == strings.ToLower(got) && utf8.RuneCountInString(got) <= stock.MaxEmailLen
	}
	fuzzParse(f, "ParseEmail", stock.ParseEmail, normalised, "not normalised",
		"a@b.com", " Alice@X.com ", "Bob <b@x.com>", "\"q u\"@x.com", "a@[127.0.0.1]", "é@x.com", "")
}

// FuzzParseTicker: any input either fails with KindInvalid or yields an
// upper-case ticker that parses to itself.
func FuzzParseTicker(f *testing.F) {
	plain := func(got string) bool { return len(got) <= 35 && !strings.ContainsAny(got, "'\";\\ ") }
	fuzzParse(f, "ParseTicker", stock.ParseTicker, plain, "too long, or holding a quote, semicolon, backslash or space",
		"aapl", "^GSPC", "EURUSD=X", "0700.HK", "BRK-B", "A'--", "")
}
