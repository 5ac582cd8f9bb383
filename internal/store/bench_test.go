package store_test

// Store-level benchmarks: the same reads and writes as the API benchmarks
// (internal/api/bench_test.go) and their SQL ceilings, without gRPC, so
// that a gap between an RPC and its ceiling can be split into transport
// and database work. They run only with -bench; ./scripts/bench.sh runs
// them.

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

// The preload, as in the API benchmarks.
const (
	benchUsers   = 1000
	benchTickers = 100
	benchPrices  = 100_000
)

var benchT0 = time.Date(2026, 11, 27, 14, 30, 0, 0, time.UTC)

func benchTicker(i int) string { return fmt.Sprintf("T%03d", i) }
func benchEmail(i int) string  { return fmt.Sprintf("user%06d@bench.example", i) }

// BenchmarkStore measures the store's price and user queries and an
// at-most-once registration beside raw SQL ceilings, per backend.
func BenchmarkStore(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(string(be), func(b *testing.B) {
			db := storetest.Open(b, be)
			benchPreload(b, db)
			storetest.MustExec(b, db, `CREATE TABLE bench_scratch (k VARCHAR(64) NOT NULL PRIMARY KEY, v BIGINT NOT NULL, t BIGINT NOT NULL)`)
			r, w := db.Pools()

			b.Run("Ceiling/Read", func(b *testing.B) {
				benchRun(b, func(ctx context.Context, rng *rand.Rand) error {
					var (
						id, mt, ct  int64
						ticker, cur string
						p           float64
					)
					return r.QueryRowContext(ctx, `SELECT id, ticker, price, currency, market_time, collect_time
						FROM stock_prices WHERE ticker = ? ORDER BY market_time DESC LIMIT 1`, benchTicker(rng.IntN(benchTickers))).
						Scan(&id, &ticker, &p, &cur, &mt, &ct)
				})
			})
			var seq atomic.Int64
			b.Run("Ceiling/Write", func(b *testing.B) {
				benchRun(b, func(ctx context.Context, _ *rand.Rand) error {
					n := seq.Add(1)
					tx, err := w.BeginTx(ctx, nil)
					if err != nil {
						return err
					}
					defer tx.Rollback()
					for _, k := range []string{"a", "b"} {
						if _, err := tx.ExecContext(ctx, `INSERT INTO bench_scratch (k, v, t) VALUES (?, ?, ?)`, k+strconv.FormatInt(n, 10), n, n); err != nil {
							return err
						}
					}
					return tx.Commit()
				})
			})
			b.Run("LatestPrice", func(b *testing.B) {
				benchRun(b, func(ctx context.Context, rng *rand.Rand) error {
					_, err := db.LatestPrice(ctx, benchEmail(rng.IntN(benchUsers)))
					return err
				})
			})
			b.Run("AveragePrice", func(b *testing.B) {
				benchRun(b, func(ctx context.Context, rng *rand.Rand) error {
					_, err := db.AveragePrice(ctx, benchEmail(rng.IntN(benchUsers)), 100)
					return err
				})
			})
			b.Run("GetUser", func(b *testing.B) {
				benchRun(b, func(ctx context.Context, rng *rand.Rand) error {
					_, err := db.GetUser(ctx, benchEmail(rng.IntN(benchUsers)))
					return err
				})
			})
			// CreateUserOnce is RegisterUser's transaction: record, insert,
			// outcome, commit.
			var fresh atomic.Int64
			b.Run("CreateUserOnce", func(b *testing.B) {
				benchRun(b, func(ctx context.Context, rng *rand.Rand) error {
					n := fresh.Add(1)
					email := fmt.Sprintf("fresh%09d@bench.example", n)
					now := time.Now().UTC().Truncate(time.Microsecond)
					fp := sha256.Sum256([]byte(email))
					key := stock.RequestKey{
						ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), Method: "/stockwatch.v1.StockService/RegisterUser",
						Fingerprint: fp[:], Now: now, ExpireBefore: now.Add(-24 * time.Hour),
					}
					_, _, err := db.Once(ctx, key, func(ctx context.Context, tx stock.Tx) (stock.Outcome, error) {
						u := stock.User{Email: email, Ticker: benchTicker(int(n) % benchTickers), CreateTime: now, UpdateTime: now}
						return stock.Outcome{Body: []byte(email)}, tx.CreateUser(ctx, u)
					})
					return err
				})
			})
		})
	}
}

// benchPreload inserts benchUsers users over benchTickers tickers and
// benchPrices prices, one minute apart per ticker.
func benchPreload(b *testing.B, db *store.DB) {
	b.Helper()
	ctx := context.Background()
	_, _, err := db.Once(ctx, stock.RequestKey{}, func(ctx context.Context, tx stock.Tx) (stock.Outcome, error) {
		for i := range benchUsers {
			u := stock.User{Email: benchEmail(i), Ticker: benchTicker(i % benchTickers), CreateTime: benchT0, UpdateTime: benchT0}
			if err := tx.CreateUser(ctx, u); err != nil {
				return stock.Outcome{}, err
			}
		}
		return stock.Outcome{}, nil
	})
	if err != nil {
		b.Fatalf("preload users: %v", err)
	}
	const perTicker = benchPrices / benchTickers
	ps := make([]stock.Price, 0, benchPrices)
	for k := range perTicker {
		m := benchT0.Add(-time.Duration(perTicker-k) * time.Minute)
		for t := range benchTickers {
			ps = append(ps, stock.Price{Ticker: benchTicker(t), Price: 100 + float64(k%100), Currency: "USD", MarketTime: m, CollectTime: m.Add(time.Second)})
		}
	}
	for c := range slices.Chunk(ps, 20_000) {
		if n, err := db.InsertPrices(ctx, c); err != nil || n != int64(len(c)) {
			b.Fatalf("preload prices: inserted %d of %d: %v", n, len(c), err)
		}
	}
}

// benchRun runs op from STOCKWATCH_BENCH_CONCURRENCY (default 16)
// goroutines, rounded up to a multiple of GOMAXPROCS, and reports ops/s
// and the p50 and p99 latency of one op. An error fails b.
func benchRun(b *testing.B, op func(ctx context.Context, rng *rand.Rand) error) {
	b.Helper()
	conc := 16
	if n, err := strconv.Atoi(os.Getenv("STOCKWATCH_BENCH_CONCURRENCY")); err == nil && n > 0 {
		conc = n
	}
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((conc + procs - 1) / procs)
	ctx := context.Background()
	var (
		mu   sync.Mutex
		lats []time.Duration
		seed atomic.Uint64
	)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(seed.Add(1), uint64(time.Now().UnixNano())))
		mine := make([]time.Duration, 0, 1024)
		for pb.Next() {
			start := time.Now()
			if err := op(ctx, rng); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(start))
		}
		mu.Lock()
		lats = append(lats, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	if len(lats) == 0 {
		return
	}
	slices.Sort(lats)
	q := func(p float64) float64 { return float64(lats[min(len(lats)-1, int(p*float64(len(lats))))]) }
	b.ReportMetric(q(0.50), "p50-ns")
	b.ReportMetric(q(0.99), "p99-ns")
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "ops/s")
	}
}
