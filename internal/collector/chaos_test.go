package collector_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/breaker"
	"github.com/stockwatch/stockwatch/internal/collector"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/yahoo"
	"github.com/stockwatch/stockwatch/internal/yahoo/yahootest"
)

// TestUpstreamChaos: with every kind of upstream fault on some tickers,
// the healthy tickers' prices are still stored, unknown symbols never
// count against the breaker, and the breaker opens only when upstream
// failures run N in a row.
func TestUpstreamChaos(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := storetest.Open(t, b)
		up := yahootest.NewServer(t)
		faults := map[string]yahootest.Fault{
			"BSLOW":  {Delay: 2 * time.Second}, // beyond the client's timeout
			"DRESET": {Kind: yahootest.FaultReset},
			"FFIVE":  {Kind: yahootest.FaultServerError},
			"HLIMIT": {Kind: yahootest.FaultRateLimit},
			"JHTML":  {Kind: yahootest.FaultHTML},
			"LTRUNC": {Kind: yahootest.FaultTruncated},
		}
		// Sorted, the tickers alternate healthy and faulty.
		healthy := []string{"AGOOD", "CGOOD", "EGOOD", "GGOOD", "IGOOD", "KGOOD", "MGOOD"}
		for tk, f := range faults {
			up.SetFault(tk, f)
			storetest.AddUser(t, db, tk+"@x.com", tk, t0)
		}
		for i, tk := range healthy {
			up.SetQuote(tk, float64(100+i), "USD", t0)
			storetest.AddUser(t, db, tk+"@x.com", tk, t0)
		}
		storetest.AddUser(t, db, "zz@x.com", "NZZZZ", t0) // unknown to the source
		var transitions []string
		br := breaker.New(yahoo.New(up.URL(), yahoo.WithTimeout(200*time.Millisecond)), breaker.Config{
			Failures: 3, Timeout: time.Hour, IsFailure: yahoo.IsFailure,
			OnStateChange: func(from, to breaker.State) { transitions = append(transitions, from.String()+"→"+to.String()) },
		})
		// Concurrency 1 fetches in ticker order, so failures never run 3 in
		// a row.
		c := collector.New(db, br, collector.Config{Concurrency: 1, Now: func() time.Time { return t0 }})
		res := c.Cycle(ctx)
		if res.Fetched != len(healthy) || res.Failed != len(faults) || res.Unknown != 1 || res.Err != nil {
			t.Fatalf("chaos cycle = %+v, want %d fetched, %d failed, 1 unknown", res, len(healthy), len(faults))
		}
		if got := storetest.Count(t, db, "stock_prices", ""); got != len(healthy) {
			t.Errorf("rows = %d, want %d (every healthy ticker stored)", got, len(healthy))
		}
		if br.State() != breaker.StateClosed || len(transitions) != 0 {
			t.Errorf("breaker %v after interleaved failures (transitions %v), want closed", br.State(), transitions)
		}

		// Now everything fails: the breaker opens after exactly 3, and the
		// rest of the cycle sends nothing upstream.
		up.SetGlobalFault(yahootest.Fault{Kind: yahootest.FaultServerError})
		for _, tk := range healthy {
			up.SetFault(tk, yahootest.Fault{Kind: yahootest.FaultServerError})
		}
		before := up.Requests()
		res = c.Cycle(ctx)
		sent := up.Requests() - before
		if br.State() != breaker.StateOpen || sent != 3 || res.Fetched != 0 {
			t.Errorf("all failing: state %v, %d requests sent, %d fetched; want open, 3, 0", br.State(), sent, res.Fetched)
		}
		fmt.Printf("upstream chaos (%s): %d tickers, %d fault kinds (slow, reset, 5xx, 429, HTML, truncated), %d healthy stored, breaker %v after a full outage with %d requests sent, transitions %v\n",
			b, res.Tickers, len(faults), len(healthy), br.State(), sent, transitions)
	})
}
