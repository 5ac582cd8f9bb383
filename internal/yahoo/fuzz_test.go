package yahoo

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// maxProtoSeconds is 9999-12-31T23:59:59Z, the last instant a
// google.protobuf.Timestamp may hold: a market time beyond it could be
// stored but not answered (protojson refuses it).
const maxProtoSeconds = 253402300799

// fixtureBodies returns the recorded Yahoo answers in yahootest/testdata,
// the most realistic seeds there are.
func fixtureBodies(tb testing.TB) map[string][]byte {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("yahootest", "testdata", "*"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no fixtures in yahootest/testdata: %v", err)
	}
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// chartSeeds are bodies on the edges of what parseChart accepts; the
// checked-in corpus in testdata/fuzz holds more.
var chartSeeds = []string{
	``,
	`null`,
	`{}`,
	`{"chart":null}`,
	`{"chart":{"result":[]}}`,
	`{"chart":{"result":[null]}}`,
	`{"chart":{"result":[{"meta":{"regularMarketPrice":1.5,"regularMarketTime":1}}]}}`,
	`{"chart":{"result":[{"meta":{"regularMarketPrice":5e-324,"regularMarketTime":1739998801}}]}}`,
	`{"chart":{"result":[{"meta":{"regularMarketPrice":1.7976931348623157e308,"regularMarketTime":1739998801}}]}}`,
	`{"chart":{"result":[{"meta":{"regularMarketPrice":1.5,"regularMarketTime":9223372036854775807}}]}}`,
	`{"chart":{"result":[{"meta":{"regularMarketPrice":1.5,"regularMarketTime":253402300800}}]}}`,
	`{"chart":{"result":[{"meta":{"regularMarketPrice":-0,"regularMarketTime":1739998801}}]}}`,
	`{"chart":{"result":[{"meta":{"regularMarketPrice":1e400,"regularMarketTime":1739998801}}]}}`,
	`{"chart":{"result":[{"meta":{"regularMarketPrice":"1.5","regularMarketTime":"1739998801"}}]}}`,
	`{"chart":{"result":[{"meta":{"currency":"\u0000\ud800","regularMarketPrice":1.5,"regularMarketTime":1739998801}}]}}`,
	`{"chart":{"result":[{"meta":{"regularMarketPrice":1.5,"regularMarketPrice":-1,"regularMarketTime":1739998801}}]}}`,
	`{"CHART":{"RESULT":[{"META":{"REGULARMARKETPRICE":1.5,"REGULARMARKETTIME":1739998801}}]}}`,
	`{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}`,
	"<!DOCTYPE html><html><body>Will be right back…</body></html>",
	"\xff\xfe{\x00}",
}

// FuzzParseChart: for any body, parseChart does not panic and returns
// either a quote with a finite positive price and a market time in UTC
// that the store and the API can represent, or an error wrapping
// ErrMalformed and nothing else.
func FuzzParseChart(f *testing.F) {
	for _, b := range fixtureBodies(f) {
		f.Add(b)
	}
	for _, s := range chartSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		q, err := parseChart("AAPL", body)
		checkParsed(t, "AAPL", q, err)
	})
}

func checkParsed(t *testing.T, symbol string, q stock.Quote, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
		if q != (stock.Quote{}) {
			t.Fatalf("error %v with a non-zero quote %+v", err, q)
		}
		return
	}
	switch {
	case q.Ticker != symbol:
		t.Fatalf("ticker %q, want %q", q.Ticker, symbol)
	case !(q.Price > 0) || math.IsInf(q.Price, 0) || math.IsNaN(q.Price):
		t.Fatalf("price %v is not a finite positive number", q.Price)
	case q.MarketTime.IsZero() || q.MarketTime.Unix() <= 0:
		t.Fatalf("market time %v is not after the epoch", q.MarketTime)
	case q.MarketTime.Location() != time.UTC:
		t.Fatalf("market time %v is not in UTC", q.MarketTime)
	case q.MarketTime.Unix() > maxProtoSeconds:
		// The store keeps Unix microseconds and the API answers with
		// proto Timestamps: anything later is garbage or an overflow.
		t.Fatalf("market time %d (%v) is beyond 9999-12-31, the last time the API can answer", q.MarketTime.Unix(), q.MarketTime)
	case !time.UnixMicro(q.MarketTime.UnixMicro()).Equal(q.MarketTime):
		t.Fatalf("market time %v does not survive Unix microseconds", q.MarketTime)
	}
}

// fuzzUpstream is one HTTP server for every input of a fuzz worker: the
// fuzz function runs its inputs one at a time, so the next answer is set
// before each request.
type fuzzUpstream struct {
	mu         sync.Mutex
	status     int
	body       []byte
	retryAfter string
}

func (u *fuzzUpstream) set(status int, body []byte, retryAfter string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.status, u.body, u.retryAfter = status, body, retryAfter
}

func (u *fuzzUpstream) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	u.mu.Lock()
	status, body, ra := u.status, u.body, u.retryAfter
	u.mu.Unlock()
	if ra != "" {
		w.Header().Set("Retry-After", ra)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) // fails for 204 and 304, which have no body
}

// headerValue drops the control characters a server cannot send in a
// header value: with them the answer would not be HTTP at all.
func headerValue(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x20 && c != 0x7f || c == '\t' {
			b = append(b, c)
		}
	}
	return strings.TrimSpace(string(b))
}

