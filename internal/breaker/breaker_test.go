package breaker_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sony/gobreaker/v2"

	"github.com/stockwatch/stockwatch/internal/breaker"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/testkit"
	"github.com/stockwatch/stockwatch/internal/yahoo"
	"github.com/stockwatch/stockwatch/internal/yahoo/yahootest"
)

var _ breaker.Quoter = (*yahoo.Client)(nil)

// clientTimeout is the yahoo client's own per-request timeout in these
// tests: short, so that the SLOW symbol fails fast.
const clientTimeout = 50 * time.Millisecond

// newUpstream returns a fake Yahoo whose symbols each behave one way, and a
// real client for it:
//
//	AAPL, VOD.L  quotes          ZZZZ   unknown
//	FAIL         HTTP 500        RL     HTTP 429 with Retry-After
//	HTML         malformed       RESET  connection reset
//	SLOW         no answer for a minute (the client times out)
func newUpstream(tb testing.TB) (*yahootest.Server, *yahoo.Client) {
	tb.Helper()
	srv := yahootest.NewServer(tb)
	srv.SetFault("FAIL", yahootest.Fault{Kind: yahootest.FaultServerError})
	srv.SetFault("RL", yahootest.Fault{Kind: yahootest.FaultRateLimit, Header: http.Header{"Retry-After": {"60"}}})
	srv.SetFault("HTML", yahootest.Fault{Kind: yahootest.FaultHTML})
	srv.SetFault("RESET", yahootest.Fault{Kind: yahootest.FaultReset})
	srv.SetFault("SLOW", yahootest.Fault{Delay: time.Minute})
	return srv, yahoo.New(srv.URL(), yahoo.WithTimeout(clientTimeout))
}

// call makes one call of the given kind through b and returns its error.
func call(tb testing.TB, b *breaker.Breaker, kind string) error {
	tb.Helper()
	ctx := context.Background()
	var symbol string
	switch kind {
	case "ok":
		symbol = "AAPL"
	case "fail":
		symbol = "FAIL"
	case "unknown":
		symbol = "ZZZZ"
	case "ratelimit":
		symbol = "RL"
	case "malformed":
		symbol = "HTML"
	case "reset":
		symbol = "RESET"
	case "timeout": // the client's own timeout
		symbol = "SLOW"
	case "cancel": // the caller cancels while the request is in flight
		symbol = "SLOW"
		c, cancel := context.WithCancel(ctx)
		defer cancel()
		time.AfterFunc(10*time.Millisecond, cancel)
		ctx = c
	case "canceled": // the caller's context is cancelled before the call
		symbol = "AAPL"
		c, cancel := context.WithCancel(ctx)
		cancel()
		ctx = c
	case "deadline": // the caller's own deadline passes first
		symbol = "SLOW"
		c, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		ctx = c
	default:
		tb.Fatalf("unknown call kind %q", kind)
	}
	_, err := b.Quote(ctx, symbol)
	return err
}

