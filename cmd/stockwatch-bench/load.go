package main

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// op is one request of a workload. rng is the calling worker's own.
type op func(ctx context.Context, rng *rand.Rand) error

// opTimeout bounds one request, so that a stuck server fails the run
// instead of hanging it.
const opTimeout = 30 * time.Second

// watch names the processes whose CPU and memory a run measures; a zero
// pid is not measured.
type watch struct {
	server int // the process serving the requests
	db     int // the database server (mysqld), when it is local
}

// sample is what one closed-loop run measured over its window (after the
// warm-up).
type sample struct {
	N         int           // requests completed without error
	Errors    int           // requests that failed
	FirstErr  error         // the first failure, for the report
	Elapsed   time.Duration // from the window's start until the last request ended
	P50, P99  time.Duration
	ServerCPU time.Duration // CPU time of watch.server over the window
	DBCPU     time.Duration // CPU time of watch.db over the window
	MaxRSSKiB int64         // largest VmRSS of watch.server sampled during the run
}

// RPS returns the completed requests per second.
func (s sample) RPS() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.N) / s.Elapsed.Seconds()
}

// CPUPerReq returns the server's CPU time per completed request.
func (s sample) CPUPerReq() time.Duration {
	if s.N == 0 {
		return 0
	}
	return s.ServerCPU / time.Duration(s.N)
}

// DBCPUPerReq returns the database server's CPU time per completed request.
func (s sample) DBCPUPerReq() time.Duration {
	if s.N == 0 {
		return 0
	}
	return s.DBCPU / time.Duration(s.N)
}

// closedLoop runs f from conc workers, each sending its next request as
// soon as the previous one answers, for warmup and then dur. Only requests
// that start inside the window [warmup, warmup+dur) are counted; the
// window ends when the last of them has answered, and the CPU figures
// cover the same span. It returns early, with what it has, when ctx is
// done.
func closedLoop(ctx context.Context, conc int, warmup, dur time.Duration, w watch, f op) sample {
	start := time.Now()
	t0, t1 := start.Add(warmup), start.Add(warmup+dur)
	workers := make([]worker, conc)
	stopRSS := make(chan struct{})
	rssDone := make(chan int64)
	go func() { rssDone <- sampleRSS(w.server, stopRSS) }()

	var wg sync.WaitGroup
	for i := range workers {
		wk := &workers[i]
		wk.lats = make([]time.Duration, 0, 4096)
		wg.Go(func() {
			wk.run(ctx, rand.New(rand.NewPCG(uint64(i)+1, uint64(start.UnixNano()))), t0, t1, f)
		})
	}

	// The window's CPU starts at t0 and ends after the last counted
	// request: a few requests straddle each edge, out of thousands.
	sleepUntil(ctx, t0)
	cpu0, db0 := cpuOf(w.server), cpuOf(w.db)
	wg.Wait()
	end := time.Now()
	cpu1, db1 := cpuOf(w.server), cpuOf(w.db)
	close(stopRSS)

	s := merge(workers)
	s.Elapsed = end.Sub(t0)
	s.ServerCPU, s.DBCPU = cpu1-cpu0, db1-db0
	s.MaxRSSKiB = <-rssDone
	return s
}

// worker is one client goroutine of closedLoop and what it counted.
type worker struct {
	lats     []time.Duration
	errs     int
	firstErr error
}

// run sends requests one after another until t1 or ctx's end, counting
// those that start at t0 or later.
func (wk *worker) run(ctx context.Context, rng *rand.Rand, t0, t1 time.Time, f op) {
	for ctx.Err() == nil {
		s := time.Now()
		if !s.Before(t1) {
			return
		}
		cctx, cancel := context.WithTimeout(ctx, opTimeout)
		err := f(cctx, rng)
		cancel()
		lat := time.Since(s)
		if s.Before(t0) {
			continue
		}
		if err != nil {
			if wk.errs == 0 {
				wk.firstErr = err
			}
			wk.errs++
			continue
		}
		wk.lats = append(wk.lats, lat)
	}
}

// merge returns the workers' requests, errors and latency percentiles.
func merge(workers []worker) sample {
	var s sample
	var lats []time.Duration
	for _, wk := range workers {
		lats = append(lats, wk.lats...)
		if s.FirstErr == nil {
			s.FirstErr = wk.firstErr
		}
		s.Errors += wk.errs
	}
	slices.Sort(lats)
	s.N = len(lats)
	s.P50, s.P99 = percentile(lats, 0.50), percentile(lats, 0.99)
	return s
}

func sleepUntil(ctx context.Context, t time.Time) {
	tm := time.NewTimer(time.Until(t))
	defer tm.Stop()
	select {
	case <-ctx.Done():
	case <-tm.C:
	}
}

// cpuOf returns pid's CPU time, or 0 for pid 0 or an unreadable process.
func cpuOf(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	d, err := cpuTime(pid)
	if err != nil {
		return 0
	}
	return d
}

// sampleRSS returns the largest VmRSS of pid, read every 50 ms until stop
// is closed (0 for pid 0).
func sampleRSS(pid int, stop <-chan struct{}) int64 {
	if pid == 0 {
		<-stop
		return 0
	}
	var hi int64
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if kib, err := memKiB(pid, "VmRSS"); err == nil {
			hi = max(hi, kib)
		}
		select {
		case <-stop:
			return hi
		case <-t.C:
		}
	}
}
