package api_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// fakeQuoter knows the tickers in quotes; "DOWN" fails as an outage would,
// "SLOW" never answers, and any other ticker is unknown.
type fakeQuoter struct {
	mu     sync.Mutex
	quotes map[string]stock.Quote
	calls  map[string]int
	gate   chan struct{} // if set, every call waits for it to close
}

// quoting returns a fakeQuoter that knows qs.
func quoting(qs ...stock.Quote) *fakeQuoter {
	q := &fakeQuoter{calls: map[string]int{}, quotes: map[string]stock.Quote{}}
	for _, qt := range qs {
		q.quotes[qt.Ticker] = qt
	}
	return q
}

// quoteTime is the market time of the quotes usd makes: an hour before
// t0, in whole seconds.
var quoteTime = t0.Add(-time.Hour).Truncate(time.Second)

// usd is the source's quote of ticker at price US dollars, at quoteTime.
func usd(ticker string, price float64) stock.Quote {
	return stock.Quote{Ticker: ticker, Price: price, Currency: "USD", MarketTime: quoteTime}
}

func (q *fakeQuoter) Quote(ctx context.Context, ticker string) (stock.Quote, error) {
	q.mu.Lock()
	q.calls[ticker]++
	q.mu.Unlock()
	if q.gate != nil {
		select {
		case <-q.gate:
		case <-ctx.Done():
			return stock.Quote{}, ctx.Err()
		}
	}
	switch ticker {
	case "DOWN":
		return stock.Quote{}, errors.New("upstream answered 503")
	case "SLOW":
		<-ctx.Done()
		return stock.Quote{}, ctx.Err()
	}
	q.mu.Lock()
	qt, ok := q.quotes[ticker]
	q.mu.Unlock()
	if ok {
		return qt, nil
	}
	return stock.Quote{}, stock.ErrUnknownTicker
}

func (q *fakeQuoter) called(ticker string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.calls[ticker]
}

