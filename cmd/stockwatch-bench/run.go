package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/stockwatch/stockwatch/internal/benchtest"
	"github.com/stockwatch/stockwatch/internal/store"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// runConfig is the run subcommand's configuration.
type runConfig struct {
	Backends      []string
	Workloads     []string // names to run; empty runs all
	MySQL         string   // mysql://USER[:PASS]@HOST[:PORT] of a server where databases may be created
	Users         int
	Tickers       int
	Prices        int
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

func parseRunConfig(args []string, stderr io.Writer) (runConfig, error) {
	c := runConfig{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	backends := fs.String("backends", "mysql,sqlite", "backends to run, in order: mysql, sqlite")
	fs.StringVar(&c.MySQL, "mysql", "mysql://root@127.0.0.1:3306", "MariaDB/MySQL server on which the run creates (and drops) stockwatch_bench_* databases")
	fs.IntVar(&c.Users, "users", 10_000, "preloaded users")
	fs.IntVar(&c.Tickers, "tickers", 1_000, "tickers the users track")
	fs.IntVar(&c.Prices, "prices", 1_000_000, "preloaded prices, spread evenly over the tickers")
	fs.IntVar(&c.SmallTickers, "small-tickers", 100, "scaling check: tickers of the small database (with -small-prices, 100 prices a ticker, so that GetAveragePrice(100) reads 100 rows at both sizes)")
	fs.IntVar(&c.SmallPrices, "small-prices", 10_000, "scaling check: prices of the small database")
	wls := fs.String("workloads", "", "workloads to run, comma-separated (default all): Noop, Read, Write, Noop (daemon), GetLatestPrice, GetAveragePrice, GetUser, RegisterUser, UpdateUser")
	conc := fs.String("concurrency", "1,16,64", "closed-loop client goroutines, comma-separated")
	sconc := fs.String("scaling-concurrency", "1,16", "concurrency of the scaling check")
	fs.DurationVar(&c.Duration, "duration", 5*time.Second, "measured time of each run")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "unmeasured warm-up before each run")
	fs.IntVar(&c.Rounds, "rounds", 1, "repeat every measurement this many times, interleaved; tables show medians")
	fs.BoolVar(&c.Scaling, "scaling", true, "run the 10,000 vs 1,000,000 rows check")
	coll := fs.String("collector-tickers", "100,1000", "collector scaling: ticker counts (empty skips; 5000 takes ~2 min a backend)")
	fs.IntVar(&c.CollConc, "collector-concurrency", 4, "collector scaling: the daemon's -concurrency")
	fs.DurationVar(&c.CollLatency, "upstream-latency", 100*time.Millisecond, "collector scaling: the fake upstream's latency per request")
	fs.StringVar(&c.Daemon, "daemon", "", "a built stockwatchd; empty: go build ./cmd/stockwatchd (run from the module root)")
	fs.StringVar(&c.Out, "out", "", "also write the report (markdown) to this file")
	if err := fs.Parse(args); err != nil {
		return c, usageErr(err)
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	for _, b := range splitList(*backends) {
		if b != "mysql" && b != "sqlite" {
			return c, fmt.Errorf("-backends: unknown backend %q", b)
		}
		c.Backends = append(c.Backends, b)
	}
	c.Workloads = splitList(*wls)
	for _, w := range c.Workloads {
		if !slices.Contains(workloadNames, w) {
			return c, fmt.Errorf("-workloads: unknown workload %q", w)
		}
	}
	if c.Concurrency, err = parseInts(*conc); err != nil || len(c.Concurrency) == 0 {
		return c, fmt.Errorf("-concurrency: %q: want a list of positive integers", *conc)
	}
	if c.ScalingConc, err = parseInts(*sconc); err != nil {
		return c, fmt.Errorf("-scaling-concurrency: %w", err)
	}
	if c.CollTickers, err = parseInts(*coll); err != nil {
		return c, fmt.Errorf("-collector-tickers: %w", err)
	}
	switch {
	case c.Users < 1 || c.Tickers < 1 || c.Prices < 0 || c.SmallTickers < 1 || c.SmallPrices < 0:
		return c, errors.New("-users, -tickers, -small-tickers must be positive, -prices, -small-prices not negative")
	case c.Rounds < 1:
		return c, errors.New("-rounds must be at least 1")
	case c.Duration <= 0 || c.Warmup < 0:
		return c, errors.New("-duration must be positive, -warmup not negative")
	case c.CollConc < 1 || c.CollConc > 64:
		return c, errors.New("-collector-concurrency must be 1–64, as the daemon's -concurrency")
	}
	return c, nil
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

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// cmdRun is the run subcommand: the whole benchmark, report on stdout.
func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseRunConfig(args, stderr)
	if err != nil {
		return err
	}
	cfg.commandLine = strings.Join(append([]string{"stockwatch-bench run"}, args...), " ")
	if cfg.Self, err = os.Executable(); err != nil {
		return err
	}
	if cfg.Workdir, err = os.MkdirTemp("", "stockwatch-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(cfg.Workdir)
	if cfg.Daemon == "" {
		cfg.Daemon = filepath.Join(cfg.Workdir, "stockwatchd")
		cfg.daemonBuiltBy = "CGO_ENABLED=0 go build -trimpath -o " + cfg.Daemon + " ./cmd/stockwatchd"
		fmt.Fprintln(stderr, "#", cfg.daemonBuiltBy)
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", cfg.Daemon, "./cmd/stockwatchd")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		cmd.Stdout, cmd.Stderr = stderr, stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build the daemon (run from the module root, or pass -daemon): %w", err)
		}
	}
	h := &harness{cfg: cfg, log: stderr, id: os.Getpid()}
	rep, err := h.run(ctx)
	if rep != nil {
		var sb strings.Builder
		rep.markdown(&sb)
		fmt.Fprint(stdout, sb.String())
		if cfg.Out != "" {
			if werr := os.WriteFile(cfg.Out, []byte(sb.String()), 0o644); werr != nil {
				err = errors.Join(err, werr)
			}
		}
	}
	return err
}

// harness runs the benchmark.
type harness struct {
	cfg      runConfig
	log      io.Writer
	id       int     // names the MariaDB databases
	admin    *sql.DB // the MariaDB server, without a database
	mysqlPID int
	fresh    atomic.Int64 // numbers RegisterUser's fresh users
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(h.log, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func (h *harness) run(ctx context.Context) (*report, error) {
	rep := &report{cfg: h.cfg, start: time.Now(), machine: machineFacts()}
	defer func() { rep.end, rep.loadEnd = time.Now(), loadAvg() }()
	rep.loadStart = loadAvg()
	defer func() {
		if h.admin != nil {
			h.admin.Close()
		}
	}()
	for _, be := range h.cfg.Backends {
		br := &backendReport{name: be}
		rep.backends = append(rep.backends, br)
		if be == "mysql" {
			if err := h.connectMySQL(ctx, br); err != nil {
				return rep, err
			}
		}
		if err := h.runBackend(ctx, br); err != nil {
			return rep, fmt.Errorf("%s: %w", be, err)
		}
	}
	return rep, nil
}

func (h *harness) connectMySQL(ctx context.Context, br *backendReport) error {
	if h.admin != nil {
		return nil
	}
	userHost, ok := strings.CutPrefix(h.cfg.MySQL, "mysql://")
	if !ok {
		return fmt.Errorf("-mysql %q: want mysql://USER[:PASS]@HOST[:PORT]", store.Redact(h.cfg.MySQL))
	}
	userHost, _, _ = strings.Cut(userHost, "/")
	at := strings.LastIndex(userHost, "@")
	if at < 0 {
		return fmt.Errorf("-mysql %q: want mysql://USER[:PASS]@HOST[:PORT]", store.Redact(h.cfg.MySQL))
	}
	mc := mysql.NewConfig()
	mc.User, mc.Passwd, _ = strings.Cut(userHost[:at], ":")
	mc.Net, mc.Addr, mc.Timeout = "tcp", userHost[at+1:], 5*time.Second
	if !strings.Contains(mc.Addr, ":") {
		mc.Addr += ":3306"
	}
	db, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&br.dbVersion); err != nil {
		db.Close()
		return fmt.Errorf("MariaDB at %s: %w", mc.Addr, err)
	}
	h.admin = db
	if host, _, _ := strings.Cut(mc.Addr, ":"); host == "127.0.0.1" || host == "localhost" || host == "::1" {
		h.mysqlPID = findProcess("mariadbd", "mysqld")
	}
	return nil
}

// database is a fresh database of one backend, removed by drop.
type database struct {
	dsn  string
	drop func()
}

func (h *harness) newDatabase(ctx context.Context, backend, tag string) (database, error) {
	if backend == "sqlite" {
		dir := filepath.Join(h.cfg.Workdir, tag)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return database{}, err
		}
		return database{dsn: "sqlite://" + filepath.Join(dir, "stockwatch.db"), drop: func() { os.RemoveAll(dir) }}, nil
	}
	name := fmt.Sprintf("stockwatch_bench_%d_%s", h.id, tag)
	if _, err := h.admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return database{}, fmt.Errorf("create database %s: %w", name, err)
	}
	userHost, _, _ := strings.Cut(strings.TrimPrefix(h.cfg.MySQL, "mysql://"), "/")
	return database{dsn: "mysql://" + userHost + "/" + name, drop: func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := h.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			h.logf("drop database %s: %v", name, err)
		}
	}}, nil
}

