package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/stockwatch/stockwatch/internal/stock"
)

const priceColumns = `p.id, p.ticker, p.price, p.currency, p.market_time, p.collect_time`

type scanner interface{ Scan(dest ...any) error }

func scanPrice(s scanner, extra ...any) (stock.Price, error) {
	var (
		p      stock.Price
		mt, ct int64
	)
	err := s.Scan(append([]any{&p.ID, &p.Ticker, &p.Price, &p.Currency, &mt, &ct}, extra...)...)
	p.MarketTime, p.CollectTime = fromMicros(mt), fromMicros(ct)
	return p, err
}

// GetUser returns the user with the given normalised e-mail, with the
// status of the ticker. It returns an error of KindNotFound when there is
// none. What it read is kept for the price reads (WithUserCache), and a
// user it did not find is forgotten.
func (db *DB) GetUser(ctx context.Context, email string) (stock.User, error) {
	var (
		u      stock.User
		ct, ut int64
		st     sql.NullString
	)
	start := db.users.start(email)
	err := db.r.QueryRowContext(ctx,
		`SELECT u.email, u.ticker, u.create_time, u.update_time, t.status
		FROM users u LEFT JOIN tickers t ON t.ticker = u.ticker WHERE u.email = ?`, email,
	).Scan(&u.Email, &u.Ticker, &ct, &ut, &st)
	if errors.Is(err, sql.ErrNoRows) {
		db.users.drop(email)
		return stock.User{}, userNotFound(email)
	}
	if err != nil {
		return stock.User{}, db.wrap(err, "get user")
	}
	u.CreateTime, u.UpdateTime, u.TickerStatus = fromMicros(ct), fromMicros(ut), tickerStatus(st)
	db.users.keep(email, u.Ticker, start)
	return u, nil
}

func userNotFound(email string) error {
	return stock.Errorf(stock.KindNotFound, "user %s not found", email)
}

// noPrice returns the error for a ticker that has no price: the user's if
// the user exists (a ticker Yahoo does not know will not get one), and
// KindNotFound otherwise.
func (db *DB) noPrice(ctx context.Context, email string) error {
	u, err := db.GetUser(ctx, email)
	if err != nil {
		return err
	}
	if u.TickerStatus == stock.TickerUnknown {
		return stock.Errorf(stock.KindFailedPrecondition, "ticker %s is not known to Yahoo Finance", u.Ticker)
	}
	return stock.Errorf(stock.KindFailedPrecondition, "no price collected yet for %s", u.Ticker)
}

// LatestPrice returns the newest price of the ticker the user tracks. It
// returns KindNotFound for an unknown user and KindFailedPrecondition when
// no price of the ticker is stored (yet, or ever: Yahoo does not know it).
// A ticker that became unknown after prices were stored still answers its
// last price.
//
// It reads the ticker's row of ticker_prices, which every write of prices
// keeps exact in its own transaction (tickerprices.go): from memory when
// the user's ticker and that row are kept (WithUserCache, WithPriceCache),
// by one primary-key lookup when only the ticker is, and through users
// otherwise.
func (db *DB) LatestPrice(ctx context.Context, email string) (stock.Price, error) {
	return db.latestPrice(ctx, email, true)
}

// latestPrice is LatestPrice, looking the user up even when the ticker is
// kept unless useKept.
func (db *DB) latestPrice(ctx context.Context, email string, useKept bool) (stock.Price, error) {
	st, err := db.tickerRow(ctx, email, useKept)
	if errors.Is(err, sql.ErrNoRows) {
		return stock.Price{}, db.noPrice(ctx, email)
	}
	return st.latest, db.wrap(err, "latest price")
}

// tickerRow returns the row of ticker_prices of the ticker the user
// follows, or sql.ErrNoRows if it has no price: kept in db.rows, or by the
// ticker alone, when the ticker is kept in db.users and useKept, and
// through users otherwise. It keeps what it reads for the next read.
func (db *DB) tickerRow(ctx context.Context, email string, useKept bool) (tickerState, error) {
	ticker, userStart, ok := db.users.lookup(email)
	if ok && useKept {
		st, start, ok := db.rows.lookup(ticker)
		if ok {
			return st, nil
		}
		st, err := scanState(db.r.QueryRowContext(ctx, `SELECT `+tickerPriceColumns+` FROM ticker_prices
			WHERE ticker = ? AND last_seq > 0`, ticker))
		if err == nil {
			db.rows.keep(ticker, st, start)
		}
		return st, err
	}
	st, err := scanState(db.r.QueryRowContext(ctx, `SELECT `+joinedTickerPriceColumns+`
		FROM users u JOIN ticker_prices p ON p.ticker = u.ticker AND p.last_seq > 0
		WHERE u.email = ?`, email))
	if err == nil {
		db.users.keep(email, st.latest.Ticker, userStart)
	}
	return st, err
}