func TestBreaker_Classification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		calls      []string
		wantState  breaker.State
		wantCounts breaker.Counts
	}{
		{
			name:       "FailuresMinusOneStayClosed",
			calls:      []string{"fail", "fail"},
			wantState:  breaker.StateClosed,
			wantCounts: breaker.Counts{Failures: 2},
		},
		{
			name:       "FailuresOpen",
			calls:      []string{"fail", "fail", "fail"},
			wantState:  breaker.StateOpen,
			wantCounts: breaker.Counts{Failures: 3, Transitions: 1},
		},
		{
			name:       "TimeoutRateLimitMalformedAreFailures",
			calls:      []string{"timeout", "ratelimit", "malformed"},
			wantState:  breaker.StateOpen,
			wantCounts: breaker.Counts{Failures: 3, Transitions: 1},
		},
		{
			name:       "ResetIsAFailure",
			calls:      []string{"reset", "reset", "reset"},
			wantState:  breaker.StateOpen,
			wantCounts: breaker.Counts{Failures: 3, Transitions: 1},
		},
		{
			name:       "SuccessResetsTheRun",
			calls:      []string{"fail", "fail", "ok", "fail", "fail"},
			wantState:  breaker.StateClosed,
			wantCounts: breaker.Counts{Successes: 1, Failures: 4},
		},
		{
			name:       "UnknownTickerCountsAsSuccess",
			calls:      []string{"fail", "fail", "unknown", "fail", "fail"},
			wantState:  breaker.StateClosed,
			wantCounts: breaker.Counts{Successes: 1, Failures: 4},
		},
		{
			name:       "UnknownTickersNeverOpen",
			calls:      []string{"unknown", "unknown", "unknown", "unknown", "unknown", "unknown"},
			wantState:  breaker.StateClosed,
			wantCounts: breaker.Counts{Successes: 6},
		},
		{
			name:       "CancellationsNeverOpen",
			calls:      []string{"canceled", "cancel", "deadline", "canceled", "cancel", "deadline"},
			wantState:  breaker.StateClosed,
			wantCounts: breaker.Counts{Excluded: 6},
		},
		{
			name:       "CancellationIsNotCountedNorResetsTheRun",
			calls:      []string{"fail", "fail", "cancel", "canceled", "deadline", "fail"},
			wantState:  breaker.StateOpen,
			wantCounts: breaker.Counts{Failures: 3, Excluded: 3, Transitions: 1},
		},
		{
			name:       "OpenRejects",
			calls:      []string{"fail", "fail", "fail", "ok", "unknown", "fail"},
			wantState:  breaker.StateOpen,
			wantCounts: breaker.Counts{Failures: 3, Rejected: 3, Transitions: 1},
		},
	}
	classifiers := []struct {
		name      string
		isFailure func(error) bool
	}{
		{"DefaultIsFailure", nil},
		{"YahooIsFailure", yahoo.IsFailure},
	}
	for _, cl := range classifiers {
		for _, tt := range tests {
			t.Run(cl.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				_, client := newUpstream(t)
				b := breaker.New(client, breaker.Config{Failures: 3, Timeout: time.Hour, IsFailure: cl.isFailure})
				for _, c := range tt.calls {
					call(t, b, c)
				}
				if got := b.State(); got != tt.wantState {
					t.Errorf("after %v: State() = %v, want %v", tt.calls, got, tt.wantState)
				}
				if diff := cmp.Diff(tt.wantCounts, b.Counts()); diff != "" {
					t.Errorf("after %v: Counts() mismatch (-want +got):\n%s", tt.calls, diff)
				}
			})
		}
	}
}

func TestBreaker_OpensAfterExactlyNFailures(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		failures uint32
		want     int // failures that open it
	}{
		{"One", 1, 1},
		{"Two", 2, 2},
		{"Five", 5, 5},
		{"ZeroMeansDefault", 0, breaker.DefaultFailures},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, client := newUpstream(t)
			b := breaker.New(client, breaker.Config{Failures: tt.failures, Timeout: time.Hour})
			for i := 1; i < tt.want; i++ {
				err := call(t, b, "fail")
				var ue *yahoo.UpstreamError
				if !errors.As(err, &ue) || ue.Status != 500 {
					t.Fatalf("failure %d: error %v, want the upstream's *yahoo.UpstreamError with status 500", i, err)
				}
				if got := b.State(); got != breaker.StateClosed {
					t.Fatalf("after %d of %d failures: State() = %v, want closed", i, tt.want, got)
				}
			}
			call(t, b, "fail")
			if got := b.State(); got != breaker.StateOpen {
				t.Fatalf("after %d failures: State() = %v, want open", tt.want, got)
			}
			if got := srv.RequestsFor("FAIL"); got != int64(tt.want) {
				t.Errorf("RequestsFor(FAIL) = %d, want %d", got, tt.want)
			}

			// While open, nothing reaches the upstream.
			before := srv.Requests()
			for _, symbol := range []string{"AAPL", "FAIL", "ZZZZ", "VOD.L"} {
				q, err := b.Quote(context.Background(), symbol)
				if !errors.Is(err, breaker.ErrOpen) || !errors.Is(err, gobreaker.ErrOpenState) {
					t.Errorf("Quote(%s) while open = %v, %v; want ErrOpen wrapping gobreaker.ErrOpenState", symbol, q, err)
				}
				if diff := cmp.Diff(stock.Quote{}, q); diff != "" {
					t.Errorf("Quote(%s) while open: quote mismatch (-want +got):\n%s", symbol, diff)
				}
			}
			if got := srv.Requests(); got != before {
				t.Errorf("requests while open: server count went from %d to %d", before, got)
			}
			if got, want := b.Counts().Rejected, uint64(4); got != want {
				t.Errorf("Counts().Rejected = %d, want %d", got, want)
			}
		})
	}
}

