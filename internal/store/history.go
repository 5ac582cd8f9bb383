package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// PriceHistory returns the prices of the user's ticker with a market time
// in [since, until), downsampled to at most maxPoints points
// (stock.HistoryBuilder), in the newest price's currency. It returns
// KindNotFound for an unknown user and KindFailedPrecondition when no
// price of the ticker is stored at all (as LatestPrice); a range without
// prices is an empty history.
//
// One range scan of the covering index on (ticker, market_time), newest
// first, streams the rows through the builder: memory stays bounded by
// maxPoints however many rows the range holds (stock.MaxHistoryRange
// bounds those), and the scan stops at the first price in another
// currency.
func (db *DB) PriceHistory(ctx context.Context, email string, since, until time.Time, maxPoints int) (stock.History, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT p.market_time, p.price, p.currency, p.ticker
		FROM users u JOIN stock_prices p `+db.d.priceIndex+` ON p.ticker = u.ticker
		WHERE u.email = ? AND p.market_time >= ? AND p.market_time < ?
		ORDER BY p.market_time DESC`, email, micros(since), micros(until))
	if err != nil {
		return stock.History{}, db.wrap(err, "price history")
	}
	defer rows.Close()
	var (
		b      *stock.HistoryBuilder
		mt     int64
		price  float64
		cur    sql.RawBytes
		ticker sql.RawBytes
		last   string // cur as a string, converted when it changes
	)
	for rows.Next() {
		if err := rows.Scan(&mt, &price, &cur, &ticker); err != nil {
			return stock.History{}, db.wrap(err, "price history")
		}
		if b == nil {
			b = stock.NewHistoryBuilder(string(ticker), since, until, maxPoints)
		}
		if string(cur) != last {
			last = string(cur)
		}
		if !b.Add(fromMicros(mt), price, last) {
			break // never mix currencies; the deferred Close drops the rest
		}
	}
	if err := rows.Err(); err != nil {
		return stock.History{}, db.wrap(err, "price history")
	}
	if b != nil {
		return b.History(), nil
	}
	// No price in the range: an empty history if the ticker has any (the
	// ticker as users says, as the query above read it).
	latest, err := db.latestPrice(ctx, email, false)
	if err != nil {
		return stock.History{}, err
	}
	return stock.NewHistoryBuilder(latest.Ticker, since, until, maxPoints).History(), nil
}
