package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/stockwatch/stockwatch/internal/api"
	"github.com/stockwatch/stockwatch/internal/benchtest"
	"github.com/stockwatch/stockwatch/internal/cliconfig"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/yahoo"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// TestLinksNoTesting: the harness binary does not link package testing
// (which would bring its flags and test-only code into a shipped build):
// what it shares with the Go benchmarks must live outside benchrun.
func TestLinksNoTesting(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	if slices.Contains(strings.Fields(string(out)), "testing") {
		t.Error("cmd/stockwatch-bench depends on package testing")
	}
}

func TestParseStat(t *testing.T) {
	t.Parallel()
	// The command name may hold spaces and parentheses.
	const stat = "4242 (odd) name (x)) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 50 0 0 20 0 9 0 100 1000000 500 18446744073709551615"
	got, err := parseStat(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * time.Second; got != want { // (250 + 50) ticks at 100 Hz
		t.Errorf("parseStat = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 u s"} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat(%q): no error", bad)
		}
	}
	if _, err := cpuTime(os.Getpid()); err != nil {
		t.Errorf("cpuTime(self): %v", err)
	}
}

func TestParseStatusKiB(t *testing.T) {
	t.Parallel()
	status := []byte("Name:\tstockwatchd\nVmPeak:\t  900000 kB\nVmHWM:\t   40960 kB\nVmRSS:\t   32768 kB\nThreads:\t9\n")
	for field, want := range map[string]int64{"VmRSS": 32768, "VmHWM": 40960} {
		got, err := parseStatusKiB(status, field)
		if err != nil || got != want {
			t.Errorf("parseStatusKiB(%s) = %d, %v; want %d", field, got, err, want)
		}
	}
	if _, err := parseStatusKiB(status, "VmSwap"); err == nil {
		t.Error("missing field: no error")
	}
	if kib, err := memKiB(os.Getpid(), "VmRSS"); err != nil || kib <= 0 {
		t.Errorf("memKiB(self) = %d, %v", kib, err)
	}
}

