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
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/benchtest"
	"github.com/stockwatch/stockwatch/internal/benchtest/benchrun"
	"github.com/stockwatch/stockwatch/internal/once"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

// BenchmarkStore measures the store's price and user queries and an
// at-most-once registration beside raw SQL ceilings, per backend.
func BenchmarkStore(b *testing.B) {
	eachPreloaded(b, benchtest.Users, benchtest.Tickers, benchtest.Prices, func(b *testing.B, db *store.DB) {
		if err := db.CreateCeilingTable(context.Background()); err != nil {
			b.Fatal(err)
		}
		var seq atomic.Int64
		email := func(rng *rand.Rand) string { return benchtest.Email(rng.IntN(benchtest.Users)) }
		for _, op := range []struct {
			name string
			op   func(ctx context.Context, rng *rand.Rand) error
		}{
			{"Ceiling/Read", func(ctx context.Context, rng *rand.Rand) error {
				_, err := db.ReadCeiling(ctx, benchtest.Ticker(rng.IntN(benchtest.Tickers)))
				return err
			}},
			{"Ceiling/PointRead", func(ctx context.Context, rng *rand.Rand) error {
				_, err := db.PointReadCeiling(ctx, email(rng))
				return err
			}},
			{"Ceiling/Write", func(ctx context.Context, _ *rand.Rand) error {
				n := seq.Add(1)
				return db.WriteCeiling(ctx, strconv.FormatInt(n, 10), n)
			}},
			{"Ceiling/Insert", func(ctx context.Context, _ *rand.Rand) error {
				n := seq.Add(1)
				return db.InsertCeiling(ctx, "i"+strconv.FormatInt(n, 10), n)
			}},
			{"LatestPrice", func(ctx context.Context, rng *rand.Rand) error {
				_, err := db.LatestPrice(ctx, email(rng))
				return err
			}},
			{"AveragePrice", func(ctx context.Context, rng *rand.Rand) error {
				_, err := db.AveragePrice(ctx, email(rng), 100)
				return err
			}},
			{"AveragePrice10000", func(ctx context.Context, rng *rand.Rand) error {
				_, err := db.AveragePrice(ctx, email(rng), 10_000)
				return err
			}},
			{"GetUser", func(ctx context.Context, rng *rand.Rand) error {
				_, err := db.GetUser(ctx, email(rng))
				return err
			}},
		} {
			b.Run(op.name, func(b *testing.B) { benchrun.Run(b, op.op) })
		}
		// CreateUserOnce is RegisterUser's transaction: the user, then the
		// request record, commit.
		var fresh atomic.Int64
		b.Run("CreateUserOnce", func(b *testing.B) {
			benchrun.Run(b, func(ctx context.Context, rng *rand.Rand) error {
				n := fresh.Add(1)
				email := fmt.Sprintf("fresh%09d@bench.example", n)
				now := time.Now().UTC().Truncate(time.Microsecond)
				fp := sha256.Sum256([]byte(email))
				rec := once.Record{
					ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), Method: "/stockwatch.v1.StockService/RegisterUser",
					Fingerprint: fp[:], Created: now, Outcome: once.Outcome{Body: []byte(email)},
				}
				err := db.RecordTx(ctx, func(ctx context.Context, tx once.Tx) error {
					u := stock.User{Email: email, Ticker: benchtest.Ticker(int(n) % benchtest.Tickers), CreateTime: now, UpdateTime: now}
					if err := tx.CreateUser(ctx, u); err != nil {
						return err
					}
					return tx.InsertRecord(ctx, rec)
				})
				return err
			})
		})
	})
}

// BenchmarkSaveQuotes measures the collector's insert: one SaveQuotes of
// a new price for each of 1,000 and 10,000 tickers (each op one cycle's
// transaction, a minute after the last), per backend.
func BenchmarkSaveQuotes(b *testing.B) {
	for _, be := range storetest.Backends() {
		for _, n := range []int{1000, 10_000} {
			b.Run(fmt.Sprintf("%s/tickers=%d", be, n), func(b *testing.B) {
				db := storetest.Open(b, be)
				ctx := context.Background()
				ps := make([]stock.Price, n)
				cycle := 0
				save := func() {
					cycle++
					at := benchtest.T0.Add(time.Duration(cycle) * time.Minute)
					for i := range ps {
						ps[i] = stock.Price{Ticker: benchtest.Ticker(i), Price: 100 + float64(cycle%100), Currency: "USD", MarketTime: at, CollectTime: at}
					}
					if got, err := db.SaveQuotes(ctx, ps, nil); err != nil || got != int64(n) {
						b.Fatalf("SaveQuotes = %d, %v; want %d", got, err, n)
					}
				}
				save() // the tickers' first prices
				b.ResetTimer()
				for b.Loop() {
					save()
				}
			})
		}
	}
}

// eachPreloaded runs f as a sub-benchmark per backend, on a fresh
// database holding the given numbers of users, tickers and prices (see
// benchtest.Preload).
func eachPreloaded(b *testing.B, users, tickers, prices int, f func(b *testing.B, db *store.DB)) {
	for _, be := range storetest.Backends() {
		b.Run(string(be), func(b *testing.B) {
			// As the daemon with -interval 1m, the API running.
			db := storetest.Open(b, be, store.WithUserCache(time.Minute), store.WithPriceCache(time.Second, time.Minute))
			if err := benchtest.Preload(context.Background(), db, users, tickers, prices); err != nil {
				b.Fatal(err)
			}
			f(b, db)
		})
	}
}