// preload fills db with users over tickers and prices, with the daemon's
// store.Open and benchtest.Preload, and returns how long it took.
func (h *harness) preload(ctx context.Context, db database, users, tickers, prices int) (time.Duration, error) {
	start := time.Now()
	s, err := store.Open(ctx, db.dsn, nil)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	if err := benchtest.Preload(ctx, s, users, tickers, prices); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// env is one preloaded database served by the daemon and by the ceiling
// server.
type env struct {
	rows, users, tickers int
	daemon, ceiling      *process
	stock                pb.StockServiceClient
}

func (h *harness) startEnv(ctx context.Context, name string, db database, rows, users, tickers int) (*env, error) {
	daddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	// -log-level warn: the per-RPC info line is skipped (as in a quiet
	// production setting) so that logging does not dominate; the ceiling
	// server gets the same level and the same interceptor.
	d, err := serveGRPC(ctx, "stockwatchd-"+name, h.cfg.Workdir, daddr, []string{h.cfg.Daemon,
		"-role", "api", "-verify-tickers=false", "-http-addr=", "-db", db.dsn,
		"-grpc-addr", daddr, "-log-level", "warn"})
	if err != nil {
		return nil, err
	}
	caddr, err := freeAddr()
	if err != nil {
		d.stop()
		return nil, err
	}
	c, err := serveGRPC(ctx, "ceiling-"+name, h.cfg.Workdir, caddr, []string{h.cfg.Self,
		"ceiling", "-db", db.dsn, "-addr", caddr, "-log-level", "warn"})
	if err != nil {
		d.stop()
		return nil, err
	}
	return &env{rows: rows, users: users, tickers: tickers, daemon: d, ceiling: c, stock: pb.NewStockServiceClient(d.conn)}, nil
}

func (e *env) stop() error {
	return errors.Join(e.daemon.stop(), e.ceiling.stop())
}

// workload is one kind of request, sent to the daemon or the ceiling server.
type workload struct {
	name    string
	ceiling bool // served by the ceiling server
	op      func(*env) op
}

// The workloads, in the order they run.
var (
	wNoop = workload{"Noop", true, func(e *env) op { return healthCheck(e.ceiling.conn) }}
	wRead = workload{"Read", true, func(e *env) op {
		return func(ctx context.Context, rng *rand.Rand) error {
			return e.ceiling.conn.Invoke(ctx, benchtest.MethodRead, wrapperspb.String(benchtest.Ticker(rng.IntN(e.tickers))), new(wrapperspb.DoubleValue))
		}
	}}
	wWrite = workload{"Write", true, func(e *env) op {
		return func(ctx context.Context, _ *rand.Rand) error {
			return e.ceiling.conn.Invoke(ctx, benchtest.MethodWrite, &emptypb.Empty{}, new(emptypb.Empty))
		}
	}}
	wDaemonNoop = workload{"Noop (daemon)", false, func(e *env) op { return healthCheck(e.daemon.conn) }}
	wLatest     = workload{"GetLatestPrice", false, func(e *env) op {
		return func(ctx context.Context, rng *rand.Rand) error {
			_, err := e.stock.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: benchtest.Email(rng.IntN(e.users))})
			return err
		}
	}}
	wAverage = workload{"GetAveragePrice", false, func(e *env) op {
		return func(ctx context.Context, rng *rand.Rand) error {
			_, err := e.stock.GetAveragePrice(ctx, &pb.GetAveragePriceRequest{Email: benchtest.Email(rng.IntN(e.users)), Count: 100})
			return err
		}
	}}
	wGetUser = workload{"GetUser", false, func(e *env) op {
		return func(ctx context.Context, rng *rand.Rand) error {
			_, err := e.stock.GetUser(ctx, &pb.GetUserRequest{Email: benchtest.Email(rng.IntN(e.users))})
			return err
		}
	}}
	wUpdate = workload{"UpdateUser", false, func(e *env) op {
		return func(ctx context.Context, rng *rand.Rand) error {
			_, err := e.stock.UpdateUser(ctx, &pb.UpdateUserRequest{
				RequestId: benchtest.UUID(rng), Email: benchtest.Email(rng.IntN(e.users)), Ticker: benchtest.Ticker(rng.IntN(e.tickers)),
			})
			return err
		}
	}}
)

