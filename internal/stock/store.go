package stock

import (
	"context"
	"time"
)

// RequestKey identifies one mutating request for at-most-once execution.
type RequestKey struct {
	// ID is the client's request id (a lower-case UUID), or "" to execute
	// without deduplication.
	ID string
	// Method is the full RPC name; with Fingerprint it decides whether a
	// reused ID is a retry or a mistake.
	Method string
	// Fingerprint is a digest of the normalised request payload.
	Fingerprint []byte
	// Now is the time the record is stamped with.
	Now time.Time
	// ExpireBefore: a stored record created before this time is forgotten,
	// and the ID counts as new.
	ExpireBefore time.Time
}

// Outcome is the result of a mutating request as stored for replay: a
// success with its encoded response, or a deterministic error.
type Outcome struct {
	Kind    Kind   // "" on success; KindAlreadyExists or KindNotFound otherwise
	Message string // the error's client-safe message
	Body    []byte // the encoded response on success
}

// Err returns the outcome as an error (nil on success).
func (o Outcome) Err() error {
	if o.Kind == "" {
		return nil
	}
	return &Error{Kind: o.Kind, Message: o.Message}
}

// OutcomeOf turns a deterministic error into an outcome to store. It
// reports false for any other error, which must roll the transaction back.
func OutcomeOf(err error) (Outcome, bool) {
	switch k := KindOf(err); k {
	case KindAlreadyExists, KindNotFound:
		return Outcome{Kind: k, Message: MessageOf(err)}, true
	}
	return Outcome{}, false
}

// Tx holds the writes available inside one write transaction.
// Errors other than the documented kinds abort the transaction.
type Tx interface {
	// CreateUser inserts u. It returns KindAlreadyExists if the e-mail is taken.
	CreateUser(ctx context.Context, u User) error
	// UpdateUser sets the user's ticker and update time and returns the
	// user as stored. It returns KindNotFound for an unknown e-mail.
	UpdateUser(ctx context.Context, email, ticker string, now time.Time) (User, error)
	// DeleteUser removes the user. It returns KindNotFound for an unknown e-mail.
	DeleteUser(ctx context.Context, email string) error
	// InsertPrices stores prices, skipping any whose (ticker, market time)
	// is already stored, and returns how many rows it added.
	InsertPrices(ctx context.Context, ps []Price) (int64, error)
	// DeletePrices removes prices collected before t and returns how many.
	DeletePrices(ctx context.Context, before time.Time) (int64, error)
	// TickerStatus returns the stored status of ticker, and false when
	// none is stored (the ticker is then unverified).
	TickerStatus(ctx context.Context, ticker string) (TickerStatus, bool, error)
	// SetTickers stores the states given (Checked and NextCheck
	// included). A state of TickerUnverified never replaces a settled
	// one (verified or unknown): it only adds a missing ticker or moves
	// an unverified one in the queue.
	SetTickers(ctx context.Context, states []TickerState) error
}

// PriceCursor is the position after the last price of a page, in
// newest-first order.
type PriceCursor struct {
	MarketTime time.Time
	ID         int64
}
