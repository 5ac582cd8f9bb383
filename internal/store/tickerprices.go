package store

// The price reads' answers, kept per ticker (ticker_prices and
// price_sums; migrations/*/00005_ticker_prices.sql says what they hold):
// LatestPrice and AveragePrice read them with primary-key lookups only.
// They are written in the same transaction as every change of
// stock_prices (InsertPrices, DeletePrices), so a read of them sees exactly
// the prices committed before it, as if it read stock_prices itself (a
// DB that keeps them in memory, WithPriceCache, has its own bound).
//
// Each ticker's prices, ordered by market time, are numbered 1, 2, … (seq)
// in price_sums with the sum of the prices before each. A price newer than
// the ticker's newest (what the collector stores) extends the numbering; a
// deletion of the oldest prices (retention) drops the first numbers and
// keeps the rest; anything else (a price older than the newest, a deletion
// in the middle) renumbers the ticker from stock_prices.
//
// The numbering has a generation (ticker_prices.generation), so that
// readers may keep price_sums rows in memory (read.go): the rows of one
// (ticker, generation, seq) never change. Within a generation seqs are
// only appended after last_seq (which never goes down) or deleted from
// the front; a renumbering moves to the next generation in the same
// transaction; and a ticker whose row is deleted leaves its generation in
// ticker_generations, so that a row made for it later starts above it.

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

// sum is a double-double running sum: hi + lo carries about twice
// float64's precision, so that the difference of two prefix sums of a
// long history is as accurate as adding up the prices between them.
type sum struct{ hi, lo float64 }

// add returns s + p.
func (s sum) add(p float64) sum {
	t := s.hi + p
	b := t - s.hi
	e := (s.hi - (t - b)) + (p - b) // t + e == s.hi + p exactly (TwoSum)
	lo := s.lo + e
	hi := t + lo
	return sum{hi, lo - (hi - t)}
}

// minus returns s − o rounded to a float64.
func (s sum) minus(o sum) float64 { return (s.hi - o.hi) + (s.lo - o.lo) }

// tickerState is a ticker's row of ticker_prices. lastSeq 0 is a ticker
// without prices.
type tickerState struct {
	latest     stock.Price
	lastSeq    int64
	sum        sum // of prices 1…lastSeq
	runStart   int64
	generation int64 // of the numbering (see the top of this file)
}

// push numbers p after the ticker's newest price and returns the
// price_sums row of p.
func (st *tickerState) push(p stock.Price) []any {
	st.lastSeq++
	row := []any{p.Ticker, st.lastSeq, micros(p.MarketTime), st.sum.hi, st.sum.lo}
	st.sum = st.sum.add(p.Price)
	if st.lastSeq == 1 || p.Currency != st.latest.Currency {
		st.runStart = st.lastSeq
	}
	st.latest = p
	return row
}

const tickerPriceColumns = `ticker, id, price, currency, market_time, collect_time, last_seq, sum_hi, sum_lo, run_start, generation`

// lockTickers returns the states of tickers (sorted, at most insertChunk),
// locked until the transaction ends, so that writers of one ticker's
// prices take turns. A ticker without a row gets a placeholder row to
// lock (lastSeq 0), which the transaction fills or deletes, with the
// generation after the one the ticker last had (ticker_generations).
func (t *writeTx) lockTickers(ctx context.Context, tickers []string) (map[string]*tickerState, error) {
	t.writeTickers(tickers)
	states, err := t.selectStates(ctx, tickers)
	if err != nil || len(states) == len(tickers) {
		return states, err
	}
	var missing []string
	args := []any{}
	for _, tk := range tickers {
		if states[tk] == nil {
			missing = append(missing, tk)
			args = append(args, tk)
		}
	}
	t.pricesChanged = true // a placeholder, filled or deleted before the commit
	_, err = t.tx.ExecContext(ctx, `INSERT INTO ticker_prices (`+tickerPriceColumns+`) VALUES `+
		strings.TrimSuffix(strings.Repeat("(?, 0, 0, '', 0, 0, 0, 0, 0, 0, 0), ", len(missing)), ", ")+" "+t.db.d.ignoreConflict("ticker"), args...)
	if err != nil {
		return nil, t.db.wrap(err, "lock tickers")
	}
	// A concurrent writer may have committed a row first: read what is
	// there now.
	more, err := t.selectStates(ctx, missing)
	if err != nil {
		return nil, err
	}
	maps.Copy(states, more)
	for _, tk := range missing {
		if states[tk] == nil { // cannot happen: the row is ours or locked
			return nil, t.db.wrap(errors.New("ticker "+tk+": state row vanished"), "lock tickers")
		}
	}
	return states, t.nextGenerations(ctx, missing, states)
}

