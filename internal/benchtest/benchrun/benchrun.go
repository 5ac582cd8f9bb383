// Package benchrun runs the operation of a Go benchmark from concurrent
// goroutines and reports throughput and latency percentiles. It imports
// testing, so only _test files use it; what binaries share with the
// benchmarks is in benchtest.
package benchrun

import (
	"context"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Concurrency is the number of client goroutines (default 16), from
// STOCKWATCH_BENCH_CONCURRENCY. RunParallel starts a multiple of
// GOMAXPROCS goroutines, so Run rounds it up to one.
func Concurrency() int {
	if n, err := strconv.Atoi(os.Getenv("STOCKWATCH_BENCH_CONCURRENCY")); err == nil && n > 0 {
		return n
	}
	return 16
}

// Run runs op from Concurrency() goroutines, b.N times in all, and reports
// ops/s and the p50 and p99 latency of one op. op gets a per-goroutine
// random source; an error fails b.
func Run(b *testing.B, op func(ctx context.Context, rng *rand.Rand) error) {
	b.Helper()
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((Concurrency() + procs - 1) / procs)
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