// fuzzMaxBody is the client's body limit in FuzzQuote: small, so that
// the fuzzer reaches the "too large" path too.
const fuzzMaxBody = 4 << 10

// FuzzQuote runs the whole client against an HTTP server answering the
// fuzzed status (200–599), body and Retry-After. Quote must not panic, and
// its error is one of the documented kinds, chosen by the status:
//   - 429: *RateLimitError;
//   - 404: stock.ErrUnknownTicker for Yahoo's own not-found body, else
//     *UpstreamError with Status 404;
//   - other non-2xx: *UpstreamError with that Status;
//   - 2xx: exactly what parseChart says of the body (ErrMalformed or a
//     quote), or ErrMalformed for a body over the limit.
func FuzzQuote(f *testing.F) {
	for name, b := range fixtureBodies(f) {
		switch {
		case strings.Contains(name, "not-found"):
			f.Add("ZZZZ", 404, b, "")
		case strings.Contains(name, "too-many"):
			f.Add("AAPL", 429, b, "30")
		default:
			f.Add(strings.TrimSuffix(strings.TrimPrefix(name, "chart-"), ".json"), 200, b, "")
		}
	}
	for _, s := range chartSeeds {
		f.Add("AAPL", 200, []byte(s), "")
	}
	f.Add("AAPL", 429, []byte(nil), "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add("AAPL", 429, []byte(nil), "99999999999999999999")
	f.Add("AAPL", 404, []byte(`{"chart":{"error":{"code":"Not Found"}}}`), "")
	f.Add("AAPL", 503, []byte("<html>down</html>"), "")
	f.Add("AAPL", 204, []byte(nil), "")
	f.Add("AAPL", 304, []byte(nil), "")
	f.Add("AAPL", 301, []byte(nil), "")
	f.Add("AAPL", 200, []byte(strings.Repeat(" ", fuzzMaxBody)+`{"chart":{"result":[{"meta":{"regularMarketPrice":1.5,"regularMarketTime":1}}]}}`), "")
	f.Add("  ", 200, []byte(nil), "")
	f.Add("../../x?y#z", 200, []byte(nil), "")
	f.Add("\x00\xff/%2F", 200, []byte(nil), "")

	up := &fuzzUpstream{}
	srv := httptest.NewServer(up)
	f.Cleanup(srv.Close)

	f.Fuzz(func(t *testing.T, ticker string, status int, body []byte, retryAfter string) {
		if status < 200 || status > 599 {
			// 1xx are interim answers, not a response; the rest is not HTTP.
			status = 200 + (status%400+400)%400
		}
		up.set(status, body, headerValue(retryAfter))
		// A fresh client per input: a 429 would otherwise silence the next ones.
		c := New(srv.URL, WithTimeout(5*time.Second))
		c.maxBodySize = fuzzMaxBody
		q, err := c.Quote(context.Background(), ticker)

		symbol := strings.ToUpper(strings.TrimSpace(ticker))
		if symbol == "" {
			if !errors.Is(err, stock.ErrUnknownTicker) {
				t.Fatalf("Quote(%q) = %+v, %v; want unknown ticker", ticker, q, err)
			}
			return
		}
		if status == http.StatusNoContent || status == http.StatusNotModified {
			body = nil // the server cannot send one
		}
		var (
			re *RateLimitError
			ue *UpstreamError
		)
		switch {
		case status == http.StatusTooManyRequests:
			if !errors.As(err, &re) {
				t.Fatalf("status 429: err = %v, want *RateLimitError", err)
			}
			if re.RetryAfter < 0 {
				t.Fatalf("status 429: negative RetryAfter %v", re.RetryAfter)
			}
		case status == http.StatusNotFound && errors.Is(err, stock.ErrUnknownTicker):
			if !isNotFoundBody(body) || len(body) > fuzzMaxBody {
				t.Fatalf("status 404, body %s: unknown ticker, but the body is not Yahoo's not-found answer", excerpt(body))
			}
			if want := "unknown ticker " + symbol; err.Error() != want {
				t.Fatalf("unknown ticker message %q, want %q", err.Error(), want)
			}
		case status < 200 || status > 299:
			if !errors.As(err, &ue) || ue.Status != status {
				t.Fatalf("status %d: err = %v, want *UpstreamError with that status", status, err)
			}
		case len(body) > fuzzMaxBody:
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("status %d, %d-byte body: err = %v, want ErrMalformed", status, len(body), err)
			}
		default:
			want, wantErr := parseChart(symbol, body)
			if (err == nil) != (wantErr == nil) || q != want {
				t.Fatalf("status %d: Quote = %+v, %v; parseChart = %+v, %v", status, q, err, want, wantErr)
			}
			checkParsed(t, symbol, q, err)
		}
		if err != nil {
			if q != (stock.Quote{}) {
				t.Fatalf("error %v with a non-zero quote %+v", err, q)
			}
			if !IsFailure(err) && !errors.Is(err, stock.ErrUnknownTicker) {
				t.Fatalf("error %v is neither a failure nor an unknown ticker", err)
			}
			if !strings.HasPrefix(err.Error(), "yahoo quote "+symbol+": ") && !errors.Is(err, stock.ErrUnknownTicker) {
				t.Fatalf("error %q lacks the prefix %q", err.Error(), "yahoo quote "+symbol+": ")
			}
		}
	})
}
