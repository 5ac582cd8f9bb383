package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// tickerStatus reads the status column of a LEFT JOIN on tickers: a
// ticker without a row is unverified.
func tickerStatus(s sql.NullString) stock.TickerStatus {
	if !s.Valid || s.String == "" {
		return stock.TickerUnverified
	}
	return stock.TickerStatus(s.String)
}

// fromMicrosOrZero is fromMicros, but 0 (never) stays the zero time.
func fromMicrosOrZero(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicros(us)
}

// microsOrZero is micros, but the zero time (never) is stored as 0.
func microsOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

// Tickers returns the distinct tickers of all users, sorted, each with its
// stored state (a ticker without one is unverified and due at once).
func (db *DB) Tickers(ctx context.Context) ([]stock.TickerState, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT u.ticker, t.status, t.checked_time, t.next_check_time
		FROM (SELECT DISTINCT ticker FROM users) u LEFT JOIN tickers t ON t.ticker = u.ticker
		ORDER BY u.ticker`)
	return collect(db, "tickers", rows, err, func(rows *sql.Rows) (stock.TickerState, error) {
		var (
			s           stock.TickerState
			st          sql.NullString
			checked, nc sql.NullInt64
		)
		if err := rows.Scan(&s.Ticker, &st, &checked, &nc); err != nil {
			return s, err
		}
		s.Status, s.Checked, s.NextCheck = tickerStatus(st), fromMicrosOrZero(checked.Int64), fromMicrosOrZero(nc.Int64)
		return s, nil
	})
}

// SaveQuotes stores, in one transaction, prices (skipping those whose
// (ticker, market time) is already stored) and the tickers' states (see
// stock.Tx.SetTickers), and returns how many prices it added.
func (db *DB) SaveQuotes(ctx context.Context, ps []stock.Price, states []stock.TickerState) (int64, error) {
	var n int64
	err := db.Tx(ctx, func(ctx context.Context, tx stock.Tx) (err error) {
		if n, err = tx.InsertPrices(ctx, ps); err != nil {
			return err
		}
		return tx.SetTickers(ctx, states)
	})
	return n, err
}

// ForgetTickers deletes the states of tickers no user tracks that were
// settled before t (unverified ones, never settled, at once), which would
// otherwise pile up, and returns how many it deleted. A recent unknown
// state is kept a while: registering that ticker again is refused without
// asking Yahoo when the check budget is spent.
func (db *DB) ForgetTickers(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM tickers WHERE checked_time < ?
		AND NOT EXISTS (SELECT 1 FROM users WHERE users.ticker = tickers.ticker)`, micros(before))
	if err != nil {
		return 0, db.wrap(err, "forget tickers")
	}
	n, err := res.RowsAffected()
	return n, db.wrap(err, "forget tickers")
}

func (t *writeTx) TickerStatus(ctx context.Context, ticker string) (stock.TickerStatus, bool, error) {
	var st string
	err := t.tx.QueryRowContext(ctx, `SELECT status FROM tickers WHERE ticker = ?`, ticker).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return stock.TickerUnverified, false, nil
	}
	if err != nil {
		return "", false, t.db.wrap(err, "ticker status")
	}
	return stock.TickerStatus(st), true, nil
}

// SetTickers writes the states in groups that share their values (a
// collector's cycle has few: verified, unverified, and one per back-off
// step), each in two statements per chunk: an insert of the missing rows,
// then an update of the others. Tickers are sorted so that concurrent
// writers lock rows in one order.
func (t *writeTx) SetTickers(ctx context.Context, states []stock.TickerState) error {
	type group struct {
		status        stock.TickerStatus
		checked, next int64
	}
	groups := map[group][]string{}
	for _, s := range states {
		g := group{s.Status, microsOrZero(s.Checked), microsOrZero(s.NextCheck)}
		groups[g] = append(groups[g], s.Ticker)
	}
	keys := slices.SortedFunc(maps.Keys(groups), func(a, b group) int {
		return cmp.Or(cmp.Compare(a.status, b.status), cmp.Compare(a.checked, b.checked), cmp.Compare(a.next, b.next))
	})
	for _, g := range keys {
		tickers := groups[g]
		slices.Sort(tickers)
		for chunk := range slices.Chunk(slices.Compact(tickers), insertChunk) {
			args := make([]any, 0, 4*len(chunk))
			in := make([]any, 0, len(chunk)+4)
			in = append(in, string(g.status), g.checked, g.next)
			for _, tk := range chunk {
				args = append(args, tk, string(g.status), g.checked, g.next)
				in = append(in, tk)
			}
			if err := t.tx.Queue(ctx, `INSERT INTO tickers (ticker, status, checked_time, next_check_time) VALUES `+
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", len(chunk)), ", ")+" "+t.db.d.ignoreConflict("ticker"), args...); err != nil {
				return t.db.wrap(err, "set tickers")
			}
			q := `UPDATE tickers SET status = ?, checked_time = ?, next_check_time = ? WHERE ticker IN (` + placeholders(len(chunk)) + `)`
			if g.status == stock.TickerUnverified {
				// Never undo a settled status: an unverified state only
				// moves a ticker that is still unverified in the queue.
				q += ` AND status = ?`
				in = append(in, string(stock.TickerUnverified))
			}
			if err := t.tx.Queue(ctx, q, in...); err != nil {
				return t.db.wrap(err, "set tickers")
			}
		}
	}
	return nil
}
