package stock

import (
	"context"
	"time"
)

// Tx holds the writes available inside one write transaction.
// Errors other than the documented kinds abort the transaction.
type Tx interface {
	// CreateUser inserts u. It returns KindAlreadyExists if the e-mail is taken.
	CreateUser(ctx context.Context, u User) error
	// UpdateUser sets the user's ticker and update time and returns the
	// user as stored; a change of ticker deletes the user's alert band
	// (AlertCleared says so). It returns KindNotFound for an unknown
	// e-mail.
	UpdateUser(ctx context.Context, email, ticker string, now time.Time) (User, error)
	// DeleteUser removes the user, with their alert band and
	// notifications. It returns KindNotFound for an unknown e-mail.
	DeleteUser(ctx context.Context, email string) error
	// SetAlert stores a as the user's band on the user's ticker (Ticker
	// is set from the user), both sides armed, replacing any band, and
	// returns it. A.WebhookSecret is stored only when the user has no
	// band yet; otherwise the stored one stays and the one returned is
	// empty. It returns KindNotFound for an unknown e-mail.
	SetAlert(ctx context.Context, a Alert) (Alert, error)
	// DeleteAlert removes the user's band. It returns KindNotFound for an
	// unknown e-mail or a user without a band.
	DeleteAlert(ctx context.Context, email string) error
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
