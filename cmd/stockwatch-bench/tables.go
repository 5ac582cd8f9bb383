package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
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
	case "PointRead":
		return "ceiling: PointRead (1 primary-key SELECT)"
	case "Write":
		return "ceiling: Write (tx, 2 INSERTs)"
	case "Insert":
		return "ceiling: Insert (1 autocommit INSERT)"
	case "Noop (daemon)":
		return "daemon: health Check"
	case "GetAveragePrice":
		return "GetAveragePrice (100)"
	case "GetAveragePrice10000":
		return "GetAveragePrice (10000)"
	}
	return wl
}

// requestsTable writes the main phase's figures at rows price rows, a row
// per concurrency and workload measured.
func (b *backendReport) requestsTable(w io.Writer, c runConfig, rows int) {
	dbcol := b.name == "mysql"
	fmt.Fprintf(w, "Requests at %s price rows (server = the process that served them: the ceiling server or the daemon):\n\n", fmtInt(int64(rows)))
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
			if m := b.samples("main", wl, rows, conc); len(m) > 0 {
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
// workload ceil, and its target (0: none) at the concurrencies at (nil:
// at c=16).
type ratioRow struct {
	name, rpc, ceil string
	f               func(sample) float64
	target          float64
	atLeast         bool
	at              []int
}

// everyConc and lowConc are where the point-SELECT and INSERT ceilings'
// targets apply.
var (
	everyConc = []int{1, 16, 64}
	lowConc   = []int{1, 16}
)

// ceilingRatios are the rows of the ratios table: against the price-read
// and write-transaction ceilings (targets at c=16), then against the
// primary-key point SELECT and the autocommit INSERT.
var ceilingRatios = []ratioRow{
	{"GetLatestPrice req/s ÷ Read req/s", "GetLatestPrice", "Read", rps, 0.9, true, nil},
	{"GetLatestPrice p99 ÷ Read p99", "GetLatestPrice", "Read", p99, 1.5, false, nil},
	{"GetAveragePrice (100) req/s ÷ Read req/s", "GetAveragePrice", "Read", rps, 0.7, true, nil},
	{"GetUser req/s ÷ Read req/s", "GetUser", "Read", rps, 0, true, nil},
	{"RegisterUser req/s ÷ Write req/s", "RegisterUser", "Write", rps, 0.8, true, nil},
	{"UpdateUser req/s ÷ Write req/s", "UpdateUser", "Write", rps, 0, true, nil},
	{"daemon health Check req/s ÷ ceiling Noop req/s", "Noop (daemon)", "Noop", rps, 0, true, nil},
	{"GetLatestPrice req/s ÷ PointRead req/s", "GetLatestPrice", "PointRead", rps, 0.9, true, everyConc},
	{"GetAveragePrice (100) req/s ÷ PointRead req/s", "GetAveragePrice", "PointRead", rps, 0.85, true, everyConc},
	{"GetAveragePrice (10000) req/s ÷ PointRead req/s", "GetAveragePrice10000", "PointRead", rps, 0.5, true, everyConc},
	{"GetLatestPrice p99 ÷ PointRead p99", "GetLatestPrice", "PointRead", p99, 1.5, false, everyConc},
	{"GetAveragePrice (100) p99 ÷ PointRead p99", "GetAveragePrice", "PointRead", p99, 1.5, false, everyConc},
	{"GetAveragePrice (10000) p99 ÷ PointRead p99", "GetAveragePrice10000", "PointRead", p99, 1.5, false, everyConc},
	{"GetUser req/s ÷ PointRead req/s", "GetUser", "PointRead", rps, 0, true, nil},
	{"RegisterUser req/s ÷ Insert req/s", "RegisterUser", "Insert", rps, 0.8, true, lowConc},
}

// ratiosTable writes the RPCs' ratios to the ceilings per concurrency at
// rows price rows, then the daemon's memory, each with its verdict.
func (b *backendReport) ratiosTable(w io.Writer, c runConfig, rows int) {
	fmt.Fprint(w, "Ratios to the ceilings measured in the same run (targets are for MariaDB, at c=16 unless they name their concurrencies):\n\n| ratio |")
	for _, conc := range c.Concurrency {
		fmt.Fprintf(w, " c=%d |", conc)
	}
	fmt.Fprint(w, " target | verdict |\n|---|")
	for range c.Concurrency {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprint(w, "---|---|\n")
	for _, rr := range ceilingRatios {
		b.ratioLine(w, c, rows, rr)
	}
	b.rssLine(w, c, rows)
	fmt.Fprintln(w)
}

// ratioLine writes one row of the ratios table; its verdict is "met"
// when every concurrency the target applies at that was measured meets
// it, and names each concurrency otherwise.
func (b *backendReport) ratioLine(w io.Writer, c runConfig, rows int, rr ratioRow) {
	fmt.Fprintf(w, "| %s |", rr.name)
	at := rr.at
	if at == nil {
		at = []int{16}
	}
	var verdicts []string
	allMet := true
	for _, conc := range c.Concurrency {
		v, ok := ratio(b.samples("main", rr.rpc, rows, conc), b.samples("main", rr.ceil, rows, conc), rr.f)
		if !ok {
			fmt.Fprint(w, " – |")
			continue
		}
		fmt.Fprintf(w, " %.2f |", v)
		if slices.Contains(at, conc) {
			vd := verdict(v, rr.target, rr.atLeast)
			allMet = allMet && vd == "met"
			if len(at) > 1 {
				vd = fmt.Sprintf("c=%d %s", conc, vd)
			}
			verdicts = append(verdicts, vd)
		}
	}
	target := fmt.Sprintf("%s %s", cmpSign(rr.atLeast), strconv.FormatFloat(rr.target, 'f', -1, 64))
	if rr.at != nil {
		target += fmt.Sprintf(" at c=%s", strings.Trim(strings.Join(strings.Fields(fmt.Sprint(rr.at)), ", "), "[]"))
	}
	switch {
	case rr.target == 0:
		fmt.Fprint(w, " – | |\n")
	case len(verdicts) == 0:
		fmt.Fprintf(w, " %s | not measured |\n", target)
	case allMet:
		fmt.Fprintf(w, " %s | met |\n", target)
	default:
		fmt.Fprintf(w, " %s | %s |\n", target, strings.Join(verdicts, "; "))
	}
}

// rssLine writes the daemon's largest RSS over its RPCs at the highest
// concurrency at rows price rows, if any was sampled.
func (b *backendReport) rssLine(w io.Writer, c runConfig, rows int) {
	top := slices.Max(c.Concurrency)
	var rssTop float64
	for _, wl := range workloadNames {
		for _, s := range b.samples("main", wl, rows, top) {
			if !slices.Contains(ceilingNames, wl) {
				rssTop = max(rssTop, float64(s.MaxRSSKiB))
			}
		}
	}
	if rssTop == 0 {
		return
	}
	v := rssTop / 1024
	fmt.Fprintf(w, "| daemon RSS, max over all RPCs at c=%d, %s rows | %s MiB |", top, fmtInt(int64(rows)), fmt.Sprintf("%.1f", v))
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
	sp := b.preloads[len(b.preloads)-1] // the small database's: preloaded last
	small, large := sp.prices, c.largest()
	fmt.Fprintf(w, "Scaling: %s vs %s price rows (the small database has %s tickers, so that a ticker has %s prices and GetAveragePrice(100) reads 100 rows at both sizes; sizes alternate run by run):\n\n",
		fmtInt(int64(small)), fmtInt(int64(large)), fmtInt(int64(sp.tickers)), fmtInt(int64(small/max(sp.tickers, 1))))
	fmt.Fprintf(w, "| query | c | p50 @%s | p50 @%s | ratio | target | verdict |\n|---|---:|---:|---:|---:|---|---|\n", fmtInt(int64(small)), fmtInt(int64(large)))
	for _, conc := range c.ScalingConc {
		for _, wl := range []string{"Read", "GetLatestPrice", "GetAveragePrice"} {
			ms, ml := b.samples("scaling", wl, small, conc), b.samples("scaling", wl, large, conc)
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
	fmt.Fprintf(w, "\nDaemon RSS (max sampled during the scaling runs): %s at %s rows, %s at %s rows.\n\n", mib(rs), fmtInt(int64(small)), mib(rl), fmtInt(int64(large)))
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

// growthTable writes the p50 of every workload and concurrency measured
// at each -prices size, and its ratio of the largest size to the
// smallest. The price reads' target: flat (≤ 1.1) at every concurrency.
func (b *backendReport) growthTable(w io.Writer, c runConfig) {
	first, last := c.Prices[0], c.largest()
	fmt.Fprintf(w, "Growth: p50 at each size (%s users over %s tickers at every size; sizes alternate run by run), and the largest size's over the smallest's:\n\n| workload | c |",
		fmtInt(int64(c.Users)), fmtInt(int64(c.Tickers)))
	for _, n := range c.Prices {
		fmt.Fprintf(w, " p50 @%s |", fmtInt(int64(n)))
	}
	fmt.Fprintf(w, " %s ÷ %s | target | verdict |\n|---|---:|", fmtInt(int64(last)), fmtInt(int64(first)))
	for range c.Prices {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprint(w, "---:|---|---|\n")
	for _, conc := range c.Concurrency {
		for _, wl := range workloadNames {
			v, ok := ratio(b.samples("main", wl, last, conc), b.samples("main", wl, first, conc), p50)
			if !ok {
				continue
			}
			fmt.Fprintf(w, "| %s | %d |", title(wl), conc)
			for _, n := range c.Prices {
				fmt.Fprintf(w, " %s |", fmtDur(med(b.samples("main", wl, n, conc), p50)))
			}
			target, verd := "–", ""
			if wl == "GetLatestPrice" || wl == "GetAveragePrice" {
				target, verd = "≤ 1.1", verdict(v, 1.1, false)
			}
			fmt.Fprintf(w, " %.2f | %s | %s |\n", v, target, verd)
		}
	}
	fmt.Fprintln(w)
}
