package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"
)

// ClaimTickers lets several collectors share the work of a cycle: it
// claims for owner, until the given time, every ticker of tickers that
// owner already holds or whose claim has expired by now (or never
// existed), and returns the tickers it claimed. A ticker claimed by another live collector is left
// to it; the claims of a collector that died expire on their own, and the
// next collector to claim after that takes them over.
//
// One transaction; a concurrent claimer waits on the rows it wants and
// then finds them taken. It returns KindUnavailable when the database
// cannot be reached and KindAborted when a deadlock persists.
func (db *DB) ClaimTickers(ctx context.Context, owner string, tickers []string, now, until time.Time) ([]string, error) {
	if len(tickers) == 0 {
		return nil, nil
	}
	var claimed []string
	err := db.retry(ctx, "claim tickers", func() error {
		var err error
		claimed, err = db.claim(ctx, owner, tickers, now, until)
		return err
	})
	return claimed, err
}

func (db *DB) claim(ctx context.Context, owner string, tickers []string, now, until time.Time) ([]string, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, db.wrap(err, "claim tickers")
	}
	defer tx.Rollback()
	for chunk := range slices.Chunk(tickers, insertChunk) {
		args := make([]any, 0, len(chunk)+2)
		args = append(args, owner, micros(until))
		for _, t := range chunk {
			args = append(args, t)
		}
		in := placeholders(len(chunk))
		// Rows for new tickers first, so that the update below sees them.
		if _, err := tx.ExecContext(ctx, `INSERT INTO collector_claims (ticker, owner, until_time) VALUES `+
			strings.Repeat("(?, '', 0), ", len(chunk)-1)+"(?, '', 0) "+db.d.ignoreConflict("ticker"), args[2:]...); err != nil {
			return nil, db.wrap(err, "claim tickers")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE collector_claims SET owner = ?, until_time = ?
			WHERE (until_time <= ? OR owner = ?) AND ticker IN (`+in+`)`, append([]any{owner, micros(until), micros(now), owner}, args[2:]...)...); err != nil {
			return nil, db.wrap(err, "claim tickers")
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT ticker FROM collector_claims WHERE owner = ? AND until_time = ? ORDER BY ticker`, owner, micros(until))
	if err != nil {
		return nil, db.wrap(err, "claim tickers")
	}
	claimed, err := scanStrings(rows)
	if err != nil {
		return nil, db.wrap(err, "claim tickers")
	}
	return claimed, db.wrap(tx.Commit(), "claim tickers")
}

// ForgetClaims deletes the lapsed claims (until before now) of tickers no
// user tracks any more, which would otherwise pile up, and returns how
// many it deleted. One statement of its own: inside ClaimTickers'
// transaction its scan would cross the row locks of a concurrent claimer
// and deadlock on MySQL. It returns KindUnavailable when the database
// cannot be reached.
func (db *DB) ForgetClaims(ctx context.Context, now time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM collector_claims WHERE until_time <= ?
		AND NOT EXISTS (SELECT 1 FROM users WHERE users.ticker = collector_claims.ticker)`, micros(now))
	if err != nil {
		return 0, db.wrap(err, "forget claims")
	}
	n, err := res.RowsAffected()
	return n, db.wrap(err, "forget claims")
}

// ReleaseClaims gives up owner's claims, so that another collector takes
// its tickers at its next cycle instead of waiting for them to expire.
func (db *DB) ReleaseClaims(ctx context.Context, owner string) error {
	_, err := db.w.ExecContext(ctx, `UPDATE collector_claims SET until_time = 0 WHERE owner = ?`, owner)
	return db.wrap(err, "release claims")
}

// ReleaseTickers gives up owner's claims of tickers, so that another
// collector tries them at its next cycle: those this one failed to fetch
// (its breaker is open, or its route to the upstream fails) would
// otherwise stay with it, unfetched, for as long as it runs.
func (db *DB) ReleaseTickers(ctx context.Context, owner string, tickers []string) error {
	for chunk := range slices.Chunk(tickers, insertChunk) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, owner)
		for _, t := range chunk {
			args = append(args, t)
		}
		if _, err := db.w.ExecContext(ctx, `UPDATE collector_claims SET until_time = 0
			WHERE owner = ? AND ticker IN (`+placeholders(len(chunk))+`)`, args...); err != nil {
			return db.wrap(err, "release claims")
		}
	}
	return nil
}

// rowClaim is what a claim of rows that several workers share asks of
// their table (events, notifications): the rows to take are free (as
// the table says: unpublished, due) and unclaimed, or their claim has
// expired, or the claimer already holds it.
type rowClaim struct {
	op    string // what errors say: "claim events"
	table string
	// free is the condition, with ? for freeArgs, of a row to take, its
	// claim aside; still is the part of free that the update checks
	// again (with stillArgs), once the rows are locked.
	free, still         string
	freeArgs, stillArgs []any
	order               string // the rows' order, oldest first: "id"
	columns             string // what is read of each row taken
}

// claimRows claims, as c says, for owner until the given time, up to
// limit rows that are free by now, and returns them in c.order, each as
// scan reads it. One transaction, retried as db.retry does; a
// concurrent claimer waits on the rows it wants and then finds them
// taken. It returns KindUnavailable when the database cannot be reached
// and KindAborted when a deadlock persists.
func claimRows[T any](ctx context.Context, db *DB, c rowClaim, owner string, now, until time.Time, limit int,
	scan func(*sql.Rows) (T, error)) ([]T, error) {
	var out []T
	err := db.retry(ctx, c.op, func() error {
		return db.inTx(ctx, func(t *writeTx) (err error) {
			out, err = takeRows(ctx, t, c, owner, now, until, limit, scan)
			return err
		})
	})
	return out, err
}

// takeRows is one attempt of claimRows, in t: it picks the free rows'
// ids, takes those still free, and reads the rows it took.
func takeRows[T any](ctx context.Context, t *writeTx, c rowClaim, owner string, now, until time.Time, limit int,
	scan func(*sql.Rows) (T, error)) ([]T, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT id FROM `+c.table+` WHERE `+c.free+`
		AND (until_time <= ? OR owner = ?) ORDER BY `+c.order+` LIMIT ?`, slices.Concat(c.freeArgs, []any{micros(now), owner, limit})...)
	ids, err := collect(t.db, c.op, rows, err, func(rows *sql.Rows) (any, error) {
		var id int64
		err := rows.Scan(&id)
		return id, err
	})
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	in := placeholders(len(ids))
	if _, err := t.tx.ExecContext(ctx, `UPDATE `+c.table+` SET owner = ?, until_time = ?
		WHERE `+c.still+` AND (until_time <= ? OR owner = ?) AND id IN (`+in+`)`,
		slices.Concat([]any{owner, micros(until)}, c.stillArgs, []any{micros(now), owner}, ids)...); err != nil {
		return nil, t.db.wrap(err, c.op)
	}
	rows, err = t.tx.QueryContext(ctx, `SELECT `+c.columns+` FROM `+c.table+`
		WHERE owner = ? AND until_time = ? AND id IN (`+in+`) ORDER BY `+c.order, append([]any{owner, micros(until)}, ids...)...)
	return collect(t.db, c.op, rows, err, scan)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// scanStrings reads a one-column result and closes rows.
func scanStrings(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
