// Package benchtest holds what Stockwatch's benchmarks share: the preloaded
// data set and the ceiling gRPC service. The stockwatch-bench binary links
// it, so it does not import testing; the Go benchmarks' runner is in
// benchrun.
package benchtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
)

// T0 is the preload's clock: the newest price is a minute before it.
var T0 = time.Date(2026, 11, 27, 14, 30, 0, 0, time.UTC)

// The Go benchmarks' default preload: Users users spread over Tickers
// tickers, and Prices prices spread evenly over the tickers.
const (
	Users   = 1000
	Tickers = 100
	Prices  = 100_000
)

// Ticker is the i-th preloaded ticker.
func Ticker(i int) string { return fmt.Sprintf("T%03d", i) }

// Email is the i-th preloaded user's e-mail.
func Email(i int) string { return fmt.Sprintf("user%06d@bench.example", i) }

// Preload inserts users users (user i tracks Ticker(i mod tickers)) and
// prices prices, spread evenly over the tickers, one minute apart per
// ticker. The tickers are verified, as a running system's are: the
// collector fetches them all every cycle. It returns the first error.
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
	const batch = 20_000
	ps := make([]stock.Price, 0, batch)
	flush := func() error {
		n, err := db.InsertPrices(ctx, ps)
		if err == nil && n != int64(len(ps)) {
			err = fmt.Errorf("inserted %d of %d", n, len(ps))
		}
		ps = ps[:0]
		return err
	}
	perTicker := prices / tickers
	for k := range perTicker {
		m := T0.Add(-time.Duration(perTicker-k) * time.Minute)
		for t := range tickers {
			ps = append(ps, stock.Price{Ticker: Ticker(t), Price: 100 + float64(k%100), Currency: "USD", MarketTime: m, CollectTime: m.Add(time.Second)})
			if len(ps) == batch {
				if err := flush(); err != nil {
					return fmt.Errorf("preload prices: %w", err)
				}
			}
		}
	}
	if len(ps) > 0 {
		if err := flush(); err != nil {
			return fmt.Errorf("preload prices: %w", err)
		}
	}
	return nil
}

// UUID returns a random version-4 UUID from rng.
func UUID(rng *rand.Rand) string {
	var u [16]byte
	for i := range 2 {
		v := rng.Uint64()
		for j := range 8 {
			u[8*i+j] = byte(v >> (8 * j))
		}
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
