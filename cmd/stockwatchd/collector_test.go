package main

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/yahoo/yahootest"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// TestCollectorEndToEnd runs -role all against a fake Yahoo: a new user's
// price is there at once (the registration check stores it), a failing
// upstream opens the breaker and stops requests, and a healed one brings
// prices back.
func TestCollectorEndToEnd(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		up := yahootest.NewServer(t)
		t0 := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
		up.SetQuote("AAPL", 190.5, "USD", t0)
		addr, logs := startInProcess(t, "-role", "all", "-db", storetest.URL(t, b), "-yahoo-url", up.URL(),
			"-interval", "200ms", "-breaker-failures", "2", "-breaker-timeout", "1500ms")
		c := dial(t, addr)
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

		// The daemon keeps the user's ticker and its newest price
		// (-user-cache-ttl, -price-cache-poll): a read then finds both.
		h := httpAddr(t, logs)
		eventually(t, "a price read answered from memory", func() bool {
			p, err := c.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: "a@x.com"})
			return err == nil && p.GetPrice() == 191 && scrape(t, h)[`stockwatch_price_cache_lookups_total{result="hit"}`] >= 1
		})
	})
}