// nextGenerations gives the placeholders (lastSeq 0) among the states of
// tickers the generation after the one recorded when their row was last
// deleted. It reads after the placeholders' INSERT: whoever deleted a row
// held it until its commit, so that deletion is seen; the next must wait
// for this transaction.
func (t *writeTx) nextGenerations(ctx context.Context, tickers []string, states map[string]*tickerState) error {
	args := make([]any, len(tickers))
	for i, tk := range tickers {
		args[i] = tk
	}
	err := t.eachRow(ctx, func(rows *sql.Rows) error {
		var (
			tk  string
			gen int64
		)
		if err := rows.Scan(&tk, &gen); err != nil {
			return err
		}
		if st := states[tk]; st != nil && st.lastSeq == 0 {
			st.generation = gen + 1
		}
		return nil
	}, `SELECT ticker, generation FROM ticker_generations WHERE ticker IN (`+placeholders(len(tickers))+`)`, args...)
	return t.db.wrap(err, "lock tickers")
}

// dropStates deletes the per-ticker rows of states (at most insertChunk)
// and records their generations in ticker_generations.
func (t *writeTx) dropStates(ctx context.Context, states []*tickerState) error {
	tickers := make([]any, len(states))
	gens := make([]any, 0, 2*len(states))
	for i, st := range states {
		tickers[i] = st.latest.Ticker
		gens = append(gens, st.latest.Ticker, st.generation)
	}
	for _, table := range []string{"price_sums", "ticker_prices"} {
		if _, err := t.tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE ticker IN (`+placeholders(len(states))+`)`, tickers...); err != nil {
			return t.db.wrap(err, "drop ticker prices")
		}
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO ticker_generations (ticker, generation) VALUES `+
		strings.TrimSuffix(strings.Repeat("(?, ?), ", len(states)), ", ")+" "+t.db.d.upsert("ticker", "generation"), gens...)
	return t.db.wrap(err, "drop ticker prices")
}

