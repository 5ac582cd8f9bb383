package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
)

// TestUserCacheFreshness: a DB that keeps users' tickers for a minute
// (here) sees the writes of users made through it at once, and those made
// through another DB on the same database (another replica) once the
// minute has passed, never later; until then it answers for the user as
// it was.
func TestUserCacheFreshness(t *testing.T) {
	const ttl = time.Minute
	tests := []struct {
		name string
		// change writes u@x.com, which tracks AAA and has been read,
		// through db.
		change func(ctx context.Context, tx stock.Tx) error
		// want is the ticker read after the change; "" is KindNotFound.
		want string
	}{
		{"Update", func(ctx context.Context, tx stock.Tx) error {
			_, err := tx.UpdateUser(ctx, "u@x.com", "BBB", t0)
			return err
		}, "BBB"},
		{"Delete", func(ctx context.Context, tx stock.Tx) error { return tx.DeleteUser(ctx, "u@x.com") }, ""},
		{"DeleteAndRegisterAgain", func(ctx context.Context, tx stock.Tx) error {
			if err := tx.DeleteUser(ctx, "u@x.com"); err != nil {
				return err
			}
			return tx.CreateUser(ctx, stock.User{Email: "u@x.com", Ticker: "BBB", CreateTime: t0, UpdateTime: t0})
		}, "BBB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
				ctx := context.Background()
				clock := testkit.NewClock(t0)
				here, there := twoDBs(t, b, store.WithUserCacheClock(ttl, clock.Now))
				reads := func(db *store.DB, when, want string) {
					t.Helper()
					p, err := db.LatestPrice(ctx, "u@x.com")
					a, aerr := db.AveragePrice(ctx, "u@x.com", 10)
					if want == "" {
						wantKind(t, when+": LatestPrice", err, stock.KindNotFound)
						wantKind(t, when+": AveragePrice", aerr, stock.KindNotFound)
						return
					}
					if err != nil || aerr != nil || p.Ticker != want || a.Ticker != want {
						t.Errorf("%s: LatestPrice %s, %v; AveragePrice %s, %v; want the prices of %s",
							when, p.Ticker, err, a.Ticker, aerr, want)
					}
				}
				reads(here, "before", "AAA")
				reads(there, "before", "AAA")

				if err := here.Tx(ctx, tt.change); err != nil {
					t.Fatal(err)
				}
				reads(here, "at once, through the DB that wrote", tt.want)
				reads(there, "at once, through another DB", "AAA")
				clock.Advance(ttl - time.Microsecond)
				reads(there, "just before the TTL, through another DB", "AAA")
				clock.Advance(time.Microsecond)
				reads(there, "at the TTL, through another DB", tt.want)

				// A miss at the first read and at the TTL (and for the
				// average then too when the user is gone): every other
				// read, one lookup.
				wantHits, wantMisses := uint64(6), uint64(2)
				if tt.want == "" {
					wantHits, wantMisses = 5, 3
				}
				wantLookups(t, "the other DB", there.UserCacheStats, wantHits, wantMisses)
			})
		})
	}
}

// TestUserCacheRolledBack: a write of a user that rolls back forgets the
// user too, and the next read finds it as it is.
func TestUserCacheRolledBack(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := storetest.OpenURL(t, storetest.URL(t, b), store.WithUserCache(time.Hour))
		storetest.AddUser(t, db, "u@x.com", "AAA", t0)
		if _, err := db.InsertPrices(ctx, []stock.Price{{Ticker: "AAA", Price: 10, Currency: "USD", MarketTime: t0, CollectTime: t0}}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if p, err := db.LatestPrice(ctx, "u@x.com"); err != nil || p.Price != 10 {
				t.Fatalf("LatestPrice: %v, %v; want 10", p.Price, err)
			}
		}
		err := db.Tx(ctx, func(ctx context.Context, tx stock.Tx) error {
			if _, err := tx.UpdateUser(ctx, "u@x.com", "BBB", t0); err != nil {
				return err
			}
			return stock.Errorf(stock.KindInvalid, "changed my mind")
		})
		wantKind(t, "Tx", err, stock.KindInvalid)
		wantLatest(t, db, "LatestPrice after the rollback", "AAA")
		wantStats(t, db, 1, 2)
	})
}

