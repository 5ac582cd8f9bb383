package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

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

// follow reads r's JSON log lines into l until r ends, handing the text
// of each line to each (when not nil). The channel it returns gets the
// address of the first "serving gRPC" line, or is closed if r ends
// without one.
func (l *logLines) follow(r io.Reader, each func(text string)) <-chan string {
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		sent := false
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil {
				l.add(line)
				if a, ok := line["addr"].(string); ok && line["msg"] == "serving gRPC" && !sent {
					addr <- a
					sent = true
				}
			}
			if each != nil {
				each(sc.Text())
			}
		}
		if !sent {
			close(addr)
		}
		_, _ = io.Copy(io.Discard, r)
	}()
	return addr
}

// startInProcess runs the daemon's run in a goroutine with JSON logs and
// returns its gRPC address and logs; it stops it (and checks run returned
// nil) when t ends.
func startInProcess(t *testing.T, args ...string) (string, *logLines) {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	var runErr error
	exited := make(chan struct{})
	go func() {
		runErr = run(ctx, append([]string{"-grpc-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0", "-log-format", "json"}, args...), noEnv, io.Discard, pw)
		pw.Close()
		close(exited)
	}()
	logs := &logLines{}
	addr := logs.follow(pr, nil)
	served := false
	t.Cleanup(func() {
		cancel()
		<-exited
		if served && runErr != nil {
			t.Errorf("run = %v, want nil after cancel", runErr)
		}
	})
	select {
	case a, ok := <-addr:
		if ok {
			served = true
			return a, logs
		}
		<-exited
		t.Fatalf("daemon exited: %v", runErr)
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

// httpAddr waits for the daemon of logs to serve HTTP and returns where.
func httpAddr(t *testing.T, logs *logLines) string {
	t.Helper()
	var line map[string]any
	eventually(t, "a 'serving HTTP' log line", func() bool {
		line = logs.find(map[string]any{"msg": "serving HTTP"})
		return line != nil
	})
	return line["addr"].(string)
}

// dialConn returns a plaintext gRPC connection to addr, closed when t ends.
func dialConn(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// dial returns a StockService client of a plaintext connection to addr,
// closed when t ends.
func dial(t *testing.T, addr string) pb.StockServiceClient {
	t.Helper()
	return pb.NewStockServiceClient(dialConn(t, addr))
}
