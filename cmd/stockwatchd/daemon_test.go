package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/stockwatch/stockwatch/internal/testkit"
)

func TestCollectorOwner(t *testing.T) {
	t.Parallel()
	t.Run("Format", func(t *testing.T) {
		if got, want := ownerID("web-1", 1, "K3QX7ZPA"), "web-1-1-K3QX7ZPA"; got != want {
			t.Errorf("ownerID = %q, want %q", got, want)
		}
	})
	t.Run("LongHostKeepsPidAndRandom", func(t *testing.T) {
		got := ownerID(strings.Repeat("h", 100), 12345, "K3QX7ZPA")
		if len(got) != 64 || !strings.HasSuffix(got, "h-12345-K3QX7ZPA") {
			t.Errorf("ownerID = %q (%d bytes), want 64 bytes ending in the pid and random part", got, len(got))
		}
	})
	// Two containers with host networking share the host name and are
	// both pid 1: only the random part tells them apart.
	t.Run("SameHostAndPidDiffer", func(t *testing.T) {
		a, b := collectorOwner(), collectorOwner()
		if a == b {
			t.Errorf("collectorOwner() twice = %q, want different owners", a)
		}
		if re := regexp.MustCompile(`-[0-9]+-[A-Z2-7]{8}$`); !re.MatchString(a) {
			t.Errorf("collectorOwner() = %q, want HOST-PID-XXXXXXXX", a)
		}
	})
}

// TestShutdownWaitsForHandlers checks that a handler still running when
// -shutdown-timeout runs out returns before the database closes.
func TestShutdownWaitsForHandlers(t *testing.T) {
	t.Parallel()
	cfg, err := parseConfig([]string{"-role", "api", "-db", "sqlite://" + filepath.Join(t.TempDir(), "shut.db"),
		"-grpc-addr", "127.0.0.1:0", "-http-addr", "", "-verify-tickers=false", "-shutdown-timeout", "100ms"}, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	d, err := newDaemon(context.Background(), cfg, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{})
	pinged := make(chan error, 1)
	// A handler that is slow to notice its cancellation, and then uses
	// the database.
	d.grpc.RegisterService(&grpc.ServiceDesc{
		ServiceName: "test.Slow",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{MethodName: "Wait", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			if err := dec(new(emptypb.Empty)); err != nil {
				return nil, err
			}
			close(entered)
			<-ctx.Done()
			time.Sleep(300 * time.Millisecond)
			pinged <- d.db.Ping(context.Background())
			return new(emptypb.Empty), nil
		}}},
	}, struct{}{})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- d.serve(ctx) }()
	conn := dialConn(t, d.glis.Addr().String())
	go func() {
		_ = conn.Invoke(context.Background(), "/test.Slow/Wait", new(emptypb.Empty), new(emptypb.Empty))
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not start")
	}
	cancel()
	if err := testkit.Receive(t, served, 10*time.Second, "serve did not return"); err != nil {
		t.Errorf("serve = %v, want nil", err)
	}
	select {
	case err := <-pinged:
		if err != nil {
			t.Errorf("the handler's database call failed: %v, want the database still open", err)
		}
	default:
		t.Error("serve returned (and closed the database) before the handler did")
	}
}
