// Package stock holds Stockwatch's domain: users, tickers, prices, the
// validation rules for them, the error kinds every layer shares, and the
// storage contract the API and the collector consume.
//
// It imports no driver, gRPC or HTTP package.
package stock

import (
	"time"
)

// User is a registered user. Email is normalised (see ParseEmail) and is the
// user's identity; Ticker is the one symbol the user tracks.
type User struct {
	Email      string
	Ticker     string
	CreateTime time.Time
	UpdateTime time.Time
	// TickerStatus is what the quote source is known to say about Ticker.
	TickerStatus TickerStatus
	// AlertCleared is set by Tx.UpdateUser when the change of ticker
	// deleted the user's alert band.
	AlertCleared bool
}

// TickerStatus is what the quote source is known to say about a ticker. It
// is a property of the ticker, shared by every user who tracks it.
type TickerStatus string

// The ticker statuses.
const (
	// TickerUnverified: not checked yet. A ticker nobody has checked has
	// this status.
	TickerUnverified TickerStatus = "unverified"
	// TickerVerified: the source answered with a quote.
	TickerVerified TickerStatus = "verified"
	// TickerUnknown: the source answered that it has no such symbol.
	TickerUnknown TickerStatus = "unknown"
)

// TickerState is what is stored about a tracked ticker.
type TickerState struct {
	Ticker string
	Status TickerStatus
	// Checked is when the status was last settled (zero: never).
	Checked time.Time
	// NextCheck is when an unverified or unknown ticker is due to be
	// checked (again); zero: at once.
	NextCheck time.Time
}

// Quote is one price observation from the quote source.
type Quote struct {
	Ticker     string
	Price      float64
	Currency   string    // as the source reports it; case is kept ("GBp")
	MarketTime time.Time // when the market priced it, UTC
}

// Price is a stored quote.
type Price struct {
	ID          int64 // storage key, used for stable paging
	Ticker      string
	Price       float64
	Currency    string
	MarketTime  time.Time
	CollectTime time.Time
}

// Average is the mean of the newest prices of one ticker, all in one
// currency: the newest price's.
type Average struct {
	Ticker    string
	Average   float64
	Currency  string
	Count     int // samples used; fewer than Requested when fewer exist or an older one is in another currency
	Requested int
	Oldest    time.Time // market time of the oldest sample used
	Newest    time.Time // market time of the newest sample used
}

// UserWithPrice is a user and the latest price of their ticker, if any.
type UserWithPrice struct {
	User
	Latest *Price // nil when no price has been collected yet
}
