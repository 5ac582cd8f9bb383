package yahoo_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/testkit"
	"github.com/stockwatch/stockwatch/internal/yahoo"
	"github.com/stockwatch/stockwatch/internal/yahoo/yahootest"
)

// The values recorded in the fixtures.
var (
	aaplQuote = stock.Quote{Ticker: "AAPL", Price: 244.87, Currency: "USD", MarketTime: time.Unix(1739998801, 0).UTC()}
	vodQuote  = stock.Quote{Ticker: "VOD.L", Price: 68.9, Currency: "GBp", MarketTime: time.Unix(1739982304, 0).UTC()}
)

func TestQuote(t *testing.T) {
	t.Parallel()
	gspcTime := time.Date(2025, 2, 19, 21, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		setup  func(*yahootest.Server)
		ticker string
		want   stock.Quote
	}{
		{name: "AAPL fixture", ticker: "AAPL", want: aaplQuote},
		{name: "VOD.L keeps GBp", ticker: "VOD.L", want: vodQuote},
		{
			name:   "no bars: price from meta, ticker as requested",
			setup:  func(s *yahootest.Server) { s.SetFault("NOBARS", yahootest.Fault{Kind: yahootest.FaultNoBars}) },
			ticker: "NOBARS",
			want:   stock.Quote{Ticker: "NOBARS", Price: 409.64, Currency: "USD", MarketTime: time.Unix(1739998800, 0).UTC()},
		},
		{name: "ticker trimmed and upper-cased", ticker: "  aapl ", want: aaplQuote},
		{
			name:   "SetQuote",
			setup:  func(s *yahootest.Server) { s.SetQuote("^GSPC", 6144.15, "USD", gspcTime) },
			ticker: "^GSPC",
			want:   stock.Quote{Ticker: "^GSPC", Price: 6144.15, Currency: "USD", MarketTime: gspcTime},
		},
		{
			name: "market time is UTC whatever the zone given",
			setup: func(s *yahootest.Server) {
				s.SetQuote("0700.HK", 411.2, "HKD", gspcTime.In(time.FixedZone("HKT", 8*3600)))
			},
			ticker: "0700.HK",
			want:   stock.Quote{Ticker: "0700.HK", Price: 411.2, Currency: "HKD", MarketTime: gspcTime},
		},
		{
			name:   "latency below the timeout",
			setup:  func(s *yahootest.Server) { s.SetFault("AAPL", yahootest.Fault{Delay: 10 * time.Millisecond}) },
			ticker: "AAPL",
			want:   aaplQuote,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := yahootest.NewServer(t)
			if tt.setup != nil {
				tt.setup(srv)
			}
			got, err := yahoo.New(srv.URL()).Quote(context.Background(), tt.ticker)
			if err != nil {
				t.Fatalf("Quote(%q): %v", tt.ticker, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Quote(%q) mismatch (-want +got):\n%s", tt.ticker, diff)
			}
		})
	}
}

