package collector_test

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stockwatch/stockwatch/internal/breaker"
	"github.com/stockwatch/stockwatch/internal/collector"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
	"github.com/stockwatch/stockwatch/internal/yahoo"
	"github.com/stockwatch/stockwatch/internal/yahoo/yahootest"
)

var t0 = time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)

// ignoreTiming drops what depends on the machine's speed.
var ignoreTiming = cmpopts.IgnoreFields(collector.Result{}, "Duration")

func TestCycle(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		up := yahootest.NewServer(t)
		up.SetQuote("MSFT", 410.25, "USD", t0)
		storetest.AddUser(t, db, "a@x.com", "AAPL", t0)
		storetest.AddUser(t, db, "b@x.com", "AAPL", t0)
		storetest.AddUser(t, db, "c@x.com", "MSFT", t0)
		now := t0.Add(time.Minute)
		c := collector.New(db, yahoo.New(up.URL()), collector.Config{Now: func() time.Time { return now }})

		// 3 users on 2 distinct tickers: 2 requests, 2 rows.
		res := c.Cycle(ctx)
		if diff := cmp.Diff(collector.Result{Tickers: 2, Fetched: 2, Inserted: 2}, res, ignoreTiming); diff != "" {
			t.Errorf("first cycle mismatch (-want +got):\n%s", diff)
		}
		testkit.WantCount(t, "upstream requests", up.Requests(), 2)
		p, err := db.LatestPrice(ctx, "c@x.com")
		if err != nil {
			t.Fatal(err)
		}
		want := stock.Price{ID: p.ID, Ticker: "MSFT", Price: 410.25, Currency: "USD", MarketTime: t0, CollectTime: now}
		if diff := cmp.Diff(want, p); diff != "" {
			t.Errorf("stored price mismatch (-want +got):\n%s", diff)
		}

		// An unchanged quote adds no row; a moved market time adds one.
		res = c.Cycle(ctx)
		if diff := cmp.Diff(collector.Result{Tickers: 2, Fetched: 2, Inserted: 0}, res, ignoreTiming); diff != "" {
			t.Errorf("unchanged cycle mismatch (-want +got):\n%s", diff)
		}
		up.SetQuote("MSFT", 411, "USD", t0.Add(time.Minute))
		res = c.Cycle(ctx)
		if diff := cmp.Diff(collector.Result{Tickers: 2, Fetched: 2, Inserted: 1}, res, ignoreTiming); diff != "" {
			t.Errorf("moved cycle mismatch (-want +got):\n%s", diff)
		}
		testkit.WantCount(t, "rows", storetest.Count(t, db, "stock_prices", ""), 3)
	})
}

// TestCycleFailures: a failing or unknown ticker never loses the others' rows.
func TestCycleFailures(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		up := yahootest.NewServer(t)
		up.SetFault("BAD", yahootest.Fault{Kind: yahootest.FaultServerError})
		up.SetFault("HTML", yahootest.Fault{Kind: yahootest.FaultHTML})
		for _, tk := range []string{"AAPL", "BAD", "HTML", "ZZZZ", "VOD.L"} {
			storetest.AddUser(t, db, tk+"@x.com", tk, t0)
		}
		c := collector.New(db, yahoo.New(up.URL()), collector.Config{Concurrency: 2, Now: func() time.Time { return t0 }})
		res := c.Cycle(ctx)
		if diff := cmp.Diff(collector.Result{Tickers: 5, Fetched: 2, Unknown: 1, Failed: 2, Released: 2, Inserted: 2}, res, ignoreTiming); diff != "" {
			t.Errorf("cycle mismatch (-want +got):\n%s", diff)
		}
		p, err := db.LatestPrice(ctx, "VOD.L@x.com")
		if err != nil {
			t.Fatal(err)
		}
		if p.Currency != "GBp" {
			t.Errorf("VOD.L currency = %q, want GBp", p.Currency)
		}
	})
}