// TestTickerCheck: with a quote source, register and update reject a
// ticker it does not know and store the quote it returns as the first
// price; an outage of the source does not block them.
func TestTickerCheck(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		q := quoting(usd("AAPL", 190.5), stock.Quote{Ticker: "VOD.L", Price: 71.2, Currency: "GBp", MarketTime: quoteTime})
		e := newEnv(t, b, options{quoter: q, quoteTimeout: 50 * time.Millisecond, ttl: time.Hour})
		ctx := ctxTimeout(t)

		t.Run("RegisterUser/OK/QuoteStoredAsFirstPrice", func(t *testing.T) {
			_, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{Email: "a@x.com", Ticker: "aapl"})
			mustOK(t, err)
			got, err := e.client.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: "a@x.com"})
			mustOK(t, err)
			diffProto(t, &pb.Price{Ticker: "AAPL", Price: 190.5, Currency: "USD", MarketTime: tsp(quoteTime), CollectTime: tsp(t0us)}, got)
		})
		t.Run("RegisterUser/OK/QuoteAlreadyStored", func(t *testing.T) {
			_, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{Email: "b@x.com", Ticker: "AAPL"})
			mustOK(t, err)
			testkit.WantCount(t, "AAPL prices", storetest.Count(t, e.db, "stock_prices", "ticker = ?", "AAPL"), 1)
		})
		t.Run("RegisterUser/InvalidArgument/UnknownTicker", func(t *testing.T) {
			_, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: newID(t), Email: "c@x.com", Ticker: "zzzz"})
			wantStatus(t, err, codes.InvalidArgument, "unknown ticker ZZZZ")
			testkit.WantCount(t, "users", e.users(t, "c@x.com"), 0)
			if n := e.requests(t); n != 0 {
				t.Errorf("request records = %d, want 0: a rejected ticker is not stored", n)
			}
		})
		t.Run("RegisterUser/OK/SourceDown", func(t *testing.T) {
			_, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{Email: "d@x.com", Ticker: "DOWN"})
			mustOK(t, err)
			_, err = e.client.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: "d@x.com"})
			wantStatus(t, err, codes.FailedPrecondition, "no price collected yet for DOWN")
		})
		t.Run("RegisterUser/OK/SourceTimesOut", func(t *testing.T) {
			_, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{Email: "s@x.com", Ticker: "SLOW"})
			mustOK(t, err)
		})
		t.Run("RegisterUser/ReplayDoesNotAskAgain", func(t *testing.T) {
			req := &pb.RegisterUserRequest{RequestId: newID(t), Email: "v@x.com", Ticker: "VOD.L"}
			var before int
			sendTwice(t, ctx, e.client.RegisterUser, req, func() { before = q.called("VOD.L") })
			if after := q.called("VOD.L"); after != before {
				t.Errorf("quote source asked %d more times on replay, want 0", after-before)
			}
		})
		// With a quote source, a stored outcome is looked up before the
		// source is asked: the same rules hold on that path.
		t.Run("RegisterUser/InvalidArgument/ReusedID", func(t *testing.T) {
			id := newID(t)
			_, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: id, Email: "r@x.com", Ticker: "AAPL"})
			mustOK(t, err)
			before := q.called("VOD.L")
			_, err = e.client.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: id, Email: "r@x.com", Ticker: "VOD.L"})
			wantStatus(t, err, codes.InvalidArgument, reusedID)
			if after := q.called("VOD.L"); after != before {
				t.Errorf("quote source asked %d times for a reused id, want 0", after-before)
			}
		})
		t.Run("RegisterUser/OK/ExpiredIDRunsAgain", func(t *testing.T) {
			req := &pb.RegisterUserRequest{RequestId: newID(t), Email: "exp@x.com", Ticker: "AAPL"}
			_, err := e.client.RegisterUser(ctx, req)
			mustOK(t, err)
			_, err = e.client.DeleteUser(ctx, &pb.DeleteUserRequest{Email: "exp@x.com"})
			mustOK(t, err)
			e.clock.Advance(time.Hour + time.Microsecond)
			before := q.called("AAPL")
			got, err := e.client.RegisterUser(ctx, req)
			mustOK(t, err)
			if want := t0us.Add(time.Hour + time.Microsecond); !got.GetCreateTime().AsTime().Equal(want) {
				t.Errorf("create_time = %v, want %v (executed again)", got.GetCreateTime().AsTime(), want)
			}
			testkit.WantCount(t, "users", e.users(t, "exp@x.com"), 1)
			if after := q.called("AAPL"); after != before+1 {
				t.Errorf("quote source asked %d times, want 1", after-before)
			}
		})
		t.Run("UpdateUser/InvalidArgument/UnknownTicker", func(t *testing.T) {
			_, err := e.client.UpdateUser(ctx, &pb.UpdateUserRequest{Email: "a@x.com", Ticker: "NOPE"})
			wantStatus(t, err, codes.InvalidArgument, "unknown ticker NOPE")
			e.wantTicker(t, "a@x.com", "AAPL")
		})
		t.Run("UpdateUser/OK/QuoteStored", func(t *testing.T) {
			m2 := quoteTime.Add(time.Minute)
			q.mu.Lock()
			q.quotes["MSFT"] = stock.Quote{Ticker: "MSFT", Price: 410.25, Currency: "USD", MarketTime: m2}
			q.mu.Unlock()
			_, err := e.client.UpdateUser(ctx, &pb.UpdateUserRequest{Email: "d@x.com", Ticker: "msft"})
			mustOK(t, err)
			got, err := e.client.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: "d@x.com"})
			mustOK(t, err)
			diffProto(t, &pb.Price{Ticker: "MSFT", Price: 410.25, Currency: "USD", MarketTime: tsp(m2), CollectTime: tsp(e.clock.Now().Truncate(time.Microsecond))}, got)
		})
	})
}

