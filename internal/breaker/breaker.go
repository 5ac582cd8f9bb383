// Package breaker is a circuit breaker around a quote source, built on
// sony/gobreaker. After Config.Failures consecutive upstream failures it
// opens and answers ErrOpen without calling the upstream; after
// Config.Timeout it lets one probe through, which closes it on success and
// reopens it on failure.
//
// Not every error is a failure: an unknown ticker proves the upstream
// answered (it counts as a success), and a call whose own context ended
// says nothing about the upstream (it is not counted at all).
package breaker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// Quoter is a quote source: the upstream the breaker guards, and what the
// Breaker itself offers.
type Quoter interface {
	// Quote returns the latest quote of ticker. An unknown ticker is an
	// error matching stock.ErrUnknownTicker.
	Quote(ctx context.Context, ticker string) (stock.Quote, error)
}

var _ Quoter = (*Breaker)(nil)

// ErrOpen matches (errors.Is) the error Quote returns without calling the
// upstream: the breaker is open, or half-open with its probe in flight.
var ErrOpen = errors.New("circuit breaker open")

// State is the state of a Breaker.
type State int

// The states. Closed lets every call through; Open lets none through;
// HalfOpen lets one probe through.
const (
	StateClosed State = iota
	StateHalfOpen
	StateOpen
)

