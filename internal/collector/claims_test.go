package collector_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/collector"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
	"github.com/stockwatch/stockwatch/internal/yahoo"
	"github.com/stockwatch/stockwatch/internal/yahoo/yahootest"
)

// TestTwoCollectors: two collectors on one database fetch each ticker once
// per cycle between them; when one stops, the other takes its tickers
// within two intervals; two cycles at the same instant split the tickers.
func TestTwoCollectors(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		url := storetest.URL(t, b)
		open := func() *store.DB { return storetest.OpenURL(t, url) }
		dbA, dbB := open(), open()
		up := yahootest.NewServer(t)
		tickers := []string{"AAA", "BBB", "CCC", "DDD", "EEE", "FFF"}
		for i, tk := range tickers {
			up.SetQuote(tk, float64(10+i), "USD", t0)
			storetest.AddUser(t, dbA, fmt.Sprintf("u%d@x.com", i), tk, t0)
		}
		clk := testkit.NewClock(t0)
		const interval = time.Minute
		newCollector := func(db *store.DB, owner string) *collector.Collector {
			return collector.New(db, yahoo.New(up.URL()), collector.Config{Interval: interval, Owner: owner, Now: clk.Now})
		}
		a, bc := newCollector(dbA, "a"), newCollector(dbB, "b")
		cycle := func(c *collector.Collector, at time.Duration) collector.Result {
			clk.Set(t0.Add(at))
			return c.Cycle(ctx)
		}
		type got struct{ fetched, skipped int }
		check := func(step string, r collector.Result, want got) {
			t.Helper()
			if g := (got{r.Fetched, r.Skipped}); g != want || r.Err != nil {
				t.Errorf("%s: fetched %d, skipped %d, err %v; want fetched %d, skipped %d", step, g.fetched, g.skipped, r.Err, want.fetched, want.skipped)
			}
		}
		check("a at 0s", cycle(a, 0), got{6, 0})
		check("b at 30s", cycle(bc, 30*time.Second), got{0, 6})
		check("a at 60s renews its own", cycle(a, 60*time.Second), got{6, 0})
		check("b at 90s", cycle(bc, 90*time.Second), got{0, 6})
		if n := up.Requests(); n != 12 {
			t.Errorf("upstream requests after two intervals = %d, want 12 (each ticker once per cycle)", n)
		}
		// a stops after its cycle at 60s; its claims lapse at 108s, and b's
		// next cycle takes them over: 90s after a's last, within two intervals.
		check("b at 150s takes over", cycle(bc, 150*time.Second), got{6, 0})

		// Both at once, after b's claims lapse: the tickers are split, none
		// fetched twice.
		clk.Set(t0.Add(300 * time.Second))
		var wg sync.WaitGroup
		var ra, rb collector.Result
		wg.Go(func() { ra = a.Cycle(ctx) })
		wg.Go(func() { rb = bc.Cycle(ctx) })
		wg.Wait()
		if ra.Err != nil || rb.Err != nil || ra.Fetched+rb.Fetched != 6 {
			t.Errorf("simultaneous cycles fetched %d + %d (errs %v, %v), want 6 in all", ra.Fetched, rb.Fetched, ra.Err, rb.Err)
		}
		for _, tk := range tickers {
			if n := up.RequestsFor(tk); n != 4 {
				t.Errorf("requests for %s = %d, want 4 (one per cycle period)", tk, n)
			}
		}
		if n := storetest.Count(t, dbA, "stock_prices", ""); n != 6 {
			t.Errorf("price rows = %d, want 6 (unchanged quotes are stored once)", n)
		}

		// A collector that releases its claims hands them over at once.
		if err := dbA.ReleaseClaims(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if err := dbB.ReleaseClaims(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		check("b right after release", cycle(bc, 301*time.Second), got{6, 0})
		fmt.Printf("two-collectors (%s): %d tickers, 8 cycles of 2 collectors, %d upstream requests (each ticker once per cycle period), take-over 90s after the stopped collector's last cycle (limit 120s), %d price rows, no duplicates\n",
			b, len(tickers), up.Requests(), storetest.Count(t, dbA, "stock_prices", ""))
	})
}