// TestTickerCheckQuoteTime: a quote whose market time cannot be right is
// not stored at registration or update (from the future it would stay the
// latest price), and the request succeeds as with the source down.
func TestTickerCheckQuoteTime(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		q := quoting(
			stock.Quote{Ticker: "FUT", Price: 1, Currency: "USD", MarketTime: t0.Add(stock.MaxQuoteSkew + time.Second).Truncate(time.Second)},
			stock.Quote{Ticker: "OLD", Price: 2, Currency: "USD", MarketTime: time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)},
			stock.Quote{Ticker: "SKEW", Price: 3, Currency: "USD", MarketTime: t0.Add(stock.MaxQuoteSkew)},
		)
		e := newEnv(t, b, options{quoter: q})
		ctx := ctxTimeout(t)
		for _, tk := range []string{"FUT", "OLD"} {
			t.Run("RegisterUser/"+tk, func(t *testing.T) {
				email := strings.ToLower(tk) + "@x.com"
				u, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: newID(t), Email: email, Ticker: tk})
				mustOK(t, err)
				// Yahoo answered, but with a time that cannot be right: the
				// collector settles the ticker's status on its next quote.
				diffProto(t, &pb.User{Email: email, Ticker: tk, CreateTime: tsp(t0us), UpdateTime: tsp(t0us), TickerStatus: pb.TickerStatus_TICKER_STATUS_UNVERIFIED}, u)
				_, err = e.client.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: email})
				wantStatus(t, err, codes.FailedPrecondition, "no price collected yet for "+tk)
			})
		}
		t.Run("UpdateUser/FUT", func(t *testing.T) {
			e.register(t, "u@x.com", "SKEW") // within the skew: stored
			_, err := e.client.UpdateUser(ctx, &pb.UpdateUserRequest{Email: "u@x.com", Ticker: "FUT"})
			mustOK(t, err)
			_, err = e.client.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: "u@x.com"})
			wantStatus(t, err, codes.FailedPrecondition, "no price collected yet for FUT")
		})
		if n := storetest.Count(t, e.db, "stock_prices", ""); n != 1 {
			t.Errorf("prices = %d, want 1 (SKEW's)", n)
		}
	})
}

// TestTickerCheckConcurrentDuplicates: copies of one registration sent at
// once to one server wait for the first, so the quote source is asked
// once, and all get the first's answer; a copy whose own deadline ends
// meanwhile stops waiting.
func TestTickerCheckConcurrentDuplicates(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		const n = 20
		q := quoting(usd("AAPL", 190.5))
		q.gate = make(chan struct{})
		// The server reports each request's arrival and, for the
		// impatient copy (the only one with a short deadline), its end.
		var arrivals atomic.Int32
		allArrived := make(chan struct{})
		impatientEnded := make(chan error, 1)
		e := newEnv(t, b, options{quoter: q, quoteTimeout: 10 * time.Second,
			unary: func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
				if arrivals.Add(1) == n {
					close(allArrived)
				}
				resp, err := h(ctx, req)
				if dl, ok := ctx.Deadline(); ok && time.Until(dl) < 5*time.Second {
					impatientEnded <- err
				}
				return resp, err
			}})
		ctx := ctxTimeout(t)
		req := &pb.RegisterUserRequest{RequestId: newID(t), Email: "dup@x.com", Ticker: "AAPL"}
		var (
			resps []proto.Message
			errs  []error
			done  = make(chan struct{})
		)
		go func() {
			defer close(done)
			resps, errs = concurrently(n, func() (proto.Message, error) { return e.client.RegisterUser(ctx, req) })
		}()
		// The first holds the quote until every copy has reached the
		// server; were the copies not waiting for it, they would ask too.
		<-allArrived
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		_, err := e.client.RegisterUser(short, req)
		cancel()
		if status.Code(err) != codes.DeadlineExceeded {
			t.Errorf("impatient copy: %v, want DEADLINE_EXCEEDED", err)
		}
		select {
		case err := <-impatientEnded:
			if c := status.Code(err); c != codes.DeadlineExceeded && c != codes.Canceled {
				t.Errorf("impatient copy's handler ended with %v, want DEADLINE_EXCEEDED or CANCELED", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("impatient copy's handler still waits for the first after its deadline")
		}
		close(q.gate)
		<-done
		for i := range n {
			mustOK(t, errs[i])
			wantSameBytes(t, resps[0], resps[i])
		}
		if got := q.called("AAPL"); got != 1 {
			t.Errorf("quote source asked %d times for %d copies of one request, want 1", got, n+1)
		}
		testkit.WantCount(t, "users", e.users(t, "dup@x.com"), 1)
	})
}

// checkLog records the results OnCheck reports.
type checkLog struct {
	mu      sync.Mutex
	results []string
}

func (l *checkLog) add(r string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.results = append(l.results, r)
}

// take returns the results since the last take.
func (l *checkLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.results
	l.results = nil
	return r
}

