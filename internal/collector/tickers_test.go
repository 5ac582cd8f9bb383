package collector_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/collector"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
	"github.com/stockwatch/stockwatch/internal/yahoo"
	"github.com/stockwatch/stockwatch/internal/yahoo/yahootest"
)

// TestSettlesTickers: a cycle makes a quoted ticker verified and one Yahoo
// does not know unknown, in the transaction that stores the prices; one
// whose fetch failed stays unverified, behind the others in the queue.
// An unknown ticker's price read then says so.
func TestSettlesTickers(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		up := yahootest.NewServer(t)
		up.SetFault("BAD", yahootest.Fault{Kind: yahootest.FaultServerError})
		for _, tk := range []string{"AAPL", "BAD", "VOD.L", "ZZZZ"} {
			storetest.AddUser(t, db, tk+"@x.com", tk, t0)
		}
		c := collector.New(db, yahoo.New(up.URL()), collector.Config{Interval: time.Minute, Now: func() time.Time { return t0 }})
		res := c.Cycle(ctx)
		if diff := cmp.Diff(collector.Result{Tickers: 4, Fetched: 2, Unknown: 1, Failed: 1, Released: 1, Inserted: 2}, res, ignoreTiming); diff != "" {
			t.Errorf("cycle mismatch (-want +got):\n%s", diff)
		}
		want := map[string]stock.TickerState{
			"AAPL":  {Ticker: "AAPL", Status: stock.TickerVerified, Checked: t0},
			"BAD":   {Ticker: "BAD", Status: stock.TickerUnverified, NextCheck: t0},
			"VOD.L": {Ticker: "VOD.L", Status: stock.TickerVerified, Checked: t0},
			"ZZZZ":  {Ticker: "ZZZZ", Status: stock.TickerUnknown, Checked: t0, NextCheck: t0.Add(time.Minute)},
		}
		if diff := cmp.Diff(want, storetest.TickerStates(t, db)); diff != "" {
			t.Errorf("states mismatch (-want +got):\n%s", diff)
		}
		_, err := db.LatestPrice(ctx, "ZZZZ@x.com")
		if stock.KindOf(err) != stock.KindFailedPrecondition || stock.MessageOf(err) != "ticker ZZZZ is not known to Yahoo Finance" {
			t.Errorf("LatestPrice of ZZZZ = %v, want FAILED_PRECONDITION ticker ZZZZ is not known to Yahoo Finance", err)
		}
		// Another cycle writes no state: verified ones stay as they are.
		res = c.Cycle(ctx)
		if diff := cmp.Diff(collector.Result{Tickers: 4, Waiting: 1, Fetched: 2, Failed: 1, Released: 1}, res, ignoreTiming); diff != "" {
			t.Errorf("second cycle mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, storetest.TickerStates(t, db)); diff != "" {
			t.Errorf("states after the second cycle mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestUnknownTickerBacksOff: an unknown ticker is asked again after 1, 2
// and 4 minutes, then every 4 (the cap), not every cycle; when Yahoo
// knows it at last, it is verified and fetched every cycle.
func TestUnknownTickerBacksOff(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		up := yahootest.NewServer(t)
		storetest.AddUser(t, db, "a@x.com", "AAPL", t0)
		storetest.AddUser(t, db, "z@x.com", "ZZZZ", t0)
		clk := testkit.NewClock(t0)
		c := collector.New(db, yahoo.New(up.URL()), collector.Config{Interval: time.Minute, Now: clk.Now,
			RecheckUnknown: time.Minute, RecheckUnknownMax: 4 * time.Minute})
		var asked []int // minutes at which ZZZZ was asked
		for m := range 16 {
			if m == 13 {
				up.SetQuote("ZZZZ", 1, "USD", t0)
			}
			clk.Set(t0.Add(time.Duration(m) * time.Minute))
			before := up.RequestsFor("ZZZZ")
			c.Cycle(ctx)
			if up.RequestsFor("ZZZZ") > before {
				asked = append(asked, m)
			}
			if got := up.RequestsFor("AAPL"); got != int64(m+1) {
				t.Fatalf("minute %d: AAPL asked %d times, want every cycle (%d)", m, got, m+1)
			}
		}
		if diff := cmp.Diff([]int{0, 1, 3, 7, 11, 15}, asked); diff != "" {
			t.Errorf("minutes ZZZZ was asked mismatch (-want +got):\n%s", diff)
		}
		if s := storetest.TickerStates(t, db)["ZZZZ"]; s.Status != stock.TickerVerified {
			t.Errorf("ZZZZ after Yahoo quoted it: %+v, want verified", s)
		}
	})
}

// TestUnverifiedBounded: verified tickers are fetched first and every
// cycle; of a flood of unverified ones, at most MaxUnverified a cycle,
// those nobody has checked first, then in order of arrival.
func TestUnverifiedBounded(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		up := yahootest.NewServer(t)
		storetest.AddUser(t, db, "a@x.com", "AAPL", t0)
		storetest.AddUser(t, db, "v@x.com", "VOD.L", t0)
		if _, err := db.SaveQuotes(ctx, nil, []stock.TickerState{
			{Ticker: "AAPL", Status: stock.TickerVerified, Checked: t0},
			{Ticker: "VOD.L", Status: stock.TickerVerified, Checked: t0},
			// Queued by the API, the later first: order of arrival wins
			// over the order of names.
			{Ticker: "ZQ000", Status: stock.TickerUnverified, NextCheck: t0.Add(2 * time.Second)},
			{Ticker: "ZQ001", Status: stock.TickerUnverified, NextCheck: t0.Add(time.Second)},
		}); err != nil {
			t.Fatal(err)
		}
		for i := range 7 {
			storetest.AddUser(t, db, fmt.Sprintf("z%d@x.com", i), fmt.Sprintf("ZQ%03d", i), t0)
		}
		clk := testkit.NewClock(t0)
		c := collector.New(db, yahoo.New(up.URL()), collector.Config{Interval: time.Minute, Now: clk.Now, Concurrency: 1, MaxUnverified: 3})
		for i, want := range []struct {
			res     collector.Result
			symbols []string
		}{
			{collector.Result{Tickers: 9, Waiting: 4, Fetched: 2, Unknown: 3, Inserted: 2}, []string{"AAPL", "VOD.L", "ZQ002", "ZQ003", "ZQ004"}},
			{collector.Result{Tickers: 9, Waiting: 4, Fetched: 2, Unknown: 3}, []string{"AAPL", "VOD.L", "ZQ005", "ZQ006", "ZQ001"}},
			{collector.Result{Tickers: 9, Waiting: 6, Fetched: 2, Unknown: 1}, []string{"AAPL", "VOD.L", "ZQ000"}},
			{collector.Result{Tickers: 9, Waiting: 7, Fetched: 2}, []string{"AAPL", "VOD.L"}},
		} {
			clk.Set(t0.Add(time.Duration(i) * 10 * time.Second)) // the unknown ones wait a minute
			n := len(up.Received())
			res := c.Cycle(ctx)
			if diff := cmp.Diff(want.res, res, ignoreTiming); diff != "" {
				t.Errorf("cycle %d mismatch (-want +got):\n%s", i, diff)
			}
			var symbols []string
			for _, r := range up.Received()[n:] {
				symbols = append(symbols, r.Symbol)
			}
			if diff := cmp.Diff(want.symbols, symbols); diff != "" {
				t.Errorf("cycle %d: requests mismatch (-want +got):\n%s", i, diff)
			}
		}
	})
}
