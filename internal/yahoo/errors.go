package yahoo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// ErrMalformed is wrapped by the error Quote returns for a successful
// response whose body is not a usable chart: an HTML page, truncated JSON,
// a missing result, meta, price or market time, a price that is not
// positive, or a body over the size limit.
var ErrMalformed = errors.New("malformed chart response")

// UpstreamError is a failure of Yahoo or of the way to it: a non-2xx status
// other than 429 and Yahoo's own 404 for an unknown symbol, a network error,
// or the Client's per-request timeout.
type UpstreamError struct {
	// Status is the HTTP status, or 0 when no response arrived.
	Status int
	// Err is the cause: the transport's error, the timeout (wrapping
	// context.DeadlineExceeded), or an excerpt of the error body. It may
	// be nil for a status without a body.
	Err error
}

// Error returns the status and cause, e.g. "upstream HTTP 503: body ...".
func (e *UpstreamError) Error() string {
	switch {
	case e.Status != 0 && e.Err != nil:
		return fmt.Sprintf("upstream HTTP %d %s: %v", e.Status, http.StatusText(e.Status), e.Err)
	case e.Status != 0:
		return fmt.Sprintf("upstream HTTP %d %s", e.Status, http.StatusText(e.Status))
	case e.Err != nil:
		return "upstream: " + e.Err.Error()
	}
	return "upstream error"
}

// Unwrap returns the cause, or nil.
func (e *UpstreamError) Unwrap() error { return e.Err }

// RateLimitError is Yahoo's HTTP 429.
type RateLimitError struct {
	// RetryAfter is how long Yahoo asked us to wait (Retry-After in
	// seconds or as an HTTP-date), or 0 when it did not say.
	RetryAfter time.Duration
}

// Error returns "rate limited", with the wait when Yahoo gave one.
func (e *RateLimitError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("rate limited (HTTP 429), retry after %s", e.RetryAfter)
	}
	return "rate limited (HTTP 429)"
}

// IsRateLimited reports whether err is Yahoo's 429, or the Client's own
// refusal to send while it honours a Retry-After (both *RateLimitError).
func IsRateLimited(err error) bool {
	var re *RateLimitError
	return errors.As(err, &re)
}

// IsFailure reports whether err counts against the upstream's health, e.g.
// in a circuit breaker. Failures: *UpstreamError (network errors, the
// Client's own timeout, 5xx and other unexpected statuses), *RateLimitError
// and ErrMalformed. Not failures: nil, stock.ErrUnknownTicker (the caller's
// mistake; it proves Yahoo answered), and context.Canceled or
// context.DeadlineExceeded that are not inside an *UpstreamError, which
// Quote returns only when the caller's own context ended. Any other error
// counts as a failure.
func IsFailure(err error) bool {
	if err == nil {
		return false
	}
	var ue *UpstreamError
	var re *RateLimitError
	switch {
	case errors.As(err, &ue), errors.As(err, &re), errors.Is(err, ErrMalformed):
		return true
	case errors.Is(err, stock.ErrUnknownTicker),
		errors.Is(err, context.Canceled),
		errors.Is(err, context.DeadlineExceeded):
		return false
	}
	return true
}

func unknownTicker(symbol string) error {
	if symbol == "" {
		return fmt.Errorf("%w %q", stock.ErrUnknownTicker, symbol)
	}
	return fmt.Errorf("%w %s", stock.ErrUnknownTicker, symbol)
}

func isUnknown(err error) bool { return errors.Is(err, stock.ErrUnknownTicker) }