// waitState polls b.State (which is what moves an open breaker to
// half-open once its timeout has passed) until it is want.
func waitState(tb testing.TB, b *breaker.Breaker, want breaker.State) {
	tb.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		got := b.State()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("State() = %v after 2s, want %v", got, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// transitions records the OnStateChange callbacks.
type transitions struct {
	mu   sync.Mutex
	list []string
}

func (r *transitions) record(from, to breaker.State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, from.String()+"→"+to.String())
}

func (r *transitions) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.list...)
}

func TestBreaker_HalfOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		probe           string
		wantRequests    int64 // that reach the server
		wantState       breaker.State
		wantTransitions []string
	}{
		{"SuccessCloses", "ok", 1, breaker.StateClosed, []string{"closed→open", "open→half-open", "half-open→closed"}},
		{"UnknownTickerCloses", "unknown", 1, breaker.StateClosed, []string{"closed→open", "open→half-open", "half-open→closed"}},
		{"FailureReopens", "fail", 1, breaker.StateOpen, []string{"closed→open", "open→half-open", "half-open→open"}},
		{"TimeoutReopens", "timeout", 1, breaker.StateOpen, []string{"closed→open", "open→half-open", "half-open→open"}},
		{"CancelledProbeKeepsHalfOpen", "canceled", 0, breaker.StateHalfOpen, []string{"closed→open", "open→half-open"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, client := newUpstream(t)
			var rec transitions
			b := breaker.New(client, breaker.Config{Failures: 1, Timeout: 20 * time.Millisecond, OnStateChange: rec.record})
			call(t, b, "fail")
			if got := b.State(); got != breaker.StateOpen {
				t.Fatalf("after a failure: State() = %v, want open", got)
			}
			waitState(t, b, breaker.StateHalfOpen)

			before := srv.Requests()
			call(t, b, tt.probe)
			if got := srv.Requests() - before; got != tt.wantRequests {
				t.Errorf("probe: %d requests reached the server, want %d", got, tt.wantRequests)
			}
			if got := b.State(); got != tt.wantState {
				t.Errorf("after the %s probe: State() = %v, want %v", tt.probe, got, tt.wantState)
			}
			if diff := cmp.Diff(tt.wantTransitions, rec.get()); diff != "" {
				t.Errorf("transitions mismatch (-want +got):\n%s", diff)
			}
			if got, want := b.Transitions(), uint64(len(tt.wantTransitions)); got != want {
				t.Errorf("Transitions() = %d, want %d", got, want)
			}
		})
	}
}