// TestUserCacheGetUser: a user read through a DB (GetUser, which is
// exact) is what its price reads there follow next, even when another DB
// changed the user since this one kept it; no price read misses for it.
func TestUserCacheGetUser(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		here, there := twoDBs(t, b, store.WithUserCache(time.Hour))
		if _, err := there.GetUser(ctx, "u@x.com"); err != nil {
			t.Fatal(err)
		}
		wantLatest(t, there, "LatestPrice", "AAA")
		switchTo(t, here, "BBB")
		u, err := there.GetUser(ctx, "u@x.com")
		if err != nil || u.Ticker != "BBB" {
			t.Fatalf("GetUser: %s, %v; want BBB", u.Ticker, err)
		}
		wantLatest(t, there, "LatestPrice after GetUser", "BBB")
		wantStats(t, there, 2, 0)

		if err := here.Tx(ctx, func(ctx context.Context, tx stock.Tx) error { return tx.DeleteUser(ctx, "u@x.com") }); err != nil {
			t.Fatal(err)
		}
		_, err = there.GetUser(ctx, "u@x.com")
		wantKind(t, "GetUser of a deleted user", err, stock.KindNotFound)
		_, err = there.LatestPrice(ctx, "u@x.com")
		wantKind(t, "LatestPrice after GetUser found no user", err, stock.KindNotFound)
	})
}

// TestUserCacheDuringWrite: while a transaction that writes a user runs
// (here, between its statements and its commit), reads through the same
// DB keep nothing and answer as committed; the first read after it has
// ended sees the change.
func TestUserCacheDuringWrite(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.OpenURL(t, storetest.URL(t, b), store.WithUserCache(time.Hour))
		aaaAndBBB(t, db)
		during := readsDuringWrite(t, db, func() { switchTo(t, db, "BBB") }, func(p stock.Price) string { return p.Ticker })
		if want := []string{"AAA", "AAA"}; !slices.Equal(during, want) {
			t.Errorf("reads before the commit: %v, want %v", during, want)
		}
		wantLatest(t, db, "LatestPrice after the commit", "BBB")
		wantStats(t, db, 0, 3)
	})
}

// TestUserCacheConcurrent: writers switch their users' tickers while
// readers read every user's price through the same DB; each writer's own
// read after its write returns always sees the change.
func TestUserCacheConcurrent(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := storetest.OpenURL(t, storetest.URL(t, b), store.WithUserCache(time.Hour))
		tickers := []string{"AAA", "BBB", "CCC"}
		var ps []stock.Price
		for i, tk := range tickers {
			ps = append(ps, stock.Price{Ticker: tk, Price: float64(10 * (i + 1)), Currency: "USD", MarketTime: t0, CollectTime: t0})
		}
		if _, err := db.InsertPrices(ctx, ps); err != nil {
			t.Fatal(err)
		}
		const writers, switches = 3, 20
		for w := range writers {
			storetest.AddUser(t, db, fmt.Sprintf("u%d@x.com", w), "AAA", t0)
		}
		done := make(chan struct{})
		var readers sync.WaitGroup
		for r := range 3 {
			readers.Go(func() {
				for i := r; ; i++ {
					select {
					case <-done:
						return
					default:
					}
					if _, err := db.LatestPrice(ctx, fmt.Sprintf("u%d@x.com", i%writers)); err != nil {
						t.Errorf("reader: %v", err)
						return
					}
				}
			})
		}
		var ws sync.WaitGroup
		for w := range writers {
			ws.Go(func() {
				email := fmt.Sprintf("u%d@x.com", w)
				for i := range switches {
					tk := tickers[(i+1)%len(tickers)]
					if err := db.Tx(ctx, func(ctx context.Context, tx stock.Tx) error {
						_, err := tx.UpdateUser(ctx, email, tk, t0)
						return err
					}); err != nil {
						t.Errorf("writer: %v", err)
						return
					}
					if p, err := db.LatestPrice(ctx, email); err != nil || p.Ticker != tk {
						t.Errorf("%s's read after switch %d: %s, %v; want %s's", email, i, p.Ticker, err, tk)
					}
				}
			})
		}
		ws.Wait()
		close(done)
		readers.Wait()
		hits, misses := db.UserCacheStats()
		t.Logf("%s: %d hits, %d misses", b, hits, misses)
	})
}

// TestUserCacheHistory: a history with no price in its range names the
// user's ticker as users holds it, not as another DB's kept one.
func TestUserCacheHistory(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		here, there := twoDBs(t, b, store.WithUserCache(time.Hour))
		wantLatest(t, there, "LatestPrice", "AAA")
		switchTo(t, here, "BBB")
		h, err := there.PriceHistory(ctx, "u@x.com", t0.Add(time.Hour), t0.Add(2*time.Hour), 10)
		if err != nil || h.Ticker != "BBB" || len(h.Points) != 0 {
			t.Errorf("PriceHistory of a range without prices: %s with %d points, %v; want BBB's, empty", h.Ticker, len(h.Points), err)
		}
	})
}

