package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report is everything one run measured.
type report struct {
	cfg                runConfig
	start, end         time.Time
	loadStart, loadEnd string
	machine            string
	backends           []*backendReport
}

type backendReport struct {
	name                                 string
	dbVersion                            string
	preloads                             []preloadInfo
	results                              []result
	collector                            []collectResult
	mainTook, scalingTook, collectorTook time.Duration
}

type preloadInfo struct {
	users, tickers, prices int
	took                   time.Duration
}

// result is one closed-loop run.
type result struct {
	phase    string // "main" or "scaling"
	workload string
	server   string // the process that served it
	rows     int    // price rows in the database
	conc     int
	round    int
	sample
}

// machineFacts describes the CPU, as /proc/cpuinfo names it.
func machineFacts() string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	return fmt.Sprintf("%d × %s (nproc %d), %s %s/%s, GOMAXPROCS %d", runtime.NumCPU(), model, runtime.NumCPU(),
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
}

// loadAvg returns the 1, 5 and 15 minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// samples returns the runs of one measurement, by round.
func (b *backendReport) samples(phase, workload string, rows, conc int) map[int]sample {
	m := map[int]sample{}
	for _, r := range b.results {
		if r.phase == phase && r.workload == workload && r.rows == rows && r.conc == conc {
			m[r.round] = r.sample
		}
	}
	return m
}

// median returns the median of xs (the mean of the middle two for an even
// count), or 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// med applies f to every round's sample and returns the median.
func med(m map[int]sample, f func(sample) float64) float64 {
	var xs []float64
	for _, s := range m {
		xs = append(xs, f(s))
	}
	return median(xs)
}

// ratio returns the median over rounds of f(a)/f(b), pairing runs of the
// same round, and whether there was any pair.
func ratio(a, b map[int]sample, f func(sample) float64) (float64, bool) {
	var xs []float64
	for round, sa := range a {
		if sb, ok := b[round]; ok && f(sb) != 0 {
			xs = append(xs, f(sa)/f(sb))
		}
	}
	return median(xs), len(xs) > 0
}

func rps(s sample) float64 { return s.RPS() }
func p50(s sample) float64 { return float64(s.P50) }
func p99(s sample) float64 { return float64(s.P99) }

