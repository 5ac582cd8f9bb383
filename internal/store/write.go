package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// errReusedID is the client's mistake of sending one request id with two
// different requests.
var errReusedID = stock.Errorf(stock.KindInvalid, "request_id reused with a different request")

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
// returns fn's error as is.
func (db *DB) inTx(ctx context.Context, fn func(*writeTx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return db.wrap(err, "begin")
	}
	defer tx.Rollback() // no-op after Commit
	if err := fn(&writeTx{tx: tx, db: db}); err != nil {
		return err
	}
	if db.beforeCommit != nil {
		if err := db.beforeCommit(ctx); err != nil {
			return err
		}
	}
	return db.wrap(tx.Commit(), "commit")
}

// Once runs fn at most once per request id: in one transaction it runs fn
// and then inserts the request's record with fn's outcome. If a record of
// the id already exists, that insert fails on the record's key: the
// transaction, fn's writes included, rolls back, and Once returns the
// stored outcome with replayed set. A concurrent duplicate blocks on the
// record's key (or on the rows fn touches) until the first commits, then
// rolls back and replays it. So fn may run more than once, but its writes
// are committed at most once per id.
//
// The record goes last so that a first execution costs one statement
// (the insert) on top of fn, and no update of the record.
//
// fn returns the outcome to store (success or a deterministic error), or
// an error that rolls everything back and is returned as is. fn must do
// all its writes through the Tx. Once returns KindInvalid when the id was
// used for another method or payload, KindAborted when a deadlock
// persisted through retries, and KindUnavailable when the database cannot
// be reached. With an empty key.ID, fn runs in a transaction without any
// record.
func (db *DB) Once(ctx context.Context, key stock.RequestKey, fn func(context.Context, stock.Tx) (stock.Outcome, error)) (out stock.Outcome, replayed bool, err error) {
	err = db.retry(ctx, "request "+key.ID, func() error {
		out, replayed, err = db.once(ctx, key, fn)
		return err
	})
	if err != nil {
		return stock.Outcome{}, false, err
	}
	return out, replayed, nil
}

