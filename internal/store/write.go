package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stockwatch/stockwatch/internal/once"
	"github.com/stockwatch/stockwatch/internal/stock"
)

// Tx runs fn in one write transaction and commits it when fn returns nil;
// otherwise it rolls back and returns fn's error as is. fn must do all its
// writes through tx. A deadlock or lock timeout runs fn again (so fn may
// run more than once, its writes committed once); Tx returns KindAborted
// when that persisted through retries, and KindUnavailable when the
// database cannot be reached.
func (db *DB) Tx(ctx context.Context, fn func(context.Context, stock.Tx) error) error {
	return db.retry(ctx, "transaction", func() error {
		return db.inTx(ctx, func(tx *writeTx) error { return fn(ctx, tx) })
	})
}

// inTx runs fn in one write transaction, once: it commits when fn returns
// nil (after the tests' beforeCommit hook), and otherwise rolls back and
// returns fn's error as is. Where the backend takes several statements
// per round trip (db.pipe), it first tries a pipelined transaction
// (pipeTxn); if the server refused a statement of a batch, it cannot say
// which one, so fn runs again on an ordinary transaction, whose errors
// each surface at their statement. Nothing was written then: the server
// stopped the batch before its COMMIT, and it rolled back.
func (db *DB) inTx(ctx context.Context, fn func(*writeTx) error) error {
	if db.pipe != nil {
		err := db.attempt(ctx, db.pipe.pipeline, fn)
		var pe *pipelineError
		if !errors.As(err, &pe) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return db.attempt(ctx, func(ctx context.Context) (txn, error) { return db.w.BeginTx(ctx, nil) }, fn)
}

// attempt is inTx on a transaction from begin.
func (db *DB) attempt(ctx context.Context, begin func(context.Context) (txn, error), fn func(*writeTx) error) error {
	tx, err := begin(ctx)
	if err != nil {
		return db.wrap(err, "begin")
	}
	wt := &writeTx{tx: tx, db: db}
	// Whatever the outcome, the users and tickers it wrote are not kept as
	// they were (WithUserCache, WithPriceCache), once it has ended (this
	// runs after the Rollback).
	defer func() { db.users.done(wt.users); db.rows.done(wt.tickers) }()
	defer tx.Rollback() // no-op after Commit
	if err := fn(wt); err != nil {
		return err
	}
	if wt.pricesChanged {
		if err := wt.movePriceEpoch(ctx); err != nil {
			return err
		}
	}
	if db.beforeCommit != nil {
		if err := db.beforeCommit(ctx); err != nil {
			return err
		}
	}
	return db.wrap(tx.Commit(), "commit")
}

var _ once.Store = (*DB)(nil)

// RecordTx is Tx for the at-most-once runner (package once): its
// transaction can also insert a request's record (once.Tx.InsertRecord).
// It returns what Tx returns.
func (db *DB) RecordTx(ctx context.Context, fn func(context.Context, once.Tx) error) error {
	return db.retry(ctx, "request", func() error {
		return db.inTx(ctx, func(tx *writeTx) error { return fn(ctx, tx) })
	})
}

// retry runs f again while it fails with a deadlock or a lock timeout, at
// most db.retries times with a short growing pause. It returns f's last
// error, wrapped in KindAborted when retries ran out.
func (db *DB) retry(ctx context.Context, what string, f func() error) error {
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil || !db.d.isRetryable(err) {
			return err
		}
		if attempt == db.retries {
			return fmt.Errorf("%s: %w: %w", what, stock.ErrAborted, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 5 * time.Millisecond):
		}
	}
}

// Record returns the record of request id, and false when none is stored.
func (db *DB) Record(ctx context.Context, id string) (once.Record, bool, error) {
	var (
		created int64
		kind    string
		rec     = once.Record{ID: id}
	)
	err := db.w.QueryRowContext(ctx, `SELECT method, fingerprint, create_time, outcome_kind, outcome_message, response FROM requests WHERE request_id = ?`, id).
		Scan(&rec.Method, &rec.Fingerprint, &created, &kind, &rec.Outcome.Message, &rec.Outcome.Body)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return once.Record{}, false, nil
	case err != nil:
		return once.Record{}, false, db.wrap(err, "read request")
	}
	rec.Created, rec.Outcome.Kind = fromMicros(created), stock.Kind(kind)
	return rec, true, nil
}

// DeleteRecord deletes the record of request id if it was created at
// created (an expired one), and leaves one created since alone.
func (db *DB) DeleteRecord(ctx context.Context, id string, created time.Time) error {
	_, err := db.w.ExecContext(ctx, `DELETE FROM requests WHERE request_id = ? AND create_time = ?`, id, micros(created))
	return db.wrap(err, "expire request")
}

