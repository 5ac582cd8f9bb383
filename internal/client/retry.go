package client

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Retryable reports whether a call that failed with code may be retried:
// UNAVAILABLE (the server or its database was unreachable), DEADLINE_EXCEEDED
// (the attempt timed out) and ABORTED (a concurrent duplicate could not
// wait). A mutation that may have committed is safe to retry only because
// its request id makes the server replay the first outcome.
//
// Everything else is an answer: INVALID_ARGUMENT, ALREADY_EXISTS, NOT_FOUND
// and FAILED_PRECONDITION would be the same next time, and INTERNAL,
// UNAUTHENTICATED and the rest are not ours to repeat.
func Retryable(code codes.Code) bool {
	switch code {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted:
		return true
	}
	return false
}

// Backoff returns the wait before retry n (n = 0 for the first retry):
// r·min(limit, base·2ⁿ) for r in [0, 1) — exponential backoff with full
// jitter, which spreads the retries of many clients instead of
// synchronising them.
func Backoff(n int, base, limit time.Duration, r float64) time.Duration {
	ceiling := limit
	if n >= 0 && n < 63 {
		if d := base << n; d>>n == base && d < limit {
			ceiling = d
		}
	}
	r = min(max(r, 0), 1)
	return time.Duration(r * float64(ceiling))
}

// invoke runs attempt until it succeeds, fails with a code that is not
// retryable, the retries are spent, or ctx is done. Each attempt runs
// under its own Timeout, and knows its number (withAttempt). It returns the last attempt's error.
func (c *Client) invoke(ctx context.Context, attempt func(ctx context.Context) error) error {
	for n := 0; ; n++ {
		actx, cancel := context.WithTimeout(withAttempt(ctx, n), c.opts.Timeout)
		err := attempt(actx)
		timedOut := errors.Is(ended(actx), context.DeadlineExceeded)
		cancel()
		if err == nil {
			return nil
		}
		if timedOut && status.Code(err) == codes.DeadlineExceeded {
			// Whether grpc-go saw its own timer or the server's reset
			// first is a race; say what happened, the same way each time.
			err = status.Errorf(codes.DeadlineExceeded, "no reply within %s", c.opts.Timeout)
		}
		if err := ended(ctx); err != nil {
			// The caller gave up (or its deadline passed): say so, rather
			// than report whatever the cut-short attempt saw.
			return status.FromContextError(err).Err()
		}
		if !Retryable(status.Code(err)) || n >= c.opts.Retries {
			return err
		}
		if c.opts.Sleep(ctx, Backoff(n, c.opts.BackoffBase, c.opts.BackoffMax, c.opts.Rand())) != nil {
			return err
		}
	}
}

// ended returns ctx's error, or context.DeadlineExceeded once its deadline
// has passed even if its timer has not fired yet: the server enforces the
// same deadline and may report it first.
func ended(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}
