package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stockwatch/stockwatch/internal/cliconfig"
)

// runConfig is the run subcommand's configuration.
type runConfig struct {
	Backends      []string
	Workloads     []string // names to run; empty runs all
	MySQL         string   // mysql://USER[:PASS]@HOST[:PORT] of a server where databases may be created
	Users         int
	Tickers       int
	Prices        []int // the sizes, ascending: a database each
	SmallTickers  int
	SmallPrices   int
	Concurrency   []int
	ScalingConc   []int
	Duration      time.Duration
	Warmup        time.Duration
	Rounds        int
	Scaling       bool
	CollTickers   []int
	CollConc      int
	CollLatency   time.Duration
	Daemon        string // path of a built stockwatchd; empty builds one
	Out           string
	Workdir       string
	Self          string // this binary, for the ceiling subcommand
	commandLine   string
	daemonBuiltBy string
}

// listFlags are the comma-separated flags, as given, before parsing.
type listFlags struct {
	backends, workloads, prices, conc, scalingConc, collTickers *string
}

// parseRunConfig reads the run subcommand's flags. It returns
// flag.ErrHelp after printing the usage on stdout for -h, and a
// *cliconfig.UsageError naming the flag for a bad command line.
func parseRunConfig(args []string, stdout io.Writer) (runConfig, error) {
	c := runConfig{}
	fs := cliconfig.NewFlagSet("stockwatch-bench run")
	lists := c.register(fs)
	if err := cliconfig.Parse(fs, args, stdout, func(w io.Writer) { printUsage(w, fs, "[flags]") }); err != nil {
		return c, err
	}
	if err := cliconfig.NoArgs(fs); err != nil {
		return c, err
	}
	if err := c.parseLists(lists); err != nil {
		return c, cliconfig.Usage(fs.Name(), err)
	}
	if err := c.validate(); err != nil {
		return c, cliconfig.Usage(fs.Name(), err)
	}
	return c, nil
}

// register defines the flags on fs, the scalar ones straight into c.
func (c *runConfig) register(fs *flag.FlagSet) listFlags {
	var l listFlags
	l.backends = fs.String("backends", "mysql,sqlite", "backends to run, in order: mysql, sqlite")
	fs.StringVar(&c.MySQL, "mysql", "mysql://root@127.0.0.1:3306", "MariaDB/MySQL server on which the run creates (and drops) stockwatch_bench_* databases; several hosts (Galera nodes) go to the daemon's -db")
	fs.IntVar(&c.Users, "users", 10_000, "preloaded users")
	fs.IntVar(&c.Tickers, "tickers", 1_000, "tickers the users track")
	l.prices = fs.String("prices", "1000000", "preloaded prices, spread evenly over the tickers; several sizes (ascending, comma-separated) get a database each, measured run by run in turn, and a growth table")
	fs.IntVar(&c.SmallTickers, "small-tickers", 100, "scaling check: tickers of the small database (with -small-prices, 100 prices a ticker, so that GetAveragePrice(100) reads 100 rows at both sizes)")
	fs.IntVar(&c.SmallPrices, "small-prices", 10_000, "scaling check: prices of the small database")
	l.workloads = fs.String("workloads", "", "workloads to run, comma-separated (default all): "+strings.Join(workloadNames, ", "))
	l.conc = fs.String("concurrency", "1,16,64", "closed-loop client goroutines, comma-separated")
	l.scalingConc = fs.String("scaling-concurrency", "1,16", "concurrency of the scaling check")
	fs.DurationVar(&c.Duration, "duration", 5*time.Second, "measured time of each run")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "unmeasured warm-up before each run")
	fs.IntVar(&c.Rounds, "rounds", 1, "repeat every measurement this many times, interleaved; tables show medians")
	fs.BoolVar(&c.Scaling, "scaling", true, "run the 10,000 vs 1,000,000 rows check")
	l.collTickers = fs.String("collector-tickers", "100,1000", "collector scaling: ticker counts (empty skips; 5000 takes ~2 min a backend)")
	fs.IntVar(&c.CollConc, "collector-concurrency", 4, "collector scaling: the daemon's -concurrency")
	fs.DurationVar(&c.CollLatency, "upstream-latency", 100*time.Millisecond, "collector scaling: the fake upstream's latency per request")
	fs.StringVar(&c.Daemon, "daemon", "", "a built stockwatchd; empty: go build ./cmd/stockwatchd (run from the module root)")
	fs.StringVar(&c.Out, "out", "", "also write the report (markdown) to this file")
	return l
}

// parseLists fills c's list fields from l. It returns an error naming the
// flag of the first bad list.
func (c *runConfig) parseLists(l listFlags) error {
	for _, b := range splitList(*l.backends) {
		if b != "mysql" && b != "sqlite" {
			return fmt.Errorf("-backends: unknown backend %q", b)
		}
		c.Backends = append(c.Backends, b)
	}
	c.Workloads = splitList(*l.workloads)
	for _, w := range c.Workloads {
		if !slices.Contains(workloadNames, w) {
			return fmt.Errorf("-workloads: unknown workload %q", w)
		}
	}
	var err error
	if c.Prices, err = parseSizes(*l.prices); err != nil {
		return fmt.Errorf("-prices: %w", err)
	}
	if c.Concurrency, err = parseInts(*l.conc); err != nil || len(c.Concurrency) == 0 {
		return fmt.Errorf("-concurrency: %q: want a list of positive integers", *l.conc)
	}
	if c.ScalingConc, err = parseInts(*l.scalingConc); err != nil {
		return fmt.Errorf("-scaling-concurrency: %w", err)
	}
	if c.CollTickers, err = parseInts(*l.collTickers); err != nil {
		return fmt.Errorf("-collector-tickers: %w", err)
	}
	return nil
}

// validate returns an error naming the flags whose values are out of range.
func (c *runConfig) validate() error {
	switch {
	case c.Users < 1 || c.Tickers < 1 || c.SmallTickers < 1 || c.SmallPrices < 0:
		return errors.New("-users, -tickers, -small-tickers must be positive, -small-prices not negative")
	case c.Rounds < 1:
		return errors.New("-rounds must be at least 1")
	case c.Duration <= 0 || c.Warmup < 0:
		return errors.New("-duration must be positive, -warmup not negative")
	case c.CollConc < 1 || c.CollConc > 64:
		return errors.New("-collector-concurrency must be 1–64, as the daemon's -concurrency")
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func parseInts(s string) ([]int, error) { return intList(s, 1, "a positive integer") }

// intList reads a comma-separated list of integers of at least least;
// what names one in the error of another.
func intList(s string, least int, what string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < least {
			return nil, fmt.Errorf("%q is not %s", f, what)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseSizes reads -prices: one or more row counts, not negative, in
// ascending order.
func parseSizes(s string) ([]int, error) {
	out, err := intList(s, 0, "a number of rows")
	if err != nil {
		return nil, err
	}
	for i := 1; i < len(out); i++ {
		if out[i] <= out[i-1] {
			return nil, fmt.Errorf("%q: want ascending sizes", s)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("want at least one size")
	}
	return out, nil
}

// largest returns the largest -prices size: the scaling check's large
// database.
func (c runConfig) largest() int { return c.Prices[len(c.Prices)-1] }
