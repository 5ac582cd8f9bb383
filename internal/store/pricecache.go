package store

import (
	"context"
	"sync"
	"time"
)

// DefaultPriceCache is how many tickers' rows of ticker_prices a DB with
// WithPriceCache keeps: about 300 bytes each with the list's and the
// map's bookkeeping, 20 MB in all.
const DefaultPriceCache = 1 << 16

// WithPriceCache makes LatestPrice and AveragePrice keep each ticker's row
// of ticker_prices (its newest price and what averages need), so that a
// price read whose user's ticker is kept too (WithUserCache; it is only
// looked for then) reads nothing from the database. Every poll the DB asks
// the database whether any price changed: every transaction that changes
// prices moves the one row of price_epoch before it commits; when it
// moved, nothing kept before is served again. A row is also served for at
// most ttl, the bound left if a writer does not move price_epoch (a daemon
// from before that table).
//
// Freshness: prices stored or deleted through this DB are seen by every
// read that starts after the write's commit, as users are (WithUserCache):
// while a transaction that writes a ticker's prices runs, nothing is kept
// of it (nor of the tickers of its stripe), and the tickers it writes are
// forgotten before its first statement and again once it has ended. Prices
// stored or deleted through another DB (another replica, a collector of
// its own) are seen within twice poll: by the end of the first poll that
// starts after their commit, and a poll that fails or takes longer than
// poll counts as one that saw a move. poll 0 keeps nothing.
func WithPriceCache(poll, ttl time.Duration) Option {
	return func(db *DB) {
		if poll <= 0 {
			return
		}
		db.rows = newKept[tickerState](DefaultPriceCache, ttl, time.Now)
		db.epoch = &priceEpoch{poll: poll, seen: -1}
		ctx, cancel := context.WithCancel(context.Background())
		// The first poll, now: Open has just read the database, so it
		// answers at once or not at all.
		first, cancelFirst := context.WithTimeout(ctx, min(poll, firstPollTimeout))
		db.pollEpoch(first)
		cancelFirst()
		var wg sync.WaitGroup
		wg.Go(func() { db.pollPrices(ctx) })
		db.stopPoll = func() { cancel(); wg.Wait() }
	}
}

// firstPollTimeout bounds how long WithPriceCache waits for its first
// poll, inside Open.
const firstPollTimeout = time.Second

// PriceCacheStats returns how many price reads found their ticker's row in
// memory (hits) and how many read it (misses), for metrics. Reads whose
// user's ticker was not kept do not count. It cannot fail.
func (db *DB) PriceCacheStats() (hits, misses uint64) {
	return db.rows.hits.Load(), db.rows.misses.Load()
}

// priceEpoch is what the DB last saw of price_epoch.
type priceEpoch struct {
	poll    time.Duration
	mu      sync.Mutex // one poll at a time
	seen    int64      // -1: nothing seen yet, or the last poll failed
	failing bool       // the last poll failed (logged once)
}

// pollPrices polls price_epoch every db.epoch.poll until ctx ends.
func (db *DB) pollPrices(ctx context.Context) {
	t := time.NewTicker(db.epoch.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			db.pollEpoch(ctx)
		}
	}
}

// pollEpoch reads price_epoch and makes every row kept so far stale if it
// moved since the last poll, or if it cannot be read within the poll
// period (or could not the last time).
func (db *DB) pollEpoch(ctx context.Context) {
	e := db.epoch
	e.mu.Lock()
	defer e.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, e.poll)
	defer cancel()
	var n int64
	err := db.r.QueryRowContext(ctx, `SELECT n FROM price_epoch WHERE id = 1`).Scan(&n)
	if err != nil || n != e.seen {
		db.rows.advance()
	}
	switch {
	case err != nil && !e.failing:
		db.log.Warn("prices kept in memory: cannot poll price_epoch; what is kept is dropped at every poll until one succeeds", "err", err)
	case err == nil && e.failing:
		db.log.Info("prices kept in memory: polling price_epoch again")
	}
	e.failing = err != nil
	if err != nil {
		n = -1
	}
	e.seen = n
}

// movePriceEpoch moves price_epoch in a transaction that wrote prices (the
// statement goes with the COMMIT where the transaction is pipelined), for
// the price caches of other DBs.
func (t *writeTx) movePriceEpoch(ctx context.Context) error {
	return t.db.wrap(t.tx.Queue(ctx, `UPDATE price_epoch SET n = n + 1 WHERE id = 1`), "move price epoch")
}