// TestTickerStatus: register and update answer the ticker's status: a
// quote makes it verified; an unknown ticker is refused; when the check
// cannot run (the source fails or is slow, or the budget of one check a
// second is spent) the request is accepted and the stored status stands —
// unverified for a new ticker, verified or refused as unknown for one the
// collector settled. Reads report the status, and a price read of an
// unknown ticker says so.
func TestTickerStatus(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		q := quoting(usd("AAPL", 190.5), usd("MSFT", 410.25), usd("KNWN", 1))
		checks := &checkLog{}
		e := newEnv(t, b, options{quoter: q, quoteTimeout: 50 * time.Millisecond, verifyRate: 1, verifyBurst: 1, onCheck: checks.add})
		ctx := ctxTimeout(t)
		// Settled by the collector before these requests.
		if _, err := e.db.SaveQuotes(ctx, nil, []stock.TickerState{
			{Ticker: "GONE", Status: stock.TickerUnknown, Checked: t0, NextCheck: t0.Add(time.Hour)},
			{Ticker: "KNWN", Status: stock.TickerVerified, Checked: t0},
		}); err != nil {
			t.Fatal(err)
		}
		e.register(t, "upd@x.com", "KNWN")
		checks.take()

		tests := []struct {
			name   string
			update bool   // UpdateUser of upd@x.com, else RegisterUser
			ticker string // as sent
			spent  bool   // the budget is used up before the request
			status pb.TickerStatus
			code   codes.Code
			msg    string
			asked  int    // quote source calls for the ticker
			check  string // the result OnCheck reports; "" for none
		}{
			{name: "Register/Verified/Quote", ticker: "aapl", status: verified, asked: 1, check: "verified"},
			{name: "Register/InvalidArgument/Unknown", ticker: "ZZZZ", code: codes.InvalidArgument, msg: "unknown ticker ZZZZ", asked: 1, check: "unknown"},
			{name: "Register/Unverified/SourceDown", ticker: "DOWN", status: unverified, asked: 1, check: "failed"},
			{name: "Register/Unverified/SourceTimesOut", ticker: "SLOW", status: unverified, asked: 1, check: "failed"},
			{name: "Register/Unverified/BudgetSpent", ticker: "MSFT", spent: true, status: unverified, check: "skipped"},
			{name: "Register/Verified/BudgetSpentSettledVerified", ticker: "KNWN", spent: true, status: verified, check: "skipped"},
			{name: "Register/InvalidArgument/BudgetSpentSettledUnknown", ticker: "GONE", spent: true, code: codes.InvalidArgument, msg: "unknown ticker GONE", check: "skipped"},
			{name: "Update/Verified/Quote", update: true, ticker: "msft", status: verified, asked: 1, check: "verified"},
			{name: "Update/InvalidArgument/Unknown", update: true, ticker: "NOPE", code: codes.InvalidArgument, msg: "unknown ticker NOPE", asked: 1, check: "unknown"},
			{name: "Update/Unverified/SourceDown", update: true, ticker: "DOWN", status: unverified, asked: 1, check: "failed"},
			{name: "Update/Unverified/BudgetSpent", update: true, ticker: "NEWB", spent: true, status: unverified, check: "skipped"},
			{name: "Update/InvalidArgument/BudgetSpentSettledUnknown", update: true, ticker: "GONE", spent: true, code: codes.InvalidArgument, msg: "unknown ticker GONE", check: "skipped"},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.clock.Advance(time.Second) // one check's worth of budget
				if tt.spent {
					_, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{Email: fmt.Sprintf("spender%d@x.com", i), Ticker: "AAPL"})
					mustOK(t, err)
					checks.take()
				}
				ticker := strings.ToUpper(tt.ticker)
				before := q.called(ticker)
				email := fmt.Sprintf("u%d@x.com", i)
				var got *pb.User
				var err error
				if tt.update {
					email = "upd@x.com"
					got, err = e.client.UpdateUser(ctx, &pb.UpdateUserRequest{RequestId: newID(t), Email: email, Ticker: tt.ticker})
				} else {
					got, err = e.client.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: newID(t), Email: email, Ticker: tt.ticker})
				}
				if n := q.called(ticker) - before; n != tt.asked {
					t.Errorf("quote source asked %d times, want %d", n, tt.asked)
				}
				var wantChecks []string
				if tt.check != "" {
					wantChecks = []string{tt.check}
				}
				if diff := cmp.Diff(wantChecks, checks.take()); diff != "" {
					t.Errorf("OnCheck results mismatch (-want +got):\n%s", diff)
				}
				if tt.code != codes.OK {
					wantStatus(t, err, tt.code, tt.msg)
					if u, err := e.client.GetUser(ctx, &pb.GetUserRequest{Email: email}); tt.update && u.GetTicker() != "KNWN" || !tt.update && status.Code(err) != codes.NotFound {
						t.Errorf("after a refusal, GetUser = %v, %v; want unchanged", u, err)
					}
					return
				}
				mustOK(t, err)
				if got.GetTicker() != ticker || got.GetTickerStatus() != tt.status {
					t.Errorf("answer: ticker %s, status %v; want %s, %v", got.GetTicker(), got.GetTickerStatus(), ticker, tt.status)
				}
				u, err := e.client.GetUser(ctx, &pb.GetUserRequest{Email: email})
				mustOK(t, err)
				if u.GetTickerStatus() != tt.status {
					t.Errorf("GetUser status = %v, want %v", u.GetTickerStatus(), tt.status)
				}
				if tt.update {
					// Back to the verified ticker, for the next update.
					err := e.db.Tx(ctx, func(ctx context.Context, tx stock.Tx) error {
						_, err := tx.UpdateUser(ctx, email, "KNWN", t0)
						return err
					})
					mustOK(t, err)
				}
			})
		}

		t.Run("GetLatestPrice/FailedPrecondition/Unknown", func(t *testing.T) {
			// The collector finds that DOWN, accepted unverified, is unknown.
			if _, err := e.db.SaveQuotes(ctx, nil, []stock.TickerState{{Ticker: "DOWN", Status: stock.TickerUnknown, Checked: t0, NextCheck: t0.Add(time.Hour)}}); err != nil {
				t.Fatal(err)
			}
			u, err := e.client.GetUser(ctx, &pb.GetUserRequest{Email: "u2@x.com"})
			mustOK(t, err)
			if u.GetTickerStatus() != unknown {
				t.Errorf("GetUser status = %v, want %v", u.GetTickerStatus(), unknown)
			}
			_, err = e.client.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: "u2@x.com"})
			wantStatus(t, err, codes.FailedPrecondition, "ticker DOWN is not known to Yahoo Finance")
			_, err = e.client.GetAveragePrice(ctx, &pb.GetAveragePriceRequest{Email: "u2@x.com", Count: 3})
			wantStatus(t, err, codes.FailedPrecondition, "ticker DOWN is not known to Yahoo Finance")
			_, err = e.client.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: "u3@x.com"})
			wantStatus(t, err, codes.FailedPrecondition, "no price collected yet for SLOW")
		})
		t.Run("ListUsers/Statuses", func(t *testing.T) {
			resp, err := e.client.ListUsers(ctx, &pb.ListUsersRequest{})
			mustOK(t, err)
			got := map[string]pb.TickerStatus{}
			for _, u := range resp.GetUsers() {
				got[u.GetUser().GetEmail()] = u.GetUser().GetTickerStatus()
			}
			for email, want := range map[string]pb.TickerStatus{"u0@x.com": verified, "u2@x.com": unknown, "u3@x.com": unverified, "u5@x.com": verified} {
				if got[email] != want {
					t.Errorf("ListUsers %s status = %v, want %v", email, got[email], want)
				}
			}
		})
	})
}

