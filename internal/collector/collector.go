// Package collector runs Stockwatch's poll loop: every interval it reads
// the distinct tickers of all users, fetches a quote for each from the
// quote source with bounded concurrency, and stores them in one batch.
//
// It also settles what Yahoo says about each ticker: a quote makes it
// verified, "no such symbol" makes it unknown. Verified tickers are
// fetched every cycle and first; the others (unverified, or unknown and
// due for a re-check) at most Config.MaxUnverified a cycle, oldest in the
// queue first, so that a flood of new tickers cannot delay the prices of
// real ones. An unknown ticker is re-checked after a delay that doubles
// with each unknown answer.
package collector

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"slices"
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
	// Tickers returns the distinct tickers of all users, sorted, with
	// their states.
	Tickers(ctx context.Context) ([]stock.TickerState, error)
	// ClaimTickers claims for owner, until the given time, the tickers it
	// holds or whose claims have expired by now, and returns those.
	ClaimTickers(ctx context.Context, owner string, tickers []string, now, until time.Time) ([]string, error)
	// ReleaseClaims gives up owner's claims.
	ReleaseClaims(ctx context.Context, owner string) error
	// ReleaseTickers gives up owner's claims of tickers.
	ReleaseTickers(ctx context.Context, owner string, tickers []string) error
	// ForgetClaims deletes lapsed claims of tickers no user tracks.
	ForgetClaims(ctx context.Context, now time.Time) (int64, error)
	// SaveQuotes stores prices and tickers' states in one transaction and
	// returns how many prices it added.
	SaveQuotes(ctx context.Context, ps []stock.Price, states []stock.TickerState) (int64, error)
	// ForgetTickers deletes the states of tickers no user tracks that
	// were settled before the given time.
	ForgetTickers(ctx context.Context, before time.Time) (int64, error)
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
	// MaxUnverified bounds the tickers not known to be verified
	// (unverified, or unknown and due for a re-check) fetched per cycle;
	// the others wait for a later cycle. Verified tickers are always
	// fetched. 0 (the default): no bound.
	MaxUnverified int
	// RecheckUnknown is how long an unknown ticker is left alone after a
	// first unknown answer (default Interval); each further one doubles
	// the delay, up to RecheckUnknownMax (default 24h). States of
	// tickers no user tracks any more are forgotten after
	// RecheckUnknownMax.
	RecheckUnknown    time.Duration
	RecheckUnknownMax time.Duration
}

