package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/stockwatch/stockwatch/internal/benchtest"
	"github.com/stockwatch/stockwatch/internal/metrics"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// The daemon keeps which ticker each user follows for its price reads
// (-user-cache-ttl, one collection period by default), and each ticker's
// newest price until prices change (-price-cache-poll). A replica whose
// users read more often than that answers nearly every price read from
// memory; one that has just started, or whose users were just written
// (the UpdateUser workload), looks them up. The price-read workloads are
// measured in the first state, the one a replica serving its users
// settles in: before each, every user is read once (GetUser, which keeps
// what it reads), and the share of reads that found the user kept, and
// of those the share that found the ticker's price kept, during the run
// are reported beside it.

// priced are the workloads that read prices by user.
var priced = map[string]bool{"GetLatestPrice": true, "GetAveragePrice": true, "GetAveragePrice10000": true}

// prime reads every user of e once through the daemon, 16 at a time.
func (e *env) prime(ctx context.Context) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	next := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				cctx, cancel := context.WithTimeout(ctx, opTimeout)
				_, err := e.stock.GetUser(cctx, &pb.GetUserRequest{Email: benchtest.Email(i)})
				cancel()
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range e.users {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// keptCaches are the daemon's caches a price read looks in, in that
// order: the user's ticker, then that ticker's newest price.
var keptCaches = []string{metrics.UserCache, metrics.PriceCache}

// lookups are the hits and misses of each of keptCaches.
type lookups [][2]float64

// cacheLookups returns the daemon's stockwatch_NAME_cache_lookups_total of
// each of keptCaches by result, read from its /metrics.
func (e *env) cacheLookups(ctx context.Context) (lookups, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	m, err := metrics.Scrape(ctx, http.DefaultClient, "http://"+e.metricsAddr+"/metrics")
	if err != nil {
		return nil, err
	}
	var ls lookups
	for _, c := range keptCaches {
		name := "stockwatch_" + c + "_cache_lookups_total"
		hits, okHit := m[name+`{result="hit"}`]
		misses, okMiss := m[name+`{result="miss"}`]
		if !okHit || !okMiss {
			return nil, fmt.Errorf("metrics of %s: no %s", e.metricsAddr, name)
		}
		ls = append(ls, [2]float64{hits, misses})
	}
	return ls, nil
}

// keptShare measures w with run; a price read primed, and with the share
// of the lookups in each of keptCaches that hit during the run (nil if w
// is not a price read, or the shares could not be read; a share is -1
// where a cache was not looked in).
func (h *harness) keptShare(ctx context.Context, e *env, w workload, run func() sample) (sample, []float64) {
	if !priced[w.name] {
		return run(), nil
	}
	if err := e.prime(ctx); err != nil {
		h.logf("priming the daemon's kept users failed: %v", err)
	}
	l0, err0 := e.cacheLookups(ctx)
	s := run()
	l1, err1 := e.cacheLookups(ctx)
	if err0 != nil || err1 != nil {
		h.logf("what was kept: cannot tell (%v, %v)", err0, err1)
		return s, nil
	}
	shares := make([]float64, len(keptCaches))
	for i := range keptCaches {
		hits, misses := l1[i][0]-l0[i][0], l1[i][1]-l0[i][1]
		shares[i] = -1
		if hits+misses > 0 {
			shares[i] = hits / (hits + misses)
		}
	}
	return s, shares
}

// keptText says shares (from keptShare) in words.
func keptText(shares []float64) string {
	var parts []string
	for i, sh := range shares {
		if sh >= 0 {
			parts = append(parts, fmt.Sprintf("%s kept %.1f%%", keptCaches[i], 100*sh))
		}
	}
	return strings.Join(parts, ", ")
}