// verdict says whether v meets a target: at least target (atLeast) or at
// most it, and by how much it misses.
func verdict(v, target float64, atLeast bool) string {
	if atLeast && v >= target || !atLeast && v <= target {
		return "met"
	}
	miss := 100 * abs(v-target) / target
	if miss < 10 {
		return fmt.Sprintf("**missed by %.1f%%**", miss)
	}
	return fmt.Sprintf("**missed by %.0f%%**", miss)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func fmtDur(d float64) string {
	switch {
	case d == 0:
		return "–"
	case d < float64(time.Millisecond):
		return fmt.Sprintf("%.0f µs", d/float64(time.Microsecond))
	case d < float64(10*time.Millisecond):
		return fmt.Sprintf("%.2f ms", d/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1f ms", d/float64(time.Millisecond))
	}
}

// fmtCPU formats a CPU time per request, where 0 is a measurement
// (less than one clock tick over the whole run).
func fmtCPU(d float64) string {
	if d == 0 {
		return "0 µs"
	}
	return fmtDur(d)
}

func fmtSecs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

func fmtInt(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func mib(kib float64) string {
	if kib == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f MiB", kib/1024)
}

// markdown writes the report's tables.
func (r *report) markdown(w io.Writer) {
	c := r.cfg
	fmt.Fprintf(w, "## Harness run %s UTC\n\n", r.start.UTC().Format("2006-01-02 15:04"))
	fmt.Fprintf(w, "- command: `%s`\n", c.commandLine)
	if c.daemonBuiltBy != "" {
		fmt.Fprintf(w, "- daemon: `%s`\n", c.daemonBuiltBy)
	}
	fmt.Fprintf(w, "- machine: %s\n", r.machine)
	for _, b := range r.backends {
		if b.dbVersion != "" {
			fmt.Fprintf(w, "- %s server: %s\n", b.name, b.dbVersion)
		}
	}
	fmt.Fprintf(w, "- load average (1/5/15 min): %s at the start, %s at the end\n", r.loadStart, r.loadEnd)
	fmt.Fprintf(w, "- each run: %v warm-up, then %v measured; %d round(s)", c.Warmup, c.Duration, c.Rounds)
	if c.Rounds > 1 {
		fmt.Fprint(w, " (every figure is the median over the rounds; every ratio the median of the per-round ratios)")
	}
	fmt.Fprintf(w, "\n- took %v in all\n\n", r.end.Sub(r.start).Round(time.Second))
	for _, b := range r.backends {
		b.markdown(w, c)
	}
}

func (b *backendReport) markdown(w io.Writer, c runConfig) {
	fmt.Fprintf(w, "### %s\n\n", b.name)
	for _, p := range b.preloads {
		fmt.Fprintf(w, "- preload of %s users over %s tickers and %s prices (store.Open + benchtest.Preload): %s\n",
			fmtInt(int64(p.users)), fmtInt(int64(p.tickers)), fmtInt(int64(p.prices)), fmtSecs(p.took))
	}
	fmt.Fprintf(w, "- durations: requests %s, scaling %s, collector %s\n\n", fmtSecs(b.mainTook), fmtSecs(b.scalingTook), fmtSecs(b.collectorTook))

	workloads := workloadNames
	names := map[string]string{
		"Noop": "ceiling: Noop (health Check)", "Read": "ceiling: Read (1 indexed SELECT)", "Write": "ceiling: Write (tx, 2 INSERTs)",
		"Noop (daemon)": "daemon: health Check", "GetAveragePrice": "GetAveragePrice (100)",
	}
	dbcol := b.name == "mysql"
	fmt.Fprintf(w, "Requests at %s price rows (server = the process that served them: the ceiling server or the daemon):\n\n", fmtInt(int64(c.Prices)))
	fmt.Fprint(w, "| workload | c | req/s | p50 | p99 | server CPU/req |")
	if dbcol {
		fmt.Fprint(w, " mysqld CPU/req |")
	}
	fmt.Fprint(w, " server RSS max | errors |\n|---|---:|---:|---:|---:|---:|")
	if dbcol {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprint(w, "---:|---:|\n")
	for _, conc := range c.Concurrency {
		for _, wl := range workloads {
			m := b.samples("main", wl, c.Prices, conc)
			if len(m) == 0 {
				continue
			}
			name := wl
			if n, ok := names[wl]; ok {
				name = n
			}
			var errs int
			for _, s := range m {
				errs += s.Errors
			}
			fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s |", name, conc,
				fmtInt(int64(med(m, rps)+0.5)), fmtDur(med(m, p50)), fmtDur(med(m, p99)),
				fmtCPU(med(m, func(s sample) float64 { return float64(s.CPUPerReq()) })))
			if dbcol {
				fmt.Fprintf(w, " %s |", fmtCPU(med(m, func(s sample) float64 { return float64(s.DBCPUPerReq()) })))
			}
			fmt.Fprintf(w, " %s | %d |\n", mib(med(m, func(s sample) float64 { return float64(s.MaxRSSKiB) })), errs)
		}
	}
	fmt.Fprintln(w)

	// Ratios to the ceilings, per concurrency.
	type ratioRow struct {
		name, rpc, ceil string
		f               func(sample) float64
		target          float64 // 0: none
		atLeast         bool
	}
	rows := []ratioRow{
		{"GetLatestPrice req/s ÷ Read req/s", "GetLatestPrice", "Read", rps, 0.9, true},
		{"GetLatestPrice p99 ÷ Read p99", "GetLatestPrice", "Read", p99, 1.5, false},
		{"GetAveragePrice (100) req/s ÷ Read req/s", "GetAveragePrice", "Read", rps, 0.7, true},
		{"GetUser req/s ÷ Read req/s", "GetUser", "Read", rps, 0, true},
		{"RegisterUser req/s ÷ Write req/s", "RegisterUser", "Write", rps, 0.8, true},
		{"UpdateUser req/s ÷ Write req/s", "UpdateUser", "Write", rps, 0, true},
		{"daemon health Check req/s ÷ ceiling Noop req/s", "Noop (daemon)", "Noop", rps, 0, true},
	}
	fmt.Fprint(w, "Ratios to the ceilings measured in the same run (issue 7's targets are for MariaDB at c = 16):\n\n| ratio |")
	for _, conc := range c.Concurrency {
		fmt.Fprintf(w, " c=%d |", conc)
	}
	fmt.Fprint(w, " target | verdict at c=16 |\n|---|")
	for range c.Concurrency {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprint(w, "---|---|\n")
	for _, rr := range rows {
		fmt.Fprintf(w, "| %s |", rr.name)
		var at16 *float64
		for _, conc := range c.Concurrency {
			v, ok := ratio(b.samples("main", rr.rpc, c.Prices, conc), b.samples("main", rr.ceil, c.Prices, conc), rr.f)
			if !ok {
				fmt.Fprint(w, " – |")
				continue
			}
			fmt.Fprintf(w, " %.2f |", v)
			if conc == 16 {
				at16 = &v
			}
		}
		switch {
		case rr.target == 0:
			fmt.Fprint(w, " – | |\n")
		case at16 == nil:
			fmt.Fprintf(w, " %s %.1f | not measured |\n", cmpSign(rr.atLeast), rr.target)
		default:
			fmt.Fprintf(w, " %s %.1f | %s |\n", cmpSign(rr.atLeast), rr.target, verdict(*at16, rr.target, rr.atLeast))
		}
	}
	// Daemon RSS at the highest concurrency.
	top := slices.Max(c.Concurrency)
	var rssTop float64
	for _, wl := range workloads {
		for _, s := range b.samples("main", wl, c.Prices, top) {
			if wl != "Noop" && wl != "Read" && wl != "Write" {
				rssTop = max(rssTop, float64(s.MaxRSSKiB))
			}
		}
	}
	if rssTop > 0 {
		v := rssTop / 1024
		fmt.Fprintf(w, "| daemon RSS, max over all RPCs at c=%d, %s rows | %s MiB |", top, fmtInt(int64(c.Prices)), fmt.Sprintf("%.1f", v))
		for range c.Concurrency[1:] {
			fmt.Fprint(w, " |")
		}
		verd := verdict(v, 64, false)
		if top != 64 {
			verd = "(target is at c=64)"
		}
		fmt.Fprintf(w, " ≤ 64 MiB | %s |\n", verd)
	}
	fmt.Fprintln(w)

	if c.Scaling && len(b.preloads) > 1 {
		small := b.preloads[1].prices
		fmt.Fprintf(w, "Scaling: %s vs %s price rows (the small database has %s tickers, so that a ticker has %s prices and GetAveragePrice(100) reads 100 rows at both sizes; sizes alternate run by run):\n\n",
			fmtInt(int64(small)), fmtInt(int64(c.Prices)), fmtInt(int64(b.preloads[1].tickers)), fmtInt(int64(small/max(b.preloads[1].tickers, 1))))
		fmt.Fprintf(w, "| query | c | p50 @%s | p50 @%s | ratio | target | verdict |\n|---|---:|---:|---:|---:|---|---|\n", fmtInt(int64(small)), fmtInt(int64(c.Prices)))
		for _, conc := range c.ScalingConc {
			for _, wl := range []string{"Read", "GetLatestPrice", "GetAveragePrice"} {
				ms, ml := b.samples("scaling", wl, small, conc), b.samples("scaling", wl, c.Prices, conc)
				v, ok := ratio(ml, ms, p50)
				if !ok {
					continue
				}
				name, target, verd := wl, "–", ""
				if n, ok := names[wl]; ok {
					name = n
				}
				if wl != "Read" {
					target, verd = "≤ 1.2", verdictNote(conc == 16, verdict(v, 1.2, false))
				}
				fmt.Fprintf(w, "| %s | %d | %s | %s | %.2f | %s | %s |\n", name, conc, fmtDur(med(ms, p50)), fmtDur(med(ml, p50)), v, target, verd)
			}
		}
		var rs, rl float64
		for _, r := range b.results {
			if r.phase == "scaling" && !strings.HasPrefix(r.server, "ceiling") {
				if r.rows == small {
					rs = max(rs, float64(r.MaxRSSKiB))
				} else {
					rl = max(rl, float64(r.MaxRSSKiB))
				}
			}
		}
		fmt.Fprintf(w, "\nDaemon RSS (max sampled during the scaling runs): %s at %s rows, %s at %s rows.\n\n", mib(rs), fmtInt(int64(small)), mib(rl), fmtInt(int64(c.Prices)))
	}

	if len(b.collector) > 0 {
		fmt.Fprintf(w, "Collector: one cycle of the daemon (`-role collector -concurrency %d`) against a fake upstream with %v latency per request:\n\n", c.CollConc, c.CollLatency)
		fmt.Fprint(w, "| tickers | cycle | ceil(tickers/concurrency) × latency | ratio | target | verdict | fetched / failed | upstream max in flight | daemon RSS (VmHWM) |\n|---:|---:|---:|---:|---|---|---:|---:|---:|\n")
		for _, r := range b.collector {
			v := r.duration.Seconds() / r.ideal().Seconds()
			fmt.Fprintf(w, "| %s | %s | %s | %.3f | ≤ 1.1 | %s | %d / %d | %d | %s |\n", fmtInt(int64(r.tickers)),
				fmtSecs3(r.duration), fmtSecs3(r.ideal()), v, verdict(v, 1.1, false), r.fetched, r.failed, r.maxInFlight, mib(float64(r.hwmKiB)))
		}
		fmt.Fprintln(w)
	}
}

func fmtSecs3(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }

func cmpSign(atLeast bool) string {
	if atLeast {
		return "≥"
	}
	return "≤"
}

// verdictNote keeps a verdict only where the target applies.
func verdictNote(applies bool, v string) string {
	if !applies {
		return "(target is at c=16)"
	}
	return v
}
