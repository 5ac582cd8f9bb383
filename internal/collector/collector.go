// Package collector runs Stockwatch's poll loop: every interval it reads
// the distinct tickers of all users, fetches a quote for each from the
// quote source with bounded concurrency, and stores them in one batch.
package collector

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// Quoter fetches the current quote of a ticker. *breaker.Breaker (around
// *yahoo.Client) implements it.
type Quoter interface {
	Quote(ctx context.Context, ticker string) (stock.Quote, error)
}

// Store is what the collector needs of the database. *store.DB implements it.
type Store interface {
	Tickers(ctx context.Context) ([]string, error)
	// ClaimTickers claims for owner, until the given time, the tickers it
	// holds or whose claims have expired by now, and returns those.
	ClaimTickers(ctx context.Context, owner string, tickers []string, now, until time.Time) ([]string, error)
	// ReleaseClaims gives up owner's claims.
	ReleaseClaims(ctx context.Context, owner string) error
	// ReleaseTickers gives up owner's claims of tickers.
	ReleaseTickers(ctx context.Context, owner string, tickers []string) error
	// ForgetClaims deletes lapsed claims of tickers no user tracks.
	ForgetClaims(ctx context.Context, now time.Time) (int64, error)
	InsertPrices(ctx context.Context, ps []stock.Price) (int64, error)
	DeletePrices(ctx context.Context, before time.Time) (int64, error)
}

// Config tunes a Collector. Zero values take the defaults.
type Config struct {
	Interval    time.Duration // between cycle starts (default 60s)
	Concurrency int           // quotes in flight at once (default 4)
	Retention   time.Duration // delete prices older than this each cycle; 0 keeps all
	// Owner names this collector in the claims it shares the tickers with
	// other collectors by (default: a random id).
	Owner  string
	Now    func() time.Time
	Logger *slog.Logger
	// OnCycle, when set, receives every cycle's result (for metrics).
	OnCycle func(Result)
	// KeepClaim, when set, tells the fetch errors after which the
	// collector keeps a ticker's claim instead of handing it to another
	// collector: rate limiting (yahoo.IsRateLimited), which collectors
	// behind the same address would meet too, while this one honours
	// Retry-After.
	KeepClaim func(error) bool
}

// Result is what one cycle did.
type Result struct {
	Tickers  int           // distinct tickers of all users
	Skipped  int           // of those, tickers another collector has claimed
	Fetched  int           // quotes received
	Unknown  int           // tickers the source does not know
	Failed   int           // tickers whose fetch failed (including breaker open)
	Released int           // of those, claims given up for another collector to try
	Inserted int64         // new price rows
	Purged   int64         // prices deleted by retention
	Duration time.Duration // wall time of the cycle
	Err      error         // a database error that cut the cycle short

	// Of the fetched, quotes not stored because their market time cannot
	// be right (stock.CheckQuoteTime): ahead of the clock, or ancient.
	RejectedFuture int
	RejectedPast   int
}

// Collector is the poll loop. Create it with New.
type Collector struct {
	st  Store
	q   Quoter
	cfg Config
	log *slog.Logger
	mu  sync.Mutex // held for a whole cycle: cycles never overlap
}

// New returns a Collector that reads tickers from st and quotes from q.
func New(st Store, q Quoter, cfg Config) *Collector {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Owner == "" {
		cfg.Owner = rand.Text()[:16]
	}
	return &Collector{st: st, q: q, cfg: cfg, log: cfg.Logger}
}

// Run runs a cycle at once and then one every interval until ctx is done.
// A cycle that overruns the interval delays the next one; cycles never
// stack. Run returns nil when ctx is done, after releasing its claims so
// that another collector takes its tickers over at once; a failing cycle
// is logged and the next one carries on.
func (c *Collector) Run(ctx context.Context) error {
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		c.Cycle(ctx)
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := c.st.ReleaseClaims(rctx, c.cfg.Owner); err != nil {
				c.log.Warn("releasing ticker claims failed", "err", err)
			}
			return nil
		case <-t.C: // a Ticker drops ticks a slow cycle missed
		}
	}
}

