package api_test

// Benchmarks of the gRPC API beside the ceilings measured in the same run
// (BENCHMARKS.md). They run only with -bench; ./scripts/bench.sh runs them and
// prints the ratios. Every figure on a shared 2-core machine is noisy: read
// the ratios, not the absolute numbers.
//
// Each backend gets one server, configured like the daemon's (message size
// limit, keepalive, the metrics, logging and admin interceptors), serving
// the real StockService, the health service (the transport ceiling) and a
// bench-only service whose two methods are the read and write ceilings.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/stockwatch/stockwatch/internal/api"
	"github.com/stockwatch/stockwatch/internal/benchtest"
	"github.com/stockwatch/stockwatch/internal/benchtest/benchrun"
	"github.com/stockwatch/stockwatch/internal/metrics"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// BenchmarkAPI measures every benchmarked RPC and the three ceilings on
// each backend, in one run, against one preloaded database.
func BenchmarkAPI(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(string(be), func(b *testing.B) {
			e := newBenchEnv(b, be, benchtest.Users, benchtest.Tickers, benchtest.Prices)
			e.runAll(b)
		})
	}
}

// BenchmarkScaling compares the price queries at 10,000 and 1,000,000
// stored prices (100 tickers, 1,000 users). The large size takes minutes
// to preload and runs only with STOCKWATCH_BENCH_LARGE=1.
func BenchmarkScaling(b *testing.B) {
	sizes := []int{10_000}
	if os.Getenv("STOCKWATCH_BENCH_LARGE") == "1" {
		sizes = append(sizes, 1_000_000)
	}
	for _, be := range storetest.Backends() {
		for _, n := range sizes {
			b.Run(fmt.Sprintf("%s/rows=%d", be, n), func(b *testing.B) {
				e := newBenchEnv(b, be, benchtest.Users, benchtest.Tickers, n)
				b.Run("Ceiling/Read", e.benchReadCeiling)
				b.Run("GetLatestPrice", e.benchLatest)
				b.Run("GetAveragePrice", e.benchAverage)
			})
		}
	}
}

func (e *benchEnv) runAll(b *testing.B) {
	b.Run("Ceiling/Noop", e.benchNoop)
	b.Run("Ceiling/Read", e.benchReadCeiling)
	b.Run("Ceiling/PointRead", e.benchPointReadCeiling)
	b.Run("Ceiling/Write", e.benchWriteCeiling)
	b.Run("Ceiling/Insert", e.benchInsertCeiling)
	b.Run("GetLatestPrice", e.benchLatest)
	b.Run("GetAveragePrice", e.benchAverage)
	b.Run("GetAveragePrice10000", e.benchAverage10000)
	b.Run("GetUser", e.benchGetUser)
	b.Run("RegisterUser", e.benchRegister)
	b.Run("UpdateUser", e.benchUpdate)
}

// benchEnv is one preloaded database behind one gRPC server.
type benchEnv struct {
	db      *store.DB
	conn    *grpc.ClientConn
	client  pb.StockServiceClient
	health  healthpb.HealthClient
	users   int
	tickers int
}

// newBenchEnv opens a fresh database of backend be, preloads it and
// serves it. It fails b if any step fails.
func newBenchEnv(b *testing.B, be storetest.Backend, users, tickers, prices int) *benchEnv {
	b.Helper()
	db := storetest.Open(b, be, store.WithUserCache(time.Minute)) // as the daemon with -interval 1m
	start := time.Now()
	if err := benchtest.Preload(context.Background(), db, users, tickers, prices); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: preloaded %d users over %d tickers and %d prices in %v", be, users, tickers, prices, time.Since(start).Round(time.Millisecond))
	if err := db.CreateCeilingTable(context.Background()); err != nil {
		b.Fatal(err)
	}
	conn := benchServe(b, db)
	return &benchEnv{
		db: db, conn: conn, client: pb.NewStockServiceClient(conn), health: healthpb.NewHealthClient(conn),
		users: users, tickers: tickers,
	}
}