// aaaAndBBB registers u@x.com, tracking AAA, through db, and stores a
// price of AAA (10) and of BBB (20).
func aaaAndBBB(t *testing.T, db *store.DB) {
	t.Helper()
	storetest.AddUser(t, db, "u@x.com", "AAA", t0)
	if _, err := db.InsertPrices(context.Background(), []stock.Price{
		{Ticker: "AAA", Price: 10, Currency: "USD", MarketTime: t0, CollectTime: t0},
		{Ticker: "BBB", Price: 20, Currency: "USD", MarketTime: t0, CollectTime: t0},
	}); err != nil {
		t.Fatal(err)
	}
}

// switchTo makes u@x.com track ticker, through db.
func switchTo(t *testing.T, db *store.DB, ticker string) {
	t.Helper()
	if err := db.Tx(context.Background(), func(ctx context.Context, tx stock.Tx) error {
		_, err := tx.UpdateUser(ctx, "u@x.com", ticker, t0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// wantLatest checks that db's LatestPrice of u@x.com is ticker's.
func wantLatest(t *testing.T, db *store.DB, when, ticker string) {
	t.Helper()
	if p, err := db.LatestPrice(context.Background(), "u@x.com"); err != nil || p.Ticker != ticker {
		t.Errorf("%s: LatestPrice %s, %v; want %s's", when, p.Ticker, err, ticker)
	}
}

// wantStats checks db's count of price reads that found the user kept
// (hits) and that looked the user up (misses).
func wantStats(t *testing.T, db *store.DB, hits, misses uint64) {
	t.Helper()
	wantLookups(t, "users' tickers kept", db.UserCacheStats, hits, misses)
}

// wantLookups checks the hits and misses that stats (a DB's
// UserCacheStats or PriceCacheStats) counts.
func wantLookups(t *testing.T, what string, stats func() (uint64, uint64), hits, misses uint64) {
	t.Helper()
	if h, m := stats(); h != hits || m != misses {
		t.Errorf("%s: %d hits, %d misses; want %d and %d", what, h, m, hits, misses)
	}
}

// twoDBs opens two DBs with opts on one database of backend b (two
// replicas), and registers u@x.com through the first as aaaAndBBB does.
func twoDBs(t *testing.T, b storetest.Backend, opts ...store.Option) (here, there *store.DB) {
	t.Helper()
	url := storetest.URL(t, b)
	here, there = storetest.OpenURL(t, url, opts...), storetest.OpenURL(t, url, opts...)
	aaaAndBBB(t, here)
	return here, there
}

// TestPriceCacheFreshness: a DB that keeps tickers' rows (polling hourly
// here) sees prices stored or deleted through it at once, and those
// stored or deleted through another DB on the same database (another
// replica) at its next poll, never later; until then it answers the price
// as it was. A poll that finds nothing moved keeps serving from memory.
func TestPriceCacheFreshness(t *testing.T) {
	tests := []struct {
		name string
		// change writes AAA's prices (10 at t0, read) through db.
		change func(ctx context.Context, db *store.DB) error
		// want is the latest price of AAA after the change; 0 is
		// KindFailedPrecondition.
		want float64
	}{
		{"Insert", func(ctx context.Context, db *store.DB) error {
			_, err := db.InsertPrices(ctx, aaa(11, time.Minute))
			return err
		}, 11},
		{"SaveQuotes", func(ctx context.Context, db *store.DB) error {
			_, err := db.SaveQuotes(ctx, aaa(12, time.Minute), nil)
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
				here, there := twoDBs(t, b, keepBoth...)
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
				wantLookups(t, "the other DB", there.PriceCacheStats, wantHits, wantMisses)
			})
		})
	}
}

// TestPriceCacheNoChange: writes of users, and a store of prices that are
// stored already, do not move price_epoch, so another DB's poll keeps
// serving its tickers' rows from memory.
func TestPriceCacheNoChange(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		here, there := twoDBs(t, b, keepBoth...)
		there.PollPrices(ctx)
		wantLatest(t, there, "LatestPrice", "AAA")
		wantLatest(t, there, "LatestPrice again", "AAA")
		storetest.AddUser(t, here, "v@x.com", "BBB", t0)
		switchTo(t, here, "AAA")
		if n, err := here.SaveQuotes(ctx, aaa(10, 0), nil); err != nil || n != 0 {
			t.Fatalf("SaveQuotes of a stored price = %d, %v; want 0", n, err)
		}
		there.PollPrices(ctx)
		wantLatest(t, there, "LatestPrice after the poll", "AAA")
		// The first read looked the user up with the row (which does not
		// count), the second read the row.
		wantLookups(t, "tickers' rows kept", there.PriceCacheStats, 1, 1)
	})
}

