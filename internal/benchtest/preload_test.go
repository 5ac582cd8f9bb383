package benchtest_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/benchtest"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

// TestPreload checks the preloaded data set, written by several loaders
// at once: every price stored once, and the price reads exact for every
// ticker, as if the prices had been collected one minute after another.
func TestPreload(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		const users, tickers, perTicker = 20, 5, 150
		// The remainder of prices over tickers is not stored.
		if err := benchtest.Preload(t.Context(), db, users, tickers, tickers*perTicker+3); err != nil {
			t.Fatal(err)
		}
		for table, want := range map[string]int{"users": users, "stock_prices": tickers * perTicker, "price_sums": tickers * perTicker, "ticker_prices": tickers} {
			if got := storetest.Count(t, db, table, ""); got != want {
				t.Errorf("%s: %d rows, want %d", table, got, want)
			}
		}
		for i := range tickers {
			email := benchtest.Email(i + tickers) // user i+tickers tracks ticker i
			p, err := db.LatestPrice(t.Context(), email)
			if err != nil {
				t.Fatal(err)
			}
			if p.Ticker != benchtest.Ticker(i) || p.Price != benchtest.PreloadPrice(perTicker-1) || !p.MarketTime.Equal(benchtest.T0.Add(-time.Minute)) {
				t.Errorf("%s: latest price %+v, want %v at %v", email, p, benchtest.PreloadPrice(perTicker-1), benchtest.T0.Add(-time.Minute))
			}
			for _, n := range []int{1, 100, 1000} {
				got, err := db.AveragePrice(t.Context(), email, n)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(wantAverage(i, n, perTicker), got); diff != "" {
					t.Errorf("%s: AveragePrice(%d) mismatch (-want +got):\n%s", email, n, diff)
				}
			}
		}
	})
}

// wantAverage is the average of ticker i's newest n of perTicker preloaded
// prices, summed here one by one.
func wantAverage(i, n, perTicker int) stock.Average {
	count := min(n, perTicker)
	var sum float64
	for k := perTicker - count; k < perTicker; k++ {
		sum += benchtest.PreloadPrice(k)
	}
	return stock.Average{
		Ticker: benchtest.Ticker(i), Average: sum / float64(count), Currency: "USD", Count: count, Requested: n,
		Oldest: benchtest.T0.Add(-time.Duration(count) * time.Minute), Newest: benchtest.T0.Add(-time.Minute),
	}
}