// PurgeRequests deletes request records created before t and returns how
// many it deleted.
func (db *DB) PurgeRequests(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM requests WHERE create_time < ?`, micros(before))
	if err != nil {
		return 0, db.wrap(err, "purge requests")
	}
	n, err := res.RowsAffected()
	return n, db.wrap(err, "purge requests")
}

// InsertPrices stores prices in one transaction, skipping those whose
// (ticker, market time) is already stored, and returns how many it added.
func (db *DB) InsertPrices(ctx context.Context, ps []stock.Price) (int64, error) {
	var n int64
	err := db.Tx(ctx, func(ctx context.Context, tx stock.Tx) (err error) {
		n, err = tx.InsertPrices(ctx, ps)
		return err
	})
	return n, err
}

// DeletePrices deletes prices collected before t and returns how many.
func (db *DB) DeletePrices(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.Tx(ctx, func(ctx context.Context, tx stock.Tx) (err error) {
		n, err = tx.DeletePrices(ctx, before)
		return err
	})
	return n, err
}

// writeTx implements stock.Tx on one database transaction.
type writeTx struct {
	tx      txn
	db      *DB
	users   []string // e-mails of the users written (writeUser)
	tickers []string // tickers whose prices are written (writeTickers)
	// pricesChanged: a row of ticker_prices, price_sums or stock_prices
	// was written; the transaction moves price_epoch before it commits.
	pricesChanged bool
}

// writeUser notes that t is about to write the user email (see
// WithUserCache).
func (t *writeTx) writeUser(email string) {
	t.users = append(t.users, email)
	t.db.users.write(email)
}

// writeTickers notes that t is about to write the prices of tickers (see
// WithPriceCache).
func (t *writeTx) writeTickers(tickers []string) {
	t.tickers = append(t.tickers, tickers...)
	for _, tk := range tickers {
		t.db.rows.write(tk)
	}
}

var _ once.Tx = (*writeTx)(nil)

func (t *writeTx) CreateUser(ctx context.Context, u stock.User) error {
	t.writeUser(u.Email)
	err := t.tx.Queue(ctx, `INSERT INTO users (email, ticker, create_time, update_time) VALUES (?, ?, ?, ?)`,
		u.Email, u.Ticker, micros(u.CreateTime), micros(u.UpdateTime))
	if t.db.d.isDuplicate(err) {
		return stock.Errorf(stock.KindAlreadyExists, "user %s already exists", u.Email)
	}
	return t.db.wrap(err, "create user")
}

func (t *writeTx) UpdateUser(ctx context.Context, email, ticker string, now time.Time) (stock.User, error) {
	t.writeUser(email)
	var (
		u      stock.User
		ct, ut int64
		band   bool
	)
	// Lock the row first so the returned user is exactly what this
	// transaction wrote. A band is set under the same lock (SetAlert), so
	// a user without one cannot get one until the commit, and the band's
	// DELETE (a round trip for its count) is needed only when one is there.
	err := t.tx.QueryRowContext(ctx, `SELECT email, ticker, create_time, update_time,
			EXISTS (SELECT 1 FROM alerts WHERE alerts.email = users.email)
		FROM users WHERE email = ?`+t.db.d.lockRows, email).
		Scan(&u.Email, &u.Ticker, &ct, &ut, &band)
	if errors.Is(err, sql.ErrNoRows) {
		return stock.User{}, userNotFound(email)
	}
	if err != nil {
		return stock.User{}, t.db.wrap(err, "update user")
	}
	if err := t.tx.Queue(ctx, `UPDATE users SET ticker = ?, update_time = ? WHERE email = ?`, ticker, micros(now), email); err != nil {
		return stock.User{}, t.db.wrap(err, "update user")
	}
	if ticker != u.Ticker && band {
		// A band is set on one ticker's prices: it goes with the ticker.
		// Counted: a DeleteAlert (which takes no lock on the user) may
		// have removed it since.
		res, err := t.tx.ExecContext(ctx, `DELETE FROM alerts WHERE email = ?`, email)
		if err != nil {
			return stock.User{}, t.db.wrap(err, "update user")
		}
		n, err := res.RowsAffected()
		if err != nil {
			return stock.User{}, t.db.wrap(err, "update user")
		}
		u.AlertCleared = n > 0
	}
	u.Ticker, u.CreateTime, u.UpdateTime = ticker, fromMicros(ct), fromMicros(micros(now))
	return u, nil
}

// InsertRecord stores rec; it returns once.ErrDuplicate when rec.ID has a
// record already.
func (t *writeTx) InsertRecord(ctx context.Context, rec once.Record) error {
	out := rec.Outcome
	err := t.tx.Queue(ctx, `INSERT INTO requests (request_id, method, fingerprint, create_time, outcome_kind, outcome_message, response)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
		rec.ID, rec.Method, rec.Fingerprint, micros(rec.Created), string(out.Kind), out.Message, out.Body)
	if t.db.d.isDuplicate(err) {
		return once.ErrDuplicate
	}
	return t.db.wrap(err, "record request")
}

func (t *writeTx) DeleteUser(ctx context.Context, email string) error {
	t.writeUser(email)
	res, err := t.tx.ExecContext(ctx, `DELETE FROM users WHERE email = ?`, email)
	if err != nil {
		return t.db.wrap(err, "delete user")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return t.db.wrap(err, "delete user")
	}
	if n == 0 {
		return userNotFound(email)
	}
	// The user's band and notifications go with the user (a notification
	// being delivered now is marked on a row that is gone: a no-op).
	for _, table := range []string{"alerts", "notifications"} {
		if err := t.tx.Queue(ctx, `DELETE FROM `+table+` WHERE email = ?`, email); err != nil {
			return t.db.wrap(err, "delete user")
		}
	}
	return nil
}

// insertChunk bounds the placeholders of one INSERT (5 per row).
const insertChunk = 500

func (t *writeTx) InsertPrices(ctx context.Context, ps []stock.Price) (int64, error) {
	return t.insertPrices(ctx, ps) // with the tickers' states: tickerprices.go
}

func (t *writeTx) DeletePrices(ctx context.Context, before time.Time) (int64, error) {
	return t.deletePrices(ctx, before) // with the tickers' states: tickerprices.go
}
