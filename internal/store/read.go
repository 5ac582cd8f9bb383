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
// One primary-key lookup serves it when the user's ticker is kept
// (WithUserCache): the ticker's row of ticker_prices, which every write of
// prices keeps exact in its own transaction (tickerprices.go); two
// otherwise, the user first.
func (db *DB) LatestPrice(ctx context.Context, email string) (stock.Price, error) {
	return db.latestPrice(ctx, email, true)
}

// latestPrice is LatestPrice, looking the user up even when the ticker is
// kept unless useKept.
func (db *DB) latestPrice(ctx context.Context, email string, useKept bool) (stock.Price, error) {
	r, keep := db.tickerRowOf(ctx, email, priceColumns, useKept)
	p, err := scanPrice(r)
	if errors.Is(err, sql.ErrNoRows) {
		return stock.Price{}, db.noPrice(ctx, email)
	}
	if err == nil {
		keep(p.Ticker)
	}
	return p, db.wrap(err, "latest price")
}

// tickerRowOf runs the query of cols (of ticker_prices p) of the row of
// the ticker the user follows, if it has a price: by the ticker alone when
// it is kept (db.users) and useKept, and through users otherwise. The
// caller passes the ticker it scanned to keep, to be kept for the next
// read.
func (db *DB) tickerRowOf(ctx context.Context, email, cols string, useKept bool) (row, func(ticker string)) {
	ticker, start, ok := db.users.lookup(email)
	if ok && useKept {
		return db.r.QueryRowContext(ctx, `SELECT `+cols+` FROM ticker_prices p
			WHERE p.ticker = ? AND p.last_seq > 0`, ticker), func(string) {}
	}
	return db.r.QueryRowContext(ctx, `SELECT `+cols+`
			FROM users u JOIN ticker_prices p ON p.ticker = u.ticker AND p.last_seq > 0
			WHERE u.email = ?`, email),
		func(ticker string) { db.users.keep(email, ticker, start) }
}

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
// of the numbering) is read as LatestPrice reads its row; that is all when
// the row of price_sums of the oldest price averaged (the sum of the
// prices before it) is in db.sums. Otherwise averageFromSums reads
// that row in a query of its own and keeps it. A kept row cannot be
// stale: the rows of one (ticker, generation, seq) never change
// (tickerprices.go), and the generation and the sums it is combined with
// come from the same row of ticker_prices, read by one statement.
func (db *DB) AveragePrice(ctx context.Context, email string, n int) (stock.Average, error) {
	if db.sums.rows == nil { // nothing kept: one query, not a lookup bound to miss first
		db.sums.misses.Add(1)
		return db.averageFromSums(ctx, email, n)
	}
	var (
		st       avgState
		runStart int64
	)
	r, keep := db.tickerRowOf(ctx, email,
		`p.ticker, p.currency, p.market_time, p.last_seq, p.sum_hi, p.sum_lo, p.run_start, p.generation`, true)
	err := r.Scan(&st.ticker, &st.currency, &st.newest, &st.last, &st.total.hi, &st.total.lo, &runStart, &st.gen)
	if errors.Is(err, sql.ErrNoRows) {
		return stock.Average{}, db.noPrice(ctx, email)
	}
	if err != nil {
		return stock.Average{}, db.wrap(err, "average price")
	}
	keep(st.ticker)
	first := max(st.last-int64(n)+1, runStart)
	if b, ok := db.sums.get(sumsKey{st.ticker, st.gen, first}); ok {
		return st.average(n, first, b), nil
	}
	return db.averageFromSums(ctx, email, n)
}

// averageFromSums is AveragePrice with the row of price_sums read in the
// same query (three primary-key lookups), which it keeps in db.sums.
func (db *DB) averageFromSums(ctx context.Context, email string, n int) (stock.Average, error) {
	var (
		st    avgState
		first int64
		b     before
	)
	err := db.r.QueryRowContext(ctx, `SELECT tp.ticker, tp.currency, tp.market_time, tp.last_seq, tp.sum_hi, tp.sum_lo,
			tp.generation, s.seq, s.market_time, s.before_hi, s.before_lo
		FROM users u JOIN ticker_prices tp ON tp.ticker = u.ticker
		JOIN price_sums s ON s.ticker = tp.ticker
			AND s.seq = CASE WHEN tp.last_seq - ? + 1 > tp.run_start THEN tp.last_seq - ? + 1 ELSE tp.run_start END
		WHERE u.email = ?`, n, n, email).
		Scan(&st.ticker, &st.currency, &st.newest, &st.last, &st.total.hi, &st.total.lo,
			&st.gen, &first, &b.marketTime, &b.sum.hi, &b.sum.lo)
	if errors.Is(err, sql.ErrNoRows) {
		return stock.Average{}, db.noPrice(ctx, email)
	}
	if err != nil {
		return stock.Average{}, db.wrap(err, "average price")
	}
	db.sums.add(sumsKey{st.ticker, st.gen, first}, b)
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

// avgState is what AveragePrice reads of a ticker's row of ticker_prices.
type avgState struct {
	ticker, currency string
	newest, last     int64
	total            sum
	gen              int64
}

// average returns the mean of the prices first…st.last, b being the row
// of price_sums of first, for a request of n prices.
func (st avgState) average(n int, first int64, b before) stock.Average {
	count := int(st.last - first + 1)
	return stock.Average{
		Ticker: st.ticker, Currency: st.currency, Count: count, Requested: n,
		Average: st.total.minus(b.sum) / float64(count),
		Newest:  fromMicros(st.newest), Oldest: fromMicros(b.marketTime),
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
