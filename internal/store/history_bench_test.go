package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/benchtest"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
)

// BenchmarkPriceHistory measures PriceHistory on 1,000,000 stored prices
// of two tickers, one a minute each (500,000 a ticker, 347 days), for
// ranges of a day, a week and the longest (366 days: every price of the
// ticker), downsampled to the default 500 points. It runs only with
// -bench; docs/history.md has the numbers.
func BenchmarkPriceHistory(b *testing.B) {
	eachPreloaded(b, 2, 2, 1_000_000, func(b *testing.B, db *store.DB) {
		for _, r := range []struct {
			name string
			span time.Duration
			rows int
		}{{"Day", 24 * time.Hour, 1440}, {"Week", 7 * 24 * time.Hour, 7 * 1440}, {"Year", stock.MaxHistoryRange, 500_000}} {
			b.Run(r.name, func(b *testing.B) {
				ctx := context.Background()
				until := benchtest.T0 // exclusive; the newest price is a minute before
				for b.Loop() {
					h, err := db.PriceHistory(ctx, benchtest.Email(0), until.Add(-r.span), until, stock.DefaultHistoryPoints)
					if err != nil {
						b.Fatal(err)
					}
					if h.Count != r.rows || len(h.Points) > stock.DefaultHistoryPoints {
						b.Fatalf("%d points for %d prices, want at most %d for %d", len(h.Points), h.Count, stock.DefaultHistoryPoints, r.rows)
					}
				}
				b.ReportMetric(float64(r.rows), "rows/op")
			})
		}
	})
}
