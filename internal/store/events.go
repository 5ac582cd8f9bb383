package store

// Events for other systems (migrations/*/00007_events.sql): with events on
// (WithEvents), every price that moves its ticker's newest on and every
// alert crossing inserts an events row in the price's transaction, the
// outbox that a publisher (internal/events) claims, publishes to NATS
// JetStream and marks published. Without it nothing is written: the
// embedded default pays nothing.

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// Option changes how Open sets up a DB.
type Option func(*DB)

// WithEvents makes every write that stores a price newer than its
// ticker's newest, or crosses an alert, also insert an event for other
// systems in the same transaction (see ClaimEvents). Without it no event
// is written.
func WithEvents() Option { return func(db *DB) { db.events = true } }

// priceEvent is the body of a price event.
type priceEvent struct {
	Type        string    `json:"type"`
	Ticker      string    `json:"ticker"`
	Price       float64   `json:"price"`
	Currency    string    `json:"currency"`
	MarketTime  time.Time `json:"market_time"`
	CollectTime time.Time `json:"collect_time"`
}

// alertEvent is the body of an alert event.
type alertEvent struct {
	Type       string    `json:"type"`
	Email      string    `json:"email"`
	Ticker     string    `json:"ticker"`
	Direction  string    `json:"direction"`
	Threshold  float64   `json:"threshold"`
	Price      float64   `json:"price"`
	Currency   string    `json:"currency"`
	MarketTime time.Time `json:"market_time"`
}

// eventRow returns the events row of a message to subject with body v,
// created when p was collected.
func eventRow(subject string, v any, p stock.Price) ([]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return []any{subject, string(b), micros(p.CollectTime), "", 0, 0}, nil
}

// priceEvents returns the events rows of the prices appendOf[tk] of each
// of tickers, or none when events are off.
func (t *writeTx) priceEvents(tickers []string, appendOf map[string][]stock.Price) ([][]any, error) {
	if !t.db.events {
		return nil, nil
	}
	var rows [][]any
	for _, tk := range tickers {
		for _, p := range appendOf[tk] {
			r, err := eventRow(stock.PriceSubject+p.Ticker, priceEvent{"price", p.Ticker, p.Price, p.Currency, p.MarketTime.UTC(), p.CollectTime.UTC()}, p)
			if err != nil {
				return nil, err
			}
			rows = append(rows, r)
		}
	}
	return rows, nil
}

// alertEventRow returns the events row of crossing c of email's band.
func alertEventRow(email string, c stock.Crossing) ([]any, error) {
	p := c.Price
	return eventRow(stock.AlertSubject+p.Ticker, alertEvent{"alert.crossed", email, p.Ticker, string(c.Direction), c.Threshold, p.Price, p.Currency, p.MarketTime.UTC()}, p)
}

// insertEvents inserts events rows.
func (t *writeTx) insertEvents(ctx context.Context, rows [][]any) error {
	const cols = 6
	for chunk := range slices.Chunk(rows, insertChunk*5/cols) {
		flat := make([]any, 0, cols*len(chunk))
		for _, r := range chunk {
			flat = append(flat, r...)
		}
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO events (subject, payload, create_time, owner, until_time, publish_time) VALUES `+
			strings.TrimSuffix(strings.Repeat("("+placeholders(cols)+"), ", len(chunk)), ", "), flat...); err != nil {
			return t.db.wrap(err, "insert events")
		}
	}
	return nil
}

// ClaimEvents lets several publishers share the unpublished events, as
// notifiers share notifications (ClaimNotifications): it claims for
// owner, until the given time, up to limit unpublished events that are
// unclaimed (or whose claim has expired by now, or that owner holds),
// oldest first, and returns them. A publisher that dies leaves its claims
// to expire; the next claimer publishes them again, with the same ids,
// which JetStream's duplicate window drops.
//
// It returns KindUnavailable when the database cannot be reached and
// KindAborted when a deadlock persists.
func (db *DB) ClaimEvents(ctx context.Context, owner string, now, until time.Time, limit int) ([]stock.Event, error) {
	return claimRows(ctx, db, rowClaim{
		op: "claim events", table: "events", free: "publish_time = 0", still: "publish_time = 0",
		order: "id", columns: "id, subject, payload, create_time",
	}, owner, now, until, limit, func(rows *sql.Rows) (stock.Event, error) {
		var (
			e       stock.Event
			payload string
			ct      int64
		)
		err := rows.Scan(&e.ID, &e.Subject, &payload, &ct)
		e.Payload, e.CreateTime = []byte(payload), fromMicros(ct)
		return e, err
	})
}

// PublishedEvents marks the events ids, claimed by owner, published at
// the given time, and returns how many it marked: fewer when owner's
// claim of some had passed to another publisher (which publishes them
// again). It returns KindUnavailable when the database cannot be reached.
func (db *DB) PublishedEvents(ctx context.Context, owner string, ids []int64, at time.Time) (int64, error) {
	var total int64
	for chunk := range slices.Chunk(ids, insertChunk) {
		args := []any{micros(at), owner}
		for _, id := range chunk {
			args = append(args, id)
		}
		res, err := db.w.ExecContext(ctx, `UPDATE events SET publish_time = ?, owner = '', until_time = 0
			WHERE owner = ? AND publish_time = 0 AND id IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return total, db.wrap(err, "mark events published")
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, db.wrap(err, "mark events published")
		}
		total += n
	}
	return total, nil
}

// PurgeEvents deletes the events created before the given time, and
// returns how many of them had been published and how many had not
// (dropped: the outbox keeps an event that long at most, which bounds
// it while NATS is unreachable). It returns KindUnavailable when the
// database cannot be reached.
func (db *DB) PurgeEvents(ctx context.Context, before time.Time) (published, dropped int64, err error) {
	for _, q := range []struct {
		n     *int64
		where string
	}{
		{&dropped, `publish_time = 0`},
		{&published, `publish_time <> 0`},
	} {
		res, err := db.w.ExecContext(ctx, `DELETE FROM events WHERE create_time < ? AND `+q.where, micros(before))
		if err != nil {
			return published, dropped, db.wrap(err, "purge events")
		}
		if *q.n, err = res.RowsAffected(); err != nil {
			return published, dropped, db.wrap(err, "purge events")
		}
	}
	return published, dropped, nil
}

// PendingEvents returns how many events wait to be published, for
// metrics (a range of one index). It returns KindUnavailable when the
// database cannot be reached.
func (db *DB) PendingEvents(ctx context.Context) (int64, error) {
	var n int64
	err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE publish_time = 0`).Scan(&n)
	return n, db.wrap(err, "count events")
}