// TestFailedTickersGoToAnotherCollector: a collector whose upstream fails
// gives up its claims of the failed tickers at once, so a collector that
// can reach the upstream stores their prices at its next cycle, and keeps
// them after that.
func TestFailedTickersGoToAnotherCollector(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tickers := []string{"AAA", "BBB", "CCC"}
		broken, healthy := yahootest.NewServer(t), yahootest.NewServer(t)
		broken.SetGlobalFault(yahootest.Fault{Kind: yahootest.FaultStatus, Status: 503, Body: "unavailable"})
		for i, tk := range tickers {
			healthy.SetQuote(tk, float64(10+i), "USD", t0)
			storetest.AddUser(t, db, fmt.Sprintf("u%d@x.com", i), tk, t0)
		}
		clk := testkit.NewClock(t0)
		cfg := collector.Config{Interval: time.Minute, Now: clk.Now}
		cfg.Owner = "a"
		a := collector.New(db, yahoo.New(broken.URL()), cfg)
		cfg.Owner = "b"
		bc := collector.New(db, yahoo.New(healthy.URL()), cfg)

		type got struct{ fetched, skipped, failed, released int }
		for _, step := range []struct {
			name string
			c    *collector.Collector
			at   time.Duration
			want got
		}{
			{"a at 0s fails and releases", a, 0, got{0, 0, 3, 3}},
			{"b at 30s takes them", bc, 30 * time.Second, got{3, 0, 0, 0}},
			{"a at 60s leaves them to b", a, 60 * time.Second, got{0, 3, 0, 0}},
			{"b at 90s keeps them", bc, 90 * time.Second, got{3, 0, 0, 0}},
		} {
			clk.Set(t0.Add(step.at))
			r := step.c.Cycle(ctx)
			if g := (got{r.Fetched, r.Skipped, r.Failed, r.Released}); g != step.want || r.Err != nil {
				t.Errorf("%s: %+v, err %v; want %+v", step.name, g, r.Err, step.want)
			}
		}
		if n := broken.Requests(); n != 3 {
			t.Errorf("requests to the broken upstream = %d, want 3 (a's first cycle only)", n)
		}
		testkit.WantCount(t, "price rows", storetest.Count(t, db, "stock_prices", ""), 3)
		// Nobody tracks AAA any more: once its claim lapses, a cycle
		// forgets it.
		storetest.MustExec(t, db, `DELETE FROM users WHERE ticker = ?`, "AAA")
		clk.Set(t0.Add(200 * time.Second))
		if r := bc.Cycle(ctx); r.Err != nil || r.Tickers != 2 {
			t.Errorf("b at 200s: %+v, want 2 tickers", r)
		}
		testkit.WantCount(t, "claims of AAA, which nobody tracks", storetest.Count(t, db, "collector_claims", "ticker = ?", "AAA"), 0)
	})
}

// TestRateLimitedTickersStay: a collector that Yahoo rate-limits keeps its
// claims (with KeepClaim: yahoo.IsRateLimited), so that another collector,
// likely behind the same address, does not run into the same limit.
func TestRateLimitedTickersStay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.Open(t, storetest.SQLite)
	limited, healthy := yahootest.NewServer(t), yahootest.NewServer(t)
	limited.SetGlobalFault(yahootest.Fault{Kind: yahootest.FaultStatus, Status: 429, Body: "Too Many Requests"})
	for i, tk := range []string{"AAA", "BBB"} {
		healthy.SetQuote(tk, float64(10+i), "USD", t0)
		storetest.AddUser(t, db, fmt.Sprintf("u%d@x.com", i), tk, t0)
	}
	clk := testkit.NewClock(t0)
	a := collector.New(db, yahoo.New(limited.URL()), collector.Config{Interval: time.Minute, Now: clk.Now, Owner: "a", KeepClaim: yahoo.IsRateLimited})
	bc := collector.New(db, yahoo.New(healthy.URL()), collector.Config{Interval: time.Minute, Now: clk.Now, Owner: "b", KeepClaim: yahoo.IsRateLimited})
	if r := a.Cycle(ctx); r.Failed != 2 || r.Released != 0 {
		t.Errorf("a, rate limited: failed %d, released %d; want 2, 0", r.Failed, r.Released)
	}
	clk.Set(t0.Add(30 * time.Second))
	if r := bc.Cycle(ctx); r.Skipped != 2 || r.Fetched != 0 {
		t.Errorf("b at 30s: skipped %d, fetched %d; want 2, 0 (a keeps them)", r.Skipped, r.Fetched)
	}
	testkit.WantCount(t, "requests to b's upstream", healthy.Requests(), 0)
}
