package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

// TestPriceCacheFreshness: a DB that keeps tickers' rows (polling hourly
// here) sees prices stored or deleted through it at once, and those
// stored or deleted through another DB on the same database (another
// replica) at its next poll, never later; until then it answers the price
// as it was. A poll that finds nothing moved keeps serving from memory.
func TestPriceCacheFreshness(t *testing.T) {
	price := func(p float64, at time.Duration) []stock.Price {
		return []stock.Price{{Ticker: "AAA", Price: p, Currency: "USD", MarketTime: t0.Add(at), CollectTime: t0.Add(at)}}
	}
	tests := []struct {
		name string
		// change writes AAA's prices (10 at t0, read) through db.
		change func(ctx context.Context, db *store.DB) error
		// want is the latest price of AAA after the change; 0 is
		// KindFailedPrecondition.
		want float64
	}{
		{"Insert", func(ctx context.Context, db *store.DB) error {
			_, err := db.InsertPrices(ctx, price(11, time.Minute))
			return err
		}, 11},
		{"SaveQuotes", func(ctx context.Context, db *store.DB) error {
			_, err := db.SaveQuotes(ctx, price(12, time.Minute), nil)
			return err
		}, 12},
		{"DeleteAll", func(ctx context.Context, db *store.DB) error {
			_, err := db.DeletePrices(ctx, t0.Add(time.Hour))
			return err
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
				ctx := context.Background()
				here, there := twoDBs(t, b, store.WithUserCache(time.Hour), store.WithPriceCache(time.Hour, time.Hour))
				reads := func(db *store.DB, when string, want float64) {
					t.Helper()
					p, err := db.LatestPrice(ctx, "u@x.com")
					a, aerr := db.AveragePrice(ctx, "u@x.com", 1)
					if want == 0 {
						wantKind(t, when+": LatestPrice", err, stock.KindFailedPrecondition)
						wantKind(t, when+": AveragePrice", aerr, stock.KindFailedPrecondition)
						return
					}
					if err != nil || aerr != nil || p.Price != want || a.Average != want {
						t.Errorf("%s: LatestPrice %v, %v; AveragePrice(1) %v, %v; want %v", when, p.Price, err, a.Average, aerr, want)
					}
				}
				for _, db := range []*store.DB{here, there} {
					db.PollPrices(ctx)
					reads(db, "before", 10)
					reads(db, "before, again", 10)
				}
				if err := tt.change(ctx, here); err != nil {
					t.Fatal(err)
				}
				reads(here, "at once, through the DB that wrote", tt.want)
				reads(there, "at once, through another DB", 10)
				there.PollPrices(ctx)
				reads(there, "after its poll, through another DB", tt.want)

				// there: the first LatestPrice looked the user up with the
				// row (which does not count), the first AveragePrice read
				// the row, and the other reads before its poll found it
				// kept; after the poll LatestPrice read it again, and
				// AveragePrice found it kept (or, gone, read nothing).
				wantHits, wantMisses := uint64(3+1+1), uint64(1+1)
				if tt.want == 0 {
					wantHits, wantMisses = 4, 3
				}
				if hits, misses := there.PriceCacheStats(); hits != wantHits || misses != wantMisses {
					t.Errorf("the other DB: %d hits, %d misses; want %d and %d", hits, misses, wantHits, wantMisses)
				}
			})
		})
	}
}

// TestPriceCacheUserWrites: writes of users do not move price_epoch, so
// another DB's poll keeps serving its tickers' rows from memory.
func TestPriceCacheUserWrites(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		here, there := twoDBs(t, b, store.WithUserCache(time.Hour), store.WithPriceCache(time.Hour, time.Hour))
		there.PollPrices(ctx)
		wantLatest(t, there, "LatestPrice", "AAA")
		wantLatest(t, there, "LatestPrice again", "AAA")
		storetest.AddUser(t, here, "v@x.com", "BBB", t0)
		switchTo(t, here, "AAA")
		there.PollPrices(ctx)
		wantLatest(t, there, "LatestPrice after the poll", "AAA")
		// The first read looked the user up with the row (which does not
		// count), the second read the row.
		if hits, misses := there.PriceCacheStats(); hits != 1 || misses != 1 {
			t.Errorf("%d hits, %d misses; want 1 and 1", hits, misses)
		}
	})
}
