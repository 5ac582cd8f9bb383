package store

import (
	"context"
	"time"
)

// The ceilings: the least database work a price read, any read by key, an
// at-most-once write or any durable write can do, on the store's own pools, so that they share its driver,
// DSN parameters and pool limits. The benchmarks (the store's, the API's
// and cmd/stockwatch-bench) measure every query beside them; the daemon
// never calls them.

// CreateCeilingTable creates bench_scratch, the table WriteCeiling and
// InsertCeiling insert into, unless it exists. It is not part of the migrated schema.
func (db *DB) CreateCeilingTable(ctx context.Context) error {
	_, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bench_scratch (k VARCHAR(64) NOT NULL PRIMARY KEY, v BIGINT NOT NULL, t BIGINT NOT NULL)`)
	return db.wrap(err, "create ceiling table")
}

// ReadCeiling runs one indexed SELECT of the newest price of ticker on the
// reader pool, scanning every column a Price has, and returns the price.
// It returns an error matching sql.ErrNoRows when ticker has no price.
func (db *DB) ReadCeiling(ctx context.Context, ticker string) (float64, error) {
	var (
		id, market, collect int64
		tk, cur             string
		price               float64
	)
	err := db.r.QueryRowContext(ctx, `SELECT id, ticker, price, currency, market_time, collect_time
		FROM stock_prices WHERE ticker = ? ORDER BY market_time DESC LIMIT 1`, ticker).
		Scan(&id, &tk, &price, &cur, &market, &collect)
	return price, db.wrap(err, "read ceiling")
}

// PointReadCeiling runs one primary-key SELECT of one small row, the user
// with the given e-mail, on the reader pool, and returns the user's
// ticker: the least work any read by e-mail can do. It returns an error
// matching sql.ErrNoRows when there is no such user.
func (db *DB) PointReadCeiling(ctx context.Context, email string) (string, error) {
	var (
		e, ticker string
		ct, ut    int64
	)
	err := db.r.QueryRowContext(ctx, `SELECT email, ticker, create_time, update_time FROM users WHERE email = ?`, email).
		Scan(&e, &ticker, &ct, &ut)
	return ticker, db.wrap(err, "point read ceiling")
}

// InsertCeiling inserts one row keyed key into bench_scratch with one
// autocommit INSERT on the writer pool: the least work any durable write
// can do. It returns an error if the key is taken or the table does not
// exist.
func (db *DB) InsertCeiling(ctx context.Context, key string, n int64) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO bench_scratch (k, v, t) VALUES (?, ?, ?)`, key, n, time.Now().UnixMicro())
	return db.wrap(err, "insert ceiling")
}

// WriteCeiling inserts two rows, keyed key+"a" and key+"b", into
// bench_scratch in one transaction on the writer pool. It returns an
// error if either key is taken or the table does not exist.
func (db *DB) WriteCeiling(ctx context.Context, key string, n int64) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return db.wrap(err, "write ceiling")
	}
	defer tx.Rollback()
	now := time.Now().UnixMicro()
	for _, k := range []string{"a", "b"} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO bench_scratch (k, v, t) VALUES (?, ?, ?)`, key+k, n, now); err != nil {
			return db.wrap(err, "write ceiling")
		}
	}
	return db.wrap(tx.Commit(), "write ceiling")
}
