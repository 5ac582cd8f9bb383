package stock

import (
	"errors"
	"fmt"
)

// Kind classifies an error for callers; the API maps each kind to exactly
// one gRPC code.
type Kind string

// The error kinds. KindInternal is the zero meaning: anything unclassified.
const (
	KindInternal           Kind = "internal"
	KindInvalid            Kind = "invalid_argument"
	KindNotFound           Kind = "not_found"
	KindAlreadyExists      Kind = "already_exists"
	KindFailedPrecondition Kind = "failed_precondition"
	KindUnavailable        Kind = "unavailable"
	KindAborted            Kind = "aborted"
)

// Error is a domain error: a kind and a message that is safe to show to a
// client. Wrap it with fmt.Errorf("...: %w") for context; KindOf and
// MessageOf find it through the chain.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return e.Message }

// Is reports whether target is an *Error of the same kind, so that
// errors.Is(err, stock.ErrUnavailable) matches any unavailable error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind
}

// Errorf returns an *Error of the given kind with a formatted message.
func Errorf(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Sentinels for errors.Is; they match every error of their kind.
var (
	// ErrAborted is what the store returns, wrapped around the cause, when
	// a transaction lost a conflict with a concurrent one.
	ErrAborted = &Error{Kind: KindAborted, Message: "request conflicted with a concurrent one; retry"}
	// ErrUnavailable is what the store returns, wrapped around the cause,
	// when the database cannot be reached.
	ErrUnavailable = &Error{Kind: KindUnavailable, Message: "database unavailable"}
)

// ErrUnknownTicker is returned by a quote source for a symbol it does not
// know. It is the caller's mistake, not an outage.
var ErrUnknownTicker = errors.New("unknown ticker")

// CheckQuoteTime's errors match one of these: a quote dated more than
// MaxQuoteSkew ahead of the clock, or before any real quote.
var (
	ErrFutureQuote = errors.New("quote from the future")
	ErrPastQuote   = errors.New("quote from the distant past")
)

// KindOf returns the kind of the first *Error in err's chain, or
// KindInternal when there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// MessageOf returns the client-safe message of the first *Error in err's
// chain, or "internal error" when there is none.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
