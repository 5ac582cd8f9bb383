package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stockwatch/stockwatch/internal/client/clienttest"
	"github.com/stockwatch/stockwatch/internal/stock"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

func TestSparkline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		prices []float64
		want   string
	}{
		{"rising", []float64{0, 1, 2, 3, 4, 5, 6, 7}, "▁▂▃▄▅▆▇█"},
		{"scaled_min_to_max", []float64{100, 150, 200, 125}, "▁▅█▃"},
		{"flat", []float64{3, 3, 3}, "▄▄▄"},
		{"one", []float64{42}, "▄"},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			points := make([]*pb.PricePoint, len(tt.prices))
			for i, v := range tt.prices {
				points[i] = &pb.PricePoint{Price: v}
			}
			if got := sparkline(points); got != tt.want {
				t.Errorf("sparkline(%v) = %q, want %q", tt.prices, got, tt.want)
			}
		})
	}
}

func TestPercent(t *testing.T) {
	t.Parallel()
	for v, want := range map[float64]string{
		1.75: "+1.8%", 1.8: "+1.8%", -0.34: "-0.3%", 0: "+0.0%", -0.04: "+0.0%", 0.04: "+0.0%", -12.25: "-12.3%", 250: "+250.0%",
	} {
		if got := percent(v); got != want {
			t.Errorf("percent(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestLatestWatch drives watchLatest with ticks the test sends: a line
// (or a JSON object) only when the price or its market time changed,
// and a nil return when the context ends.
func TestLatestWatch(t *testing.T) {
	t.Parallel()
	at := func(d time.Duration) time.Time { return clienttest.Now.Truncate(time.Minute).Add(d) }
	aapl := func(v float64, mt time.Time) stock.Price {
		return stock.Price{Ticker: "AAPL", Price: v, Currency: "USD", MarketTime: mt, CollectTime: mt}
	}
	// Between ticks: nothing, a new price, the same price at a newer
	// market time, a price collected again with the same value and time
	// (stored once: nothing to print), nothing.
	steps := []func(tb testing.TB, srv *clienttest.Server){
		func(testing.TB, *clienttest.Server) {},
		func(tb testing.TB, srv *clienttest.Server) { srv.InsertPrices(tb, aapl(187.5, at(0))) },
		func(tb testing.TB, srv *clienttest.Server) { srv.InsertPrices(tb, aapl(187.5, at(time.Second))) },
		func(tb testing.TB, srv *clienttest.Server) { srv.InsertPrices(tb, aapl(187.5, at(time.Second))) },
	}
	tests := []struct {
		name string
		json bool
		want string
	}{
		{"text", false, "AAPL: 187.42 USD, 1 min ago (2026-03-02 15:03:00 UTC)\n" +
			"AAPL: 187.50 USD, just now (2026-03-02 15:04:00 UTC)\n" +
			"AAPL: 187.50 USD, just now (2026-03-02 15:04:01 UTC)\n"},
		{"json", true, `{"ticker":"AAPL","price":187.42,"currency":"USD","marketTime":"2026-03-02T15:03:00Z","collectTime":"2026-03-02T15:03:00Z"}` + "\n" +
			`{"ticker":"AAPL","price":187.5,"currency":"USD","marketTime":"2026-03-02T15:04:00Z","collectTime":"2026-03-02T15:04:00Z"}` + "\n" +
			`{"ticker":"AAPL","price":187.5,"currency":"USD","marketTime":"2026-03-02T15:04:01Z","collectTime":"2026-03-02T15:04:01Z"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := seeded(t, clienttest.Options{})
			var out bytes.Buffer
			s := testSession(t, srv, &out, tt.json)
			ctx, cancel := context.WithCancel(t.Context())
			clock := newFakeTicks()
			done := make(chan error, 1)
			go func() { done <- watchLatest(ctx, s, params{email: "alice@example.com"}, clock.wait) }()
			for _, step := range steps {
				clock.waiting(t, done) // the call before has been printed
				step(t, srv)
				clock.tick()
			}
			clock.waiting(t, done)
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("watchLatest = %v, want nil after the context ended", err)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("output:\n%s\nwant:\n%s", got, tt.want)
			}
			if got, want := srv.Calls("GetLatestPrice"), len(steps)+1; got != want {
				t.Errorf("calls = %d, want %d (one, then one a tick)", got, want)
			}
		})
	}
}

// TestLatestWatchFails: a call that fails ends the watch with its error,
// after what it printed before.
func TestLatestWatchFails(t *testing.T) {
	t.Parallel()
	srv := seeded(t, clienttest.Options{})
	var out bytes.Buffer
	s := testSession(t, srv, &out, false)
	clock := newFakeTicks()
	done := make(chan error, 1)
	go func() { done <- watchLatest(t.Context(), s, params{email: "alice@example.com"}, clock.wait) }()
	clock.waiting(t, done) // the first call has been printed
	srv.FailBefore("GetLatestPrice", 1, codes.FailedPrecondition)
	clock.tick()
	err := <-done
	if st := status.Convert(err); st.Code() != codes.FailedPrecondition || st.Message() != "injected FailedPrecondition" {
		t.Errorf("watchLatest = %v, want FAILED_PRECONDITION injected", err)
	}
	if got, want := out.String(), "AAPL: 187.42 USD, 1 min ago (2026-03-02 15:03:00 UTC)\n"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}

// TestLatestWatchInterrupted runs latest -watch with a real interval
// until its context ends, as Ctrl-C ends it: exit 0, one line, no error.
func TestLatestWatchInterrupted(t *testing.T) {
	t.Parallel()
	for name, args := range map[string][]string{
		"latest_watch":      {"latest", "-watch", "alice@example.com", "-every", "1s"},
		"latest_watch_json": {"-o", "json", "latest", "alice@example.com", "--watch"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := seeded(t, clienttest.Options{})
			ctx, cancel := context.WithTimeout(t.Context(), 2500*time.Millisecond)
			defer cancel()
			r := runCLI(t, ctx, srv.Addr, nil, "", args...)
			if r.code != 0 {
				t.Errorf("exit status = %d, want 0", r.code)
			}
			if n := srv.Calls("GetLatestPrice"); n < 1 {
				t.Errorf("calls = %d, want at least 1", n)
			}
			checkGolden(t, name, r)
		})
	}
}

// fakeTicks is the interval of a watch, under the test's control: wait
// says that the watch waits, and returns at the next tick.
type fakeTicks struct {
	waits, ticks chan struct{}
}

func newFakeTicks() *fakeTicks {
	return &fakeTicks{waits: make(chan struct{}), ticks: make(chan struct{})}
}

func (f *fakeTicks) wait(ctx context.Context) error {
	select {
	case f.waits <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-f.ticks:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waiting returns once the watch waits for a tick; it fails if the
// watch ended (done) instead.
func (f *fakeTicks) waiting(tb testing.TB, done chan error) {
	tb.Helper()
	select {
	case <-f.waits:
	case err := <-done:
		tb.Fatalf("the watch ended: %v", err)
	case <-time.After(30 * time.Second):
		tb.Fatal("the watch did not wait for a tick within 30s")
	}
}

// tick lets the waiting watch go on.
func (f *fakeTicks) tick() { f.ticks <- struct{}{} }

// testSession returns a session of srv that prints to w at
// clienttest.Now, in UTC.
func testSession(tb testing.TB, srv *clienttest.Server, w *bytes.Buffer, json bool) *session {
	tb.Helper()
	cfg := defaultConfig()
	cfg.addr = srv.Addr
	s := &session{cfg: cfg, out: newPrinter(w, json, time.UTC, func() time.Time { return clienttest.Now }), stdout: w, stderr: w}
	tb.Cleanup(s.close)
	return s
}
