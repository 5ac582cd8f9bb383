package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
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
	kept     []float64 // of a price read: the share of hits of each of keptCaches (cache.go)
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

// markdown writes one backend's section: its preloads and phases, then
// a table per phase that ran (the requests' and ratios' per size).
func (b *backendReport) markdown(w io.Writer, c runConfig) {
	fmt.Fprintf(w, "### %s\n\n", b.name)
	for _, p := range b.preloads {
		fmt.Fprintf(w, "- preload of %s users over %s tickers and %s prices (store.Open + benchtest.Preload): %s\n",
			fmtInt(int64(p.users)), fmtInt(int64(p.tickers)), fmtInt(int64(p.prices)), fmtSecs(p.took))
	}
	fmt.Fprintf(w, "- durations: requests %s, scaling %s, collector %s\n", fmtSecs(b.mainTook), fmtSecs(b.scalingTook), fmtSecs(b.collectorTook))
	b.keptLine(w)
	fmt.Fprintln(w)
	for _, rows := range c.Prices {
		b.requestsTable(w, c, rows)
		b.ratiosTable(w, c, rows)
	}
	if len(c.Prices) > 1 {
		b.growthTable(w, c)
	}
	if c.Scaling && len(b.preloads) > 1 {
		b.scalingTable(w, c)
	}
	if len(b.collector) > 0 {
		b.collectorTable(w, c)
	}
}

// keptLine writes the shares of the lookups of each of keptCaches that
// found what a price read needed kept by the daemon, lowest and highest
// over the runs of each workload, if any was measured (cache.go).
func (b *backendReport) keptLine(w io.Writer) {
	type span struct{ lo, hi float64 }
	spans := map[string][]span{}
	var order []string
	for _, r := range b.results {
		if r.kept == nil {
			continue
		}
		sp := spans[r.workload]
		if sp == nil {
			sp = make([]span, len(r.kept))
			for i, k := range r.kept {
				sp[i] = span{k, k}
			}
			spans[r.workload] = sp
			order = append(order, r.workload)
		}
		for i, k := range r.kept {
			sp[i].lo, sp[i].hi = min(sp[i].lo, k), max(sp[i].hi, k)
		}
	}
	if len(order) == 0 {
		return
	}
	var parts []string
	for _, name := range order {
		var kinds []string
		for i, sp := range spans[name] {
			if sp.hi >= 0 {
				kinds = append(kinds, fmt.Sprintf("%s %.1f–%.1f%%", keptCaches[i], 100*max(sp.lo, 0), 100*sp.hi))
			}
		}
		parts = append(parts, name+": "+strings.Join(kinds, ", "))
	}
	fmt.Fprintf(w, "- price reads that found what they need kept by the daemon (user: the user's ticker; price: of those, its newest price), each run primed by a GetUser of every user (cache.go): %s\n", strings.Join(parts, "; "))
}
