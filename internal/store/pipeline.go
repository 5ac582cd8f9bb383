package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// pipeTxn is a write transaction that sends its statements in as few round
// trips as it can, on a connection that takes several statements per
// query (DB.pipe: MySQL with multiStatements and interpolateParams): START
// TRANSACTION goes with the first statement, statements whose result the
// caller does not need (Queue) go with the next one that needs a result,
// and the last ones go with COMMIT. A RegisterUser is then two round trips
// (its INSERT with the ticker's status read; the request record with the
// COMMIT) instead of five.
//
// A batch that fails does not say which of its statements failed. So the
// server's error of a batch that carried queued statements is a
// *pipelineError, which matches no driver error (no caller can take a
// queued INSERT's duplicate key for its own statement's), and DB.inTx
// rolls back and runs the transaction again unpipelined, where every error
// surfaces at its own statement. The server stops a batch at its first
// error, so the COMMIT after it never ran: nothing was written. Any other
// error (the connection lost, the context ended) is returned as it is, as
// sqlTxn returns it: a lost COMMIT may have committed, and must not run
// again. The error of a batch of START TRANSACTION and the caller's
// statement is the caller's, as in sqlTxn.
type pipeTxn struct {
	ctx    context.Context // the transaction's, as sql.Tx keeps it
	conn   *sql.Conn
	rebind func(query string) string
	begun  bool // START TRANSACTION sent
	done   bool // committed or rolled back, the connection released
	queued []string
	args   []any
	size   int // bytes of queued statements
}

// pipelineOffGalera turns pipelining off on a Galera node (wsrep_on): a
// transaction aborted by a conflicting write replicated from another node
// (a brute-force abort) while its connection runs a batch of statements can
// be answered as a success there, its writes lost. That was seen here with
// a batch ending in COMMIT (MariaDB 10.11, galera-4: 1 of 50 conflicting
// pairs, both answered OK, one transaction's rows missing), and the same
// class of defect is known for stored procedures (mysql-wsrep issue 191).
// Galera gets one statement per round trip, whose errors are reliable.
func (db *DB) pipelineOffGalera(ctx context.Context) error {
	if db.pipe == nil {
		return nil
	}
	var name, on string
	err := db.w.QueryRowContext(ctx, `SHOW VARIABLES LIKE 'wsrep_on'`).Scan(&name, &on)
	switch {
	case errors.Is(err, sql.ErrNoRows): // MySQL: no wsrep at all
	case err != nil:
		return db.wrap(err, "check for galera")
	case strings.EqualFold(on, "ON"):
		err := db.pipe.Close()
		db.pipe = nil
		return err
	}
	return nil
}

// maxQueued bounds the statements a pipelined transaction holds back, with
// their arguments: past it, Queue sends them (far below
// max_allowed_packet: 16 MiB on MariaDB, 64 MiB on MySQL 8.4).
const maxQueued = 1 << 20

// pipelineError is the server's error of a batch that carried queued
// statements. It has no Unwrap on purpose: see pipeTxn.
type pipelineError struct{ err error }

func (e *pipelineError) Error() string { return "pipelined statements: " + e.err.Error() }

// pipeline begins a pipelined transaction on a connection of its own.
func (p *pool) pipeline(ctx context.Context) (txn, error) {
	conn, err := p.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return &pipeTxn{ctx: ctx, conn: conn, rebind: p.rebind}, nil
}

// take returns the batch that sends query (rewritten; none if "") after
// what is queued, its arguments, and whether it carries queued statements.
func (t *pipeTxn) take(query string, args []any) (string, []any, bool) {
	stmts := make([]string, 0, len(t.queued)+2)
	if !t.begun {
		stmts = append(stmts, "START TRANSACTION")
		t.begun = true
	}
	mixed := len(t.queued) > 0
	stmts = append(stmts, t.queued...)
	if query != "" {
		stmts = append(stmts, t.rebind(query))
	}
	all := append(t.args, args...)
	t.queued, t.args, t.size = nil, nil, 0
	return strings.Join(stmts, "; "), all, mixed
}

// fail returns err as the error of a batch (mixed: with queued
// statements): a *pipelineError if the server refused a statement of a
// mixed batch, err as it is otherwise.
func fail(err error, mixed bool) error {
	var server *mysql.MySQLError
	if err != nil && mixed && errors.As(err, &server) {
		return &pipelineError{err}
	}
	return err
}

func (t *pipeTxn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	q, a, mixed := t.take(query, args)
	res, err := t.conn.ExecContext(ctx, q, a...) // counts are the last statement's
	return res, fail(err, mixed)
}

func (t *pipeTxn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q, a, mixed := t.take(query, args)
	// The driver skips the results without columns: the rows are query's.
	rows, err := t.conn.QueryContext(ctx, q, a...)
	return rows, fail(err, mixed)
}

func (t *pipeTxn) QueryRowContext(ctx context.Context, query string, args ...any) row {
	rows, err := t.QueryContext(ctx, query, args...)
	return firstRow{rows, err}
}

func (t *pipeTxn) Queue(ctx context.Context, query string, args ...any) error {
	q := t.rebind(query)
	t.queued = append(t.queued, q)
	t.args = append(t.args, args...)
	t.size += len(q)
	for _, a := range args {
		t.size += argSize(a)
	}
	if t.size < maxQueued {
		return nil
	}
	q, a, _ := t.take("", nil)
	_, err := t.conn.ExecContext(ctx, q, a...)
	return fail(err, true)
}

func (t *pipeTxn) Commit() error {
	if t.done {
		return sql.ErrTxDone
	}
	if t.begun || len(t.queued) > 0 {
		q, a, mixed := t.take("COMMIT", nil)
		if _, err := t.conn.ExecContext(t.ctx, q, a...); err != nil {
			return fail(err, mixed)
		}
	}
	t.done = true
	return t.conn.Close()
}

// Rollback rolls back what was sent and releases the connection; one whose
// ROLLBACK failed is in an unknown state and is closed, not pooled (the
// server rolls back a transaction whose connection closes).
func (t *pipeTxn) Rollback() error {
	if t.done {
		return sql.ErrTxDone
	}
	t.done = true
	if t.begun {
		// Even when the caller went away: a connection whose ROLLBACK
		// fails is closed, and a new one costs more than a ROLLBACK.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), rollbackTimeout)
		defer cancel()
		if _, err := t.conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			_ = t.conn.Raw(func(any) error { return driver.ErrBadConn })
			return err
		}
	}
	return t.conn.Close()
}

// rollbackTimeout bounds a ROLLBACK sent after the caller's context ended.
const rollbackTimeout = 5 * time.Second

// argSize is about how many bytes arg takes in a batch, interpolated.
func argSize(arg any) int {
	switch a := arg.(type) {
	case string:
		return 2 + 2*len(a) // quoted, every byte escaped at worst
	case []byte:
		return 3 + 2*len(a) // _binary'…'
	}
	return 24 // a number, NULL or a time
}

// firstRow is *sql.Row's Scan over rows.
type firstRow struct {
	rows *sql.Rows
	err  error
}

func (r firstRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	return r.rows.Close()
}
