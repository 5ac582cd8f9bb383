// Package yahoo is the HTTP client for Yahoo Finance's chart endpoint, the
// collector's quote source.
//
// One request per symbol:
//
//	GET {base}/v8/finance/chart/{SYMBOL}?range=1d&interval=1m
//
// Yahoo's data is for personal use; the defaults stay polite (one request
// per call, a 10s timeout, no retries here: retrying is the caller's choice).
package yahoo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// Settings of a Client; the timeout can be changed with WithTimeout.
const (
	// DefaultBaseURL is Yahoo's public query host.
	DefaultBaseURL = "https://query2.finance.yahoo.com"
	// DefaultTimeout bounds one request, from dial to the last body byte.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxBodySize is the largest body read; a real one-day chart
	// is a few tens of KiB.
	DefaultMaxBodySize int64 = 1 << 20
	// DefaultUserAgent is a desktop browser's: Yahoo answers Go's default
	// "Go-http-client/1.1" with 429.
	DefaultUserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

// Client fetches quotes from Yahoo Finance. It is safe for concurrent use.
type Client struct {
	base        string
	http        *http.Client
	timeout     time.Duration
	maxBodySize int64 // DefaultMaxBodySize; FuzzQuote lowers it

	mu        sync.Mutex
	holdUntil time.Time // after a 429 with Retry-After: send nothing before this
}

// maxCurrencyLen is the longest currency code kept (ISO 4217 codes and
// Yahoo's "GBp" are three).
const maxCurrencyLen = 16

// maxHold caps how long one Retry-After keeps the client quiet.
const maxHold = 10 * time.Minute

// Option changes one setting of a Client.
type Option func(*Client)

// WithTimeout bounds each request, body included, to d. A request that
// runs out of time fails with an *UpstreamError, which counts against the
// upstream (IsFailure), unlike the caller's own deadline. A non-positive d
// keeps DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// newTransport is http.DefaultTransport's configuration with more idle
// connections per host: the collector keeps several requests in flight to
// one host, and with the default of 2 it would dial (and for HTTPS,
// handshake) again for the others every cycle.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return t
}

// New returns a Client for the Yahoo host at baseURL (DefaultBaseURL when
// empty), e.g. "https://query2.finance.yahoo.com" or a test server's URL.
// It does not contact the host; a malformed baseURL makes every Quote fail.
func New(baseURL string, opts ...Option) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	c := &Client{
		base:        strings.TrimRight(baseURL, "/"),
		http:        &http.Client{Transport: newTransport()},
		timeout:     DefaultTimeout,
		maxBodySize: DefaultMaxBodySize,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Quote returns the latest quote of ticker, which is trimmed and
// upper-cased; the returned Quote carries that normalised ticker, Yahoo's
// currency as it spells it ("GBp") and the market time in UTC.
//
// On failure it returns:
//   - for an unknown symbol, an error matching stock.ErrUnknownTicker whose
//     message is exactly "unknown ticker SYMBOL";
//   - for HTTP 429, an error wrapping *RateLimitError;
//   - for other non-2xx statuses, network errors and the Client's own
//     timeout, an error wrapping *UpstreamError;
//   - for a body that is not a chart with a positive price and a market
//     time, an error wrapping ErrMalformed;
//   - when ctx is cancelled or its deadline passes, an error wrapping
//     ctx.Err() (context.Canceled or context.DeadlineExceeded) and no
//     *UpstreamError: the caller gave up, the upstream did not fail.
//
// All but the first are prefixed "yahoo quote SYMBOL: ".
// IsFailure tells which of these count against the upstream.
func (c *Client) Quote(ctx context.Context, ticker string) (stock.Quote, error) {
	symbol := strings.ToUpper(strings.TrimSpace(ticker))
	if symbol == "" {
		return stock.Quote{}, unknownTicker(symbol)
	}
	q, err := c.quote(ctx, symbol)
	if err != nil {
		if isUnknown(err) {
			return stock.Quote{}, err
		}
		return stock.Quote{}, fmt.Errorf("yahoo quote %s: %w", symbol, err)
	}
	return q, nil
}

func (c *Client) quote(ctx context.Context, symbol string) (stock.Quote, error) {
	if err := ctx.Err(); err != nil {
		return stock.Quote{}, err
	}
	if wait := c.held(); wait > 0 {
		// Yahoo asked us to back off: answer as it would, without asking.
		return stock.Quote{}, &RateLimitError{RetryAfter: wait}
	}
	reqCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	u := c.base + "/v8/finance/chart/" + url.PathEscape(symbol) + "?range=1d&interval=1m"
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, u, nil)
	if err != nil {
		return stock.Quote{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("User-Agent", DefaultUserAgent)
	req.Header.Set("Accept", "application/json")

	resp, err := c.http.Do(req)
	if err != nil {
		return stock.Quote{}, c.transportError(ctx, reqCtx, err)
	}
	defer resp.Body.Close()

	// One byte over the limit tells a body at the limit from a larger one.
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBodySize+1))
	if err != nil {
		return stock.Quote{}, c.transportError(ctx, reqCtx, fmt.Errorf("read body: %w", err))
	}
	tooLarge := int64(len(body)) > c.maxBodySize

	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		wait := retryAfter(resp.Header, time.Now())
		c.hold(wait)
		return stock.Quote{}, &RateLimitError{RetryAfter: wait}
	case resp.StatusCode == http.StatusNotFound && !tooLarge && isNotFoundBody(body):
		return stock.Quote{}, unknownTicker(symbol)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		var detail error
		if len(body) > 0 {
			detail = fmt.Errorf("body %s", excerpt(body))
		}
		return stock.Quote{}, &UpstreamError{Status: resp.StatusCode, Err: detail}
	case tooLarge:
		return stock.Quote{}, fmt.Errorf("%w: body larger than %d bytes", ErrMalformed, c.maxBodySize)
	}
	return parseChart(symbol, body)
}