// String returns "closed", "half-open" or "open".
func (s State) String() string {
	switch s {
	case StateClosed:
		return "closed"
	case StateHalfOpen:
		return "half-open"
	case StateOpen:
		return "open"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Defaults of Config's zero fields.
const (
	DefaultName     = "upstream"
	DefaultFailures = 5
	DefaultTimeout  = 30 * time.Second
)

// Config configures a Breaker. Zero fields take the defaults.
type Config struct {
	// Name labels log lines and gobreaker's state; DefaultName if empty.
	Name string
	// Failures is the number of consecutive failures that opens the
	// breaker; DefaultFailures if 0.
	Failures uint32
	// Timeout is how long the breaker stays open before it lets a probe
	// through; DefaultTimeout if not positive.
	Timeout time.Duration
	// IsFailure tells whether an upstream error counts as a failure; an
	// error that does not counts as a success. Nil counts every error
	// except stock.ErrUnknownTicker (yahoo.IsFailure fits here). Either
	// way, an error that ends a call whose context is done and that
	// matches context.Canceled or context.DeadlineExceeded is not counted.
	IsFailure func(error) bool
	// Logger receives one line per state change: WARN when the breaker
	// opens, INFO otherwise. Nil discards them.
	Logger *slog.Logger
	// OnStateChange, if set, is called once per state change, e.g. to
	// update metrics. It runs while the breaker holds its lock: it must
	// not call the Breaker's methods.
	OnStateChange func(from, to State)
}

// Counts are cumulative counters of a Breaker since New, for metrics.
type Counts struct {
	Successes   uint64 // upstream calls counted as successes
	Failures    uint64 // upstream calls counted as failures
	Excluded    uint64 // upstream calls not counted (the caller's context ended)
	Rejected    uint64 // calls answered with ErrOpen, without the upstream
	Transitions uint64 // state changes
}

// Breaker guards a Quoter. It is safe for concurrent use.
type Breaker struct {
	q         Quoter
	name      string
	isFailure func(error) bool
	cb        *gobreaker.TwoStepCircuitBreaker[stock.Quote]

	successes, failures, excluded, rejected, transitions atomic.Uint64
}

// New returns a closed Breaker around q. It panics if q is nil.
func New(q Quoter, cfg Config) *Breaker {
	if q == nil {
		panic("breaker: nil Quoter")
	}
	return newBreaker(q, cfg)
}

// NewCalls returns a closed Breaker that guards the calls made through
// its Do (a notification channel, say); it has no Quoter, and its Quote
// must not be called. It cannot fail.
func NewCalls(cfg Config) *Breaker { return newBreaker(nil, cfg) }

func newBreaker(q Quoter, cfg Config) *Breaker {
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if cfg.Failures == 0 {
		cfg.Failures = DefaultFailures
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.IsFailure == nil {
		cfg.IsFailure = defaultIsFailure
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Breaker{q: q, name: cfg.Name, isFailure: cfg.IsFailure}
	failures := cfg.Failures
	b.cb = gobreaker.NewTwoStepCircuitBreaker[stock.Quote](gobreaker.Settings{
		Name:        cfg.Name,
		MaxRequests: 1,
		// Interval 0: closed-state counts are never cleared on a timer,
		// so only consecutive failures matter.
		Interval: 0,
		Timeout:  cfg.Timeout,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= failures
		},
		IsExcluded: func(err error) bool {
			var x *excludedError
			return errors.As(err, &x)
		},
		// outcome has already turned every non-failure into nil.
		IsSuccessful: func(err error) bool { return err == nil },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			b.transitions.Add(1)
			f, t := stateOf(from), stateOf(to)
			level := slog.LevelInfo
			if t == StateOpen {
				level = slog.LevelWarn
			}
			log.Log(context.Background(), level, "circuit breaker state changed",
				slog.String("breaker", cfg.Name),
				slog.String("from", f.String()),
				slog.String("to", t.String()))
			if cfg.OnStateChange != nil {
				cfg.OnStateChange(f, t)
			}
		},
	})
	return b
}

// Quote calls the upstream's Quote unless the breaker is open, and returns
// its result unchanged. While the breaker is open, or half-open with its
// probe in flight, it returns an error matching ErrOpen (and wrapping
// gobreaker.ErrOpenState or gobreaker.ErrTooManyRequests) without calling
// the upstream.
func (b *Breaker) Quote(ctx context.Context, ticker string) (stock.Quote, error) {
	var q stock.Quote
	err := b.Do(ctx, func(ctx context.Context) (err error) {
		q, err = b.q.Quote(ctx, ticker)
		return err
	})
	return q, err
}

// Do calls f unless the breaker is open, counts its outcome as Quote
// does (Config.IsFailure; a call whose context ended is not counted), and
// returns f's error unchanged. While the breaker is open, or half-open
// with its probe in flight, it returns an error matching ErrOpen without
// calling f.
func (b *Breaker) Do(ctx context.Context, f func(context.Context) error) error {
	done, err := b.cb.Allow()
	if err != nil {
		b.rejected.Add(1)
		return &openError{name: b.name, cause: err}
	}
	reported := false
	defer func() {
		// A panicking upstream is a failing one; the panic goes on.
		if !reported {
			b.failures.Add(1)
			done(errors.New("upstream panicked"))
		}
	}()
	err = f(ctx)
	reported = true
	done(b.outcome(ctx, err))
	return err
}

// outcome maps an upstream result to what gobreaker is told: nil for a
// success (an unknown ticker included), the error for a failure, or the
// error wrapped in excludedError when it is not to be counted.
func (b *Breaker) outcome(ctx context.Context, err error) error {
	switch {
	case err == nil:
		b.successes.Add(1)
		return nil
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		b.excluded.Add(1)
		return &excludedError{err}
	case b.isFailure(err):
		b.failures.Add(1)
		return err
	}
	b.successes.Add(1)
	return nil
}

// State returns the breaker's state. An open breaker whose timeout has
// passed turns half-open here (and logs it), not on a timer.
func (b *Breaker) State() State { return stateOf(b.cb.State()) }

// Transitions returns how many state changes there have been since New.
func (b *Breaker) Transitions() uint64 { return b.transitions.Load() }

// Counts returns the cumulative counters since New.
func (b *Breaker) Counts() Counts {
	return Counts{
		Successes:   b.successes.Load(),
		Failures:    b.failures.Load(),
		Excluded:    b.excluded.Load(),
		Rejected:    b.rejected.Load(),
		Transitions: b.transitions.Load(),
	}
}

func defaultIsFailure(err error) bool {
	return err != nil && !errors.Is(err, stock.ErrUnknownTicker)
}

func stateOf(s gobreaker.State) State {
	switch s {
	case gobreaker.StateHalfOpen:
		return StateHalfOpen
	case gobreaker.StateOpen:
		return StateOpen
	}
	return StateClosed
}

// excludedError marks an outcome gobreaker must not count.
type excludedError struct{ err error }

func (e *excludedError) Error() string { return "not counted: " + e.err.Error() }
func (e *excludedError) Unwrap() error { return e.err }

// openError is the error of a call the breaker refused.
type openError struct {
	name  string
	cause error // gobreaker.ErrOpenState or gobreaker.ErrTooManyRequests
}

func (e *openError) Error() string {
	if errors.Is(e.cause, gobreaker.ErrTooManyRequests) {
		return fmt.Sprintf("circuit breaker %q is half-open and its probe is in flight", e.name)
	}
	return fmt.Sprintf("circuit breaker %q is open", e.name)
}

func (e *openError) Is(target error) bool { return target == ErrOpen }
func (e *openError) Unwrap() error        { return e.cause }
