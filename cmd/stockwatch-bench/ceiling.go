package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/stockwatch/stockwatch/internal/api"
	"github.com/stockwatch/stockwatch/internal/benchtest"
	"github.com/stockwatch/stockwatch/internal/cliconfig"
	"github.com/stockwatch/stockwatch/internal/metrics"
	"github.com/stockwatch/stockwatch/internal/store"
)

// The ceiling server is the least work the daemon could do per request:
// the same grpc-go server options, the same interceptor chain and the same
// store.Open (so the same driver, DSN parameters and pool limits), with
// the handler reduced to nothing (health Check), one indexed SELECT, or
// one two-row write transaction. Its options are the daemon's own
// (api.ServerOptions, with grpcprom metrics first and no admin token); TLS
// is off, as in the benchmarked daemon.

// newCeilingServer returns a gRPC server of the ceilings on db, with the
// health service SERVING (the transport ceiling). It creates the scratch
// table if needed and returns an error if that fails.
func newCeilingServer(ctx context.Context, db *store.DB, log *slog.Logger) (*grpc.Server, error) {
	if err := db.CreateCeilingTable(ctx); err != nil {
		return nil, err
	}
	var p [6]byte
	_, _ = rand.Read(p[:])
	met := metrics.New()
	srv := grpc.NewServer(api.ServerOptions(log, "", met.GRPC.UnaryServerInterceptor())...)
	benchtest.RegisterCeiling(srv, db, hex.EncodeToString(p[:]))
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	met.GRPC.InitializeMetrics(srv)
	return srv, nil
}

// cmdCeiling is the ceiling subcommand: it serves the ceilings on -db at
// -addr until ctx is done.
func cmdCeiling(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cliconfig.NewFlagSet("stockwatch-bench ceiling")
	dsn := fs.String("db", "", "database URL, as the daemon's -db")
	addr := fs.String("addr", "127.0.0.1:0", "gRPC listen address")
	level := fs.String("log-level", "warn", "log level, as the daemon's -log-level")
	if err := cliconfig.Parse(fs, args, stdout, func(w io.Writer) { printUsage(w, fs, "-db URL [flags]") }); err != nil {
		return err
	}
	if err := cliconfig.NoArgs(fs); err != nil {
		return err
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return cliconfig.Usagef(fs.Name(), "-log-level: %w", err)
	}
	// The daemon's default text handler, on stderr.
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	db, err := store.Open(ctx, *dsn, log)
	if err != nil {
		return fmt.Errorf("open %s: %w", store.Redact(*dsn), err)
	}
	defer db.Close()
	srv, err := newCeilingServer(ctx, db, log)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "listening", lis.Addr())
	go func() {
		<-ctx.Done()
		srv.Stop()
	}()
	return srv.Serve(lis)
}