func TestQuote_Request(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ticker  string
		wantURI string
	}{
		{"^GSPC", "/v8/finance/chart/%5EGSPC?range=1d&interval=1m"},
		{"EURUSD=X", "/v8/finance/chart/EURUSD=X?range=1d&interval=1m"},
		{"BRK-B", "/v8/finance/chart/BRK-B?range=1d&interval=1m"},
		{"M&M.NS", "/v8/finance/chart/M&M.NS?range=1d&interval=1m"},
		{"0700.HK", "/v8/finance/chart/0700.HK?range=1d&interval=1m"},
	}
	for _, tt := range tests {
		t.Run(tt.ticker, func(t *testing.T) {
			t.Parallel()
			srv := yahootest.NewServer(t)
			srv.SetQuote(tt.ticker, 1, "USD", time.Unix(1739998801, 0))
			if _, err := yahoo.New(srv.URL()).Quote(context.Background(), tt.ticker); err != nil {
				t.Fatalf("Quote(%q): %v", tt.ticker, err)
			}
			want := []yahootest.Request{{
				Symbol:     tt.ticker,
				RequestURI: tt.wantURI,
				UserAgent:  yahoo.DefaultUserAgent,
				Accept:     "application/json",
			}}
			if diff := cmp.Diff(want, srv.Received()); diff != "" {
				t.Errorf("requests mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestQuote_UserAgent(t *testing.T) {
	t.Parallel()
	if strings.HasPrefix(yahoo.DefaultUserAgent, "Go-http-client") || !strings.HasPrefix(yahoo.DefaultUserAgent, "Mozilla/5.0 ") {
		t.Errorf("DefaultUserAgent = %q, want a browser's", yahoo.DefaultUserAgent)
	}
	srv := yahootest.NewServer(t)
	c := yahoo.New(srv.URL() + "/")
	if _, err := c.Quote(context.Background(), "AAPL"); err != nil {
		t.Fatalf("Quote: %v", err)
	}
	want := []yahootest.Request{{
		Symbol:     "AAPL",
		RequestURI: "/v8/finance/chart/AAPL?range=1d&interval=1m",
		UserAgent:  yahoo.DefaultUserAgent,
		Accept:     "application/json",
	}}
	if diff := cmp.Diff(want, srv.Received()); diff != "" {
		t.Errorf("requests mismatch (-want +got):\n%s", diff)
	}
}

// outcome summarises an error as the caller sees it through errors.Is/As.
type outcome struct {
	Kind       string // unknown, rate-limited, upstream, malformed, canceled, deadline, other
	Status     int
	RetryAfter time.Duration
	Failure    bool // yahoo.IsFailure
}

func outcomeOf(err error) outcome {
	var (
		o  = outcome{Failure: yahoo.IsFailure(err)}
		rl *yahoo.RateLimitError
		ue *yahoo.UpstreamError
	)
	switch {
	case err == nil:
		o.Kind = "ok"
	case errors.Is(err, stock.ErrUnknownTicker):
		o.Kind = "unknown"
	case errors.As(err, &rl):
		o.Kind, o.RetryAfter = "rate-limited", rl.RetryAfter
	case errors.As(err, &ue):
		o.Kind, o.Status = "upstream", ue.Status
	case errors.Is(err, yahoo.ErrMalformed):
		o.Kind = "malformed"
	case errors.Is(err, context.Canceled):
		o.Kind = "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		o.Kind = "deadline"
	default:
		o.Kind = "other"
	}
	return o
}

// wantOutcome fails tb unless err, what Quote returned, has the outcome
// want.
func wantOutcome(tb testing.TB, err error, want outcome) {
	tb.Helper()
	if diff := cmp.Diff(want, outcomeOf(err)); diff != "" {
		tb.Errorf("Quote error %v: mismatch (-want +got):\n%s", err, diff)
	}
}

func TestQuote_Faults(t *testing.T) {
	t.Parallel()
	retryAt := time.Date(2025, 2, 19, 21, 2, 0, 0, time.UTC)
	tests := []struct {
		name  string
		fault yahootest.Fault
		want  outcome
	}{
		{"ServerError", yahootest.Fault{Kind: yahootest.FaultServerError}, outcome{Kind: "upstream", Status: 500, Failure: true}},
		{"BadGateway", yahootest.Fault{Kind: yahootest.FaultStatus, Status: 502, Body: "bad gateway"}, outcome{Kind: "upstream", Status: 502, Failure: true}},
		{"ServiceUnavailableNoBody", yahootest.Fault{Kind: yahootest.FaultStatus, Status: 503}, outcome{Kind: "upstream", Status: 503, Failure: true}},
		{"Forbidden", yahootest.Fault{Kind: yahootest.FaultStatus, Status: 403, Body: "forbidden"}, outcome{Kind: "upstream", Status: 403, Failure: true}},
		{"NotFoundHTML", yahootest.Fault{Kind: yahootest.FaultStatus, Status: 404, Body: "<html>404</html>"}, outcome{Kind: "upstream", Status: 404, Failure: true}},
		{"RateLimitNoRetryAfter", yahootest.Fault{Kind: yahootest.FaultRateLimit}, outcome{Kind: "rate-limited", Failure: true}},
		{
			"RateLimitRetryAfterSeconds",
			yahootest.Fault{Kind: yahootest.FaultRateLimit, Header: http.Header{"Retry-After": {"30"}}},
			outcome{Kind: "rate-limited", RetryAfter: 30 * time.Second, Failure: true},
		},
		{
			"RateLimitRetryAfterDate",
			yahootest.Fault{Kind: yahootest.FaultRateLimit, Header: http.Header{
				"Date":        {retryAt.Add(-2 * time.Minute).Format(http.TimeFormat)},
				"Retry-After": {retryAt.Format(http.TimeFormat)},
			}},
			outcome{Kind: "rate-limited", RetryAfter: 2 * time.Minute, Failure: true},
		},
		{
			"RateLimitRetryAfterPastDate",
			yahootest.Fault{Kind: yahootest.FaultRateLimit, Header: http.Header{
				"Date":        {retryAt.Format(http.TimeFormat)},
				"Retry-After": {retryAt.Add(-time.Minute).Format(http.TimeFormat)},
			}},
			outcome{Kind: "rate-limited", Failure: true},
		},
		{
			"RateLimitRetryAfterGarbage",
			yahootest.Fault{Kind: yahootest.FaultRateLimit, Header: http.Header{"Retry-After": {"soon"}}},
			outcome{Kind: "rate-limited", Failure: true},
		},
		{
			"RateLimitRetryAfterNegative",
			yahootest.Fault{Kind: yahootest.FaultRateLimit, Header: http.Header{"Retry-After": {"-5"}}},
			outcome{Kind: "rate-limited", Failure: true},
		},
		{"ConnectionReset", yahootest.Fault{Kind: yahootest.FaultReset}, outcome{Kind: "upstream", Failure: true}},
		{"HTMLWith200", yahootest.Fault{Kind: yahootest.FaultHTML}, outcome{Kind: "malformed", Failure: true}},
		{"TruncatedJSON", yahootest.Fault{Kind: yahootest.FaultTruncated}, outcome{Kind: "malformed", Failure: true}},
		{"NotFound", yahootest.Fault{Kind: yahootest.FaultNotFound}, outcome{Kind: "unknown", Failure: false}},
		{"NoBars", yahootest.Fault{Kind: yahootest.FaultNoBars}, outcome{Kind: "ok", Failure: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := yahootest.NewServer(t)
			srv.SetFault("AAPL", tt.fault)
			_, err := yahoo.New(srv.URL()).Quote(context.Background(), "AAPL")
			wantOutcome(t, err, tt.want)
			testkit.WantCount(t, "RequestsFor(AAPL)", srv.RequestsFor("AAPL"), 1)
		})
	}
}

func TestQuote_GlobalFault(t *testing.T) {
	t.Parallel()
	srv := yahootest.NewServer(t)
	srv.SetGlobalFault(yahootest.Fault{Kind: yahootest.FaultServerError})
	srv.SetFault("VOD.L", yahootest.Fault{Kind: yahootest.FaultRateLimit})
	c := yahoo.New(srv.URL())
	got := map[string]outcome{}
	for _, s := range []string{"AAPL", "VOD.L", "ZZZZ"} {
		_, err := c.Quote(context.Background(), s)
		got[s] = outcomeOf(err)
	}
	srv.SetGlobalFault(yahootest.Fault{})
	_, err := c.Quote(context.Background(), "AAPL")
	got["AAPL after clearing"] = outcomeOf(err)

	want := map[string]outcome{
		"AAPL":                {Kind: "upstream", Status: 500, Failure: true},
		"VOD.L":               {Kind: "rate-limited", Failure: true}, // its own fault wins
		"ZZZZ":                {Kind: "upstream", Status: 500, Failure: true},
		"AAPL after clearing": {Kind: "ok"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcomes mismatch (-want +got):\n%s", diff)
	}
	if got, want := srv.Requests(), int64(4); got != want {
		t.Errorf("Requests() = %d, want %d", got, want)
	}
}

func TestQuote_UnknownTicker(t *testing.T) {
	t.Parallel()
	srv := yahootest.NewServer(t)
	_, err := yahoo.New(srv.URL()).Quote(context.Background(), "zzzz")
	if !errors.Is(err, stock.ErrUnknownTicker) {
		t.Fatalf("Quote(zzzz) = %v, want stock.ErrUnknownTicker", err)
	}
	if got, want := err.Error(), "unknown ticker ZZZZ"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	if yahoo.IsFailure(err) {
		t.Errorf("IsFailure(%v) = true, want false", err)
	}
	testkit.WantCount(t, "RequestsFor(ZZZZ)", srv.RequestsFor("ZZZZ"), 1)
}

func TestQuote_MalformedBodies(t *testing.T) {
	t.Parallel()
	const meta = `"currency":"USD","symbol":"BAD"`
	tests := []struct {
		name   string
		status int
		body   string
		want   outcome
	}{
		{"EmptyBody", 200, ``, outcome{Kind: "malformed", Failure: true}},
		{"CurrencyTooLong", 200, `{"chart":{"result":[{"meta":{"currency":"'; DROP TABLE users; --","symbol":"BAD","regularMarketPrice":1,"regularMarketTime":1700000000}}],"error":null}}`, outcome{Kind: "malformed", Failure: true}},
		{"JSONNull", 200, `null`, outcome{Kind: "malformed", Failure: true}},
		{"NoChart", 200, `{}`, outcome{Kind: "malformed", Failure: true}},
		{"ResultNull", 200, `{"chart":{"result":null,"error":null}}`, outcome{Kind: "malformed", Failure: true}},
		{"ResultEmpty", 200, `{"chart":{"result":[],"error":null}}`, outcome{Kind: "malformed", Failure: true}},
		{"NotFoundWith200", 200, `{"chart":{"result":null,"error":{"code":"Not Found","description":"x"}}}`, outcome{Kind: "malformed", Failure: true}},
		{"NoMeta", 200, `{"chart":{"result":[{}],"error":null}}`, outcome{Kind: "malformed", Failure: true}},
		{"NoPrice", 200, `{"chart":{"result":[{"meta":{` + meta + `,"regularMarketTime":1739998801}}]}}`, outcome{Kind: "malformed", Failure: true}},
		{"PriceNull", 200, `{"chart":{"result":[{"meta":{` + meta + `,"regularMarketPrice":null,"regularMarketTime":1739998801}}]}}`, outcome{Kind: "malformed", Failure: true}},
		{"PriceZero", 200, `{"chart":{"result":[{"meta":{` + meta + `,"regularMarketPrice":0,"regularMarketTime":1739998801}}]}}`, outcome{Kind: "malformed", Failure: true}},
		{"PriceNegative", 200, `{"chart":{"result":[{"meta":{` + meta + `,"regularMarketPrice":-1.5,"regularMarketTime":1739998801}}]}}`, outcome{Kind: "malformed", Failure: true}},
		{"PriceNaNString", 200, `{"chart":{"result":[{"meta":{` + meta + `,"regularMarketPrice":"NaN","regularMarketTime":1739998801}}]}}`, outcome{Kind: "malformed", Failure: true}},
		{"PriceNaNLiteral", 200, `{"chart":{"result":[{"meta":{` + meta + `,"regularMarketPrice":NaN,"regularMarketTime":1739998801}}]}}`, outcome{Kind: "malformed", Failure: true}},
		{"PriceHuge", 200, `{"chart":{"result":[{"meta":{` + meta + `,"regularMarketPrice":1e400,"regularMarketTime":1739998801}}]}}`, outcome{Kind: "malformed", Failure: true}},
		{"NoTime", 200, `{"chart":{"result":[{"meta":{` + meta + `,"regularMarketPrice":1.5}}]}}`, outcome{Kind: "malformed", Failure: true}},
		{"TimeZero", 200, `{"chart":{"result":[{"meta":{` + meta + `,"regularMarketPrice":1.5,"regularMarketTime":0}}]}}`, outcome{Kind: "malformed", Failure: true}},
		{"TimeFractional", 200, `{"chart":{"result":[{"meta":{` + meta + `,"regularMarketPrice":1.5,"regularMarketTime":17.5}}]}}`, outcome{Kind: "malformed", Failure: true}},
		{"TrailingGarbage", 200, `{"chart":{"result":[{"meta":{` + meta + `,"regularMarketPrice":1.5,"regularMarketTime":1739998801}}]}}<html>`, outcome{Kind: "malformed", Failure: true}},
		{"Minimal", 200, `{"chart":{"result":[{"meta":{` + meta + `,"regularMarketPrice":1.5,"regularMarketTime":1739998801}}]}}`, outcome{Kind: "ok"}},
		{"NotFoundOtherCode", 404, `{"chart":{"result":null,"error":{"code":"Internal","description":"x"}}}`, outcome{Kind: "upstream", Status: 404, Failure: true}},
		{"NotFoundJSONGarbage", 404, `{"chart":`, outcome{Kind: "upstream", Status: 404, Failure: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := yahootest.NewServer(t)
			srv.SetBody("BAD", tt.status, tt.body)
			_, err := yahoo.New(srv.URL()).Quote(context.Background(), "BAD")
			wantOutcome(t, err, tt.want)
		})
	}
}

func TestQuote_SetQuoteInvalidValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		price float64
		at    time.Time
	}{
		{"PriceZero", 0, time.Unix(1739998801, 0)},
		{"PriceNegative", -3, time.Unix(1739998801, 0)},
		{"ZeroTime", 12.5, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := yahootest.NewServer(t)
			srv.SetQuote("X", tt.price, "USD", tt.at)
			_, err := yahoo.New(srv.URL()).Quote(context.Background(), "X")
			wantOutcome(t, err, outcome{Kind: "malformed", Failure: true})
		})
	}
}

func TestQuote_MaxBodySize(t *testing.T) {
	t.Parallel()
	chart := string(yahootest.Fixture("chart-AAPL.json"))
	// padded is the AAPL chart followed by spaces (still valid JSON) up to n bytes.
	padded := func(n int64) string { return chart + strings.Repeat(" ", int(n)-len(chart)) }
	tests := []struct {
		name string
		size int64
		want outcome
	}{
		{"AtLimit", yahoo.DefaultMaxBodySize, outcome{Kind: "ok"}},
		{"OneOver", yahoo.DefaultMaxBodySize + 1, outcome{Kind: "malformed", Failure: true}},
		{"FarOver", 4 * yahoo.DefaultMaxBodySize, outcome{Kind: "malformed", Failure: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := yahootest.NewServer(t)
			srv.SetFault("AAPL", yahootest.Fault{Kind: yahootest.FaultStatus, Status: http.StatusOK, Body: padded(tt.size)})
			_, err := yahoo.New(srv.URL()).Quote(context.Background(), "AAPL")
			wantOutcome(t, err, tt.want)
		})
	}
}

func TestQuote_Timeout(t *testing.T) {
	t.Parallel()
	srv := yahootest.NewServer(t)
	srv.SetFault("AAPL", yahootest.Fault{Delay: time.Minute})
	c := yahoo.New(srv.URL(), yahoo.WithTimeout(50*time.Millisecond))

	start := time.Now()
	_, err := c.Quote(context.Background(), "AAPL")
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Quote took %s with a 50ms timeout", elapsed)
	}
	wantOutcome(t, err, outcome{Kind: "upstream", Failure: true})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(%v, context.DeadlineExceeded) = false, want true", err)
	}
}

