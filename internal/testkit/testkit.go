// Package testkit holds the small test helpers that several packages'
// tests share: a gRPC server on loopback, a log buffer that a logger
// and a test may use at once, a fake clock, a check of a count, a bounded
// wait on a channel, an HTTP request in one call, and a TCP proxy a test
// can cut.
package testkit

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// ServeGRPC serves srv on 127.0.0.1:0 and returns a plaintext client
// connection to it. Both are stopped when tb ends; it fails tb if the
// listener or the connection cannot be made.
func ServeGRPC(tb testing.TB, srv *grpc.Server) *grpc.ClientConn {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go srv.Serve(lis)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		srv.Stop()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		conn.Close()
		srv.Stop()
	})
	return conn
}

// LogBuffer is a bytes.Buffer that a logger and a test may use at once.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p; it never fails.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Integer is any integer type a test counts in.
type Integer interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// WantCount marks tb failed, and goes on, unless got equals want; what
// names the count in the message: "what = got, want want".
func WantCount[N Integer](tb testing.TB, what string, got, want N) {
	tb.Helper()
	if got != want {
		tb.Errorf("%s = %d, want %d", what, got, want)
	}
}

// Receive returns the next value from ch. If none arrives within d it
// fails tb and stops it, saying that what did not happen.
func Receive[T any](tb testing.TB, ch <-chan T, d time.Duration, what string) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		tb.Fatalf("%s: nothing within %v", what, d)
		var zero T
		return zero
	}
}