// TestPriceCacheDuringWrite: reads of a ticker's price while a transaction
// that writes its prices runs (here, before its commit) keep nothing: the
// read after the commit finds the new price, and reads the row.
func TestPriceCacheDuringWrite(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := keeping(t, b)
		during := readsDuringWrite(t, db, func() {
			if _, err := db.InsertPrices(ctx, aaa(11, time.Minute)); err != nil {
				t.Fatal(err)
			}
		}, func(p stock.Price) float64 { return p.Price })
		if want := []float64{10, 10}; !slices.Equal(during, want) {
			t.Errorf("reads before the commit: %v, want %v", during, want)
		}
		wantPrice(t, db, "LatestPrice after the commit", 11)
		// The first read looked the user up with the row (not counted);
		// the two during the write and the one after read the row.
		wantLookups(t, "tickers' rows kept", db.PriceCacheStats, 0, 3)
	})
}

// TestPriceCacheRolledBack: a write of prices that rolls back forgets the
// ticker too, and the next read finds its row as it is.
func TestPriceCacheRolledBack(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := keeping(t, b)
		wantPrice(t, db, "LatestPrice again", 10)
		err := db.Tx(ctx, func(ctx context.Context, tx stock.Tx) error {
			if _, err := tx.InsertPrices(ctx, aaa(11, time.Minute)); err != nil {
				return err
			}
			return stock.Errorf(stock.KindInvalid, "changed my mind")
		})
		wantKind(t, "Tx", err, stock.KindInvalid)
		wantPrice(t, db, "LatestPrice after the rollback", 10)
		wantLookups(t, "tickers' rows kept", db.PriceCacheStats, 0, 2)
	})
}

// TestPriceCachePolls: a DB that polls price_epoch every 100 ms sees, on
// its own, a price stored through another DB.
func TestPriceCachePolls(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		url := storetest.URL(t, b)
		here := storetest.OpenURL(t, url)
		there := storetest.OpenURL(t, url, store.WithUserCache(time.Hour), store.WithPriceCache(100*time.Millisecond, time.Hour))
		aaaAndBBB(t, here)
		wantPrice(t, there, "LatestPrice", 10)
		wantPrice(t, there, "LatestPrice again", 10)
		if _, err := here.InsertPrices(ctx, aaa(11, time.Minute)); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			p, err := there.LatestPrice(ctx, "u@x.com")
			if err != nil {
				t.Fatal(err)
			}
			if p.Price == 11 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the other DB still answers %v 10 s after the write, polling every 100 ms", p.Price)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// readsDuringWrite runs write, which writes through db, reading the
// latest price of u@x.com twice through db just before the write commits,
// and returns what field says of each read.
func readsDuringWrite[T any](t *testing.T, db *store.DB, write func(), field func(stock.Price) T) []T {
	t.Helper()
	var during []T
	db.SetBeforeCommit(func(ctx context.Context) error {
		for range 2 {
			p, err := db.LatestPrice(ctx, "u@x.com")
			if err != nil {
				return err
			}
			during = append(during, field(p))
		}
		return nil
	})
	defer db.SetBeforeCommit(nil)
	write()
	return during
}

// keepBoth keeps users' tickers and tickers' rows for an hour, polling
// only when a test says so.
var keepBoth = []store.Option{store.WithUserCache(time.Hour), store.WithPriceCache(time.Hour, time.Hour)}

// keeping opens a DB on a database of backend b with keepBoth, registers
// u@x.com tracking AAA as aaaAndBBB does, and reads its price once (which
// keeps the user; the next read keeps the row).
func keeping(t *testing.T, b storetest.Backend) *store.DB {
	t.Helper()
	db := storetest.OpenURL(t, storetest.URL(t, b), keepBoth...)
	aaaAndBBB(t, db)
	wantPrice(t, db, "LatestPrice", 10)
	return db
}

// aaa returns a price p of AAA at t0 + at, collected then.
func aaa(p float64, at time.Duration) []stock.Price {
	return []stock.Price{{Ticker: "AAA", Price: p, Currency: "USD", MarketTime: t0.Add(at), CollectTime: t0.Add(at)}}
}

// wantPrice checks that db's LatestPrice of u@x.com is price.
func wantPrice(t *testing.T, db *store.DB, when string, price float64) {
	t.Helper()
	if p, err := db.LatestPrice(context.Background(), "u@x.com"); err != nil || p.Price != price {
		t.Errorf("%s: %v, %v; want %v", when, p.Price, err, price)
	}
}