// Cycle runs one collection: tickers, quotes, one batched insert, then
// retention. A ticker that fails never loses the others' rows. It returns
// what it did; Result.Err holds a database error, if any.
func (c *Collector) Cycle(ctx context.Context) Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	start := time.Now()
	res := c.cycle(ctx)
	res.Duration = time.Since(start)
	if ctx.Err() != nil && res.Err == nil {
		res.Err = ctx.Err()
	}
	level := slog.LevelInfo
	if res.Err != nil || res.Failed > 0 {
		level = slog.LevelWarn
	}
	attrs := []any{"tickers", res.Tickers, "skipped", res.Skipped, "fetched", res.Fetched, "unknown", res.Unknown, "failed", res.Failed,
		"released", res.Released, "inserted", res.Inserted, "purged", res.Purged, "duration", res.Duration}
	if res.Err != nil {
		attrs = append(attrs, "err", res.Err)
	}
	c.log.Log(ctx, level, "collection cycle", attrs...)
	if res.Duration > c.claimFor() && ctx.Err() == nil {
		c.log.Warn("collection cycle outlasted its ticker claims: another collector may fetch the same tickers; raise -concurrency or -interval",
			"duration", res.Duration, "claims_last", c.claimFor())
	}
	if c.cfg.OnCycle != nil {
		c.cfg.OnCycle(res)
	}
	return res
}

func (c *Collector) cycle(ctx context.Context) Result {
	var res Result
	now := c.cfg.Now().UTC()
	all, err := c.st.Tickers(ctx)
	if err != nil {
		res.Err = err
		return res
	}
	res.Tickers = len(all)
	// Claim until shortly before our own next cycle, so that we renew our
	// claims then and a collector that dies loses them within an interval.
	tickers, err := c.st.ClaimTickers(ctx, c.cfg.Owner, all, now, now.Add(c.claimFor()))
	if err != nil {
		res.Err = err
		return res
	}
	res.Skipped = len(all) - len(tickers)
	quotes, failed := c.fetch(ctx, tickers, &res)
	if len(failed) > 0 && ctx.Err() == nil {
		// Another collector may reach the upstream where this one cannot
		// (or is holding off after a 429): let it try these next.
		if err := c.st.ReleaseTickers(ctx, c.cfg.Owner, failed); err != nil {
			c.log.Warn("releasing failed tickers' claims failed", "err", err)
		} else {
			res.Released = len(failed)
		}
	}

	prices := make([]stock.Price, 0, len(quotes))
	for _, q := range quotes {
		if err := stock.CheckQuoteTime(q, c.cfg.Now()); err != nil {
			c.reject(&res, err)
			continue
		}
		prices = append(prices, stock.Price{Ticker: q.Ticker, Price: q.Price, Currency: q.Currency, MarketTime: q.MarketTime, CollectTime: now})
	}
	if len(prices) > 0 {
		if res.Inserted, err = c.st.InsertPrices(ctx, prices); err != nil {
			res.Err = err
			return res
		}
	}
	if _, err := c.st.ForgetClaims(ctx, now); err != nil && ctx.Err() == nil {
		c.log.Warn("forgetting lapsed ticker claims failed", "err", err) // housekeeping: next cycle
	}
	if c.cfg.Retention > 0 {
		if res.Purged, err = c.st.DeletePrices(ctx, now.Add(-c.cfg.Retention)); err != nil {
			res.Err = err
		}
	}
	return res
}

// reject counts and logs a quote whose market time cannot be right: stored,
// a quote from the future would stay the latest price until its time came.
func (c *Collector) reject(res *Result, err error) {
	if errors.Is(err, stock.ErrFutureQuote) {
		res.RejectedFuture++
	} else {
		res.RejectedPast++
	}
	c.log.Warn("quote not stored", "err", err)
}

// claimFor is how long a cycle's claims last: 4/5 of an interval, so that
// the next cycle renews them and a collector that dies loses them within
// one.
func (c *Collector) claimFor() time.Duration { return c.cfg.Interval * 4 / 5 }

// fetch quotes every ticker with at most Concurrency requests in flight,
// and returns the quotes received and the tickers whose fetch failed (but
// for those whose claim KeepClaim keeps).
func (c *Collector) fetch(ctx context.Context, tickers []string, res *Result) (quotes []stock.Quote, failed []string) {
	type outcome struct {
		q   stock.Quote
		err error
	}
	outs := make([]outcome, len(tickers))
	sem := make(chan struct{}, c.cfg.Concurrency)
	var wg sync.WaitGroup
	for i, t := range tickers {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			outs[i].err = ctx.Err()
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			q, err := c.q.Quote(ctx, t)
			if err == nil && q.Ticker != t {
				q.Ticker = t // stored under the ticker users track
			}
			outs[i] = outcome{q, err}
		})
	}
	wg.Wait()
	for i, o := range outs {
		switch {
		case o.err == nil:
			res.Fetched++
			quotes = append(quotes, o.q)
		case errors.Is(o.err, stock.ErrUnknownTicker):
			res.Unknown++
			c.log.Debug("unknown ticker", "ticker", tickers[i])
		default:
			res.Failed++
			if c.cfg.KeepClaim == nil || !c.cfg.KeepClaim(o.err) {
				failed = append(failed, tickers[i])
			}
			c.log.Debug("quote failed", "ticker", tickers[i], "err", o.err)
		}
	}
	return quotes, failed
}