func (t *writeTx) selectStates(ctx context.Context, tickers []string) (map[string]*tickerState, error) {
	args := make([]any, len(tickers))
	for i, tk := range tickers {
		args[i] = tk
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT `+tickerPriceColumns+` FROM ticker_prices WHERE ticker IN (`+
		placeholders(len(tickers))+`) ORDER BY ticker`+t.db.d.lockRows, args...)
	if err != nil {
		return nil, t.db.wrap(err, "lock tickers")
	}
	defer rows.Close()
	states := map[string]*tickerState{}
	for rows.Next() {
		st, err := scanState(rows)
		if err != nil {
			return nil, t.db.wrap(err, "lock tickers")
		}
		states[st.latest.Ticker] = &st
	}
	return states, t.db.wrap(rows.Err(), "lock tickers")
}

// scanState scans the columns tickerPriceColumns of a row of
// ticker_prices, then extra.
func scanState(s scanner, extra ...any) (tickerState, error) {
	var (
		st     tickerState
		mt, ct int64
	)
	p := &st.latest
	err := s.Scan(append([]any{&p.Ticker, &p.ID, &p.Price, &p.Currency, &mt, &ct, &st.lastSeq, &st.sum.hi, &st.sum.lo, &st.runStart, &st.generation}, extra...)...)
	p.MarketTime, p.CollectTime = fromMicros(mt), fromMicros(ct)
	return st, err
}

// insertPrices stores prices, skipping those whose (ticker, market time)
// is stored (or comes twice: the first wins), and keeps the tickers'
// states exact.
func (t *writeTx) insertPrices(ctx context.Context, ps []stock.Price) (int64, error) {
	type key struct {
		ticker string
		mt     int64
	}
	seen := make(map[key]bool, len(ps))
	byTicker := map[string][]stock.Price{}
	for _, p := range ps {
		k := key{p.Ticker, micros(p.MarketTime)}
		if !seen[k] {
			seen[k] = true
			byTicker[p.Ticker] = append(byTicker[p.Ticker], p)
		}
	}
	var total int64
	for chunk := range slices.Chunk(slices.Sorted(maps.Keys(byTicker)), insertChunk) {
		n, err := t.insertTickers(ctx, chunk, byTicker)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// insertTickers stores the prices of tickers (sorted, at most
// insertChunk) and updates their states.
func (t *writeTx) insertTickers(ctx context.Context, tickers []string, byTicker map[string][]stock.Price) (int64, error) {
	states, err := t.lockTickers(ctx, tickers)
	if err != nil {
		return 0, err
	}
	sp := splitNewer(tickers, byTicker, states)
	n, err := t.insertPriceRows(ctx, sp.appends)
	if err != nil {
		return 0, err
	}
	redo := map[string]bool{}
	if n != int64(len(sp.appends)) {
		// A newer price than the state's was already stored: the state
		// was behind (prices written without it). Renumber from the table.
		for _, tk := range sp.extend {
			redo[tk] = true
		}
		sp.extend = nil
	}
	m, err := t.insertPriceRows(ctx, sp.older)
	if err != nil {
		return 0, err
	}
	if m > 0 {
		for _, tk := range sp.olderTickers {
			redo[tk] = true
		}
		sp.extend = slices.DeleteFunc(sp.extend, func(tk string) bool { return redo[tk] })
	}
	if err := t.extend(ctx, sp.extend, sp.appendOf, states); err != nil {
		return 0, err
	}
	if err := t.afterNewest(ctx, sp.extend, sp.appendOf); err != nil {
		return 0, err
	}
	for _, tk := range slices.Sorted(maps.Keys(redo)) {
		if err := t.renumber(ctx, states[tk]); err != nil {
			return 0, err
		}
	}
	if n+m > 0 || len(redo) > 0 {
		t.pricesChanged = true
	}
	return n + m, nil
}

// newerSplit is a batch of prices split by where they go: after each
// ticker's newest (appendOf, all of them in appends; extend names those
// tickers) or before it (older; olderTickers names those tickers).
type newerSplit struct {
	appendOf             map[string][]stock.Price
	appends, older       []stock.Price
	extend, olderTickers []string
}

// splitNewer splits the prices of tickers, sorted by market time, against
// their states. A price at a ticker's newest market time is stored
// already and goes nowhere.
func splitNewer(tickers []string, byTicker map[string][]stock.Price, states map[string]*tickerState) newerSplit {
	sp := newerSplit{appendOf: map[string][]stock.Price{}}
	for _, tk := range tickers {
		st, ps := states[tk], byTicker[tk]
		slices.SortFunc(ps, byMarketTime)
		latest, hadOlder := micros(st.latest.MarketTime), false
		for _, p := range ps {
			switch mt := micros(p.MarketTime); {
			case st.lastSeq == 0 || mt > latest:
				sp.appendOf[tk] = append(sp.appendOf[tk], p)
			case mt < latest:
				sp.older = append(sp.older, p)
				hadOlder = true
			}
		}
		if hadOlder {
			sp.olderTickers = append(sp.olderTickers, tk)
		}
		if len(sp.appendOf[tk]) > 0 {
			sp.appends = append(sp.appends, sp.appendOf[tk]...)
			sp.extend = append(sp.extend, tk)
		}
	}
	return sp
}

// afterNewest writes what the prices that moved a ticker's newest on, in
// order, cause: events (events.go) and alert notifications (alerts.go). A
// renumbered ticker's prices cause none: its state was behind, so which
// price came after which is not known here.
func (t *writeTx) afterNewest(ctx context.Context, extend []string, appendOf map[string][]stock.Price) error {
	evs, err := t.priceEvents(extend, appendOf)
	if err != nil {
		return t.db.wrap(err, "price events")
	}
	if err := t.insertEvents(ctx, evs); err != nil {
		return err
	}
	return t.notifyCrossings(ctx, extend, appendOf)
}

// insertPriceRows inserts ps, skipping those whose (ticker, market time)
// is stored, and returns how many it added.
func (t *writeTx) insertPriceRows(ctx context.Context, ps []stock.Price) (int64, error) {
	var total int64
	for chunk := range slices.Chunk(ps, insertChunk) {
		args := make([]any, 0, 5*len(chunk))
		for _, p := range chunk {
			args = append(args, p.Ticker, p.Price, p.Currency, micros(p.MarketTime), micros(p.CollectTime))
		}
		res, err := t.tx.ExecContext(ctx, `INSERT INTO stock_prices (ticker, price, currency, market_time, collect_time) VALUES `+
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", len(chunk)), ", ")+" "+t.db.d.ignoreConflict("ticker", "market_time"), args...)
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

// extend numbers the prices appendOf[tk], all newer than tk's newest and
// just inserted, after the ticker's, for each of tickers.
func (t *writeTx) extend(ctx context.Context, tickers []string, appendOf map[string][]stock.Price, states map[string]*tickerState) error {
	if len(tickers) == 0 {
		return nil
	}
	var rows [][]any
	for _, tk := range tickers {
		for _, p := range appendOf[tk] {
			rows = append(rows, states[tk].push(p))
		}
	}
	if err := t.insertSums(ctx, rows); err != nil {
		return err
	}
	// The ids of the new newest prices.
	var (
		where []string
		args  []any
	)
	for _, tk := range tickers {
		where = append(where, "(ticker = ? AND market_time = ?)")
		args = append(args, tk, micros(states[tk].latest.MarketTime))
	}
	res, err := t.tx.QueryContext(ctx, `SELECT ticker, id FROM stock_prices WHERE `+strings.Join(where, " OR "), args...)
	if err != nil {
		return t.db.wrap(err, "price ids")
	}
	defer res.Close()
	for res.Next() {
		var (
			tk string
			id int64
		)
		if err := res.Scan(&tk, &id); err != nil {
			return t.db.wrap(err, "price ids")
		}
		states[tk].latest.ID = id
	}
	if err := res.Err(); err != nil {
		return t.db.wrap(err, "price ids")
	}
	res.Close()
	out := make([]*tickerState, len(tickers))
	for i, tk := range tickers {
		out[i] = states[tk]
	}
	return t.writeStates(ctx, out)
}

// insertSums inserts price_sums rows (ticker, seq, market_time,
// before_hi, before_lo).
func (t *writeTx) insertSums(ctx context.Context, rows [][]any) error {
	for chunk := range slices.Chunk(rows, insertChunk) {
		args := make([]any, 0, 5*len(chunk))
		for _, r := range chunk {
			args = append(args, r...)
		}
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO price_sums (ticker, seq, market_time, before_hi, before_lo) VALUES `+
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", len(chunk)), ", "), args...); err != nil {
			return t.db.wrap(err, "insert price sums")
		}
	}
	return nil
}