// TestTickerStatusReplay: a replay answers the status of the first
// answer, byte for byte, even after the collector settled the ticker;
// reads answer the status now.
func TestTickerStatusReplay(t *testing.T) {
	t.Parallel()
	q := quoting()
	e := newEnv(t, storetest.SQLite, options{quoter: q, ttl: time.Hour})
	ctx := ctxTimeout(t)
	req := &pb.RegisterUserRequest{RequestId: newID(t), Email: "r@x.com", Ticker: "DOWN"}
	first, err := e.client.RegisterUser(ctx, req)
	mustOK(t, err)
	if first.GetTickerStatus() != unverified {
		t.Fatalf("first answer status = %v, want %v", first.GetTickerStatus(), unverified)
	}
	if _, err := e.db.SaveQuotes(ctx, nil, []stock.TickerState{{Ticker: "DOWN", Status: stock.TickerVerified, Checked: t0}}); err != nil {
		t.Fatal(err)
	}
	replay, err := e.client.RegisterUser(ctx, req)
	mustOK(t, err)
	wantSameBytes(t, first, replay)
	u, err := e.client.GetUser(ctx, &pb.GetUserRequest{Email: "r@x.com"})
	mustOK(t, err)
	if u.GetTickerStatus() != verified {
		t.Errorf("GetUser status = %v, want %v", u.GetTickerStatus(), verified)
	}
}
