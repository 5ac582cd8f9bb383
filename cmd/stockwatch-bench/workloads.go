package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/stockwatch/stockwatch/internal/benchtest"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// env is one preloaded database served by the daemon and by the ceiling
// server.
type env struct {
	rows, users, tickers int
	daemon, ceiling      *process
	stock                pb.StockServiceClient
	metricsAddr          string // the daemon's HTTP port, for /metrics
}

func (h *harness) startEnv(ctx context.Context, name string, db database, rows, users, tickers int) (*env, error) {
	daddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	maddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	// -log-level warn: the per-RPC info line is skipped (as in a quiet
	// production setting) so that logging does not dominate; the ceiling
	// server gets the same level and the same interceptor.
	d, err := serveGRPC(ctx, "stockwatchd-"+name, h.cfg.Workdir, daddr, []string{h.cfg.Daemon,
		"-role", "api", "-verify-tickers=false", "-http-addr", maddr, "-db", db.dsn,
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
	return &env{rows: rows, users: users, tickers: tickers, daemon: d, ceiling: c, stock: pb.NewStockServiceClient(d.conn), metricsAddr: maddr}, nil
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
	wPointRead = workload{"PointRead", true, func(e *env) op {
		return func(ctx context.Context, rng *rand.Rand) error {
			return e.ceiling.conn.Invoke(ctx, benchtest.MethodPointRead, wrapperspb.String(benchtest.Email(rng.IntN(e.users))), new(wrapperspb.StringValue))
		}
	}}
	wWrite = workload{"Write", true, func(e *env) op {
		return func(ctx context.Context, _ *rand.Rand) error {
			return e.ceiling.conn.Invoke(ctx, benchtest.MethodWrite, &emptypb.Empty{}, new(emptypb.Empty))
		}
	}}
	wInsert = workload{"Insert", true, func(e *env) op {
		return func(ctx context.Context, _ *rand.Rand) error {
			return e.ceiling.conn.Invoke(ctx, benchtest.MethodInsert, &emptypb.Empty{}, new(emptypb.Empty))
		}
	}}
	wDaemonNoop = workload{"Noop (daemon)", false, func(e *env) op { return healthCheck(e.daemon.conn) }}
	wLatest     = workload{"GetLatestPrice", false, func(e *env) op {
		return func(ctx context.Context, rng *rand.Rand) error {
			_, err := e.stock.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: benchtest.Email(rng.IntN(e.users))})
			return err
		}
	}}
	wAverage      = workload{"GetAveragePrice", false, average(100)}
	wAverage10000 = workload{"GetAveragePrice10000", false, average(10_000)}
	wGetUser      = workload{"GetUser", false, func(e *env) op {
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

// average is GetAveragePrice of count prices of a random user's ticker.
func average(count int32) func(*env) op {
	return func(e *env) op {
		return func(ctx context.Context, rng *rand.Rand) error {
			_, err := e.stock.GetAveragePrice(ctx, &pb.GetAveragePriceRequest{Email: benchtest.Email(rng.IntN(e.users)), Count: count})
			return err
		}
	}
}

func healthCheck(conn *grpc.ClientConn) op {
	hc := healthpb.NewHealthClient(conn)
	return func(ctx context.Context, _ *rand.Rand) error {
		_, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}
}

// workloadNames lists every workload, in the order they run.
var workloadNames = []string{"Noop", "Read", "PointRead", "Write", "Insert", "Noop (daemon)",
	"GetLatestPrice", "GetAveragePrice", "GetAveragePrice10000", "GetUser", "RegisterUser", "UpdateUser"}

// ceilingNames are the workloads the ceiling server serves.
var ceilingNames = []string{"Noop", "Read", "PointRead", "Write", "Insert"}

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
	s, kept := h.keptShare(ctx, e, w, func() sample {
		return closedLoop(ctx, conc, h.cfg.Warmup, h.cfg.Duration, watch{server: srv.pid(), db: h.dbPID(br.name)}, w.op(e))
	})
	r := result{phase: phase, workload: w.name, server: srv.name, rows: e.rows, conc: conc, round: round, sample: s, kept: kept}
	br.results = append(br.results, r)
	msg := fmt.Sprintf("%-7s %-8s rows=%-8d c=%-3d round=%d %-16s %9.0f req/s  p50 %-9v p99 %-9v cpu/req %-8v rss %d KiB",
		br.name, phase, e.rows, conc, round+1, w.name, s.RPS(), s.P50.Round(time.Microsecond), s.P99.Round(time.Microsecond),
		s.CPUPerReq().Round(time.Microsecond), s.MaxRSSKiB)
	if kept != nil {
		msg += "  " + keptText(kept)
	}
	if s.Errors > 0 {
		msg += fmt.Sprintf("  ERRORS %d (first: %v)", s.Errors, s.FirstErr)
	}
	h.logf("%s", msg)
}