// register is RegisterUser of a fresh user with a fresh request id.
func (h *harness) register() workload {
	return workload{"RegisterUser", false, func(e *env) op {
		return func(ctx context.Context, rng *rand.Rand) error {
			n := h.fresh.Add(1)
			_, err := e.stock.RegisterUser(ctx, &pb.RegisterUserRequest{
				RequestId: benchtest.UUID(rng), Email: fmt.Sprintf("fresh%09d@bench.example", n), Ticker: benchtest.Ticker(int(n) % e.tickers),
			})
			return err
		}
	}}
}

func healthCheck(conn *grpc.ClientConn) op {
	hc := healthpb.NewHealthClient(conn)
	return func(ctx context.Context, _ *rand.Rand) error {
		_, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}
}

// workloadNames lists every workload, in the order they run.
var workloadNames = []string{"Noop", "Read", "Write", "Noop (daemon)", "GetLatestPrice", "GetAveragePrice", "GetUser", "RegisterUser", "UpdateUser"}

// measure runs one workload against e and records it, unless -workloads
// leaves it out.
func (h *harness) measure(ctx context.Context, br *backendReport, phase string, round, conc int, e *env, w workload) {
	if len(h.cfg.Workloads) > 0 && !slices.Contains(h.cfg.Workloads, w.name) {
		return
	}
	srv := e.daemon
	if w.ceiling {
		srv = e.ceiling
	}
	s := closedLoop(ctx, conc, h.cfg.Warmup, h.cfg.Duration, watch{server: srv.pid(), db: h.dbPID(br.name)}, w.op(e))
	r := result{phase: phase, workload: w.name, server: srv.name, rows: e.rows, conc: conc, round: round, sample: s}
	br.results = append(br.results, r)
	msg := fmt.Sprintf("%-7s %-8s rows=%-8d c=%-3d round=%d %-16s %9.0f req/s  p50 %-9v p99 %-9v cpu/req %-8v rss %d KiB",
		br.name, phase, e.rows, conc, round+1, w.name, s.RPS(), s.P50.Round(time.Microsecond), s.P99.Round(time.Microsecond),
		s.CPUPerReq().Round(time.Microsecond), s.MaxRSSKiB)
	if s.Errors > 0 {
		msg += fmt.Sprintf("  ERRORS %d (first: %v)", s.Errors, s.FirstErr)
	}
	h.logf("%s", msg)
}