// held returns how long the client must still stay quiet after a 429.
func (c *Client) held() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Until(c.holdUntil)
}

// hold keeps the client from sending for d (at most maxHold).
func (c *Client) hold(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if until := time.Now().Add(min(d, maxHold)); until.After(c.holdUntil) {
		c.holdUntil = until
	}
}

// transportError classifies an error of sending a request or reading its
// body. The caller's context is looked at first: when it is done, the
// caller gave up, whatever the transport says.
func (c *Client) transportError(ctx, reqCtx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if reqCtx.Err() != nil {
		return &UpstreamError{Err: fmt.Errorf("no response within %s: %w", c.timeout, context.DeadlineExceeded)}
	}
	return &UpstreamError{Err: err}
}

// chartResponse is the part of the chart body the client reads. Pointers
// tell a missing field from a zero one.
type chartResponse struct {
	Chart *struct {
		Result []struct {
			Meta *struct {
				Currency           string   `json:"currency"`
				Symbol             string   `json:"symbol"`
				RegularMarketPrice *float64 `json:"regularMarketPrice"`
				RegularMarketTime  *int64   `json:"regularMarketTime"`
			} `json:"meta"`
		} `json:"result"`
		Error *struct {
			Code        string `json:"code"`
			Description string `json:"description"`
		} `json:"error"`
	} `json:"chart"`
}

func parseChart(symbol string, body []byte) (stock.Quote, error) {
	var r chartResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return stock.Quote{}, fmt.Errorf("%w: %v (body %s)", ErrMalformed, err, excerpt(body))
	}
	switch {
	case r.Chart == nil:
		return stock.Quote{}, fmt.Errorf("%w: no chart", ErrMalformed)
	case len(r.Chart.Result) == 0:
		return stock.Quote{}, fmt.Errorf("%w: no chart.result", ErrMalformed)
	case r.Chart.Result[0].Meta == nil:
		return stock.Quote{}, fmt.Errorf("%w: no chart.result[0].meta", ErrMalformed)
	}
	m := r.Chart.Result[0].Meta
	switch {
	case m.RegularMarketPrice == nil:
		return stock.Quote{}, fmt.Errorf("%w: no regularMarketPrice", ErrMalformed)
	case !(*m.RegularMarketPrice > 0) || math.IsInf(*m.RegularMarketPrice, 0):
		return stock.Quote{}, fmt.Errorf("%w: regularMarketPrice %v is not a positive number", ErrMalformed, *m.RegularMarketPrice)
	case m.RegularMarketTime == nil || *m.RegularMarketTime <= 0 || *m.RegularMarketTime > 253402300799: // 9999-12-31T23:59:59Z: the store's µs and proto Timestamps end there
		return stock.Quote{}, fmt.Errorf("%w: regularMarketTime missing or outside 1970…9999", ErrMalformed)
	case len(m.Currency) > maxCurrencyLen: // the store's column; one bad quote must not fail a cycle's batch
		return stock.Quote{}, fmt.Errorf("%w: currency longer than %d bytes", ErrMalformed, maxCurrencyLen)
	}
	return stock.Quote{
		Ticker:     symbol,
		Price:      *m.RegularMarketPrice,
		Currency:   m.Currency,
		MarketTime: time.Unix(*m.RegularMarketTime, 0).UTC(),
	}, nil
}

// isNotFoundBody reports whether body is Yahoo's answer for an unknown
// symbol, as opposed to a 404 from a proxy or a wrong path.
func isNotFoundBody(body []byte) bool {
	var r chartResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return false
	}
	return r.Chart != nil && r.Chart.Error != nil && r.Chart.Error.Code == "Not Found"
}

// retryAfter parses a Retry-After header: delay-seconds or an HTTP-date.
// A date is measured from the response's Date header when it has one, so
// that clock skew between us and the server does not matter. It returns 0
// when the header is absent, invalid or in the past.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := parseSeconds(v); err == nil {
		return secs
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		now = date
	}
	if d := at.Sub(now); d > 0 {
		return d
	}
	return 0
}

func parseSeconds(v string) (time.Duration, error) {
	var n int64
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, fmt.Errorf("not delay-seconds: %q", v)
		}
		n = n*10 + int64(v[i]-'0')
		if n > math.MaxInt64/int64(time.Second)/10 {
			return 0, fmt.Errorf("delay-seconds out of range: %q", v)
		}
	}
	return time.Duration(n) * time.Second, nil
}

// excerpt quotes the start of a body for an error message.
func excerpt(body []byte) string {
	const limit = 120
	if len(body) > limit {
		return strconv.Quote(string(body[:limit])) + "…"
	}
	return strconv.Quote(string(body))
}