func TestQuote_CallerContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// ctx returns the caller's context; it may watch srv to cancel
		// once the request has arrived.
		ctx          func(srv *yahootest.Server) (context.Context, context.CancelFunc)
		wantRequests int64 // -1: not checked, it depends on scheduling
		want         outcome
	}{
		{
			name: "CanceledBefore",
			ctx: func(*yahootest.Server) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			},
			wantRequests: 0,
			want:         outcome{Kind: "canceled"},
		},
		{
			name: "CanceledInFlight",
			ctx: func(srv *yahootest.Server) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				go func() {
					for srv.RequestsFor("AAPL") == 0 && ctx.Err() == nil {
						time.Sleep(time.Millisecond)
					}
					cancel()
				}()
				return ctx, cancel
			},
			wantRequests: 1,
			want:         outcome{Kind: "canceled"},
		},
		{
			name: "DeadlineInFlight",
			ctx: func(*yahootest.Server) (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 20*time.Millisecond)
			},
			wantRequests: -1,
			want:         outcome{Kind: "deadline"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := yahootest.NewServer(t)
			srv.SetFault("AAPL", yahootest.Fault{Delay: time.Minute})
			ctx, cancel := tt.ctx(srv)
			defer cancel()
			_, err := yahoo.New(srv.URL()).Quote(ctx, "AAPL")
			wantOutcome(t, err, tt.want)
			if got := srv.RequestsFor("AAPL"); tt.wantRequests >= 0 && got != tt.wantRequests {
				t.Errorf("RequestsFor(AAPL) = %d, want %d", got, tt.wantRequests)
			}
		})
	}
}

