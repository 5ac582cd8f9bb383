package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// upstream is a fake Yahoo Finance chart endpoint that answers every
// symbol with a valid chart after a fixed latency. (internal/yahoo/yahootest
// needs a testing.TB, so it cannot serve a benchmark binary.)
type upstream struct {
	latency  time.Duration
	srv      *http.Server
	url      string
	requests atomic.Int64
	inFlight atomic.Int64
	maxIn    atomic.Int64 // the most requests in flight at once
}

// startUpstream serves the fake on a loopback port. It returns an error if
// it cannot listen.
func startUpstream(latency time.Duration) (*upstream, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u := &upstream{latency: latency, url: "http://" + lis.Addr().String()}
	u.srv = &http.Server{Handler: u, ReadHeaderTimeout: 10 * time.Second}
	go u.srv.Serve(lis)
	return u, nil
}

// reset zeroes the counters.
func (u *upstream) reset() {
	u.requests.Store(0)
	u.maxIn.Store(0)
}

func (u *upstream) close() { u.srv.Close() }

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := u.inFlight.Add(1)
	defer u.inFlight.Add(-1)
	for {
		m := u.maxIn.Load()
		if n <= m || u.maxIn.CompareAndSwap(m, n) {
			break
		}
	}
	u.requests.Add(1)
	symbol, ok := strings.CutPrefix(r.URL.Path, "/v8/finance/chart/")
	if !ok || symbol == "" {
		http.NotFound(w, r)
		return
	}
	t := time.NewTimer(u.latency)
	defer t.Stop()
	select {
	case <-r.Context().Done():
		return
	case <-t.C:
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, chartBody(symbol, time.Now()))
}

// chartBody is the part of Yahoo's chart response that the client reads.
func chartBody(symbol string, now time.Time) string {
	return fmt.Sprintf(`{"chart":{"result":[{"meta":{"currency":"USD","symbol":%q,"regularMarketPrice":%.2f,"regularMarketTime":%d}}],"error":null}}`,
		symbol, 100+float64(len(symbol)), now.Unix())
}