// joinedTickerPriceColumns is tickerPriceColumns of ticker_prices p.
var joinedTickerPriceColumns = "p." + strings.ReplaceAll(tickerPriceColumns, ", ", ", p.")

// AveragePrice returns the mean of the newest n prices of the user's ticker,
// or of all of them when fewer than n are stored. Only the newest run of
// prices in the newest price's currency is averaged: Count says how many
// were used, fewer than n when an older price is in another currency (a
// ticker Yahoo moved from GBp to GBP). It returns KindNotFound for an
// unknown user and KindFailedPrecondition when no price is stored (as
// LatestPrice).
//
// The ticker's row of ticker_prices (the newest price's number, the sum of
// the prices up to it, where its currency's run starts, and the generation
// of the numbering) is read as LatestPrice reads it; that is all when
// the row of price_sums of the oldest price averaged (the sum of the
// prices before it) is in db.sums. Otherwise averageFromSums reads
// that row in a query of its own and keeps it. A kept row cannot be
// stale: the rows of one (ticker, generation, seq) never change
// (tickerprices.go), and the generation and the sums it is combined with
// come from the same row of ticker_prices.
func (db *DB) AveragePrice(ctx context.Context, email string, n int) (stock.Average, error) {
	if db.sums.rows == nil { // nothing kept: one query, not a lookup bound to miss first
		db.sums.misses.Add(1)
		return db.averageFromSums(ctx, email, n)
	}
	st, err := db.tickerRow(ctx, email, true)
	if errors.Is(err, sql.ErrNoRows) {
		return stock.Average{}, db.noPrice(ctx, email)
	}
	if err != nil {
		return stock.Average{}, db.wrap(err, "average price")
	}
	first := st.firstAveraged(n)
	if b, ok := db.sums.get(sumsKey{st.latest.Ticker, st.generation, first}); ok {
		return st.average(n, first, b), nil
	}
	return db.averageFromSums(ctx, email, n)
}

// averageFromSums is AveragePrice with the row of price_sums read in the
// same query (three primary-key lookups), which it keeps in db.sums.
func (db *DB) averageFromSums(ctx context.Context, email string, n int) (stock.Average, error) {
	var (
		first int64
		b     before
	)
	st, err := scanState(db.r.QueryRowContext(ctx, `SELECT `+joinedTickerPriceColumns+`,
			s.seq, s.market_time, s.before_hi, s.before_lo
		FROM users u JOIN ticker_prices p ON p.ticker = u.ticker
		JOIN price_sums s ON s.ticker = p.ticker
			AND s.seq = CASE WHEN p.last_seq - ? + 1 > p.run_start THEN p.last_seq - ? + 1 ELSE p.run_start END
		WHERE u.email = ?`, n, n, email), &first, &b.marketTime, &b.sum.hi, &b.sum.lo)
	if errors.Is(err, sql.ErrNoRows) {
		return stock.Average{}, db.noPrice(ctx, email)
	}
	if err != nil {
		return stock.Average{}, db.wrap(err, "average price")
	}
	db.sums.add(sumsKey{st.latest.Ticker, st.generation, first}, b)
	return st.average(n, first, b), nil
}

// DefaultAverageCache is how many rows of price_sums a DB keeps for
// AveragePrice unless WithAverageCache says otherwise: about 220 bytes
// each, 15 MB in all, room for every ticker of a large deployment at a few
// counts.
const DefaultAverageCache = 1 << 16

// WithAverageCache sets how many rows of price_sums AveragePrice keeps in
// memory, the least recently used going first (0: none, every average
// reads its row).
func WithAverageCache(rows int) Option {
	return func(db *DB) { db.sums = newSumsCache(rows) }
}

// AverageCacheStats returns how many averages were answered from the rows
// kept in memory (hits) and how many read their row (misses), for metrics.
// It cannot fail.
func (db *DB) AverageCacheStats() (hits, misses uint64) {
	return db.sums.hits.Load(), db.sums.misses.Load()
}

// sumsCache keeps rows of price_sums, the least recently used going first
// (hashicorp/golang-lru: one mutex, no allocation on a hit), and counts its
// hits and misses.
type sumsCache struct {
	rows         *lru.Cache[sumsKey, before] // nil: keeps nothing
	hits, misses atomic.Uint64
}

func newSumsCache(size int) *sumsCache {
	c := &sumsCache{}
	if size > 0 {
		c.rows, _ = lru.New[sumsKey, before](size) // errs only for size <= 0
	}
	return c
}