// TestPidFromFile: the pid in a pid file counts only if that process runs
// under one of the names given.
func TestPidFromFile(t *testing.T) {
	t.Parallel()
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	self := strings.TrimSpace(string(comm))
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	mine := write("self.pid", strconv.Itoa(os.Getpid())+"\n")
	tests := []struct {
		name  string
		path  string
		names []string
		want  int
	}{
		{"Running", mine, []string{"mariadbd", self}, os.Getpid()},
		{"OtherName", mine, []string{"mariadbd", "mysqld"}, 0},
		{"NoFile", filepath.Join(dir, "none.pid"), []string{self}, 0},
		{"NotANumber", write("bad.pid", "mysqld\n"), []string{self}, 0},
		{"Zero", write("zero.pid", "0"), []string{self}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := pidFromFile(tt.path, tt.names...); got != tt.want {
				t.Errorf("pidFromFile = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, time.Duration(i))
	}
	tests := []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"Empty", nil, 0.5, 0},
		{"One", []time.Duration{7}, 0.99, 7},
		{"P50Of100", hundred, 0.50, 50},
		{"P99Of100", hundred, 0.99, 99},
		{"Max", hundred, 1, 100},
		{"P50OfThree", []time.Duration{1, 2, 3}, 0.5, 2},
		{"P99OfThree", []time.Duration{1, 2, 3}, 0.99, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.in, tt.p); got != tt.want {
				t.Errorf("percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestVerdictAndMedian(t *testing.T) {
	t.Parallel()
	got := []string{verdict(0.95, 0.9, true), verdict(0.45, 0.9, true), verdict(0.89, 0.9, true), verdict(1.2, 1.5, false), verdict(1.8, 1.5, false)}
	want := []string{"met", "**missed by 50%**", "**missed by 1.1%**", "met", "**missed by 20%**"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verdicts mismatch (-want +got):\n%s", diff)
	}
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median odd = %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median even = %v", m)
	}
}

func TestParseRunConfig(t *testing.T) {
	t.Parallel()
	c, err := parseRunConfig(nil, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{1, 16, 64}, c.Concurrency); diff != "" {
		t.Errorf("default concurrency mismatch (-want +got):\n%s", diff)
	}
}

// TestParsePrices: -prices takes one size or several, ascending; the
// largest is the scaling check's large database.
func TestParsePrices(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		want    []int
		largest int
	}{
		{"Default", nil, []int{1_000_000}, 1_000_000},
		{"One", []string{"-prices", "20000"}, []int{20_000}, 20_000},
		{"Three", []string{"-prices", "10000,1000000,10000000"}, []int{10_000, 1_000_000, 10_000_000}, 10_000_000},
		{"SpacesAndZero", []string{"-prices", " 0 , 5,"}, []int{0, 5}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := parseRunConfig(tt.args, &strings.Builder{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, c.Prices); diff != "" {
				t.Errorf("prices mismatch (-want +got):\n%s", diff)
			}
			if got := c.largest(); got != tt.largest {
				t.Errorf("largest = %d, want %d", got, tt.largest)
			}
		})
	}
}

// TestUsageErrors checks the command line's mistakes: one line on stderr
// with the hint to the right -h, exit status 2, nothing on stdout.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	const run, ceiling = " (see stockwatch-bench run -h)\n", " (see stockwatch-bench ceiling -h)\n"
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"NoCommand", nil, "stockwatch-bench: missing command: run or ceiling (see stockwatch-bench -h)\n"},
		{"UnknownCommand", []string{"walk"}, `stockwatch-bench: unknown command "walk" (see stockwatch-bench -h)` + "\n"},
		{"UnknownBackend", []string{"run", "-backends", "postgres"}, `stockwatch-bench: -backends: unknown backend "postgres"` + run},
		{"ZeroConcurrency", []string{"run", "-concurrency", "0"}, `stockwatch-bench: -concurrency: "0": want a list of positive integers` + run},
		{"BadScalingConcurrency", []string{"run", "-scaling-concurrency", "x"}, `stockwatch-bench: -scaling-concurrency: "x" is not a positive integer` + run},
		{"DescendingPrices", []string{"run", "-prices", "1000000,10000"}, `stockwatch-bench: -prices: "1000000,10000": want ascending sizes` + run},
		{"RepeatedPrices", []string{"run", "-prices", "10,10"}, `stockwatch-bench: -prices: "10,10": want ascending sizes` + run},
		{"NegativePrices", []string{"run", "-prices", "-5"}, `stockwatch-bench: -prices: "-5" is not a number of rows` + run},
		{"BadPrices", []string{"run", "-prices", "10,1e6"}, `stockwatch-bench: -prices: "1e6" is not a number of rows` + run},
		{"NoPrices", []string{"run", "-prices", ","}, "stockwatch-bench: -prices: want at least one size" + run},
		{"ZeroRounds", []string{"run", "-rounds", "0"}, "stockwatch-bench: -rounds must be at least 1" + run},
		{"UnknownWorkload", []string{"run", "-workloads", "Nope"}, `stockwatch-bench: -workloads: unknown workload "Nope"` + run},
		{"StrayArgument", []string{"run", "extra"}, `stockwatch-bench: unexpected argument "extra" (flags start with -)` + run},
		{"UnknownFlag", []string{"run", "-bogus"}, "stockwatch-bench: run: flag provided but not defined: -bogus" + run},
		{"BadFlagValue", []string{"run", "-duration", "soon"}, `stockwatch-bench: run: invalid value "soon" for flag -duration: parse error` + run},
		{"CeilingLogLevel", []string{"ceiling", "-log-level", "loud"}, `stockwatch-bench: -log-level: slog: level string "loud": unknown name` + ceiling},
		{"CeilingStrayArgument", []string{"ceiling", "db"}, `stockwatch-bench: unexpected argument "db" (flags start with -)` + ceiling},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr strings.Builder
			err := realMain(t.Context(), tt.args, &stdout, &stderr)
			if code := cliconfig.Exit(&stderr, "stockwatch-bench", err); code != cliconfig.ExitUsage {
				t.Errorf("exit status %d, want %d", code, cliconfig.ExitUsage)
			}
			if diff := cmp.Diff(tt.stderr, stderr.String()); diff != "" {
				t.Errorf("stderr mismatch (-want +got):\n%s", diff)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

// TestHelp checks that -h prints a usage on stdout and exits 0.
func TestHelp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args   []string
		prefix string
	}{
		{[]string{"-h"}, "usage:\n  stockwatch-bench run [flags]"},
		{[]string{"help"}, "usage:\n  stockwatch-bench run [flags]"},
		{[]string{"run", "-h"}, "Usage: stockwatch-bench run [flags]\n\nFlags:\n  -backends string\n"},
		{[]string{"ceiling", "-help"}, "Usage: stockwatch-bench ceiling -db URL [flags]\n\nFlags:\n  -addr string\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			var stdout, stderr strings.Builder
			err := realMain(t.Context(), tt.args, &stdout, &stderr)
			if code := cliconfig.Exit(&stderr, "stockwatch-bench", err); code != cliconfig.ExitOK {
				t.Errorf("exit status %d, want 0", code)
			}
			if !strings.HasPrefix(stdout.String(), tt.prefix) {
				t.Errorf("stdout = %q, want it to start with %q", stdout.String(), tt.prefix)
			}
			if stderr.Len() > 0 {
				t.Errorf("stderr = %q, want nothing", stderr.String())
			}
		})
	}
}

