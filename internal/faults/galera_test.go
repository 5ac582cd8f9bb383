package faults_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/stockwatch/stockwatch/internal/collector"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/yahoo"
	"github.com/stockwatch/stockwatch/internal/yahoo/yahootest"
)

const (
	// galeraWrites is how many writes the clients get acknowledged
	// (STOCKWATCH_FAULT_WRITES sets another number).
	galeraWrites = 5000
	// galeraInterval is the collectors' period: a node loss stops every
	// commit for ~6s (the cluster evicting the dead node), and a cycle
	// caught in it must still end within two periods of the last fetch.
	galeraInterval = 8 * time.Second
	// galeraWatched is how many verified tickers the collectors share.
	galeraWatched = 12
	// galeraClients is half the crash scenario's: the faults take their
	// time (a node's rejoin), and the check of the history grows with the
	// writes. Their pace is the same: a client's next call on an e-mail
	// comes within milliseconds of its last, on another replica and node,
	// and must see it.
	galeraClients = 8
)

// fetch is one quote request of a collector.
type fetch struct {
	owner string
	at    time.Time
}

// recordingQuoter records when each ticker is fetched, by whom, and asks
// the real Yahoo client.
type recordingQuoter struct {
	q     collector.Quoter
	owner string
	mu    *sync.Mutex
	log   map[string][]fetch
}

func (r recordingQuoter) Quote(ctx context.Context, ticker string) (stock.Quote, error) {
	r.mu.Lock()
	r.log[ticker] = append(r.log[ticker], fetch{r.owner, time.Now()})
	r.mu.Unlock()
	return r.q.Quote(ctx, ticker)
}