func (c *sumsCache) get(k sumsKey) (before, bool) {
	if c.rows != nil {
		if b, ok := c.rows.Get(k); ok {
			c.hits.Add(1)
			return b, true
		}
	}
	c.misses.Add(1)
	return before{}, false
}

func (c *sumsCache) add(k sumsKey, b before) {
	if c.rows != nil {
		c.rows.Add(k, b)
	}
}

// sumsKey names a row of price_sums in one generation of its ticker's
// numbering.
type sumsKey struct {
	ticker   string
	gen, seq int64
}

// before is what AveragePrice needs of a row of price_sums: the sum of
// the prices before it, and its market time.
type before struct {
	sum        sum
	marketTime int64
}

// firstAveraged returns the number of the oldest price an average of n
// prices takes: n back from the newest, but not before the newest price's
// currency run.
func (st tickerState) firstAveraged(n int) int64 {
	return max(st.lastSeq-int64(n)+1, st.runStart)
}

// average returns the mean of the prices first…st.lastSeq, b being the
// row of price_sums of first, for a request of n prices.
func (st tickerState) average(n int, first int64, b before) stock.Average {
	count := int(st.lastSeq - first + 1)
	return stock.Average{
		Ticker: st.latest.Ticker, Currency: st.latest.Currency, Count: count, Requested: n,
		Average: st.sum.minus(b.sum) / float64(count),
		Newest:  st.latest.MarketTime, Oldest: fromMicros(b.marketTime),
	}
}

// ListUsers returns up to limit users whose e-mail sorts after the given
// one, in e-mail order, each with the status and latest price of their
// ticker.
func (db *DB) ListUsers(ctx context.Context, after string, limit int) ([]stock.UserWithPrice, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT u.email, u.ticker, u.create_time, u.update_time, t.status,
			p.id, p.ticker, p.price, p.currency, p.market_time, p.collect_time
		FROM users u LEFT JOIN ticker_prices p ON p.ticker = u.ticker AND p.last_seq > 0
		LEFT JOIN tickers t ON t.ticker = u.ticker
		WHERE u.email > ?
		ORDER BY u.email LIMIT ?`, after, limit)
	return collect(db, "list users", rows, err, func(rows *sql.Rows) (stock.UserWithPrice, error) {
		var (
			u       stock.UserWithPrice
			ct, ut  int64
			id      sql.NullInt64
			ticker  sql.NullString
			price   sql.NullFloat64
			cur     sql.NullString
			mt, col sql.NullInt64
			st      sql.NullString
		)
		if err := rows.Scan(&u.Email, &u.Ticker, &ct, &ut, &st, &id, &ticker, &price, &cur, &mt, &col); err != nil {
			return u, err
		}
		u.CreateTime, u.UpdateTime, u.TickerStatus = fromMicros(ct), fromMicros(ut), tickerStatus(st)
		if id.Valid {
			u.Latest = &stock.Price{ID: id.Int64, Ticker: ticker.String, Price: price.Float64, Currency: cur.String,
				MarketTime: fromMicros(mt.Int64), CollectTime: fromMicros(col.Int64)}
		}
		return u, nil
	})
}

// ListPrices returns up to limit prices after the cursor (nil: from the
// newest), newest first by market time, of one ticker or ("") of all.
func (db *DB) ListPrices(ctx context.Context, ticker string, after *stock.PriceCursor, limit int) ([]stock.Price, error) {
	var (
		where []string
		args  []any
	)
	if ticker != "" {
		where = append(where, "p.ticker = ?")
		args = append(args, ticker)
	}
	if after != nil {
		mt := micros(after.MarketTime)
		where = append(where, "(p.market_time < ? OR (p.market_time = ? AND p.id < ?))")
		args = append(args, mt, mt, after.ID)
	}
	q := `SELECT ` + priceColumns + ` FROM stock_prices p`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY p.market_time DESC, p.id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := db.r.QueryContext(ctx, q, args...)
	return collect(db, "list prices", rows, err, func(rows *sql.Rows) (stock.Price, error) { return scanPrice(rows) })
}

// collect reads every row of a query that returned rows and err, each as
// scan converts it, and closes rows. Any error, of the query or of a row,
// is wrapped as db.wrap does with op.
func collect[T any](db *DB, op string, rows *sql.Rows, err error, scan func(*sql.Rows) (T, error)) ([]T, error) {
	if err != nil {
		return nil, db.wrap(err, op)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, db.wrap(err, op)
		}
		out = append(out, v)
	}
	return out, db.wrap(rows.Err(), op)
}
