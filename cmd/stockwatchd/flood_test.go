package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/yahoo/yahootest"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// TestRegistrationFlood floods RegisterUser with made-up tickers while
// users with real tickers wait for prices, against a fake Yahoo that
// answers 429 (with Retry-After) past 60 requests a second. The ticker
// checks stay within their own budget and breaker, so the collector's
// fetches go on: the real users' prices keep moving, Yahoo never rate
// limits, and the collector's breaker never opens. No made-up ticker ends
// verified: those the budget let the API check are refused, the others
// are accepted unverified and then settled unknown by the collector, whose
// price reads say so.
func TestRegistrationFlood(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		up := yahootest.NewServer(t)
		t0 := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
		const (
			verified   = pb.TickerStatus_TICKER_STATUS_VERIFIED
			unverified = pb.TickerStatus_TICKER_STATUS_UNVERIFIED
			unknown    = pb.TickerStatus_TICKER_STATUS_UNKNOWN
		)
		real := []string{"AAPL", "VOD.L", "MSFT"}
		for _, tk := range real {
			up.SetQuote(tk, 100, "USD", t0)
		}
		up.SetBudget(60, time.Second, time.Second)
		addr, logs := startInProcess(t, "-role", "all", "-db", storetest.URL(t, b), "-yahoo-url", up.URL(),
			"-interval", "400ms", "-breaker-failures", "3", "-breaker-timeout", "30s",
			"-verify-rate", "0.5", "-verify-burst", "2", "-verify-per-cycle", "8")
		c := dial(t, addr)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()

		// The real users. The third spends the budget's burst: it is
		// accepted unverified, and the collector verifies it.
		for i, tk := range real {
			u, err := c.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: uuid.NewString(), Email: fmt.Sprintf("real%d@x.com", i), Ticker: tk})
			if err != nil {
				t.Fatalf("register %s: %v", tk, err)
			}
			if want := []pb.TickerStatus{verified, verified, unverified}[i]; u.GetTickerStatus() != want {
				t.Errorf("register %s: status %v, want %v", tk, u.GetTickerStatus(), want)
			}
		}

		// The flood: 64 made-up tickers at once, the budget spent.
		const n = 64
		type answer struct {
			ticker string
			user   *pb.User
			err    error
		}
		answers := make([]answer, n)
		var wg sync.WaitGroup
		for i := range n {
			answers[i].ticker = fmt.Sprintf("ZQ%06d", 123456+i)
			wg.Go(func() {
				answers[i].user, answers[i].err = c.RegisterUser(ctx, &pb.RegisterUserRequest{
					RequestId: uuid.NewString(), Email: fmt.Sprintf("bogus%d@x.com", i), Ticker: answers[i].ticker})
			})
		}
		// Meanwhile the real tickers move, three times: each move
		// reaches the real users through the collector.
		for step := 1; step <= 3; step++ {
			m := t0.Add(time.Duration(step) * time.Minute)
			for _, tk := range real {
				up.SetQuote(tk, float64(100+step), "USD", m)
			}
			eventually(t, fmt.Sprintf("move %d to reach every real user", step), func() bool {
				for i := range real {
					p, err := c.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: fmt.Sprintf("real%d@x.com", i)})
					if err != nil || !p.GetMarketTime().AsTime().Equal(m) {
						return false
					}
				}
				return true
			})
		}
		wg.Wait()

		var accepted []string
		for i, a := range answers {
			switch {
			case a.err == nil && a.user.GetTickerStatus() == unverified:
				accepted = append(accepted, a.ticker)
			case a.err == nil:
				t.Errorf("register %s: status %v, want %v (or refused)", a.ticker, a.user.GetTickerStatus(), unverified)
			case status.Code(a.err) != codes.InvalidArgument || status.Convert(a.err).Message() != "unknown ticker "+a.ticker:
				t.Errorf("register %s (bogus%d): %v, want OK unverified or INVALID_ARGUMENT unknown ticker %s", a.ticker, i, a.err, a.ticker)
			}
		}
		// The budget (2, then 0.5 a second) let few checks through.
		if len(accepted) < n-4 {
			t.Errorf("accepted unverified: %d of %d, want at least %d", len(accepted), n, n-4)
		}
		t.Logf("accepted unverified: %d of %d; refused: %d", len(accepted), n, n-len(accepted))

		// The collector settles them all unknown, a few a cycle.
		statusOf := func(email string) pb.TickerStatus {
			u, err := c.GetUser(ctx, &pb.GetUserRequest{Email: email})
			if err != nil {
				t.Fatalf("GetUser(%s): %v", email, err)
			}
			return u.GetTickerStatus()
		}
		eventually(t, "every accepted made-up ticker to be settled unknown", func() bool {
			for i, a := range answers {
				if a.err == nil && statusOf(fmt.Sprintf("bogus%d@x.com", i)) != unknown {
					return false
				}
			}
			return true
		})
		for i := range real {
			if s := statusOf(fmt.Sprintf("real%d@x.com", i)); s != verified {
				t.Errorf("real%d@x.com: status %v, want %v", i, s, verified)
			}
		}
		if answers[0].err == nil {
			_, err := c.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: "bogus0@x.com"})
			if status.Code(err) != codes.FailedPrecondition || status.Convert(err).Message() != "ticker ZQ123456 is not known to Yahoo Finance" {
				t.Errorf("GetLatestPrice(bogus0) = %v, want FAILED_PRECONDITION ticker ZQ123456 is not known to Yahoo Finance", err)
			}
		} else {
			t.Errorf("ZQ123456, sent with the budget spent, was refused: %v", answers[0].err)
		}

		if n := up.RateLimited(); n != 0 {
			t.Errorf("Yahoo rate-limited %d requests, want 0", n)
		}
		if line := logs.find(map[string]any{"msg": "circuit breaker state changed", "breaker": "yahoo", "to": "open"}); line != nil {
			t.Errorf("the collector's breaker opened: %v", line)
		}
	})
}