// TestGaleraFaults: the crash workload (8 clients registering, updating
// and deleting users, each retrying across replicas through one
// multi-address client) against 3 API replicas, one per node of a Galera
// cluster (storetest.EnvGalera), each with every node in -db starting with
// its own, and 2 collectors on a schedule; until galeraWrites writes are
// acknowledged, while node 2 is SIGKILLed and later restarted (it rejoins
// by state transfer) and API replica 1 is SIGKILLed and later restarted.
// Then: every acknowledged write is recorded once with its answer, some
// real-time order of the operations explains every answer and final row,
// every recorded request sent again is replayed, not executed; and every
// watched ticker was fetched once per cycle across the collectors, with
// no gap longer than two cycles. It kills node 2 of the cluster that
// scripts/galera.sh started, so it runs alone (make galera-faults).
func TestGaleraFaults(t *testing.T) {
	nodes, _ := storetest.Galera(t)
	began := time.Now()
	seed := seed(t)
	t.Logf("seed %d (%s=%d replays the choices)", seed, envSeed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	writes := galeraWrites
	if n := crashWrites(t); n > 0 {
		writes = n
	}
	bin := buildDaemon(t)

	// The watched tickers: verified, quoted upstream, each tracked by a
	// user the workload never touches.
	up := yahootest.NewServer(t)
	setup := storetest.OpenURL(t, storetest.GaleraURL(nodes, 0))
	var watched []string
	var states []stock.TickerState
	now := time.Now().UTC().Truncate(time.Minute)
	for i := range galeraWatched {
		tk := fmt.Sprintf("W%02d", i)
		watched = append(watched, tk)
		up.SetQuote(tk, float64(100+i), "USD", now)
		storetest.AddUser(t, setup, fmt.Sprintf("watch%d@galera.example", i), tk, now)
		states = append(states, stock.TickerState{Ticker: tk, Status: stock.TickerVerified, Checked: now})
	}
	if _, err := setup.SaveQuotes(context.Background(), nil, states); err != nil {
		t.Fatal(err)
	}

	// Replica i prefers node i+1; so does collector i.
	var reps []*daemon
	var addrs []string
	for i := range 3 {
		addr := fixedAddr(t, rng.IntN)
		d := newDaemon(t, bin, addr, "-role", "api", "-verify-tickers=false", "-db", storetest.GaleraURL(nodes, i))
		d.metrics = true
		if err := d.start(); err != nil {
			t.Fatalf("replica %d: %v", i+1, err)
		}
		reps = append(reps, d)
		addrs = append(addrs, addr)
	}
	var (
		fetchMu sync.Mutex
		fetches = map[string][]fetch{}
		cycles  [2]atomic.Int64
		cycErrs [2]atomic.Int64
	)
	collCtx, stopColl := context.WithCancel(context.Background())
	defer stopColl()
	var colls sync.WaitGroup
	collStart := time.Now()
	for i := range 2 {
		db := storetest.OpenURL(t, storetest.GaleraURL(nodes, i))
		owner := fmt.Sprintf("collector-%d", i+1)
		q := recordingQuoter{q: yahoo.New(up.URL()), owner: owner, mu: &fetchMu, log: fetches}
		c := collector.New(db, q, collector.Config{
			Interval: galeraInterval, Owner: owner,
			// The workload's tickers are unknown upstream: check a few of
			// them per cycle, as -verify-per-cycle does.
			MaxUnverified: 5,
			OnCycle: func(r collector.Result) {
				cycles[i].Add(1)
				if r.Err != nil {
					cycErrs[i].Add(1)
				}
			},
		})
		colls.Go(func() { _ = c.Run(collCtx) })
	}

	// The workload: as TestCrashDuringWrites', through all three replicas.
	var faultsDone atomic.Bool // the workload goes on until the faults are over
	w := startCrashWorkload(t, crashRun{
		seed: seed, addr: strings.Join(addrs, ","), clients: galeraClients,
		limit: max(3*time.Minute, time.Duration(writes)*30*time.Millisecond),
		more: func(acked int64, _ int) bool {
			return acked < int64(writes) || !faultsDone.Load()
		},
	})

	// The faults, once given shares of the writes are acknowledged.
	nodeDown := false
	t.Cleanup(func() {
		if nodeDown {
			storetest.GaleraNode(t, "start", 2)
		}
	})
	reached := func(share float64) error {
		for w.acked.Load() < int64(share*float64(writes)) {
			select {
			case <-w.done:
				return fmt.Errorf("the workload ended after %d acknowledged writes, before %.0f%%", w.acked.Load(), share*100)
			case <-time.After(2 * time.Millisecond):
			}
		}
		return nil
	}
	var nodeKilledAt, repKilledAt int64
	var nodeKilled time.Time
	var rejoin, repDown time.Duration
	faultErr := func() error {
		defer faultsDone.Store(true)
		if err := reached(0.15); err != nil {
			return err
		}
		nodeKilledAt = w.acked.Load()
		storetest.GaleraNode(t, "kill", 2)
		nodeKilled, nodeDown = time.Now(), true
		t.Logf("node 2 killed after %d acknowledged writes", nodeKilledAt)
		// Down for a collection period, then back by state transfer.
		time.Sleep(galeraInterval)
		rejoin = storetest.GaleraNode(t, "start", 2)
		nodeDown = false
		t.Logf("node 2 Synced again %v after its start (down %v)", rejoin.Round(time.Millisecond), time.Since(nodeKilled).Round(time.Millisecond))
		time.Sleep(2 * time.Second)
		repKilledAt = w.acked.Load()
		reps[0].kill()
		time.Sleep(3 * time.Second)
		t0 := time.Now()
		if err := reps[0].restart(); err != nil {
			return fmt.Errorf("restart replica 1: %w", err)
		}
		repDown = 3*time.Second + time.Since(t0)
		t.Logf("replica 1 killed after %d acknowledged writes, serving again %v later", repKilledAt, repDown.Round(time.Millisecond))
		time.Sleep(galeraInterval) // a last period with everything up
		return nil
	}()
	workload := w.wait(t, faultErr)
	stopColl()
	colls.Wait()
	collEnd := time.Now()
	for i, d := range reps {
		if err := d.stop(); err != nil {
			t.Errorf("replica %d: %v", i+1, err)
		}
	}
	ops := w.ops(t)

	// Read on node 2, the one that rejoined, once it has applied everything.
	// Every recorded request sent again to replica 3 is replayed.
	check := storetest.OpenURL(t, nodes[1]+"?wsrep_sync_wait=1")
	_, sqldb := check.Pools()
	r := checkCrashRun(t, seed, ops, sqldb, "WHERE email LIKE '%@crash.example'", reps[2], "replica 3")
	serverCodes, driverNoise := map[string]int{}, 0
	for i, d := range reps {
		logs := d.logStats(t)
		for _, p := range logs.problems {
			if strings.HasPrefix(p, "[mysql] ") {
				// The driver's own log of the connections the dead node
				// reset; the requests on them answered UNAVAILABLE.
				driverNoise++
				continue
			}
			t.Errorf("replica %d logged: %s", i+1, p)
		}
		for code, n := range logs.codes {
			serverCodes[code] += n
		}
	}
	if n := serverCodes[codes.Internal.String()]; n > 0 {
		t.Errorf("the replicas answered INTERNAL %d times", n)
	}

	// Collection: each watched ticker once per cycle across both
	// collectors (never twice within half a period), no gap longer than
	// two periods, from the first cycle to the last.
	fetchMu.Lock()
	defer fetchMu.Unlock()
	var longest, shortest time.Duration = 0, time.Hour
	total, byOwner := 0, map[string]int{}
	for _, tk := range watched {
		fs := fetches[tk]
		if len(fs) == 0 {
			t.Errorf("%s was never fetched", tk)
			continue
		}
		slices.SortFunc(fs, func(a, b fetch) int { return a.at.Compare(b.at) })
		prev := collStart
		for i, f := range fs {
			total++
			byOwner[f.owner]++
			gap := f.at.Sub(prev)
			if i > 0 {
				shortest = min(shortest, gap)
				if gap < galeraInterval/2 {
					t.Errorf("%s fetched twice within %v (%s at %v, then %s), want once per cycle", tk, gap.Round(time.Millisecond), fs[i-1].owner, fs[i-1].at.Sub(w.start).Round(time.Millisecond), f.owner)
				}
			}
			longest = max(longest, gap)
			prev = f.at
		}
		longest = max(longest, collEnd.Sub(prev))
	}
	if longest > 2*galeraInterval {
		t.Errorf("longest gap between fetches of a watched ticker %v, want at most two cycles (%v)", longest.Round(time.Millisecond), 2*galeraInterval)
	}
	periods := int(collEnd.Sub(collStart) / galeraInterval)
	// The longest time without an acknowledged write (the node loss
	// pauses commits on every node until the others evict it).
	var acks []time.Duration
	for _, op := range ops {
		if op.res != resUnknown {
			acks = append(acks, op.ret)
		}
	}
	slices.Sort(acks)
	var writeGap time.Duration
	for i := 1; i < len(acks); i++ {
		writeGap = max(writeGap, acks[i]-acks[i-1])
	}

	fmt.Printf("galera-faults: seed=%d replicas=3 collectors=2 clients=%d attempted=%d acknowledged=%d (ok=%d already_exists=%d not_found=%d) unknown=%d (applied=%d) lost=%d applied_twice=%d unexplained=%d retried=%d replays_checked=%d node2_killed_after=%d node2_synced_after_start=%v replica1_killed_after=%d replica1_down=%v server_codes=%v driver_log_lines=%d longest_write_gap=%v collection: %d tickers fetched %d times in %d periods of %v (%v), cycles %d+%d (errors %d+%d), gaps %v-%v workload=%v total=%v\n",
		seed, galeraClients, len(ops), r.acked, r.ok, r.exists, r.notFound, r.unknown, r.applied, r.lost, max(0, r.replayed-r.counted), r.unexplained,
		r.retried, r.replayed, nodeKilledAt, rejoin.Round(time.Second), repKilledAt, repDown.Round(time.Millisecond), serverCodes, driverNoise, writeGap.Round(time.Millisecond),
		len(watched), total, periods, galeraInterval, byOwner, cycles[0].Load(), cycles[1].Load(), cycErrs[0].Load(), cycErrs[1].Load(),
		shortest.Round(time.Millisecond), longest.Round(time.Millisecond), workload.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}