// retry runs f again while it fails with a deadlock, a lock timeout or
// errRetry, at most db.retries times with a short growing pause. It
// returns f's last error, wrapped in KindAborted when retries ran out.
func (db *DB) retry(ctx context.Context, what string, f func() error) error {
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil || !db.d.isRetryable(err) && !errors.Is(err, errRetry) {
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

// errRetry makes Once run again: the record it collided with vanished or
// expired in between.
var errRetry = errors.New("request record changed; retry")

func (db *DB) once(ctx context.Context, key stock.RequestKey, fn func(context.Context, stock.Tx) (stock.Outcome, error)) (stock.Outcome, bool, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return stock.Outcome{}, false, db.wrap(err, "begin")
	}
	defer tx.Rollback() // no-op after Commit
	out, err := fn(ctx, &writeTx{tx: tx, db: db})
	if err != nil {
		tx.Rollback()
		if key.ID != "" && ctx.Err() == nil {
			// A duplicate of a committed request can fail where the first
			// succeeded (its row is taken now): the stored outcome wins.
			if out, found, lerr := db.Lookup(ctx, key); lerr == nil && found {
				return out, true, nil
			}
		}
		return stock.Outcome{}, false, err
	}
	if key.ID != "" {
		_, err := tx.ExecContext(ctx, `INSERT INTO requests (request_id, method, fingerprint, create_time, outcome_kind, outcome_message, response)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			key.ID, key.Method, key.Fingerprint, micros(key.Now), string(out.Kind), out.Message, out.Body)
		if db.d.isDuplicate(err) {
			tx.Rollback() // undo fn's writes: the id has run before
			return db.replay(ctx, key)
		}
		if err != nil {
			return stock.Outcome{}, false, db.wrap(err, "record request")
		}
	}
	if db.beforeCommit != nil {
		if err := db.beforeCommit(ctx); err != nil {
			return stock.Outcome{}, false, err
		}
	}
	if err := tx.Commit(); err != nil {
		return stock.Outcome{}, false, db.wrap(err, "commit")
	}
	return out, false, nil
}

// replay returns the committed outcome of key's request id.
func (db *DB) replay(ctx context.Context, key stock.RequestKey) (stock.Outcome, bool, error) {
	var (
		method      string
		fingerprint []byte
		created     int64
		kind        string
		out         stock.Outcome
	)
	err := db.w.QueryRowContext(ctx, `SELECT method, fingerprint, create_time, outcome_kind, outcome_message, response FROM requests WHERE request_id = ?`, key.ID).
		Scan(&method, &fingerprint, &created, &kind, &out.Message, &out.Body)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return stock.Outcome{}, false, errRetry // purged after we collided
	case err != nil:
		return stock.Outcome{}, false, db.wrap(err, "read request")
	case created < micros(key.ExpireBefore):
		// Forgotten: delete it (unless someone else just did) and run anew.
		if _, err := db.w.ExecContext(ctx, `DELETE FROM requests WHERE request_id = ? AND create_time = ?`, key.ID, created); err != nil {
			return stock.Outcome{}, false, db.wrap(err, "expire request")
		}
		return stock.Outcome{}, false, errRetry
	case method != key.Method || !bytes.Equal(fingerprint, key.Fingerprint):
		return stock.Outcome{}, false, errReusedID
	}
	out.Kind = stock.Kind(kind)
	return out, true, nil
}

// Lookup returns the stored outcome of key's request id, if a live record
// of it exists. It returns KindInvalid when the id was used for another
// method or payload. Callers use it to skip work that only a first
// execution needs; Once still decides.
func (db *DB) Lookup(ctx context.Context, key stock.RequestKey) (stock.Outcome, bool, error) {
	if key.ID == "" {
		return stock.Outcome{}, false, nil
	}
	out, found, err := db.replay(ctx, key)
	if errors.Is(err, errRetry) {
		return stock.Outcome{}, false, nil
	}
	return out, found, err
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
	tx txn
	db *DB
}

var _ stock.Tx = (*writeTx)(nil)

func (t *writeTx) CreateUser(ctx context.Context, u stock.User) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO users (email, ticker, create_time, update_time) VALUES (?, ?, ?, ?)`,
		u.Email, u.Ticker, micros(u.CreateTime), micros(u.UpdateTime))
	if t.db.d.isDuplicate(err) {
		return stock.Errorf(stock.KindAlreadyExists, "user %s already exists", u.Email)
	}
	return t.db.wrap(err, "create user")
}

func (t *writeTx) UpdateUser(ctx context.Context, email, ticker string, now time.Time) (stock.User, error) {
	var (
		u      stock.User
		ct, ut int64
	)
	// Lock the row first so the returned user is exactly what this
	// transaction wrote.
	err := t.tx.QueryRowContext(ctx, `SELECT email, ticker, create_time, update_time FROM users WHERE email = ?`+t.db.d.lockRows, email).
		Scan(&u.Email, &u.Ticker, &ct, &ut)
	if errors.Is(err, sql.ErrNoRows) {
		return stock.User{}, userNotFound(email)
	}
	if err != nil {
		return stock.User{}, t.db.wrap(err, "update user")
	}
	if _, err := t.tx.ExecContext(ctx, `UPDATE users SET ticker = ?, update_time = ? WHERE email = ?`, ticker, micros(now), email); err != nil {
		return stock.User{}, t.db.wrap(err, "update user")
	}
	u.Ticker, u.CreateTime, u.UpdateTime = ticker, fromMicros(ct), fromMicros(micros(now))
	return u, nil
}

func (t *writeTx) DeleteUser(ctx context.Context, email string) error {
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
	return nil
}

// insertChunk bounds the placeholders of one INSERT (5 per row).
const insertChunk = 500

func (t *writeTx) InsertPrices(ctx context.Context, ps []stock.Price) (int64, error) {
	var total int64
	for len(ps) > 0 {
		chunk := ps[:min(len(ps), insertChunk)]
		ps = ps[len(chunk):]
		var b strings.Builder
		b.WriteString(`INSERT INTO stock_prices (ticker, price, currency, market_time, collect_time) VALUES `)
		args := make([]any, 0, 5*len(chunk))
		for i, p := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?)")
			args = append(args, p.Ticker, p.Price, p.Currency, micros(p.MarketTime), micros(p.CollectTime))
		}
		b.WriteString(" " + t.db.d.ignoreConflict("ticker", "market_time"))
		res, err := t.tx.ExecContext(ctx, b.String(), args...)
		if err != nil {
			return 0, t.db.wrap(err, "insert prices")
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, t.db.wrap(err, "insert prices")
		}
		total += n
	}
	return total, nil
}

func (t *writeTx) DeletePrices(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM stock_prices WHERE collect_time < ?`, micros(before))
	if err != nil {
		return 0, t.db.wrap(err, "delete prices")
	}
	n, err := res.RowsAffected()
	return n, t.db.wrap(err, "delete prices")
}
