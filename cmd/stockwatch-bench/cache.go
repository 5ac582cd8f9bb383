package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/stockwatch/stockwatch/internal/benchtest"
	"github.com/stockwatch/stockwatch/internal/metrics"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// The daemon keeps which ticker each user follows for its price reads
// (-user-cache-ttl, one collection period by default). A replica whose
// users read more often than that answers nearly every price read from
// memory; one that has just started, or whose users were just written
// (the UpdateUser workload), looks them up. The price-read workloads are
// measured in the first state, the one a replica serving its users
// settles in: before each, every user is read once (GetUser, which keeps
// what it reads), and the share of reads that found the user kept during
// the run is reported beside it.

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

// cacheLookups returns the daemon's stockwatch_user_cache_lookups_total
// by result, read from its /metrics.
func (e *env) cacheLookups(ctx context.Context) (hits, misses float64, err error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	m, err := metrics.Scrape(ctx, http.DefaultClient, "http://"+e.metricsAddr+"/metrics")
	if err != nil {
		return 0, 0, err
	}
	const name = "stockwatch_user_cache_lookups_total"
	hits, okHit := m[name+`{result="hit"}`]
	misses, okMiss := m[name+`{result="miss"}`]
	if !okHit || !okMiss {
		return 0, 0, fmt.Errorf("metrics of %s: no %s", e.metricsAddr, name)
	}
	return hits, misses, nil
}

// keptShare measures w with run; a price read primed, and with the share
// of its reads that found the user kept (false if w is not a price read,
// or the share could not be read).
func (h *harness) keptShare(ctx context.Context, e *env, w workload, run func() sample) (sample, float64, bool) {
	if !priced[w.name] {
		return run(), 0, false
	}
	if err := e.prime(ctx); err != nil {
		h.logf("priming the daemon's kept users failed: %v", err)
	}
	h0, m0, err0 := e.cacheLookups(ctx)
	s := run()
	h1, m1, err1 := e.cacheLookups(ctx)
	if err0 != nil || err1 != nil || h1+m1 == h0+m0 {
		h.logf("users kept: cannot tell (%v, %v)", err0, err1)
		return s, 0, false
	}
	return s, (h1 - h0) / (h1 + m1 - h0 - m0), true
}
