package store

import (
	"context"
	"database/sql"
	"log/slog"
	"time"
)

// pool is a connection pool whose statements are rewritten by the
// dialect's rebind before they reach the driver. Every query of the store
// goes through a pool or a txn, so queries are written once, with ?
// placeholders, for every backend.
type pool struct {
	db     *sql.DB
	rebind func(query string) string
}

// newDB returns a DB on the reader and writer pools (the same *sql.DB, or
// two on one database) speaking dialect d; dsn is redacted, for logs.
func newDB(r, w *sql.DB, d dialect, dsn string) *DB {
	wp := &pool{db: w, rebind: d.rebind}
	rp := wp
	if r != w {
		rp = &pool{db: r, rebind: d.rebind}
	}
	return &DB{r: rp, w: wp, d: d, dsn: dsn, log: slog.New(slog.DiscardHandler), sums: newSumsCache(DefaultAverageCache),
		users: newKept[string](0, 0, time.Now), rows: newKept[tickerState](0, 0, time.Now)}
}

func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.db.ExecContext(ctx, p.rebind(query), args...)
}

func (p *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.db.QueryContext(ctx, p.rebind(query), args...)
}

func (p *pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.db.QueryRowContext(ctx, p.rebind(query), args...)
}

func (p *pool) BeginTx(ctx context.Context, opts *sql.TxOptions) (txn, error) {
	tx, err := p.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return sqlTxn{tx: tx, rebind: p.rebind}, nil
}

func (p *pool) Stats() sql.DBStats { return p.db.Stats() }

func (p *pool) Close() error { return p.db.Close() }

// txn is a write transaction whose statements are rewritten as a pool's:
// a database/sql transaction (sqlTxn), or a pipelined one (pipeTxn) that
// sends several statements per round trip.
type txn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) row
	// Queue runs a statement whose result the caller does not need. A
	// pipelined transaction sends it with the next statement that needs
	// one, or with the commit, and its error surfaces there (see pipeTxn);
	// sqlTxn runs it now.
	Queue(ctx context.Context, query string, args ...any) error
	Commit() error
	Rollback() error
}

// row is the result of QueryRowContext, as *sql.Row.
type row interface{ Scan(dest ...any) error }

// sqlTxn is a database/sql transaction: one round trip per statement.
type sqlTxn struct {
	tx     *sql.Tx
	rebind func(query string) string
}

func (t sqlTxn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.rebind(query), args...)
}

func (t sqlTxn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.rebind(query), args...)
}

func (t sqlTxn) QueryRowContext(ctx context.Context, query string, args ...any) row {
	return t.tx.QueryRowContext(ctx, t.rebind(query), args...)
}

func (t sqlTxn) Queue(ctx context.Context, query string, args ...any) error {
	_, err := t.ExecContext(ctx, query, args...)
	return err
}

func (t sqlTxn) Commit() error { return t.tx.Commit() }

func (t sqlTxn) Rollback() error { return t.tx.Rollback() }