func (h *harness) dbPID(backend string) int {
	if backend == "mysql" {
		return h.mysqlPID
	}
	return 0
}

func (h *harness) runBackend(ctx context.Context, br *backendReport) (err error) {
	cfg := h.cfg
	large, err := h.newDatabase(ctx, br.name, "large")
	if err != nil {
		return err
	}
	defer large.drop()
	h.logf("%s: preloading %d users over %d tickers, %d prices", br.name, cfg.Users, cfg.Tickers, cfg.Prices)
	took, err := h.preload(ctx, large, cfg.Users, cfg.Tickers, cfg.Prices)
	if err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	br.preloads = append(br.preloads, preloadInfo{cfg.Users, cfg.Tickers, cfg.Prices, took})
	h.logf("%s: preloaded in %v", br.name, took.Round(time.Millisecond))

	var small database
	if cfg.Scaling {
		if small, err = h.newDatabase(ctx, br.name, "small"); err != nil {
			return err
		}
		defer small.drop()
		took, err := h.preload(ctx, small, cfg.Users, cfg.SmallTickers, cfg.SmallPrices)
		if err != nil {
			return fmt.Errorf("preload: %w", err)
		}
		br.preloads = append(br.preloads, preloadInfo{cfg.Users, cfg.SmallTickers, cfg.SmallPrices, took})
		h.logf("%s: preloaded %d users over %d tickers, %d prices in %v", br.name, cfg.Users, cfg.SmallTickers, cfg.SmallPrices, took.Round(time.Millisecond))
	}

	el, err := h.startEnv(ctx, "large", large, cfg.Prices, cfg.Users, cfg.Tickers)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, el.stop()) }()

	start := time.Now()
	all := []workload{wNoop, wRead, wWrite, wDaemonNoop, wLatest, wAverage, wGetUser, h.register(), wUpdate}
	for round := range cfg.Rounds {
		for _, c := range cfg.Concurrency {
			for _, w := range all {
				h.measure(ctx, br, "main", round, c, el, w)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	br.mainTook = time.Since(start)

	if cfg.Scaling {
		start := time.Now()
		es, serr := h.startEnv(ctx, "small", small, cfg.SmallPrices, cfg.Users, cfg.SmallTickers)
		if serr != nil {
			return serr
		}
		defer func() { err = errors.Join(err, es.stop()) }()
		// Sizes alternate run by run, so that drift on a shared machine
		// hits both alike.
		for round := range cfg.Rounds {
			for _, c := range cfg.ScalingConc {
				for _, w := range []workload{wRead, wLatest, wAverage} {
					for _, e := range []*env{es, el} {
						h.measure(ctx, br, "scaling", round, c, e, w)
					}
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		br.scalingTook = time.Since(start)
	}

	if len(cfg.CollTickers) > 0 {
		start := time.Now()
		up, err := startUpstream(cfg.CollLatency)
		if err != nil {
			return err
		}
		defer up.close()
		for _, n := range cfg.CollTickers {
			cr, err := h.collectorCycle(ctx, br.name, n, up)
			if err != nil {
				return fmt.Errorf("collector %d tickers: %w", n, err)
			}
			br.collector = append(br.collector, cr)
			h.logf("%s: collector %d tickers at concurrency %d: cycle %v (ideal %v), fetched %d, failed %d, max in flight %d, daemon VmHWM %d KiB",
				br.name, n, cfg.CollConc, cr.duration.Round(time.Millisecond), cr.ideal(), cr.fetched, cr.failed, cr.maxInFlight, cr.hwmKiB)
		}
		br.collectorTook = time.Since(start)
	}
	return nil
}

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

	type cycleLine struct {
		Msg      string `json:"msg"`
		Tickers  int    `json:"tickers"`
		Fetched  int    `json:"fetched"`
		Failed   int    `json:"failed"`
		Inserted int64  `json:"inserted"`
		Duration int64  `json:"duration"` // slog's JSON handler writes nanoseconds
	}
	found := make(chan cycleLine, 1)
	var (
		mu   sync.Mutex
		tail []string // the log before the cycle line, for errors
	)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var l cycleLine
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "collection cycle" {
				found <- l
				break
			}
			mu.Lock()
			if len(tail) < 20 {
				tail = append(tail, sc.Text())
			}
			mu.Unlock()
		}
		close(found)
		_, _ = io.Copy(io.Discard, stderr)
	}()
	timeout := 3*r.ideal() + time.Minute
	var l cycleLine
	var ok bool
	select {
	case l, ok = <-found:
	case <-time.After(timeout):
	case <-ctx.Done():
	}
	hwm, _ := memKiB(cmd.Process.Pid, "VmHWM")
	close(stopRSS)
	r.maxRSSKiB = <-rss
	_ = cmd.Process.Signal(syscall.SIGTERM)
	waitErr := cmd.Wait()
	if !ok {
		mu.Lock()
		defer mu.Unlock()
		return r, fmt.Errorf("no \"collection cycle\" log line within %v (daemon: %v): %s", timeout, waitErr, strings.Join(tail, "\n"))
	}
	if l.Tickers != n {
		return r, fmt.Errorf("the cycle saw %d tickers, want %d", l.Tickers, n)
	}
	r.duration, r.fetched, r.failed, r.inserted = time.Duration(l.Duration), l.Fetched, l.Failed, l.Inserted
	r.requests, r.maxInFlight, r.hwmKiB = up.requests.Load(), up.maxIn.Load(), hwm
	return r, nil
}