// Result is what one cycle did.
type Result struct {
	Tickers  int           // distinct tickers of all users
	Waiting  int           // of those, unverified or unknown ones left for a later cycle
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
	if cfg.RecheckUnknown <= 0 {
		cfg.RecheckUnknown = cfg.Interval
	}
	if cfg.RecheckUnknownMax <= 0 {
		cfg.RecheckUnknownMax = 24 * time.Hour
	}
	cfg.RecheckUnknownMax = max(cfg.RecheckUnknownMax, cfg.RecheckUnknown)
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
	attrs := []any{"tickers", res.Tickers, "waiting", res.Waiting, "skipped", res.Skipped, "fetched", res.Fetched, "unknown", res.Unknown, "failed", res.Failed,
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
	due, waiting := c.plan(all, now)
	res.Waiting = waiting
	tickers, err := c.claim(ctx, due, now)
	if err != nil {
		res.Err = err
		return res
	}
	res.Skipped = len(due) - len(tickers)
	quotes, states, failed := c.fetch(ctx, tickers, now, &res)
	if len(failed) > 0 && ctx.Err() == nil {
		// Another collector may reach the upstream where this one cannot
		// (or is holding off after a 429): let it try these next.
		if err := c.st.ReleaseTickers(ctx, c.cfg.Owner, failed); err != nil {
			c.log.Warn("releasing failed tickers' claims failed", "err", err)
		} else {
			res.Released = len(failed)
		}
	}
	if prices := c.prices(quotes, now, &res); len(prices) > 0 || len(states) > 0 {
		if res.Inserted, err = c.st.SaveQuotes(ctx, prices, states); err != nil {
			res.Err = err
			return res
		}
	}
	c.housekeep(ctx, now, &res)
	return res
}

// claim claims the due tickers until shortly before our own next cycle,
// so that we renew our claims then and a collector that dies loses them
// within an interval. It returns those it got, in due's order (verified
// tickers go out first).
func (c *Collector) claim(ctx context.Context, due []stock.TickerState, now time.Time) ([]stock.TickerState, error) {
	names := make([]string, len(due))
	for i, s := range due {
		names[i] = s.Ticker
	}
	claimed, err := c.st.ClaimTickers(ctx, c.cfg.Owner, names, now, now.Add(c.claimFor()))
	if err != nil {
		return nil, err
	}
	mine := make(map[string]bool, len(claimed))
	for _, t := range claimed {
		mine[t] = true
	}
	return slices.DeleteFunc(slices.Clone(due), func(s stock.TickerState) bool { return !mine[s.Ticker] }), nil
}

// prices turns the quotes into the prices to store, collected at now,
// leaving out (and counting in res) those whose market time cannot be
// right.
func (c *Collector) prices(quotes []stock.Quote, now time.Time, res *Result) []stock.Price {
	prices := make([]stock.Price, 0, len(quotes))
	for _, q := range quotes {
		if err := stock.CheckQuoteTime(q, c.cfg.Now()); err != nil {
			c.reject(res, err)
			continue
		}
		prices = append(prices, stock.Price{Ticker: q.Ticker, Price: q.Price, Currency: q.Currency, MarketTime: q.MarketTime, CollectTime: now})
	}
	return prices
}

// housekeep forgets lapsed claims and untracked tickers (a failure is
// logged and left for the next cycle) and applies the retention, whose
// failure is the cycle's error.
func (c *Collector) housekeep(ctx context.Context, now time.Time, res *Result) {
	if _, err := c.st.ForgetClaims(ctx, now); err != nil && ctx.Err() == nil {
		c.log.Warn("forgetting lapsed ticker claims failed", "err", err)
	}
	if _, err := c.st.ForgetTickers(ctx, now.Add(-c.cfg.RecheckUnknownMax)); err != nil && ctx.Err() == nil {
		c.log.Warn("forgetting untracked tickers failed", "err", err)
	}
	if c.cfg.Retention > 0 {
		var err error
		if res.Purged, err = c.st.DeletePrices(ctx, now.Add(-c.cfg.Retention)); err != nil {
			res.Err = err
		}
	}
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

// plan picks the tickers to fetch this cycle: every verified one, first,
// then at most MaxUnverified of the others that are due, those that have
// waited longest first (a ticker nobody checked yet before all). It
// returns them and how many others wait for a later cycle.
func (c *Collector) plan(all []stock.TickerState, now time.Time) (due []stock.TickerState, waiting int) {
	var queue []stock.TickerState
	for _, s := range all {
		switch {
		case s.Status == stock.TickerVerified:
			due = append(due, s)
		case s.NextCheck.After(now):
			waiting++ // an unknown ticker backing off
		default:
			queue = append(queue, s)
		}
	}
	slices.SortStableFunc(queue, func(a, b stock.TickerState) int { return a.NextCheck.Compare(b.NextCheck) })
	if n := c.cfg.MaxUnverified; n > 0 && len(queue) > n {
		waiting += len(queue) - n
		queue = queue[:n]
	}
	return append(due, queue...), waiting
}

// recheckAfter is how long a ticker that prev describes waits after an
// unknown answer: RecheckUnknown the first time, then twice as long as
// the last time, up to RecheckUnknownMax.
func (c *Collector) recheckAfter(prev stock.TickerState) time.Duration {
	d := c.cfg.RecheckUnknown
	if prev.Status == stock.TickerUnknown && !prev.Checked.IsZero() {
		d = max(d, 2*prev.NextCheck.Sub(prev.Checked))
	}
	return min(d, c.cfg.RecheckUnknownMax)
}

// claimFor is how long a cycle's claims last: 4/5 of an interval, so that
// the next cycle renews them and a collector that dies loses them within
// one.
func (c *Collector) claimFor() time.Duration { return c.cfg.Interval * 4 / 5 }

// fetch quotes every ticker, in order, with at most Concurrency requests
// in flight. It returns the quotes received, the tickers' states that
// changed, and the tickers whose fetch failed (but for those whose claim
// KeepClaim keeps).
func (c *Collector) fetch(ctx context.Context, tickers []stock.TickerState, now time.Time, res *Result) (quotes []stock.Quote, states []stock.TickerState, failed []string) {
	type outcome struct {
		q   stock.Quote
		err error
	}
	outs := make([]outcome, len(tickers))
	sem := make(chan struct{}, c.cfg.Concurrency)
	var wg sync.WaitGroup
	for i, s := range tickers {
		t := s.Ticker
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
		prev := tickers[i]
		switch {
		case o.err == nil:
			res.Fetched++
			quotes = append(quotes, o.q)
			if prev.Status != stock.TickerVerified {
				states = append(states, stock.TickerState{Ticker: prev.Ticker, Status: stock.TickerVerified, Checked: now})
			}
		case errors.Is(o.err, stock.ErrUnknownTicker):
			res.Unknown++
			states = append(states, stock.TickerState{Ticker: prev.Ticker, Status: stock.TickerUnknown, Checked: now, NextCheck: now.Add(c.recheckAfter(prev))})
			c.log.Debug("unknown ticker", "ticker", tickers[i].Ticker)
		default:
			res.Failed++
			if s, ok := retryLater(prev, now); ok && ctx.Err() == nil {
				states = append(states, s)
			}
			if c.cfg.KeepClaim == nil || !c.cfg.KeepClaim(o.err) {
				failed = append(failed, tickers[i].Ticker)
			}
			c.log.Debug("quote failed", "ticker", tickers[i].Ticker, "err", o.err)
		}
	}
	return quotes, states, failed
}

// retryLater is the state of a ticker that is not verified and whose
// check failed: behind the others in the queue, so that a ticker the
// source keeps failing on does not take a place every cycle. An unknown
// ticker waits as long as it last did. It reports false for a verified
// ticker, whose state stays.
func retryLater(prev stock.TickerState, now time.Time) (stock.TickerState, bool) {
	switch prev.Status {
	case stock.TickerUnverified:
		return stock.TickerState{Ticker: prev.Ticker, Status: stock.TickerUnverified, NextCheck: now}, true
	case stock.TickerUnknown:
		wait := max(prev.NextCheck.Sub(prev.Checked), 0)
		return stock.TickerState{Ticker: prev.Ticker, Status: stock.TickerUnknown, Checked: now, NextCheck: now.Add(wait)}, true
	}
	return stock.TickerState{}, false
}