// TestUpstream checks that the fake answers in the shape the real Yahoo
// client reads.
func TestUpstream(t *testing.T) {
	t.Parallel()
	up, err := startUpstream(10 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer up.close()
	start := time.Now()
	q, err := yahoo.New(up.url).Quote(context.Background(), "brk-b")
	if err != nil {
		t.Fatal(err)
	}
	if q.Ticker != "BRK-B" || q.Price <= 0 || q.Currency != "USD" {
		t.Errorf("quote = %+v", q)
	}
	if d := time.Since(start); d < 10*time.Millisecond {
		t.Errorf("answered in %v, before the latency", d)
	}
	if up.requests.Load() != 1 || up.maxIn.Load() != 1 {
		t.Errorf("requests %d, max in flight %d; want 1, 1", up.requests.Load(), up.maxIn.Load())
	}
}

// TestSmoke serves the ceilings and the real API on a small SQLite
// database in this process and runs every workload of the harness through
// the closed-loop generator for a moment each.
func TestSmoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "bench.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const users, tickers = 50, 5
	if err := benchtest.Preload(ctx, db, users, tickers, 500); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	srv, err := newCeilingServer(ctx, db, log)
	if err != nil {
		t.Fatal(err)
	}
	api.New(db, api.Config{Logger: log}).Register(srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	defer srv.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	p := &process{name: "in-process", conn: conn}
	e := &env{rows: 500, users: users, tickers: tickers, daemon: p, ceiling: p, stock: pb.NewStockServiceClient(conn)}
	h := &harness{}
	ws := h.workloads()
	var names []string
	for _, w := range ws {
		names = append(names, w.name)
		if w.ceiling != slices.Contains(ceilingNames, w.name) {
			t.Errorf("workload %s: ceiling = %v, but ceilingNames says otherwise", w.name, w.ceiling)
		}
	}
	if diff := cmp.Diff(workloadNames, names); diff != "" {
		t.Errorf("workloads mismatch workloadNames (-want +got):\n%s", diff)
	}
	for _, w := range ws {
		t.Run(strings.ReplaceAll(w.name, " ", ""), func(t *testing.T) {
			s := closedLoop(ctx, 2, 20*time.Millisecond, 200*time.Millisecond, watch{server: os.Getpid()}, w.op(e))
			if s.Errors > 0 {
				t.Fatalf("%d errors, first: %v", s.Errors, s.FirstErr)
			}
			if s.N == 0 || s.P50 <= 0 || s.P99 < s.P50 || s.RPS() <= 0 {
				t.Errorf("sample = %+v", s)
			}
			if s.Elapsed < 200*time.Millisecond {
				t.Errorf("window %v, shorter than the duration", s.Elapsed)
			}
			if s.MaxRSSKiB <= 0 {
				t.Errorf("no RSS sampled")
			}
		})
	}
	if h.fresh.Load() == 0 {
		t.Error("RegisterUser registered nobody")
	}
}

// TestReport renders a report from made-up figures.
func TestReport(t *testing.T) {
	t.Parallel()
	cfg, err := parseRunConfig([]string{"-concurrency", "16", "-scaling-concurrency", "16", "-collector-tickers", "100"}, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	b := &backendReport{name: "mysql", preloads: []preloadInfo{{10000, 1000, 1000000, time.Second}, {10000, 100, 10000, time.Second}}}
	add := func(phase, wl string, rows int, rps float64, p50 time.Duration) {
		n := int(rps)
		b.results = append(b.results, result{phase: phase, workload: wl, server: "stockwatchd-large", rows: rows, conc: 16,
			sample: sample{N: n, Elapsed: time.Second, P50: p50, P99: 2 * p50, MaxRSSKiB: 30 << 10}})
	}
	add("main", "Read", 1000000, 1000, time.Millisecond)
	add("main", "PointRead", 1000000, 1100, time.Millisecond)
	add("main", "GetLatestPrice", 1000000, 950, time.Millisecond)
	add("main", "GetAveragePrice", 1000000, 500, time.Millisecond)
	add("scaling", "GetLatestPrice", 10000, 1000, time.Millisecond)
	add("scaling", "GetLatestPrice", 1000000, 1000, 1100*time.Microsecond)
	b.collector = []collectResult{{tickers: 100, conc: 4, latency: 100 * time.Millisecond, duration: 2600 * time.Millisecond, fetched: 100, maxInFlight: 4}}
	out := markdown(cfg, b)
	wantInReport(t, out,
		"| GetLatestPrice req/s ÷ Read req/s | 0.95 | ≥ 0.9 | met |",
		"| GetAveragePrice (100) req/s ÷ Read req/s | 0.50 | ≥ 0.7 | **missed by 29%** |",
		"| GetLatestPrice req/s ÷ PointRead req/s | 0.86 | ≥ 0.9 at c=1, 16, 64 | c=16 **missed by 4.0%** |",
		"| GetLatestPrice p99 ÷ PointRead p99 | 1.00 | ≤ 1.5 at c=1, 16, 64 | met |",
		"| RegisterUser req/s ÷ Insert req/s | – | ≥ 0.8 at c=1, 16 | not measured |",
		"| GetLatestPrice | 16 | 1.00 ms | 1.10 ms | 1.10 | ≤ 1.2 | met |",
		"| 100 | 2.600 s | 2.500 s | 1.040 | ≤ 1.1 | met |",
	)
}

// TestReportSizes renders a report of three -prices sizes from made-up
// figures: a requests table per size and the growth table, with the
// verdicts of the price reads only.
func TestReportSizes(t *testing.T) {
	t.Parallel()
	cfg, err := parseRunConfig([]string{"-prices", "10000,1000000,10000000", "-concurrency", "1,16", "-scaling=false", "-collector-tickers", ""}, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	b := &backendReport{name: "mysql"}
	for i, rows := range cfg.Prices {
		b.preloads = append(b.preloads, preloadInfo{cfg.Users, cfg.Tickers, rows, time.Duration(rows) * 20 * time.Microsecond})
		for _, conc := range cfg.Concurrency {
			for wl, base := range map[string]time.Duration{"PointRead": 500, "GetLatestPrice": 600, "GetAveragePrice": 700} {
				p50 := base * time.Microsecond * time.Duration(100+5*i*conc) / 100 // +5% a size at c=1, +80% at c=16
				b.results = append(b.results, result{phase: "main", workload: wl, server: "s", rows: rows, conc: conc,
					sample: sample{N: 1000, Elapsed: time.Second, P50: p50, P99: 3 * p50}})
			}
		}
	}
	out := markdown(cfg, b)
	wantInReport(t, out,
		"- preload of 10,000 users over 1,000 tickers and 10,000,000 prices (store.Open + benchtest.Preload): 200.0 s\n",
		"Requests at 10,000 price rows",
		"Requests at 1,000,000 price rows",
		"Requests at 10,000,000 price rows",
		"| GetLatestPrice | 1 | 1,000 | 660 µs | 1.98 ms |",
		"| workload | c | p50 @10,000 | p50 @1,000,000 | p50 @10,000,000 | 10,000,000 ÷ 10,000 | target | verdict |\n|---|---:|---:|---:|---:|---:|---|---|\n",
		"| ceiling: PointRead (1 primary-key SELECT) | 1 | 500 µs | 525 µs | 550 µs | 1.10 | – |  |\n",
		"| GetLatestPrice | 1 | 600 µs | 630 µs | 660 µs | 1.10 | ≤ 1.1 | met |\n",
		"| GetAveragePrice (100) | 16 | 700 µs | 1.26 ms | 1.82 ms | 2.60 | ≤ 1.1 | **missed by 136%** |\n",
	)
	if strings.Contains(out, "Scaling:") {
		t.Errorf("report has a scaling table without -scaling:\n%s", out)
	}
}

// markdown renders the report of b under cfg.
func markdown(cfg runConfig, b *backendReport) string {
	r := &report{cfg: cfg, backends: []*backendReport{b}}
	var sb strings.Builder
	r.markdown(&sb)
	return sb.String()
}

// wantInReport fails t for every one of want that out does not contain.
func wantInReport(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("report lacks %q:\n%s", w, out)
		}
	}
}
