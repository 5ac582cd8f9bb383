package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/yahoo/yahootest"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// logLines collects a daemon's JSON log lines.
type logLines struct {
	mu    sync.Mutex
	lines []map[string]any
}

func (l *logLines) add(line map[string]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
}

// find returns the first line with every given key/value, or nil.
func (l *logLines) find(kv map[string]any) map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
next:
	for _, line := range l.lines {
		for k, v := range kv {
			if line[k] != v {
				continue next
			}
		}
		return line
	}
	return nil
}

// startInProcess runs the daemon's run in a goroutine with JSON logs and
// returns its gRPC address and logs; it stops it (and checks run returned
// nil) when t ends.
func startInProcess(t *testing.T, args ...string) (string, *logLines) {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"-grpc-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0", "-log-format", "json"}, args...), noEnv, io.Discard, pw)
		pw.Close()
		done <- err
	}()
	logs := &logLines{}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			logs.add(line)
			if line["msg"] == "serving gRPC" {
				addr <- line["addr"].(string)
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run = %v, want nil after cancel", err)
		}
	})
	select {
	case a := <-addr:
		return a, logs
	case err := <-done:
		t.Fatalf("daemon exited: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("daemon did not serve within 20s")
	}
	return "", nil
}

// noEnv is an empty environment.
func noEnv(string) (string, bool) { return "", false }

// eventually polls f every 20ms until it returns true or 10s pass.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCollectorEndToEnd runs -role all against a fake Yahoo: a new user's
// price is there at once (the registration check stores it), a failing
// upstream opens the breaker and stops requests, and a healed one brings
// prices back.
func TestCollectorEndToEnd(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		up := yahootest.NewServer(t)
		t0 := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
		up.SetQuote("AAPL", 190.5, "USD", t0)
		dbURL := storetest.URL(t, b)
		if b == storetest.SQLite {
			dbURL = "sqlite://" + filepath.Join(t.TempDir(), "all.db")
		}
		addr, logs := startInProcess(t, "-role", "all", "-db", dbURL, "-yahoo-url", up.URL(),
			"-interval", "200ms", "-breaker-failures", "2", "-breaker-timeout", "1500ms")
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		c := pb.NewStockServiceClient(conn)
		ctx := context.Background()

		if _, err := c.RegisterUser(ctx, &pb.RegisterUserRequest{Email: "a@x.com", Ticker: "ZZZZ"}); status.Code(err) != codes.InvalidArgument || status.Convert(err).Message() != "unknown ticker ZZZZ" {
			t.Fatalf("register unknown ticker: %v, want INVALID_ARGUMENT unknown ticker ZZZZ", err)
		}
		if _, err := c.RegisterUser(ctx, &pb.RegisterUserRequest{Email: "a@x.com", Ticker: "AAPL"}); err != nil {
			t.Fatalf("RegisterUser: %v", err)
		}
		p, err := c.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: "a@x.com"})
		if err != nil {
			t.Fatalf("GetLatestPrice right after registration: %v", err)
		}
		if p.GetPrice() != 190.5 || p.GetCurrency() != "USD" || !p.GetMarketTime().AsTime().Equal(t0) {
			t.Fatalf("GetLatestPrice = %v, want 190.5 USD at %v", p, t0)
		}

		// The upstream fails: after 2 failures the breaker opens and
		// the collector stops sending.
		up.SetGlobalFault(yahootest.Fault{Kind: yahootest.FaultServerError})
		eventually(t, "the breaker to open", func() bool {
			return logs.find(map[string]any{"msg": "circuit breaker state changed", "to": "open"}) != nil
		})
		n := up.Requests()
		time.Sleep(600 * time.Millisecond) // three intervals
		if got := up.Requests(); got != n {
			t.Errorf("upstream requests while open: %d → %d, want none", n, got)
		}

		// Healed, with a new quote: the probe closes the breaker and
		// prices resume.
		up.SetGlobalFault(yahootest.Fault{})
		up.SetQuote("AAPL", 191, "USD", t0.Add(time.Minute))
		eventually(t, "prices to resume", func() bool {
			p, err := c.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: "a@x.com"})
			return err == nil && p.GetPrice() == 191
		})
		if logs.find(map[string]any{"msg": "circuit breaker state changed", "from": "half-open", "to": "closed"}) == nil {
			t.Error("no log line for half-open → closed")
		}
	})
}
