package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// The tables of a backend's section of the report.

// title returns the report's name of workload wl.
func title(wl string) string {
	switch wl {
	case "Noop":
		return "ceiling: Noop (health Check)"
	case "Read":
		return "ceiling: Read (1 indexed SELECT)"
	case "Write":
		return "ceiling: Write (tx, 2 INSERTs)"
	case "Noop (daemon)":
		return "daemon: health Check"
	case "GetAveragePrice":
		return "GetAveragePrice (100)"
	}
	return wl
}

// requestsTable writes the main phase's figures, a row per concurrency
// and workload measured.
func (b *backendReport) requestsTable(w io.Writer, c runConfig) {
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
		for _, wl := range workloadNames {
			if m := b.samples("main", wl, c.Prices, conc); len(m) > 0 {
				requestRow(w, title(wl), conc, m, dbcol)
			}
		}
	}
	fmt.Fprintln(w)
}

// requestRow writes the medians of one workload's rounds m, and their
// errors in all; dbcol adds the database server's CPU.
func requestRow(w io.Writer, name string, conc int, m map[int]sample, dbcol bool) {
	var errs int
	for _, s := range m {
		errs += s.Errors
	}
	fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s |", name, conc,
		fmtInt(int64(med(m, rps)+0.5)), fmtDur(med(m, p50)), fmtDur(med(m, p99)), fmtCPU(med(m, cpuPerReq)))
	if dbcol {
		fmt.Fprintf(w, " %s |", fmtCPU(med(m, dbCPUPerReq)))
	}
	fmt.Fprintf(w, " %s | %d |\n", mib(med(m, maxRSS)), errs)
}

// ratioRow is a row of the ratios table: f of workload rpc over f of
// workload ceil, and its target at c=16 (0: none).
type ratioRow struct {
	name, rpc, ceil string
	f               func(sample) float64
	target          float64
	atLeast         bool
}

// ceilingRatios are the rows of the ratios table.
var ceilingRatios = []ratioRow{
	{"GetLatestPrice req/s ÷ Read req/s", "GetLatestPrice", "Read", rps, 0.9, true},
	{"GetLatestPrice p99 ÷ Read p99", "GetLatestPrice", "Read", p99, 1.5, false},
	{"GetAveragePrice (100) req/s ÷ Read req/s", "GetAveragePrice", "Read", rps, 0.7, true},
	{"GetUser req/s ÷ Read req/s", "GetUser", "Read", rps, 0, true},
	{"RegisterUser req/s ÷ Write req/s", "RegisterUser", "Write", rps, 0.8, true},
	{"UpdateUser req/s ÷ Write req/s", "UpdateUser", "Write", rps, 0, true},
	{"daemon health Check req/s ÷ ceiling Noop req/s", "Noop (daemon)", "Noop", rps, 0, true},
}

// ratiosTable writes the RPCs' ratios to the ceilings per concurrency,
// then the daemon's memory, each with its verdict.
func (b *backendReport) ratiosTable(w io.Writer, c runConfig) {
	fmt.Fprint(w, "Ratios to the ceilings measured in the same run (issue 7's targets are for MariaDB at c = 16):\n\n| ratio |")
	for _, conc := range c.Concurrency {
		fmt.Fprintf(w, " c=%d |", conc)
	}
	fmt.Fprint(w, " target | verdict at c=16 |\n|---|")
	for range c.Concurrency {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprint(w, "---|---|\n")
	for _, rr := range ceilingRatios {
		b.ratioLine(w, c, rr)
	}
	b.rssLine(w, c)
	fmt.Fprintln(w)
}

func (b *backendReport) ratioLine(w io.Writer, c runConfig, rr ratioRow) {
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

// rssLine writes the daemon's largest RSS over its RPCs at the highest
// concurrency, if any was sampled.
func (b *backendReport) rssLine(w io.Writer, c runConfig) {
	top := slices.Max(c.Concurrency)
	var rssTop float64
	for _, wl := range workloadNames {
		for _, s := range b.samples("main", wl, c.Prices, top) {
			if wl != "Noop" && wl != "Read" && wl != "Write" {
				rssTop = max(rssTop, float64(s.MaxRSSKiB))
			}
		}
	}
	if rssTop == 0 {
		return
	}
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

// scalingTable writes the price queries' p50 on the small and the large
// database, and the daemon's memory at each size.
func (b *backendReport) scalingTable(w io.Writer, c runConfig) {
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
			target, verd := "–", ""
			if wl != "Read" {
				target, verd = "≤ 1.2", verdictNote(conc == 16, verdict(v, 1.2, false))
			}
			fmt.Fprintf(w, "| %s | %d | %s | %s | %.2f | %s | %s |\n", title(wl), conc, fmtDur(med(ms, p50)), fmtDur(med(ml, p50)), v, target, verd)
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

// collectorTable writes each collector cycle beside its ideal.
func (b *backendReport) collectorTable(w io.Writer, c runConfig) {
	fmt.Fprintf(w, "Collector: one cycle of the daemon (`-role collector -concurrency %d`) against a fake upstream with %v latency per request:\n\n", c.CollConc, c.CollLatency)
	fmt.Fprint(w, "| tickers | cycle | ceil(tickers/concurrency) × latency | ratio | target | verdict | fetched / failed | upstream max in flight | daemon RSS (VmHWM) |\n|---:|---:|---:|---:|---|---|---:|---:|---:|\n")
	for _, r := range b.collector {
		v := r.duration.Seconds() / r.ideal().Seconds()
		fmt.Fprintf(w, "| %s | %s | %s | %.3f | ≤ 1.1 | %s | %d / %d | %d | %s |\n", fmtInt(int64(r.tickers)),
			fmtSecs3(r.duration), fmtSecs3(r.ideal()), v, verdict(v, 1.1, false), r.fetched, r.failed, r.maxInFlight, mib(float64(r.hwmKiB)))
	}
	fmt.Fprintln(w)
}
