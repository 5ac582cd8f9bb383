package benchtest

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
)

// Preload inserts users users (user i tracks Ticker(i mod tickers)) and
// prices prices (rounded down to a multiple of tickers), spread evenly
// over the tickers, one minute apart per ticker, the newest a minute
// before T0. The tickers are verified, as a running system's are: the
// collector fetches them all every cycle. The prices go in through
// store.DB.InsertPrices, so the price reads' per-ticker answers
// (docs/reads.md) are kept exactly as the collector keeps them. It
// returns the first error.
func Preload(ctx context.Context, db *store.DB, users, tickers, prices int) error {
	err := db.Tx(ctx, func(ctx context.Context, tx stock.Tx) error {
		for i := range users {
			u := stock.User{Email: Email(i), Ticker: Ticker(i % tickers), CreateTime: T0, UpdateTime: T0}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		states := make([]stock.TickerState, min(users, tickers))
		for t := range states {
			states[t] = stock.TickerState{Ticker: Ticker(t), Status: stock.TickerVerified, Checked: T0}
		}
		return tx.SetTickers(ctx, states)
	})
	if err != nil {
		return fmt.Errorf("preload users: %w", err)
	}
	if err := preloadPrices(ctx, db, tickers, prices/tickers); err != nil {
		return fmt.Errorf("preload prices: %w", err)
	}
	return nil
}

// priceBatch is about the prices of one preload transaction: whole
// minutes of a loader's tickers, at least one minute.
const priceBatch = 20_000

// preloadPrices inserts perTicker prices of each of tickers, oldest first,
// as the collector appends them. The first minute goes in alone: it
// creates the tickers' states, and concurrent first writes of new tickers
// lock the same gaps and deadlock. Then max(2, GOMAXPROCS) loaders insert
// the rest at once, each its own tickers (t mod loaders), so that their
// transactions never wait for each other: one transaction keeps one
// server thread busy, and the server has cores to spare (1,000,000 rows
// took 61 s instead of 121 s with one loader, on a loaded 2-core machine).
func preloadPrices(ctx context.Context, db *store.DB, tickers, perTicker int) error {
	if perTicker == 0 {
		return nil
	}
	if err := insertMinutes(ctx, db, tickerSet(0, 1, tickers), 0, 1, perTicker); err != nil {
		return err
	}
	loaders := min(max(2, runtime.GOMAXPROCS(0)), tickers)
	g, ctx := errgroup.WithContext(ctx)
	for i := range loaders {
		own := tickerSet(i, loaders, tickers)
		g.Go(func() error { return insertMinutes(ctx, db, own, 1, perTicker, perTicker) })
	}
	return g.Wait()
}

// tickerSet returns the ticker numbers below tickers that are first mod
// step.
func tickerSet(first, step, tickers int) []int {
	var out []int
	for t := first; t < tickers; t += step {
		out = append(out, t)
	}
	return out
}

// insertMinutes inserts the prices of minutes [from, to) of the tickers
// own, of perTicker minutes in all, about priceBatch a transaction. It
// returns an error if a price was not inserted (the database was not
// empty).
func insertMinutes(ctx context.Context, db *store.DB, own []int, from, to, perTicker int) error {
	step := max(1, priceBatch/len(own))
	ps := make([]stock.Price, 0, step*len(own))
	for k0 := from; k0 < to; k0 += step {
		ps = ps[:0]
		for k := k0; k < min(k0+step, to); k++ {
			m := T0.Add(-time.Duration(perTicker-k) * time.Minute)
			for _, t := range own {
				ps = append(ps, stock.Price{Ticker: Ticker(t), Price: PreloadPrice(k), Currency: "USD", MarketTime: m, CollectTime: m.Add(time.Second)})
			}
		}
		n, err := db.InsertPrices(ctx, ps)
		if err == nil && n != int64(len(ps)) {
			err = fmt.Errorf("inserted %d of %d", n, len(ps))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// PreloadPrice is the price Preload gives every ticker at minute k, the
// ticker's oldest price being minute 0.
func PreloadPrice(k int) float64 { return 100 + float64(k%100) }