// writeStates stores the states (at most insertChunk) in ticker_prices.
func (t *writeTx) writeStates(ctx context.Context, states []*tickerState) error {
	args := make([]any, 0, 11*len(states))
	for _, st := range states {
		p := st.latest
		args = append(args, p.Ticker, p.ID, p.Price, p.Currency, micros(p.MarketTime), micros(p.CollectTime), st.lastSeq, st.sum.hi, st.sum.lo, st.runStart, st.generation)
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO ticker_prices (`+tickerPriceColumns+`) VALUES `+
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ", len(states)), ", ")+" "+
		t.db.d.upsert("ticker", strings.Split(tickerPriceColumns, ", ")[1:]...), args...)
	return t.db.wrap(err, "write ticker prices")
}

// renumberPage bounds the prices renumber holds at once.
const renumberPage = 5000

// renumber rebuilds the state (was, locked) and price_sums rows of a
// ticker from its prices, a page at a time, in the next generation, or
// deletes them when it has none.
func (t *writeTx) renumber(ctx context.Context, was *tickerState) error {
	tk := was.latest.Ticker
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM price_sums WHERE ticker = ?`, tk); err != nil {
		return t.db.wrap(err, "renumber prices")
	}
	st := tickerState{latest: stock.Price{Ticker: tk}, generation: was.generation + 1}
	after := int64(-1 << 63)
	for {
		page, err := t.pricesAfter(ctx, tk, after)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		rows := make([][]any, len(page))
		for i, p := range page {
			rows[i] = st.push(p)
		}
		if err := t.insertSums(ctx, rows); err != nil {
			return err
		}
		after = micros(page[len(page)-1].MarketTime)
		if len(page) < renumberPage {
			break
		}
	}
	if st.lastSeq == 0 {
		return t.dropStates(ctx, []*tickerState{&st})
	}
	return t.writeStates(ctx, []*tickerState{&st})
}

