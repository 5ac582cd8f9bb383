package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stockwatch/stockwatch/internal/metrics"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/yahoo/yahootest"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// scrape returns the value of every sample on /metrics (metrics.Scrape).
func scrape(t *testing.T, httpAddr string) map[string]float64 {
	t.Helper()
	m, err := metrics.Scrape(t.Context(), http.DefaultClient, "http://"+httpAddr+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	up := yahootest.NewServer(t)
	t0 := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
	up.SetQuote("AAPL", 190.5, "USD", t0)
	addr, logs := startInProcess(t, "-role", "all", "-db", storetest.URL(t, storetest.SQLite), "-yahoo-url", up.URL(), "-interval", "100ms")
	c := dial(t, addr)
	ctx := context.Background()
	reg := &pb.RegisterUserRequest{RequestId: "3f2b8c1d-0a4e-4b6f-9c7d-2e1f0a9b8c7d", Email: "m@x.com", Ticker: "AAPL"}
	for range 2 { // the second is a replay
		if _, err := c.RegisterUser(ctx, reg); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.GetUser(ctx, &pb.GetUserRequest{Email: "nobody@x.com"}); status.Code(err) != codes.NotFound {
		t.Fatalf("GetUser(nobody) = %v, want NOT_FOUND", err)
	}
	// A new market time: the collector's next cycle stores exactly one row.
	up.SetQuote("AAPL", 191, "USD", t0.Add(time.Minute))
	h := httpAddr(t, logs)
	var m map[string]float64
	eventually(t, "the collector to store a row", func() bool {
		m = scrape(t, h)
		return m["stockwatch_collector_rows_inserted_total"] == 1
	})
	want := map[string]float64{
		`grpc_server_handled_total{grpc_code="OK",grpc_method="RegisterUser",grpc_service="stockwatch.v1.StockService",grpc_type="unary"}`:  2,
		`grpc_server_handled_total{grpc_code="NotFound",grpc_method="GetUser",grpc_service="stockwatch.v1.StockService",grpc_type="unary"}`: 1,
		`grpc_server_handling_seconds_count{grpc_method="RegisterUser",grpc_service="stockwatch.v1.StockService",grpc_type="unary"}`:        2,
		`stockwatch_requests_replayed_total{method="/stockwatch.v1.StockService/RegisterUser"}`:                                             1,
		`stockwatch_breaker_state`:                             0,
		`stockwatch_collector_rows_inserted_total`:             1,
		`stockwatch_collector_tickers_total{outcome="failed"}`: 0,
		`stockwatch_breaker_calls_total{result="failure"}`:     0,
		`stockwatch_breaker_calls_total{result="rejected"}`:    0,
		`stockwatch_breaker_calls_total{result="excluded"}`:    0,
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	for _, k := range []string{
		`stockwatch_collector_cycle_duration_seconds_count`,
		`stockwatch_collector_tickers_total{outcome="ok"}`,
		`go_sql_max_open_connections{db_name="writer"}`,
		`go_sql_max_open_connections{db_name="reader"}`,
	} {
		if m[k] < 1 {
			t.Errorf("%s = %v, want >= 1", k, m[k])
		}
	}
	// The cycle that stored the row; the ticker check at registration
	// has a breaker of its own, and counts of its own.
	if k := `stockwatch_breaker_calls_total{result="success"}`; m[k] < 1 {
		t.Errorf("%s = %v, want >= 1", k, m[k])
	}
	for k, v := range map[string]float64{
		`stockwatch_ticker_checks_total{result="verified"}`: 1,
		`stockwatch_ticker_checks_total{result="skipped"}`:  0,
		`stockwatch_ticker_checks_total{result="failed"}`:   0,
	} {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
}

// TestQuoteFromTheFuture: a quote dated year 9999 (as Yahoo once sent) is
// stored neither by the registration check nor by the collector, which
// counts it on /metrics and logs it; the user's ticker just has no price.
func TestQuoteFromTheFuture(t *testing.T) {
	t.Parallel()
	up := yahootest.NewServer(t)
	up.SetQuote("FUT", 1, "USD", time.Unix(253402300799, 0))
	addr, logs := startInProcess(t, "-role", "all", "-db", storetest.URL(t, storetest.SQLite), "-yahoo-url", up.URL(), "-interval", "100ms")
	c := dial(t, addr)
	ctx := context.Background()
	if _, err := c.RegisterUser(ctx, &pb.RegisterUserRequest{Email: "f@x.com", Ticker: "FUT"}); err != nil {
		t.Fatal(err)
	}
	h := httpAddr(t, logs)
	var m map[string]float64
	eventually(t, "the collector to reject the quote", func() bool {
		m = scrape(t, h)
		return m[`stockwatch_collector_quotes_rejected_total{reason="future"}`] >= 1
	})
	if got := m[`stockwatch_collector_quotes_rejected_total{reason="past"}`]; got != 0 {
		t.Errorf(`quotes_rejected_total{reason="past"} = %v, want 0`, got)
	}
	if got := m[`stockwatch_collector_rows_inserted_total`]; got != 0 {
		t.Errorf("rows_inserted_total = %v, want 0", got)
	}
	_, err := c.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: "f@x.com"})
	if status.Code(err) != codes.FailedPrecondition || status.Convert(err).Message() != "no price collected yet for FUT" {
		t.Errorf("GetLatestPrice = %v, want FAILED_PRECONDITION no price collected yet for FUT", err)
	}
	for _, msg := range []string{"quote not stored", "quote not stored; accepting the ticker without a price"} {
		if logs.find(map[string]any{"level": "WARN", "msg": msg}) == nil {
			t.Errorf("no WARN log %q", msg)
		}
	}
}

// TestDatabaseOutage: when MySQL goes away the API answers UNAVAILABLE and
// /readyz 503; both recover without a restart when it returns.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	proxied, px := storetest.ProxiedMySQL(t, storetest.URL(t, storetest.MySQL))

	addr, logs := startInProcess(t, "-role", "api", "-db", proxied, "-verify-tickers=false")
	c := dial(t, addr)
	h := httpAddr(t, logs)
	ctx := context.Background()
	ready := func() int {
		resp, err := http.Get("http://" + h + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if _, err := c.RegisterUser(ctx, &pb.RegisterUserRequest{Email: "o@x.com", Ticker: "AAPL"}); err != nil {
		t.Fatal(err)
	}
	if got := ready(); got != http.StatusOK {
		t.Fatalf("/readyz = %d, want 200", got)
	}

	// Load through the outage: 8 clients reading and writing.
	var (
		mu   sync.Mutex
		seen = map[codes.Code]int{}
		stop = make(chan struct{})
		wg   sync.WaitGroup
	)
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				var err error
				if i%2 == 0 {
					_, err = c.GetUser(cctx, &pb.GetUserRequest{Email: "o@x.com"})
				} else {
					_, err = c.RegisterUser(cctx, &pb.RegisterUserRequest{Email: fmt.Sprintf("l%d-%d@x.com", g, i), Ticker: "AAPL"})
				}
				cancel()
				mu.Lock()
				seen[status.Code(err)]++
				mu.Unlock()
				time.Sleep(time.Millisecond)
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	px.Cut()
	time.Sleep(200 * time.Millisecond)
	_, err := c.GetUser(ctx, &pb.GetUserRequest{Email: "o@x.com"})
	if status.Code(err) != codes.Unavailable || status.Convert(err).Message() != "database unavailable" {
		t.Errorf("GetUser during outage = %v, want UNAVAILABLE database unavailable", err)
	}
	if got := ready(); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz during outage = %d, want 503", got)
	}

	px.Restore()
	eventually(t, "/readyz to recover", func() bool { return ready() == http.StatusOK })
	eventually(t, "the API to recover", func() bool {
		_, err := c.GetUser(ctx, &pb.GetUserRequest{Email: "o@x.com"})
		return err == nil
	})
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	// Nothing but success or a retryable UNAVAILABLE, ever.
	for code, n := range seen {
		if code != codes.OK && code != codes.Unavailable {
			t.Errorf("%d requests answered %v during the outage, want only OK or UNAVAILABLE", n, code)
		}
	}
	fmt.Printf("database loss: %d requests under load through a cut and restore of every MariaDB connection, codes %v; /readyz 503 then 200, no restart\n",
		sum(seen), seen)
}

func sum[K comparable](m map[K]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
