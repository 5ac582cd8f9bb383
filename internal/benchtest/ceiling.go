package benchtest

import (
	"context"
	"time"

	"github.com/stockwatch/stockwatch/internal/store"
)

// The ceilings: the least database work a price read or an at-most-once
// write can do, run on the store's own pools so that they share its
// driver and pool settings. Every benchmark compares against these.

// CreateScratch creates the table WriteCeiling inserts into.
func CreateScratch(ctx context.Context, db *store.DB) error {
	_, w := db.Pools()
	_, err := w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bench_scratch (k VARCHAR(64) NOT NULL PRIMARY KEY, v BIGINT NOT NULL, t BIGINT NOT NULL)`)
	return err
}

// ReadCeiling runs one indexed SELECT of the newest price of ticker on the
// reader pool, scanning every column a Price has, and returns the price.
func ReadCeiling(ctx context.Context, db *store.DB, ticker string) (float64, error) {
	r, _ := db.Pools()
	var (
		id, market, collect int64
		tk, cur             string
		price               float64
	)
	err := r.QueryRowContext(ctx, `SELECT id, ticker, price, currency, market_time, collect_time
		FROM stock_prices WHERE ticker = ? ORDER BY market_time DESC LIMIT 1`, ticker).
		Scan(&id, &tk, &price, &cur, &market, &collect)
	return price, err
}

// WriteCeiling inserts two rows, keyed key+"a" and key+"b", into the
// scratch table in one transaction on the writer pool.
func WriteCeiling(ctx context.Context, db *store.DB, key string, n int64) error {
	_, w := db.Pools()
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := time.Now().UnixMicro()
	for _, k := range []string{"a", "b"} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO bench_scratch (k, v, t) VALUES (?, ?, ?)`, key+k, n, now); err != nil {
			return err
		}
	}
	return tx.Commit()
}
