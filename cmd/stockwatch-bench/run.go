package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// cmdRun is the run subcommand: the whole benchmark, report on stdout.
func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseRunConfig(args, stdout)
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
		if err := buildDaemon(ctx, &cfg, stderr); err != nil {
			return err
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

// buildDaemon builds ./cmd/stockwatchd into the work directory, as make
// build does, and records how in cfg. It returns an error if go build
// fails.
func buildDaemon(ctx context.Context, cfg *runConfig, stderr io.Writer) error {
	cfg.Daemon = filepath.Join(cfg.Workdir, "stockwatchd")
	cfg.daemonBuiltBy = "CGO_ENABLED=0 go build -trimpath -o " + cfg.Daemon + " ./cmd/stockwatchd"
	fmt.Fprintln(stderr, "#", cfg.daemonBuiltBy)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", cfg.Daemon, "./cmd/stockwatchd")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build the daemon (run from the module root, or pass -daemon): %w", err)
	}
	return nil
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

// runBackend runs the phases on one backend: the requests on a database
// per -prices size, the scaling check (small against the largest), the
// collector. The servers of a phase run until the backend is done, the
// databases until the servers have stopped.
func (h *harness) runBackend(ctx context.Context, br *backendReport) (err error) {
	cfg := h.cfg
	dbs, err := h.preloadAll(ctx, br)
	defer func() {
		for _, db := range dbs {
			db.drop()
		}
	}()
	if err != nil {
		return err
	}
	envs := make([]*env, 0, len(cfg.Prices))
	defer func() {
		for _, e := range envs {
			err = errors.Join(err, e.stop())
		}
	}()
	for i, n := range cfg.Prices {
		e, serr := h.startEnv(ctx, sizeTag(cfg, i), dbs[i], n, cfg.Users, cfg.Tickers)
		if serr != nil {
			return serr
		}
		envs = append(envs, e)
	}
	if err := h.runMain(ctx, br, envs); err != nil {
		return err
	}
	if cfg.Scaling {
		start := time.Now()
		es, serr := h.startEnv(ctx, "small", dbs[len(dbs)-1], cfg.SmallPrices, cfg.Users, cfg.SmallTickers)
		if serr != nil {
			return serr
		}
		// serr, not err: the deferred join must reach the result.
		defer func() { err = errors.Join(err, es.stop()) }()
		if err := h.runScaling(ctx, br, es, envs[len(envs)-1]); err != nil {
			return err
		}
		br.scalingTook = time.Since(start)
	}
	if len(cfg.CollTickers) > 0 {
		return h.runCollector(ctx, br)
	}
	return nil
}

// preloadAll preloads a database per -prices size and, for the scaling
// check, the small one, last. It returns those it preloaded, and the
// first error.
func (h *harness) preloadAll(ctx context.Context, br *backendReport) ([]database, error) {
	cfg := h.cfg
	var dbs []database
	for i, n := range cfg.Prices {
		h.logf("%s: preloading %d users over %d tickers, %d prices", br.name, cfg.Users, cfg.Tickers, n)
		db, took, err := h.preloaded(ctx, br, sizeTag(cfg, i), cfg.Tickers, n)
		if err != nil {
			return dbs, err
		}
		dbs = append(dbs, db)
		h.logf("%s: preloaded in %v", br.name, took.Round(time.Millisecond))
	}
	if cfg.Scaling {
		db, took, err := h.preloaded(ctx, br, "small", cfg.SmallTickers, cfg.SmallPrices)
		if err != nil {
			return dbs, err
		}
		dbs = append(dbs, db)
		h.logf("%s: preloaded %d users over %d tickers, %d prices in %v", br.name, cfg.Users, cfg.SmallTickers, cfg.SmallPrices, took.Round(time.Millisecond))
	}
	return dbs, nil
}

// sizeTag names the database and servers of the i-th -prices size:
// "large" for the largest, rows<N> for the others.
func sizeTag(c runConfig, i int) string {
	if i == len(c.Prices)-1 {
		return "large"
	}
	return fmt.Sprintf("rows%d", c.Prices[i])
}

// preloaded returns a fresh database named tag, preloaded with the users
// over tickers and prices, and records the preload in br. It returns an
// error, having dropped the database, if either step fails.
func (h *harness) preloaded(ctx context.Context, br *backendReport, tag string, tickers, prices int) (database, time.Duration, error) {
	db, err := h.newDatabase(ctx, br.name, tag)
	if err != nil {
		return db, 0, err
	}
	took, err := h.preload(ctx, db, h.cfg.Users, tickers, prices)
	if err != nil {
		db.drop()
		return db, 0, fmt.Errorf("preload: %w", err)
	}
	br.preloads = append(br.preloads, preloadInfo{h.cfg.Users, tickers, prices, took})
	return db, took, nil
}

// runMain measures every workload at every concurrency on each size's
// envs, round after round. Sizes alternate run by run, so that drift on a
// shared machine hits them alike. It returns ctx's error if ctx ended.
func (h *harness) runMain(ctx context.Context, br *backendReport, envs []*env) error {
	start := time.Now()
	all := h.workloads()
	for round := range h.cfg.Rounds {
		for _, c := range h.cfg.Concurrency {
			for _, w := range all {
				for _, e := range envs {
					h.measure(ctx, br, "main", round, c, e, w)
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	br.mainTook = time.Since(start)
	return nil
}

// workloads returns every workload, in the order of workloadNames.
func (h *harness) workloads() []workload {
	return []workload{wNoop, wRead, wPointRead, wWrite, wInsert, wDaemonNoop, wLatest, wAverage, wAverage10000, wGetUser, h.register(), wUpdate}
}

// runScaling measures the price queries on the small and the large
// database. Sizes alternate run by run, so that drift on a shared machine
// hits both alike. It returns ctx's error if ctx ended.
func (h *harness) runScaling(ctx context.Context, br *backendReport, small, large *env) error {
	for round := range h.cfg.Rounds {
		for _, c := range h.cfg.ScalingConc {
			for _, w := range []workload{wRead, wLatest, wAverage} {
				for _, e := range []*env{small, large} {
					h.measure(ctx, br, "scaling", round, c, e, w)
				}
			}
		}
	}
	return ctx.Err()
}

// runCollector times one collector cycle per -collector-tickers count
// against a fake upstream. It returns the first error.
func (h *harness) runCollector(ctx context.Context, br *backendReport) error {
	cfg := h.cfg
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
	return nil
}