// pricesAfter returns up to renumberPage prices of tk with a market time
// after the given one, oldest first.
func (t *writeTx) pricesAfter(ctx context.Context, tk string, after int64) ([]stock.Price, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+priceColumns+` FROM stock_prices p `+t.db.d.priceIndex+`
		WHERE p.ticker = ? AND p.market_time > ? ORDER BY p.market_time LIMIT ?`, tk, after, renumberPage)
	return collect(t.db, "renumber prices", rows, err, func(rows *sql.Rows) (stock.Price, error) { return scanPrice(rows) })
}

// deletePrices deletes the prices collected before t and keeps the
// tickers' states exact: a ticker that lost its oldest prices (as under
// retention) drops their numbers, one that lost all loses its state, and
// one that lost others is renumbered.
func (t *writeTx) deletePrices(ctx context.Context, before time.Time) (int64, error) {
	b := micros(before)
	rows, err := t.tx.QueryContext(ctx, `SELECT DISTINCT ticker FROM stock_prices WHERE collect_time < ? ORDER BY ticker`, b)
	if err != nil {
		return 0, t.db.wrap(err, "delete prices")
	}
	tickers, err := scanStrings(rows)
	if err != nil {
		return 0, t.db.wrap(err, "delete prices")
	}
	var total int64
	for chunk := range slices.Chunk(tickers, insertChunk) {
		n, err := t.deleteTickers(ctx, chunk, b)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// deleteTickers deletes the prices of tickers (sorted, at most
// insertChunk) collected before b and updates their states.
func (t *writeTx) deleteTickers(ctx context.Context, tickers []string, b int64) (int64, error) {
	states, err := t.lockTickers(ctx, tickers)
	if err != nil {
		return 0, err
	}
	in := placeholders(len(tickers))
	args := make([]any, 0, len(tickers)+1)
	args = append(args, b)
	for _, tk := range tickers {
		args = append(args, tk)
	}
	// What goes, per ticker, now that no one else writes these tickers.
	goneOf, err := t.goneBefore(ctx, in, args)
	if err != nil {
		return 0, err
	}
	res, err := t.tx.ExecContext(ctx, `DELETE FROM stock_prices WHERE collect_time < ? AND ticker IN (`+in+`)`, args...)
	if err != nil {
		return 0, t.db.wrap(err, "delete prices")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, t.db.wrap(err, "delete prices")
	}
	if n > 0 {
		t.pricesChanged = true
	}
	oldestLeft, firstSeq, err := t.leftAfter(ctx, in, args[1:])
	if err != nil {
		return 0, err
	}
	var fix sumsFix
	for _, tk := range tickers {
		fix.plan(tk, goneOf[tk], states[tk], oldestLeft, firstSeq)
	}
	return n, t.applySumsFix(ctx, fix)
}

// gone is what a purge removes of one ticker: its newest market time and
// how many prices.
type gone struct{ newest, count int64 }

// goneBefore reads, per ticker of in (args: the cut-off, then the
// tickers), what a purge of prices collected before the cut-off removes.
func (t *writeTx) goneBefore(ctx context.Context, in string, args []any) (map[string]gone, error) {
	goneOf := map[string]gone{}
	err := t.eachRow(ctx, func(rows *sql.Rows) error {
		var (
			tk string
			g  gone
		)
		if err := rows.Scan(&tk, &g.newest, &g.count); err != nil {
			return err
		}
		goneOf[tk] = g
		return nil
	}, `SELECT ticker, MAX(market_time), COUNT(*) FROM stock_prices WHERE collect_time < ? AND ticker IN (`+in+`) GROUP BY ticker`, args...)
	return goneOf, t.db.wrap(err, "delete prices")
}

// leftAfter reads, per ticker of in (args: the tickers), what stays: the
// oldest remaining market time, and the first number in price_sums.
func (t *writeTx) leftAfter(ctx context.Context, in string, args []any) (oldestLeft, firstSeq map[string]int64, err error) {
	oldestLeft, firstSeq = map[string]int64{}, map[string]int64{}
	for _, q := range []struct {
		m     map[string]int64
		query string
	}{
		{oldestLeft, `SELECT ticker, MIN(market_time) FROM stock_prices WHERE ticker IN (` + in + `) GROUP BY ticker`},
		{firstSeq, `SELECT ticker, MIN(seq) FROM price_sums WHERE ticker IN (` + in + `) GROUP BY ticker`},
	} {
		err := t.eachRow(ctx, func(rows *sql.Rows) error {
			var (
				tk string
				v  int64
			)
			err := rows.Scan(&tk, &v)
			q.m[tk] = v
			return err
		}, q.query, args...)
		if err != nil {
			return nil, nil, t.db.wrap(err, "delete prices")
		}
	}
	return oldestLeft, firstSeq, nil
}

// sumsFix is what a purge must change in the per-ticker rows.
type sumsFix struct {
	emptied, redo, moved []*tickerState
	cut                  []any // (ticker, first seq kept) pairs
}

// plan decides what ticker tk's rows need after a purge removed g of its
// prices: nothing, dropping them (no price left, or only the placeholder
// lockTickers made), cutting the numbers of the oldest prices (only those
// went), or renumbering.
func (f *sumsFix) plan(tk string, g gone, st *tickerState, oldestLeft, firstSeq map[string]int64) {
	oldest, left := oldestLeft[tk]
	first, numbered := firstSeq[tk]
	switch {
	case st.lastSeq == 0 && !left:
		// The placeholder lockTickers made: nothing to keep of it. (A purge
		// that waited for another one that emptied the ticker meets this.)
		f.emptied = append(f.emptied, st)
	case st.lastSeq == 0:
		// Prices without a state (written before it existed): build it.
		f.redo = append(f.redo, st)
	case g.count == 0:
	case !left:
		f.emptied = append(f.emptied, st)
	case numbered && oldest > g.newest && first+g.count <= st.lastSeq:
		// The oldest prices went: their numbers go, the others' stand.
		keep := first + g.count
		f.cut = append(f.cut, tk, keep)
		if st.runStart < keep {
			st.runStart = keep
			f.moved = append(f.moved, st)
		}
	default:
		f.redo = append(f.redo, st)
	}
}

// applySumsFix writes what plan decided.
func (t *writeTx) applySumsFix(ctx context.Context, f sumsFix) error {
	if len(f.emptied) > 0 {
		if err := t.dropStates(ctx, f.emptied); err != nil {
			return err
		}
	}
	if len(f.cut) > 0 {
		q := `DELETE FROM price_sums WHERE ` + strings.TrimSuffix(strings.Repeat("(ticker = ? AND seq < ?) OR ", len(f.cut)/2), " OR ")
		if _, err := t.tx.ExecContext(ctx, q, f.cut...); err != nil {
			return t.db.wrap(err, "delete prices")
		}
	}
	if len(f.moved) > 0 {
		if err := t.writeStates(ctx, f.moved); err != nil {
			return err
		}
	}
	for _, st := range f.redo {
		if err := t.renumber(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

// eachRow runs query in the transaction and calls f on every row.
func (t *writeTx) eachRow(ctx context.Context, f func(*sql.Rows) error, query string, args ...any) error {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// byMarketTime orders prices oldest first.
func byMarketTime(a, b stock.Price) int {
	return cmp.Compare(micros(a.MarketTime), micros(b.MarketTime))
}