// benchServe serves db on 127.0.0.1:0 with the daemon's gRPC server
// options and returns a client connection, both closed when b ends.
func benchServe(b *testing.B, db *store.DB) *grpc.ClientConn {
	b.Helper()
	met := metrics.New()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The per-RPC log line at info level, to io.Discard: its formatting
	// is paid as in production.
	srv := grpc.NewServer(api.ServerOptions(log, "", met.GRPC.UnaryServerInterceptor())...)
	// No Quoter: the daemon's -verify-tickers=false. With it, RegisterUser
	// and UpdateUser would also time a call to Yahoo.
	api.New(db, api.Config{Logger: log}).Register(srv)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	benchtest.RegisterCeiling(srv, db, "")
	met.GRPC.InitializeMetrics(srv)

	return testkit.ServeGRPC(b, srv)
}

func (e *benchEnv) benchNoop(b *testing.B) {
	benchrun.Run(b, func(ctx context.Context, _ *rand.Rand) error {
		_, err := e.health.Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	})
}

func (e *benchEnv) benchReadCeiling(b *testing.B) {
	benchrun.Run(b, func(ctx context.Context, rng *rand.Rand) error {
		out := new(wrapperspb.DoubleValue)
		return e.conn.Invoke(ctx, benchtest.MethodRead, wrapperspb.String(benchtest.Ticker(rng.IntN(e.tickers))), out)
	})
}

func (e *benchEnv) benchPointReadCeiling(b *testing.B) {
	benchrun.Run(b, func(ctx context.Context, rng *rand.Rand) error {
		out := new(wrapperspb.StringValue)
		return e.conn.Invoke(ctx, benchtest.MethodPointRead, wrapperspb.String(benchtest.Email(rng.IntN(e.users))), out)
	})
}

func (e *benchEnv) benchInsertCeiling(b *testing.B) {
	benchrun.Run(b, func(ctx context.Context, _ *rand.Rand) error {
		return e.conn.Invoke(ctx, benchtest.MethodInsert, &emptypb.Empty{}, new(emptypb.Empty))
	})
}

func (e *benchEnv) benchWriteCeiling(b *testing.B) {
	benchrun.Run(b, func(ctx context.Context, _ *rand.Rand) error {
		return e.conn.Invoke(ctx, benchtest.MethodWrite, &emptypb.Empty{}, new(emptypb.Empty))
	})
}

func (e *benchEnv) benchLatest(b *testing.B) {
	benchrun.Run(b, func(ctx context.Context, rng *rand.Rand) error {
		_, err := e.client.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: benchtest.Email(rng.IntN(e.users))})
		return err
	})
}

func (e *benchEnv) benchAverage(b *testing.B) { e.benchAverageOf(b, 100) }

func (e *benchEnv) benchAverage10000(b *testing.B) { e.benchAverageOf(b, 10_000) }

func (e *benchEnv) benchAverageOf(b *testing.B, count int32) {
	benchrun.Run(b, func(ctx context.Context, rng *rand.Rand) error {
		_, err := e.client.GetAveragePrice(ctx, &pb.GetAveragePriceRequest{Email: benchtest.Email(rng.IntN(e.users)), Count: count})
		return err
	})
}

func (e *benchEnv) benchGetUser(b *testing.B) {
	benchrun.Run(b, func(ctx context.Context, rng *rand.Rand) error {
		_, err := e.client.GetUser(ctx, &pb.GetUserRequest{Email: benchtest.Email(rng.IntN(e.users))})
		return err
	})
}

// benchFresh numbers the users RegisterUser creates, across all its runs.
var benchFresh atomic.Int64

func (e *benchEnv) benchRegister(b *testing.B) {
	benchrun.Run(b, func(ctx context.Context, rng *rand.Rand) error {
		n := benchFresh.Add(1)
		_, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{
			RequestId: benchtest.UUID(rng), Email: fmt.Sprintf("fresh%09d@bench.example", n), Ticker: benchtest.Ticker(int(n) % e.tickers),
		})
		return err
	})
}

func (e *benchEnv) benchUpdate(b *testing.B) {
	benchrun.Run(b, func(ctx context.Context, rng *rand.Rand) error {
		_, err := e.client.UpdateUser(ctx, &pb.UpdateUserRequest{
			RequestId: benchtest.UUID(rng), Email: benchtest.Email(rng.IntN(e.users)), Ticker: benchtest.Ticker(rng.IntN(e.tickers)),
		})
		return err
	})
}