func TestBreaker_HalfOpenLetsOneProbeThrough(t *testing.T) {
	t.Parallel()
	srv, client := newUpstream(t)
	b := breaker.New(client, breaker.Config{Failures: 1, Timeout: 20 * time.Millisecond})
	call(t, b, "fail")
	waitState(t, b, breaker.StateHalfOpen)

	// The probe hangs until its caller cancels it.
	srv.SetFault("AAPL", yahootest.Fault{Delay: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	probeErr := make(chan error, 1)
	go func() {
		_, err := b.Quote(ctx, "AAPL")
		probeErr <- err
	}()
	for srv.RequestsFor("AAPL") == 0 {
		time.Sleep(time.Millisecond)
	}

	_, err := b.Quote(context.Background(), "VOD.L")
	if !errors.Is(err, breaker.ErrOpen) || !errors.Is(err, gobreaker.ErrTooManyRequests) {
		t.Errorf("second call while the probe is in flight = %v, want ErrOpen wrapping gobreaker.ErrTooManyRequests", err)
	}
	testkit.WantCount(t, "RequestsFor(VOD.L)", srv.RequestsFor("VOD.L"), 0)

	// A probe its caller gave up on says nothing: still half-open, and
	// the next call is the probe.
	cancel()
	if err := <-probeErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled probe = %v, want context.Canceled", err)
	}
	if got := b.State(); got != breaker.StateHalfOpen {
		t.Fatalf("after a cancelled probe: State() = %v, want half-open", got)
	}
	q, err := b.Quote(context.Background(), "VOD.L")
	if err != nil {
		t.Fatalf("second probe: %v", err)
	}
	if q.Ticker != "VOD.L" || q.Currency != "GBp" {
		t.Errorf("second probe = %+v, want the VOD.L quote", q)
	}
	if got := b.State(); got != breaker.StateClosed {
		t.Errorf("after a successful probe: State() = %v, want closed", got)
	}
}

func TestBreaker_LogsEveryStateChangeOnce(t *testing.T) {
	t.Parallel()
	_, client := newUpstream(t)
	var buf testkit.LogBuffer
	var rec transitions
	b := breaker.New(client, breaker.Config{
		Name:          "yahoo",
		Failures:      2,
		Timeout:       20 * time.Millisecond,
		Logger:        slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnStateChange: rec.record,
	})

	call(t, b, "fail")
	call(t, b, "fail") // opens
	waitState(t, b, breaker.StateHalfOpen)
	call(t, b, "fail") // the probe fails: open again
	waitState(t, b, breaker.StateHalfOpen)
	call(t, b, "ok") // the probe succeeds: closed
	call(t, b, "ok")

	type line struct {
		Level, Msg, Breaker, From, To string
	}
	var got []line
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var v line
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		got = append(got, v)
	}
	const msg = "circuit breaker state changed"
	want := []line{
		{"WARN", msg, "yahoo", "closed", "open"},
		{"INFO", msg, "yahoo", "open", "half-open"},
		{"WARN", msg, "yahoo", "half-open", "open"},
		{"INFO", msg, "yahoo", "open", "half-open"},
		{"INFO", msg, "yahoo", "half-open", "closed"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log lines mismatch (-want +got):\n%s", diff)
	}
	wantTransitions := []string{"closed→open", "open→half-open", "half-open→open", "open→half-open", "half-open→closed"}
	if diff := cmp.Diff(wantTransitions, rec.get()); diff != "" {
		t.Errorf("OnStateChange mismatch (-want +got):\n%s", diff)
	}
	if got, want := b.Transitions(), uint64(5); got != want {
		t.Errorf("Transitions() = %d, want %d", got, want)
	}
}

func TestBreaker_PassesResultsThrough(t *testing.T) {
	t.Parallel()
	_, client := newUpstream(t)
	b := breaker.New(client, breaker.Config{Failures: 10, Timeout: time.Hour})

	q, err := b.Quote(context.Background(), "VOD.L")
	if err != nil {
		t.Fatalf("Quote(VOD.L): %v", err)
	}
	want := stock.Quote{Ticker: "VOD.L", Price: 68.9, Currency: "GBp", MarketTime: time.Unix(1739982304, 0).UTC()}
	if diff := cmp.Diff(want, q); diff != "" {
		t.Errorf("Quote(VOD.L) mismatch (-want +got):\n%s", diff)
	}

	_, err = b.Quote(context.Background(), "ZZZZ")
	if !errors.Is(err, stock.ErrUnknownTicker) || err.Error() != "unknown ticker ZZZZ" {
		t.Errorf("Quote(ZZZZ) = %v, want %q matching stock.ErrUnknownTicker", err, "unknown ticker ZZZZ")
	}

	_, err = b.Quote(context.Background(), "RL")
	var rl *yahoo.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Minute {
		t.Errorf("Quote(RL) = %v, want *yahoo.RateLimitError with RetryAfter 1m", err)
	}
}

// panicky is a Quoter that panics.
type panicky struct{}

func (panicky) Quote(context.Context, string) (stock.Quote, error) { panic("boom") }

func TestBreaker_PanicIsAFailure(t *testing.T) {
	t.Parallel()
	b := breaker.New(panicky{}, breaker.Config{Failures: 1, Timeout: time.Hour})
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the upstream's panic", r)
			}
		}()
		_, _ = b.Quote(context.Background(), "AAPL")
	}()
	if got := b.State(); got != breaker.StateOpen {
		t.Errorf("after a panic: State() = %v, want open", got)
	}
}

func TestBreaker_Concurrent(t *testing.T) {
	t.Parallel()
	_, client := newUpstream(t)
	b := breaker.New(client, breaker.Config{Failures: 1000, Timeout: time.Hour})
	const workers, each = 8, 10
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				symbol := []string{"AAPL", "FAIL", "ZZZZ"}[(w+i)%3]
				_, _ = b.Quote(context.Background(), symbol)
				_ = b.State()
			}
		}()
	}
	wg.Wait()
	c := b.Counts()
	if got := c.Successes + c.Failures + c.Excluded + c.Rejected; got != workers*each {
		t.Errorf("Counts() = %+v: %d calls counted, want %d", c, got, workers*each)
	}
	if got := b.State(); got != breaker.StateClosed {
		t.Errorf("State() = %v, want closed", got)
	}
}

func TestState_String(t *testing.T) {
	t.Parallel()
	got := []string{breaker.StateClosed.String(), breaker.StateHalfOpen.String(), breaker.StateOpen.String(), breaker.State(9).String()}
	want := []string{"closed", "half-open", "open", "State(9)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("String() mismatch (-want +got):\n%s", diff)
	}
}
