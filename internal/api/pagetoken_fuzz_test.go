package api

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// lists are the listings that issue page tokens.
var lists = [...]string{"users", "prices"}

// FuzzPageToken checks decodePageToken on anything a client can send, and
// on every token the server can issue:
//   - it never panics, and fails only with KindInvalid "invalid page_token";
//   - a token it accepts belongs to the listing and filter asked for, and
//     encodes to a token that decodes to the same position (round trip);
//   - a token the server issues for listing L and ticker filter T (from an
//     e-mail or ticker the API accepted) decodes for (L, T), to the same
//     position, and for no other listing or filter.
func FuzzPageToken(f *testing.F) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	long := strings.Repeat("&", 240) + "@x.com"
	seeds := []struct {
		s          string
		list       uint8
		ticker     string
		email      string
		market, id int64
		other      string
	}{
		{"", 0, "", "a@x.com", 0, 0, "AAPL"},
		{enc(`{"l":"users","e":"a@x.com"}`), 0, "", "a@x.com", 0, 0, ""},
		{enc(`{"l":"prices","m":1739998801000000,"i":7}`), 1, "", "", 1739998801000000, 7, "AAPL"},
		{enc(`{"l":"prices","t":"AAPL","m":1,"i":1}`), 1, "AAPL", "", 1, 1, ""},
		{enc(`{"l":"prices","t":"AAPL","m":-1,"i":1}`), 1, "AAPL", "", -1, 1, "MSFT"},
		{enc(`{"l":"prices","i":0}`), 1, "", "", 0, 0, "aapl"},
		{enc(`{"l":"users","e":"A@X.COM"}`), 0, "", "A@X.COM", 0, 0, ""},
		{enc(`{"l":"users","e":"a@x.com","m":5}`), 0, "", "x", 5, 0, ""},
		{enc(`{"L":"users","E":"a@x.com"}`), 0, "", "o'brien@x.com", 0, 0, ""},
		{enc(`{"l":"users","e":"a@x.com","l":"prices"}`), 1, "", "", 0, 1, ""},
		{enc(`{"l":"users","e":"\ud800@x.com"}`), 0, "", "\xff@x.com", 0, 0, ""},
		{enc(`{"l":"users","e":"a@x.com"}`) + "=", 0, "", "a%b_c@x.com", 0, 0, ""},
		{enc(`null`), 0, "", "", 0, 0, ""},
		{enc(`[]`), 1, "", "", 9223372036854775807, 9223372036854775807, "^GSPC"},
		{"!!!!", 0, "", "", 0, 0, ""},
		{strings.Repeat("A", 513), 0, "", long, 0, 0, ""},
		{enc(`{"l":"users","e":"` + strings.Repeat("\\u0026", 240) + `@x.com"}`), 0, "", long, 0, 0, ""},
		{"eyJsIjoidXNlcnMiLCJlIjoiYUB4LmNvbSJ9", 0, "", strings.Repeat("é", 248) + "@x.com", 0, 0, ""},
	}
	for _, s := range seeds {
		f.Add(s.s, s.list, s.ticker, s.email, s.market, s.id, s.other)
	}
	f.Fuzz(func(t *testing.T, s string, list uint8, ticker, email string, market, id int64, other string) {
		l := lists[list%2]
		// The server decodes only with the filter of a valid request: none,
		// or a parsed ticker; users listings have none.
		if l == "users" {
			ticker = ""
		} else if ticker != "" {
			var err error
			if ticker, err = stock.ParseTicker(ticker); err != nil {
				ticker = ""
			}
		}

		// Anything a client sends.
		tok, err := decodePageToken(s, l, ticker)
		checkBadToken(t, err)
		switch {
		case s == "" && (tok != nil || err != nil):
			t.Fatalf("decode(%q) = %+v, %v; want the first page", s, tok, err)
		case err == nil && s != "":
			if tok == nil || tok.List != l || tok.Ticker != ticker {
				t.Fatalf("decode(%q, %q, %q) = %+v: not bound to the listing asked for", s, l, ticker, tok)
			}
			again, err := decodePageToken(tok.encode(), l, ticker)
			if err != nil {
				t.Fatalf("re-encoded token %+v does not decode: %v", tok, err)
			}
			if diff := cmp.Diff(tok, again); diff != "" {
				t.Fatalf("round trip of %q: mismatch (-want +got):\n%s", s, diff)
			}
		}

		// A token the server issues at the end of a page.
		var issued pageToken
		switch l {
		case "users":
			e, err := stock.ParseEmail(email)
			if err != nil {
				return
			}
			issued = pageToken{List: l, Email: e}
		case "prices":
			if id <= 0 || market < 0 {
				return // ids start at 1; market times are after 1970
			}
			issued = pageToken{List: l, Ticker: ticker, Market: market, ID: id}
		}
		it := issued.encode()
		got, err := decodePageToken(it, l, ticker)
		if err != nil {
			t.Fatalf("token (%d bytes) issued as %.80q does not decode: %v", len(it), fmt.Sprintf("%+v", issued), err)
		}
		if diff := cmp.Diff(&issued, got); diff != "" {
			t.Fatalf("issued token: mismatch (-want +got):\n%s", diff)
		}
		// Binding: no other listing, and no other filter, accepts it.
		if tok, err := decodePageToken(it, lists[(list+1)%2], ""); err == nil {
			t.Fatalf("token issued as %+v decodes for the other listing as %+v", issued, tok)
		}
		if o, err := stock.ParseTicker(other); err == nil && l == "prices" && o != ticker {
			if tok, err := decodePageToken(it, l, o); err == nil {
				t.Fatalf("token issued for ticker %q decodes for ticker %q as %+v", ticker, o, tok)
			}
		}
		if l == "prices" && ticker != "" {
			if tok, err := decodePageToken(it, l, ""); err == nil {
				t.Fatalf("token issued for ticker %q decodes for all tickers as %+v", ticker, tok)
			}
		}
	})
}

// checkBadToken fails t unless err is nil or the one error decodePageToken
// documents.
func checkBadToken(t *testing.T, err error) {
	t.Helper()
	if err != nil && (stock.KindOf(err) != stock.KindInvalid || stock.MessageOf(err) != "invalid page_token") {
		t.Fatalf("decode error %v (kind %s), want KindInvalid %q", err, stock.KindOf(err), "invalid page_token")
	}
}

// TestPageTokenLongestEmail: a users page may end on any e-mail the API
// accepts, so the token issued for the longest, most escaped one must
// still decode. JSON writes "&" as \u0026 (6 bytes) and keeps non-ASCII
// as UTF-8, so a 254-character address can make a token far over 512 bytes.
func TestPageTokenLongestEmail(t *testing.T) {
	t.Parallel()
	for name, email := range map[string]string{
		"ASCII":      strings.Repeat("a", 248) + "@x.com",
		"Ampersands": strings.Repeat("&", 248) + "@x.com",
		"NonASCII":   strings.Repeat("\U0001F600", 248) + "@x.com",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, err := stock.ParseEmail(email)
			if err != nil {
				t.Fatalf("ParseEmail: %v", err)
			}
			issued := pageToken{List: "users", Email: e}
			s := issued.encode()
			got, err := decodePageToken(s, "users", "")
			if err != nil {
				t.Fatalf("token for a valid %d-character e-mail (%d bytes) rejected: %v", len([]rune(e)), len(s), err)
			}
			if diff := cmp.Diff(&issued, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
