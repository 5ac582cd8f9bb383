package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// collectResult is one collector cycle of the real daemon (-role
// collector) against the fake upstream.
type collectResult struct {
	tickers, conc   int
	latency         time.Duration
	duration        time.Duration // the cycle's own figure, from its log line
	fetched, failed int
	inserted        int64
	requests        int64 // seen by the fake upstream
	maxInFlight     int64
	maxRSSKiB       int64 // sampled during the cycle
	hwmKiB          int64 // VmHWM after the cycle
}

// ideal is ceil(tickers / concurrency) × latency.
func (r collectResult) ideal() time.Duration {
	return time.Duration((r.tickers+r.conc-1)/r.conc) * r.latency
}

// collectorCycle preloads n users over n tickers, starts the daemon with
// -role collector against the fake upstream, and reads the first cycle's
// figures from its JSON log line.
func (h *harness) collectorCycle(ctx context.Context, backend string, n int, up *upstream) (collectResult, error) {
	r := collectResult{tickers: n, conc: h.cfg.CollConc, latency: h.cfg.CollLatency}
	db, err := h.newDatabase(ctx, backend, fmt.Sprintf("collector%d", n))
	if err != nil {
		return r, err
	}
	defer db.drop()
	if _, err := h.preload(ctx, db, n, n, 0); err != nil {
		return r, fmt.Errorf("preload: %w", err)
	}
	up.reset()
	cmd := exec.CommandContext(ctx, h.cfg.Daemon, "-role", "collector", "-db", db.dsn, "-http-addr=",
		"-interval", "1h", "-concurrency", strconv.Itoa(h.cfg.CollConc), "-yahoo-url", up.url,
		"-log-format", "json", "-log-level", "info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return r, err
	}
	if err := cmd.Start(); err != nil {
		return r, err
	}
	stopRSS := make(chan struct{})
	rss := make(chan int64, 1)
	go func() { rss <- sampleRSS(cmd.Process.Pid, stopRSS) }()
	log := watchCycle(stderr)
	timeout := 3*r.ideal() + time.Minute
	var l cycleLine
	var ok bool
	select {
	case l, ok = <-log.found:
	case <-time.After(timeout):
	case <-ctx.Done():
	}
	hwm, _ := memKiB(cmd.Process.Pid, "VmHWM")
	close(stopRSS)
	r.maxRSSKiB = <-rss
	_ = cmd.Process.Signal(syscall.SIGTERM)
	waitErr := cmd.Wait()
	if !ok {
		return r, fmt.Errorf("no \"collection cycle\" log line within %v (daemon: %v): %s", timeout, waitErr, log.head())
	}
	if l.Tickers != n {
		return r, fmt.Errorf("the cycle saw %d tickers, want %d", l.Tickers, n)
	}
	r.duration, r.fetched, r.failed, r.inserted = time.Duration(l.Duration), l.Fetched, l.Failed, l.Inserted
	r.requests, r.maxInFlight, r.hwmKiB = up.requests.Load(), up.maxIn.Load(), hwm
	return r, nil
}

// cycleLine is the collector's "collection cycle" log line, in JSON.
type cycleLine struct {
	Msg      string `json:"msg"`
	Tickers  int    `json:"tickers"`
	Fetched  int    `json:"fetched"`
	Failed   int    `json:"failed"`
	Inserted int64  `json:"inserted"`
	Duration int64  `json:"duration"` // slog's JSON handler writes nanoseconds
}

// cycleLog reads a daemon's JSON log for its first cycle line.
type cycleLog struct {
	found chan cycleLine // gets the cycle line; closed after it, or at the log's end without one

	mu    sync.Mutex
	lines []string // the log before the cycle line (20 lines at most), for errors
}

// watchCycle reads r in the background until the cycle line, then
// discards the rest of it.
func watchCycle(r io.Reader) *cycleLog {
	l := &cycleLog{found: make(chan cycleLine, 1)}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var c cycleLine
			if json.Unmarshal(sc.Bytes(), &c) == nil && c.Msg == "collection cycle" {
				l.found <- c
				break
			}
			l.mu.Lock()
			if len(l.lines) < 20 {
				l.lines = append(l.lines, sc.Text())
			}
			l.mu.Unlock()
		}
		close(l.found)
		_, _ = io.Copy(io.Discard, r)
	}()
	return l
}

// head returns the log read before the cycle line.
func (l *cycleLog) head() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