func TestQuote_NetworkError(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.NotFoundHandler())
	base := ts.URL
	ts.Close() // nothing listens there any more

	_, err := yahoo.New(base).Quote(context.Background(), "AAPL")
	wantOutcome(t, err, outcome{Kind: "upstream", Failure: true})
}

func TestIsFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"Nil", nil, false},
		{"UnknownTicker", fmt.Errorf("x: %w", stock.ErrUnknownTicker), false},
		{"CallerCanceled", fmt.Errorf("x: %w", context.Canceled), false},
		{"CallerDeadline", fmt.Errorf("x: %w", context.DeadlineExceeded), false},
		{"OwnTimeout", fmt.Errorf("x: %w", &yahoo.UpstreamError{Err: context.DeadlineExceeded}), true},
		{"Upstream5xx", &yahoo.UpstreamError{Status: 503}, true},
		{"RateLimited", fmt.Errorf("x: %w", &yahoo.RateLimitError{RetryAfter: time.Second}), true},
		{"Malformed", fmt.Errorf("%w: no price", yahoo.ErrMalformed), true},
		{"Other", errors.New("boom"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := yahoo.IsFailure(tt.err); got != tt.want {
				t.Errorf("IsFailure(%v) = %t, want %t", tt.err, got, tt.want)
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{&yahoo.UpstreamError{Status: 503}, "upstream HTTP 503 Service Unavailable"},
		{&yahoo.UpstreamError{Status: 500, Err: errors.New(`body "oops"`)}, `upstream HTTP 500 Internal Server Error: body "oops"`},
		{&yahoo.UpstreamError{Err: errors.New("connection reset by peer")}, "upstream: connection reset by peer"},
		{&yahoo.RateLimitError{}, "rate limited (HTTP 429)"},
		{&yahoo.RateLimitError{RetryAfter: 30 * time.Second}, "rate limited (HTTP 429), retry after 30s"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// TestQuote_HonoursRetryAfter: after a 429 with Retry-After the client
// sends nothing until the delay has passed, answering rate-limited itself.
func TestQuote_HonoursRetryAfter(t *testing.T) {
	t.Parallel()
	srv := yahootest.NewServer(t)
	srv.SetGlobalFault(yahootest.Fault{Kind: yahootest.FaultRateLimit, Header: http.Header{"Retry-After": {"1"}}})
	c := yahoo.New(srv.URL())
	_, err := c.Quote(context.Background(), "AAPL")
	if got := outcomeOf(err); got.Kind != "rate-limited" || got.RetryAfter != time.Second {
		t.Fatalf("first Quote = %+v, want rate-limited with RetryAfter 1s", got)
	}
	srv.SetGlobalFault(yahootest.Fault{})
	_, err = c.Quote(context.Background(), "VOD.L")
	if got := outcomeOf(err); got.Kind != "rate-limited" || got.RetryAfter <= 0 || got.RetryAfter > time.Second {
		t.Fatalf("Quote during hold = %+v, want rate-limited with 0 < RetryAfter <= 1s", got)
	}
	if got := srv.Requests(); got != 1 {
		t.Fatalf("requests during hold = %d, want 1", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err = c.Quote(context.Background(), "VOD.L"); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("Quote after the hold: %v", err)
	}
	if got := srv.Requests(); got != 2 {
		t.Errorf("requests = %d, want 2 (one 429, one after the hold)", got)
	}
}