// TestCycleRejectsQuoteTimes: a quote dated more than the allowed skew
// ahead of the clock, or before any real quote, is counted and logged but
// never stored (one from year 9999 would stay the latest price for good);
// the cycle's other quotes are stored.
func TestCycleRejectsQuoteTimes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.Open(t, storetest.SQLite)
	up := yahootest.NewServer(t)
	up.SetQuote("FUT", 1, "USD", time.Unix(253402300799, 0))
	up.SetQuote("OLD", 2, "USD", time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC))
	up.SetQuote("SKEW", 3, "USD", t0.Add(stock.MaxQuoteSkew))
	up.SetQuote("MSFT", 4, "USD", t0.Add(-time.Minute))
	for _, tk := range []string{"FUT", "OLD", "SKEW", "MSFT"} {
		storetest.AddUser(t, db, tk+"@x.com", tk, t0)
	}
	var logs testkit.LogBuffer
	c := collector.New(db, yahoo.New(up.URL()), collector.Config{Now: func() time.Time { return t0 },
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	res := c.Cycle(ctx)
	if diff := cmp.Diff(collector.Result{Tickers: 4, Fetched: 4, RejectedFuture: 1, RejectedPast: 1, Inserted: 2}, res, ignoreTiming); diff != "" {
		t.Errorf("cycle mismatch (-want +got):\n%s", diff)
	}
	for tk, want := range map[string]int{"FUT": 0, "OLD": 0, "SKEW": 1, "MSFT": 1} {
		if n := storetest.Count(t, db, "stock_prices", "ticker = ?", tk); n != want {
			t.Errorf("%s rows = %d, want %d", tk, n, want)
		}
	}
	for _, want := range []string{
		`level=WARN msg="quote not stored" err="quote from the future: FUT market time 9999-12-31T23:59:59Z is more than 5m0s after the clock's 2026-11-27T15:00:00Z"`,
		`level=WARN msg="quote not stored" err="quote from the distant past: OLD market time 1999-12-31T00:00:00Z is before 2000-01-01T00:00:00Z"`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
}

func TestRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.Open(t, storetest.SQLite)
	up := yahootest.NewServer(t)
	storetest.AddUser(t, db, "a@x.com", "MSFT", t0)
	up.SetQuote("MSFT", 1, "USD", t0)
	if _, err := db.InsertPrices(ctx, []stock.Price{{Ticker: "MSFT", Price: 1, Currency: "USD", MarketTime: t0.Add(-48 * time.Hour), CollectTime: t0.Add(-48 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	c := collector.New(db, yahoo.New(up.URL()), collector.Config{Retention: 24 * time.Hour, Now: func() time.Time { return t0 }})
	res := c.Cycle(ctx)
	if diff := cmp.Diff(collector.Result{Tickers: 1, Fetched: 1, Inserted: 1, Purged: 1}, res, ignoreTiming); diff != "" {
		t.Errorf("cycle mismatch (-want +got):\n%s", diff)
	}
}

// TestBreakerOpenCycle: with the breaker open a cycle sends nothing.
func TestBreakerOpenCycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.Open(t, storetest.SQLite)
	up := yahootest.NewServer(t)
	up.SetGlobalFault(yahootest.Fault{Kind: yahootest.FaultServerError})
	for _, tk := range []string{"AAPL", "MSFT", "IBM"} {
		storetest.AddUser(t, db, tk+"@x.com", tk, t0)
	}
	br := breaker.New(yahoo.New(up.URL()), breaker.Config{Failures: 2, Timeout: time.Hour, IsFailure: yahoo.IsFailure})
	c := collector.New(db, br, collector.Config{Concurrency: 1})
	res := c.Cycle(ctx)
	if res.Failed != 3 || up.Requests() != 2 || br.State() != breaker.StateOpen {
		t.Fatalf("first cycle: failed %d, requests %d, state %v; want 3, 2, open", res.Failed, up.Requests(), br.State())
	}
	res = c.Cycle(ctx)
	if res.Failed != 3 || up.Requests() != 2 {
		t.Errorf("open cycle: failed %d, requests %d; want 3 and still 2", res.Failed, up.Requests())
	}
}

// countingStore records how many cycles read tickers at once.
type countingStore struct {
	collector.Store
	inFlight, maxInFlight atomic.Int32
}

func (s *countingStore) Tickers(ctx context.Context) ([]stock.TickerState, error) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		m := s.maxInFlight.Load()
		if n <= m || s.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	return s.Store.Tickers(ctx)
}

// slowAAPL returns a SQLite database in which a@x.com tracks AAPL, and a
// fake Yahoo that answers every request after delay.
func slowAAPL(tb testing.TB, delay time.Duration) (*store.DB, *yahootest.Server) {
	tb.Helper()
	db := storetest.Open(tb, storetest.SQLite)
	up := yahootest.NewServer(tb)
	up.SetGlobalFault(yahootest.Fault{Delay: delay})
	storetest.AddUser(tb, db, "a@x.com", "AAPL", t0)
	return db, up
}

// TestRunNeverOverlaps: an upstream slower than the interval delays cycles
// but never runs two at once, nor queues them to run later; Run returns
// when its context ends, with its claims released.
func TestRunNeverOverlaps(t *testing.T) {
	t.Parallel()
	db, up := slowAAPL(t, 30*time.Millisecond)
	st := &countingStore{Store: db}
	var cycles atomic.Int32
	var logs testkit.LogBuffer
	c := collector.New(st, yahoo.New(up.URL()), collector.Config{Interval: 5 * time.Millisecond, Owner: "runner",
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), OnCycle: func(collector.Result) { cycles.Add(1) }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for cycles.Load() < 4 {
		time.Sleep(5 * time.Millisecond)
	}
	// Manual cycles from elsewhere serialise with Run's too.
	c.Cycle(context.Background())
	cancel()
	if err := testkit.Receive(t, done, 5*time.Second, "Run did not return after cancel"); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	if m := st.maxInFlight.Load(); m != 1 {
		t.Errorf("cycles in flight at once = %d, want 1", m)
	}
	// Cycles that had stacked up behind a slow one would still run now.
	n := cycles.Load()
	time.Sleep(100 * time.Millisecond)
	if m := cycles.Load(); m != n {
		t.Errorf("%d cycles ran after Run returned, want 0", m-n)
	}
	if n := storetest.Count(t, db, "collector_claims", "owner = ? AND until_time = 0", "runner"); n != 1 {
		t.Errorf("released claims of the stopped collector = %d, want 1 (AAPL)", n)
	}
	if !strings.Contains(logs.String(), "collection cycle outlasted its ticker claims") {
		t.Errorf("no warning that 30ms cycles outlast 4ms claims in the log:\n%s", logs.String())
	}
}

// TestShutdownMidCycle: cancelling during a slow fetch ends the cycle
// promptly and stores nothing half-done.
func TestShutdownMidCycle(t *testing.T) {
	t.Parallel()
	db, up := slowAAPL(t, 10*time.Second)
	c := collector.New(db, yahoo.New(up.URL()), collector.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := c.Cycle(ctx)
	if time.Since(start) > 5*time.Second {
		t.Errorf("cycle took %v after cancel", time.Since(start))
	}
	if res.Err == nil || res.Inserted != 0 {
		t.Errorf("result = %+v, want a context error and nothing inserted", res)
	}
	testkit.WantCount(t, "rows", storetest.Count(t, db, "stock_prices", ""), 0)
}
