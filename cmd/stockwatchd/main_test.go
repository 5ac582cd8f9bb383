package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // the one line printed
	}{
		{"UnknownRole", []string{"-role", "web"}, nil, `stockwatchd: -role: unknown role "web" (want all, api or collector)`},
		{"MalformedDB", []string{"-db", "postgres://x"}, nil, `stockwatchd: -db: unsupported database URL "postgres://x": want sqlite://PATH or mysql://USER[:PASS]@HOST[:PORT]/DB`},
		{"MySQLWithoutDB", []string{"-db", "mysql://root@localhost"}, nil, `stockwatchd: -db: mysql URL: want mysql://USER[:PASS]@HOST[:PORT]/DB[?params]`},
		{"NegativeRetention", []string{"-retention", "-1h"}, nil, `stockwatchd: -retention: must be positive, got -1h0m0s`},
		{"ZeroInterval", []string{"-interval", "0s"}, nil, `stockwatchd: -interval: must be positive, got 0s`},
		{"ZeroBreakerFailures", []string{"-breaker-failures", "0"}, nil, `stockwatchd: -breaker-failures: must be at least 1`},
		{"BadLogFormat", []string{"-log-format", "xml"}, nil, `stockwatchd: -log-format: unknown format "xml" (want text or json)`},
		{"KeyWithoutCert", []string{"-tls-key", "k.pem"}, nil, `stockwatchd: -tls-cert and -tls-key: give both or neither`},
		{"BadEnv", nil, map[string]string{"STOCKWATCH_INTERVAL": "soon"}, `stockwatchd: invalid STOCKWATCH_INTERVAL="soon": parse error`},
		{"FlagWinsOverEnv", []string{"-role", "nope"}, map[string]string{"STOCKWATCH_ROLE": "api"}, `stockwatchd: -role: unknown role "nope" (want all, api or collector)`},
		{"EnvTwin", nil, map[string]string{"STOCKWATCH_ROLE": "nope"}, `stockwatchd: -role: unknown role "nope" (want all, api or collector)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			err := run(context.Background(), tt.args, func(k string) string { return tt.env[k] }, &stderr)
			if err != errUsage {
				t.Fatalf("run() = %v, want errUsage", err)
			}
			if diff := cmp.Diff(tt.want, strings.TrimSpace(stderr.String())); diff != "" {
				t.Errorf("stderr mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// buildDaemon compiles the daemon binary once per test into a temp dir.
func buildDaemon(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "stockwatchd")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startDaemon starts bin with args and returns the process and the gRPC
// address it logged. Its log is kept for failures.
func startDaemon(t *testing.T, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-grpc-addr", "127.0.0.1:0", "-http-addr", "", "-log-format", "json"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving gRPC" && !sent {
				addr <- line.Addr
				sent = true
			}
			t.Log(sc.Text())
		}
		if !sent {
			close(addr)
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatal("daemon exited before serving gRPC")
		}
		return cmd, a
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not start serving within 30s")
	}
	return nil, ""
}

func TestDaemonEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon binary")
	}
	t.Parallel()
	bin := buildDaemon(t)
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "e2e.db")
	cmd, addr := startDaemon(t, bin, "-role", "api", "-db", dbURL, "-verify-tickers=false")

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	hc, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "stockwatch.v1.StockService"})
	if err != nil {
		t.Fatalf("health: %v", err)
	}
	if hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, want SERVING", hc.GetStatus())
	}
	c := pb.NewStockServiceClient(conn)
	u, err := c.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f", Email: "Ada@Example.com", Ticker: "aapl"})
	if err != nil {
		t.Fatalf("RegisterUser: %v", err)
	}
	if u.GetEmail() != "ada@example.com" || u.GetTicker() != "AAPL" {
		t.Fatalf("RegisterUser = %v, want ada@example.com tracking AAPL", u)
	}
	got, err := c.GetUser(ctx, &pb.GetUserRequest{Email: "ada@example.com"})
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if got.GetTicker() != "AAPL" {
		t.Fatalf("GetUser ticker = %q, want AAPL", got.GetTicker())
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("daemon exit after SIGTERM: %v, want status 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("daemon did not exit within 15s of SIGTERM")
	}
	// A restart on the same database keeps the user.
	_, addr = startDaemon(t, bin, "-role", "api", "-db", dbURL, "-verify-tickers=false")
	conn2, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	if _, err := pb.NewStockServiceClient(conn2).GetUser(ctx, &pb.GetUserRequest{Email: "ada@example.com"}); err != nil {
		t.Fatalf("GetUser after restart: %v", err)
	}
}
