package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/report.md from the current renderer")

// TestReportGolden renders a report with every section filled (two
// backends, three concurrencies, two rounds, the scaling check, the
// collector, errors) from made-up figures and compares it with
// testdata/report.md byte for byte, so that a change of the renderer's
// code cannot change the format unnoticed.
func TestReportGolden(t *testing.T) {
	t.Parallel()
	cfg, err := parseRunConfig([]string{"-rounds", "2", "-collector-tickers", "100,1000"}, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.commandLine = "stockwatch-bench run -rounds 2 -collector-tickers 100,1000"
	cfg.daemonBuiltBy = "CGO_ENABLED=0 go build -trimpath -o /tmp/x/stockwatchd ./cmd/stockwatchd"
	start := time.Date(2026, 11, 27, 14, 30, 0, 0, time.UTC)
	r := &report{
		cfg: cfg, start: start, end: start.Add(17*time.Minute + 3*time.Second),
		loadStart: "0.50 0.40 0.30", loadEnd: "1.90 1.20 0.70",
		machine:  "2 × Test CPU (nproc 2), go1.26 linux/amd64, GOMAXPROCS 2",
		backends: []*backendReport{goldenBackend(cfg, "mysql", "11.4.2-MariaDB", 1), goldenBackend(cfg, "sqlite", "", 3)},
	}
	var sb strings.Builder
	r.markdown(&sb)
	path := filepath.Join("testdata", "report.md")
	if *update {
		if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), sb.String()); diff != "" {
		t.Errorf("report mismatch (-want +got):\n%s", diff)
	}
}

// goldenBackend returns a backend's made-up figures: every workload at
// every concurrency and round, both scaling sizes, two collector cycles;
// RSS grows with rss, and two RPCs miss their targets.
func goldenBackend(cfg runConfig, name, version string, rss int64) *backendReport {
	b := &backendReport{
		name: name, dbVersion: version,
		preloads: []preloadInfo{
			{cfg.Users, cfg.Tickers, cfg.largest(), 9*time.Second + 400*time.Millisecond},
			{cfg.Users, cfg.SmallTickers, cfg.SmallPrices, 700 * time.Millisecond},
		},
		mainTook: 4 * time.Minute, scalingTook: 50 * time.Second, collectorTook: 90 * time.Second,
	}
	add := func(phase, wl, server string, rows, conc, round int, k float64) {
		b.results = append(b.results, result{phase: phase, workload: wl, server: server, rows: rows, conc: conc, round: round,
			sample: sample{
				N: int(2000 * k), Elapsed: time.Second, P50: time.Duration(300*k) * time.Microsecond, P99: time.Duration(2900*k) * time.Microsecond,
				ServerCPU: time.Duration(700*k) * time.Millisecond, DBCPU: time.Duration(300*k) * time.Millisecond, MaxRSSKiB: rss * int64(20000+5000*k),
			}})
	}
	for round := range cfg.Rounds {
		for ci, conc := range cfg.Concurrency {
			for wi, wl := range workloadNames {
				server := "stockwatchd-large"
				if slices.Contains(ceilingNames, wl) {
					server = "ceiling-large"
				}
				k := 1 + 0.1*float64(wi) + 0.3*float64(ci) + 0.05*float64(round)
				if wl == "RegisterUser" || wl == "GetAveragePrice" && conc == 16 {
					k /= 2
				}
				add("main", wl, server, cfg.largest(), conc, round, k)
			}
		}
		for ci, conc := range cfg.ScalingConc {
			for wi, wl := range []string{"Read", "GetLatestPrice", "GetAveragePrice"} {
				k := 1 + 0.2*float64(wi) + 0.1*float64(ci)
				add("scaling", wl, "stockwatchd-small", cfg.SmallPrices, conc, round, k)
				add("scaling", wl, "stockwatchd-large", cfg.largest(), conc, round, k*(1.1+0.05*float64(round)))
			}
		}
	}
	b.results[5].Errors, b.results[5].FirstErr = 3, errors.New("rpc error: code = Unavailable")
	for i, n := range cfg.CollTickers {
		b.collector = append(b.collector, collectResult{
			tickers: n, conc: cfg.CollConc, latency: cfg.CollLatency, duration: time.Duration(n/cfg.CollConc+i) * 104 * time.Millisecond,
			fetched: n - i, failed: i, maxInFlight: int64(cfg.CollConc), hwmKiB: int64(30000 + 1000*i),
		})
	}
	return b
}
