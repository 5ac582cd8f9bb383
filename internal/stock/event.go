package stock

import (
	"strconv"
	"time"
)

// Event is a message for other systems (a price stored, an alert
// crossed), kept in the store's outbox until it is published.
type Event struct {
	ID         int64  // storage key; stable across retries
	Subject    string // where it is published, e.g. stockwatch.prices.AAPL
	Payload    []byte // its body, JSON
	CreateTime time.Time
}

// EventID returns the stable text id of event id, the one subscribers
// see (the Nats-Msg-Id header), by which repeats are dropped.
func EventID(id int64) string { return "evt_" + strconv.FormatInt(id, 10) }

// The subjects' prefixes; the ticker follows (a ticker with a dot, such
// as 0700.HK, makes two subject tokens).
const (
	PriceSubject = "stockwatch.prices."
	AlertSubject = "stockwatch.alerts."
)
