package client_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/stockwatch/stockwatch/internal/client"
	"github.com/stockwatch/stockwatch/internal/client/clienttest"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// sleeps records the backoff waits of a client instead of waiting.
type sleeps struct{ got []time.Duration }

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.got = append(s.got, d)
	return ctx.Err()
}

// dial returns a client of srv that never really sleeps between retries.
func dial(tb testing.TB, srv *clienttest.Server, opts client.Options) (*client.Client, *sleeps) {
	tb.Helper()
	return dialAddr(tb, srv.Addr, opts)
}

// dialAddr is dial for any address Dial takes.
func dialAddr(tb testing.TB, addr string, opts client.Options) (*client.Client, *sleeps) {
	tb.Helper()
	s := &sleeps{}
	if opts.Sleep == nil {
		opts.Sleep = s.sleep
	}
	if opts.Rand == nil {
		opts.Rand = func() float64 { return 0.5 }
	}
	c, err := client.Dial(addr, opts)
	if err != nil {
		tb.Fatalf("Dial: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c, s
}

func wantCode(tb testing.TB, err error, want codes.Code) {
	tb.Helper()
	if got := status.Code(err); got != want {
		tb.Fatalf("code = %s (err %v), want %s", got, err, want)
	}
}

// checkOneID checks that all attempts carried the same UUID v4.
func checkOneID(tb testing.TB, ids []string, attempts int) {
	tb.Helper()
	if len(ids) != attempts {
		tb.Fatalf("request ids seen = %q, want %d attempts", ids, attempts)
	}
	id, err := uuid.Parse(ids[0])
	if err != nil || id.Version() != 4 || len(ids[0]) != 36 {
		tb.Fatalf("request id %q is not a UUID v4 (%v)", ids[0], err)
	}
	for _, other := range ids[1:] {
		if other != ids[0] {
			tb.Fatalf("request ids differ between attempts: %q", ids)
		}
	}
}

func TestRetryAfterLostReply(t *testing.T) {
	t.Parallel()
	old := clienttest.Now.Add(-40 * 24 * time.Hour)
	tests := []struct {
		method  string // also the subtest's name
		arrange func(tb testing.TB, srv *clienttest.Server)
		call    func(ctx context.Context, c *client.Client) (any, error)
		check   func(tb testing.TB, srv *clienttest.Server, resp any)
	}{
		{
			method: "RegisterUser",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.RegisterUser(ctx, "alice@example.com", "AAPL")
			},
			check: func(tb testing.TB, srv *clienttest.Server, resp any) {
				if u := resp.(*pb.User); u.GetEmail() != "alice@example.com" || u.GetTicker() != "AAPL" {
					tb.Errorf("response = %v", u)
				}
				testkit.WantCount(tb, "users", storetest.Count(tb, srv.DB, "users", ""), 1)
			},
		},
		{
			method:  "UpdateUser",
			arrange: addAlice,
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.UpdateUser(ctx, "alice@example.com", "MSFT")
			},
			check: func(tb testing.TB, srv *clienttest.Server, resp any) {
				if u := resp.(*pb.User); u.GetTicker() != "MSFT" {
					tb.Errorf("response = %v", u)
				}
				testkit.WantCount(tb, "users tracking MSFT", storetest.Count(tb, srv.DB, "users", "ticker = ?", "MSFT"), 1)
			},
		},
		{
			// The retry must replay the first success, not run again and
			// answer NOT_FOUND for the user it deleted itself.
			method:  "DeleteUser",
			arrange: addAlice,
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.DeleteUser(ctx, "alice@example.com")
			},
			check: func(tb testing.TB, srv *clienttest.Server, resp any) {
				testkit.WantCount(tb, "users", storetest.Count(tb, srv.DB, "users", ""), 0)
			},
		},
		{
			// The replay answers the first reply's webhook secret: the one
			// chance to see it is not lost with the reply.
			method:  "SetAlert",
			arrange: addAlice,
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.SetAlert(ctx, "alice@example.com", 210, 180, []pb.Channel{pb.Channel_CHANNEL_WEBHOOK}, "https://hooks.example.com/sw")
			},
			check: func(tb testing.TB, srv *clienttest.Server, resp any) {
				if a := resp.(*pb.Alert); a.GetAbove() != 210 || a.GetBelow() != 180 || !strings.HasPrefix(a.GetWebhookSecret(), "whsec_") {
					tb.Errorf("response = %v, want the band with its secret", a)
				}
				testkit.WantCount(tb, "bands", storetest.Count(tb, srv.DB, "alerts", ""), 1)
			},
		},
		{
			method: "DeleteAlert",
			arrange: func(tb testing.TB, srv *clienttest.Server) {
				srv.AddUser(tb, "alice@example.com", "AAPL")
				srv.SetAlert(tb, "alice@example.com", 210, 0)
			},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.DeleteAlert(ctx, "alice@example.com")
			},
			check: func(tb testing.TB, srv *clienttest.Server, resp any) {
				testkit.WantCount(tb, "bands", storetest.Count(tb, srv.DB, "alerts", ""), 0)
			},
		},
		{
			method: "DeletePrices",
			arrange: func(tb testing.TB, srv *clienttest.Server) {
				srv.InsertPrices(tb,
					stock.Price{Ticker: "AAPL", Price: 1, Currency: "USD", MarketTime: old, CollectTime: old},
					stock.Price{Ticker: "AAPL", Price: 2, Currency: "USD", MarketTime: old.Add(time.Minute), CollectTime: old},
					stock.Price{Ticker: "AAPL", Price: 3, Currency: "USD", MarketTime: clienttest.Now, CollectTime: clienttest.Now})
			},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.DeletePrices(ctx, 30*24*time.Hour)
			},
			check: func(tb testing.TB, srv *clienttest.Server, resp any) {
				// The replay reports the first execution's count, not 0.
				testkit.WantCount(tb, "deleted_count", resp.(*pb.DeletePricesResponse).GetDeletedCount(), 2)
				testkit.WantCount(tb, "prices left", storetest.Count(tb, srv.DB, "stock_prices", ""), 1)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			t.Parallel()
			srv := clienttest.Start(t, clienttest.Options{})
			if tt.arrange != nil {
				tt.arrange(t, srv)
			}
			srv.FailAfterCommit(tt.method, 2, codes.Unavailable)
			c, s := dial(t, srv, client.Options{Retries: 3})
			resp, err := tt.call(t.Context(), c)
			if err != nil {
				t.Fatalf("%s after two lost replies: %v", tt.method, err)
			}
			checkOneID(t, srv.RequestIDs(tt.method), 3)
			if len(s.got) != 2 {
				t.Errorf("backoff waits = %v, want 2", s.got)
			}
			testkit.WantCount(t, "request records", storetest.Count(t, srv.DB, "requests", ""), 1)
			tt.check(t, srv, resp)
		})
	}
}

// addAlice registers alice@example.com, tracking AAPL.
func addAlice(tb testing.TB, srv *clienttest.Server) { srv.AddUser(tb, "alice@example.com", "AAPL") }

func TestRetryableCodes(t *testing.T) {
	t.Parallel()
	for _, code := range []codes.Code{codes.Unavailable, codes.DeadlineExceeded, codes.Aborted} {
		t.Run(code.String(), func(t *testing.T) {
			t.Parallel()
			srv := clienttest.Start(t, clienttest.Options{})
			srv.AddUser(t, "alice@example.com", "AAPL")
			srv.FailBefore("GetUser", 2, code)
			c, s := dial(t, srv, client.Options{})
			if _, err := c.GetUser(t.Context(), "alice@example.com"); err != nil {
				t.Fatalf("GetUser: %v", err)
			}
			testkit.WantCount(t, "attempts", srv.Calls("GetUser"), 3)
			if len(s.got) != 2 {
				t.Errorf("backoff waits = %v, want 2", s.got)
			}
		})
	}
}

// errOf is the error of a call that returns a value and an error.
func errOf[T any](_ T, err error) error { return err }

func TestNotRetried(t *testing.T) {
	t.Parallel()
	type notRetried struct {
		name   string
		method string
		inject codes.Code // injected by the fault layer; OK: the real server's answer
		call   func(ctx context.Context, c *client.Client) error
		want   codes.Code
	}
	tests := []notRetried{
		{name: "InvalidArgument", method: "RegisterUser", want: codes.InvalidArgument,
			call: func(ctx context.Context, c *client.Client) error {
				return errOf(c.RegisterUser(ctx, "not an e-mail", "AAPL"))
			}},
		{name: "AlreadyExists", method: "RegisterUser", want: codes.AlreadyExists,
			call: func(ctx context.Context, c *client.Client) error {
				return errOf(c.RegisterUser(ctx, "alice@example.com", "MSFT"))
			}},
		{name: "NotFound", method: "GetUser", want: codes.NotFound,
			call: func(ctx context.Context, c *client.Client) error { return errOf(c.GetUser(ctx, "nobody@example.com")) }},
		{name: "NotFoundMutation", method: "DeleteUser", want: codes.NotFound,
			call: func(ctx context.Context, c *client.Client) error {
				return errOf(c.DeleteUser(ctx, "nobody@example.com"))
			}},
		{name: "FailedPrecondition", method: "GetLatestPrice", want: codes.FailedPrecondition,
			call: func(ctx context.Context, c *client.Client) error {
				return errOf(c.GetLatestPrice(ctx, "alice@example.com"))
			}},
		{name: "InvalidCount", method: "GetAveragePrice", want: codes.InvalidArgument,
			call: func(ctx context.Context, c *client.Client) error {
				return errOf(c.GetAveragePrice(ctx, "alice@example.com", 0))
			}},
	}
	for _, code := range []codes.Code{codes.Internal, codes.Unknown, codes.Unauthenticated, codes.PermissionDenied, codes.ResourceExhausted, codes.Unimplemented, codes.DataLoss} {
		tests = append(tests, notRetried{name: "Injected" + code.String(), method: "UpdateUser", inject: code, want: code,
			call: func(ctx context.Context, c *client.Client) error {
				return errOf(c.UpdateUser(ctx, "alice@example.com", "MSFT"))
			}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := clienttest.Start(t, clienttest.Options{})
			srv.AddUser(t, "alice@example.com", "AAPL")
			if tt.inject != codes.OK {
				srv.FailBefore(tt.method, 5, tt.inject)
			}
			c, s := dial(t, srv, client.Options{Retries: 5})
			wantCode(t, tt.call(t.Context(), c), tt.want)
			testkit.WantCount(t, "attempts", srv.Calls(tt.method), 1)
			if len(s.got) != 0 {
				t.Errorf("backoff waits = %v, want none", s.got)
			}
		})
	}
}

func TestRetriesExhausted(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		retries, attempts int
	}{{0, 4}, {1, 2}, {-1, 1}} { // 0 is the default, 3
		srv := clienttest.Start(t, clienttest.Options{})
		srv.FailBefore("ListUsers", 10, codes.Unavailable)
		c, s := dial(t, srv, client.Options{Retries: tt.retries})
		_, err := c.ListUsers(t.Context(), 0, "")
		wantCode(t, err, codes.Unavailable)
		if got := srv.Calls("ListUsers"); got != tt.attempts {
			t.Errorf("Retries %d: attempts = %d, want %d", tt.retries, got, tt.attempts)
		}
		if len(s.got) != tt.attempts-1 {
			t.Errorf("Retries %d: backoff waits = %v, want %d", tt.retries, s.got, tt.attempts-1)
		}
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	t.Parallel()
	srv := clienttest.Start(t, clienttest.Options{})
	srv.FailBefore("ListPrices", 5, codes.Unavailable)
	rs := []float64{0.5, 0.25, 0.99, 0.5, 0}
	c, s := dial(t, srv, client.Options{
		Retries:     5,
		BackoffBase: 100 * time.Millisecond,
		BackoffMax:  300 * time.Millisecond,
		Rand:        func() float64 { r := rs[0]; rs = rs[1:]; return r },
	})
	if _, err := c.ListPrices(t.Context(), "", 0, ""); err != nil {
		t.Fatal(err)
	}
	// Ceilings 100, 200, 300 (capped from 400), 300, 300 ms, each scaled by
	// its random factor.
	want := []time.Duration{50 * time.Millisecond, 50 * time.Millisecond, 297 * time.Millisecond, 150 * time.Millisecond, 0}
	if diff := cmp.Diff(want, s.got); diff != "" {
		t.Errorf("backoff waits mismatch (-want +got):\n%s", diff)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	const base, limit = 100 * time.Millisecond, 2 * time.Second
	var prev time.Duration
	for n := range 5 {
		d := client.Backoff(n, base, limit, 0.999999)
		if d <= prev {
			t.Errorf("Backoff(%d) = %v, not more than Backoff(%d) = %v", n, d, n-1, prev)
		}
		prev = d
	}
	tests := []struct {
		n    int
		r    float64
		want time.Duration
	}{
		{0, 0, 0},
		{0, 0.5, 50 * time.Millisecond},
		{3, 0.5, 400 * time.Millisecond},
		{5, 0.5, time.Second}, // 3.2s capped at 2s
		{62, 0.5, time.Second},
		{1000, 0.5, time.Second}, // no overflow
		{2, 7, 400 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := client.Backoff(tt.n, base, limit, tt.r); got != tt.want {
			t.Errorf("Backoff(%d, r=%v) = %v, want %v", tt.n, tt.r, got, tt.want)
		}
	}
	seen := map[time.Duration]bool{}
	for _, r := range []float64{0.1, 0.4, 0.7} {
		seen[client.Backoff(2, base, limit, r)] = true
	}
	if len(seen) != 3 {
		t.Errorf("Backoff ignores its jitter: %v", seen)
	}
}

func TestPerAttemptTimeout(t *testing.T) {
	t.Parallel()
	srv := clienttest.Start(t, clienttest.Options{})
	srv.AddUser(t, "alice@example.com", "AAPL")
	srv.Hang("RegisterUser", 2)
	c, _ := dial(t, srv, client.Options{Timeout: 100 * time.Millisecond})
	start := time.Now()
	_, err := c.RegisterUser(t.Context(), "bob@example.com", "MSFT")
	if err != nil {
		t.Fatalf("RegisterUser after two timed-out attempts: %v", err)
	}
	if el := time.Since(start); el < 200*time.Millisecond {
		t.Errorf("took %v; two attempts should have waited their 100ms each", el)
	}
	checkOneID(t, srv.RequestIDs("RegisterUser"), 3)
}

func TestCallerDeadlineStopsRetries(t *testing.T) {
	t.Parallel()
	srv := clienttest.Start(t, clienttest.Options{})
	srv.Hang("GetUser", 10)
	c, s := dial(t, srv, client.Options{Timeout: time.Minute, Retries: 10})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := c.GetUser(ctx, "alice@example.com")
	wantCode(t, err, codes.DeadlineExceeded)
	if got := srv.Calls("GetUser"); got != 1 || len(s.got) != 0 {
		t.Errorf("attempts = %d, waits = %v; want 1 attempt and no retry", got, s.got)
	}

	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	_, err = c.GetUser(ctx, "alice@example.com")
	wantCode(t, err, codes.Canceled)
}

// TestServerComesBack starts with no server at all: the first attempt is
// refused, the server starts during the backoff, and the retry gets
// through on the same connection.
func TestServerComesBack(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()

	var srv *clienttest.Server
	c, err := client.Dial(addr, client.Options{
		Rand: func() float64 { return 1 },
		Sleep: func(ctx context.Context, d time.Duration) error {
			if srv == nil {
				srv = clienttest.Start(t, clienttest.Options{Addr: addr})
			}
			time.Sleep(d)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := c.Health(t.Context())
	if err != nil {
		t.Fatalf("Health after the server started: %v", err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("status = %v, want SERVING", resp.GetStatus())
	}
}

func TestRequestIDPerOperation(t *testing.T) {
	t.Parallel()
	srv := clienttest.Start(t, clienttest.Options{})
	c, _ := dial(t, srv, client.Options{})
	for _, e := range []string{"a@example.com", "b@example.com"} {
		if _, err := c.RegisterUser(t.Context(), e, "AAPL"); err != nil {
			t.Fatal(err)
		}
	}
	ids := srv.RequestIDs("RegisterUser")
	if len(ids) != 2 || ids[0] == ids[1] {
		t.Fatalf("request ids = %q, want two different ones", ids)
	}
	for _, id := range ids {
		checkOneID(t, []string{id}, 1)
	}
	testkit.WantCount(t, "users", storetest.Count(t, srv.DB, "users", ""), 2)
}

func TestToken(t *testing.T) {
	t.Parallel()
	srv := clienttest.Start(t, clienttest.Options{AdminToken: "s3cret"})
	for _, tt := range []struct {
		token string
		want  codes.Code
	}{{"", codes.Unauthenticated}, {"wrong", codes.Unauthenticated}, {"s3cret", codes.OK}} {
		c, _ := dial(t, srv, client.Options{Token: tt.token})
		before := srv.Calls("ListUsers")
		_, err := c.ListUsers(t.Context(), 0, "")
		wantCode(t, err, tt.want)
		if got := srv.Calls("ListUsers") - before; got != 1 {
			t.Errorf("token %q: attempts = %d, want 1", tt.token, got)
		}
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	srv := clienttest.Start(t, clienttest.Options{})
	c, _ := dial(t, srv, client.Options{})
	for _, want := range []healthpb.HealthCheckResponse_ServingStatus{healthpb.HealthCheckResponse_SERVING, healthpb.HealthCheckResponse_NOT_SERVING} {
		srv.Health.SetServingStatus(pb.StockService_ServiceDesc.ServiceName, want)
		resp, err := c.Health(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetStatus() != want {
			t.Errorf("status = %v, want %v", resp.GetStatus(), want)
		}
	}
}

func TestPaging(t *testing.T) {
	t.Parallel()
	srv := clienttest.Start(t, clienttest.Options{})
	emails := []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com", "e@example.com"}
	for _, e := range emails {
		srv.AddUser(t, e, "AAPL")
	}
	var ps []stock.Price
	for i := range 5 {
		mt := clienttest.Now.Add(-time.Duration(i) * time.Minute)
		ps = append(ps, stock.Price{Ticker: "AAPL", Price: float64(100 + i), Currency: "USD", MarketTime: mt, CollectTime: mt},
			stock.Price{Ticker: "MSFT", Price: float64(200 + i), Currency: "USD", MarketTime: mt, CollectTime: mt})
	}
	srv.InsertPrices(t, ps...)
	c, _ := dial(t, srv, client.Options{})

	var got []string
	for u, err := range c.AllUsers(t.Context(), 2) {
		if err != nil {
			t.Fatal(err)
		}
		if u.GetLatestPrice().GetPrice() != 100 {
			t.Errorf("%s: latest price = %v, want 100", u.GetUser().GetEmail(), u.GetLatestPrice())
		}
		got = append(got, u.GetUser().GetEmail())
	}
	if diff := cmp.Diff(emails, got); diff != "" {
		t.Errorf("users mismatch (-want +got):\n%s", diff)
	}
	if n := srv.Calls("ListUsers"); n != 3 {
		t.Errorf("ListUsers calls = %d, want 3 pages", n)
	}

	// UserPages keeps the server's pages: 2, 2, then the last 1.
	var sizes []int
	for page, err := range c.UserPages(t.Context(), 2) {
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(page.GetUsers()))
	}
	if diff := cmp.Diff([]int{2, 2, 1}, sizes); diff != "" {
		t.Errorf("UserPages page sizes mismatch (-want +got):\n%s", diff)
	}

	var prices []float64
	for p, err := range c.AllPrices(t.Context(), "MSFT", 2) {
		if err != nil {
			t.Fatal(err)
		}
		prices = append(prices, p.GetPrice())
	}
	if diff := cmp.Diff([]float64{200, 201, 202, 203, 204}, prices); diff != "" {
		t.Errorf("MSFT prices, newest first, mismatch (-want +got):\n%s", diff)
	}

	// Stopping early fetches no further page.
	before := srv.Calls("ListPrices")
	for range c.AllPrices(t.Context(), "", 2) {
		break
	}
	testkit.WantCount(t, "ListPrices calls after break", srv.Calls("ListPrices")-before, 1)

	// Notifications: two crossings of a band 105–110 (up, then down),
	// newest first, one a page.
	srv.SetAlert(t, "a@example.com", 110, 105)
	srv.InsertPrices(t,
		stock.Price{Ticker: "AAPL", Price: 111, Currency: "USD", MarketTime: clienttest.Now.Add(time.Minute), CollectTime: clienttest.Now},
		stock.Price{Ticker: "AAPL", Price: 104, Currency: "USD", MarketTime: clienttest.Now.Add(2 * time.Minute), CollectTime: clienttest.Now})
	var dirs []string
	for n, err := range c.AllNotifications(t.Context(), "a@example.com", 1) {
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, n.GetDirection())
	}
	if diff := cmp.Diff([]string{"below", "above"}, dirs); diff != "" {
		t.Errorf("notifications, newest first, mismatch (-want +got):\n%s", diff)
	}
	testkit.WantCount(t, "ListNotifications calls", srv.Calls("ListNotifications"), 2)

	srv.FailBefore("ListUsers", 1, codes.PermissionDenied)
	var errs []error
	for _, err := range c.AllUsers(t.Context(), 2) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || status.Code(errs[0]) != codes.PermissionDenied {
		t.Errorf("AllUsers on a failing server yielded %v, want one PERMISSION_DENIED", errs)
	}
}

func TestDialErrors(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string]client.Options{
		"MissingCA":      {TLS: client.TLS{CAFile: "/nonexistent/ca.pem"}},
		"CertWithoutKey": {TLS: client.TLS{Enabled: true, CertFile: "/nonexistent/cert.pem"}},
	} {
		if _, err := client.Dial("localhost:50051", opts); err == nil {
			t.Errorf("%s: Dial succeeded", name)
		}
	}
	if _, err := client.Dial("", client.Options{}); err == nil {
		t.Error("Dial with an empty address succeeded")
	}
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		want := c == codes.Unavailable || c == codes.DeadlineExceeded || c == codes.Aborted
		if got := client.Retryable(c); got != want {
			t.Errorf("Retryable(%s) = %v, want %v", c, got, want)
		}
	}
}

// TestGetPriceHistory: the range and the number of points reach the
// server, and zero times take the server's defaults.
func TestGetPriceHistory(t *testing.T) {
	t.Parallel()
	srv := clienttest.Start(t, clienttest.Options{})
	srv.AddUser(t, "alice@example.com", "AAPL")
	var ps []stock.Price
	for i, v := range []float64{10, 12, 11} {
		mt := clienttest.Now.Add(-time.Duration(3-i) * time.Hour)
		ps = append(ps, stock.Price{Ticker: "AAPL", Price: v, Currency: "USD", MarketTime: mt, CollectTime: mt})
	}
	srv.InsertPrices(t, ps...)
	c, _ := dial(t, srv, client.Options{})

	h, err := c.GetPriceHistory(t.Context(), "alice@example.com", time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.GetSince().AsTime(), clienttest.Now.Add(-24*time.Hour); !got.Equal(want) {
		t.Errorf("default since = %v, want %v", got, want)
	}
	if got := h.GetUntil().AsTime(); !got.Equal(clienttest.Now) {
		t.Errorf("default until = %v, want %v", got, clienttest.Now)
	}
	testkit.WantCount(t, "points", len(h.GetPoints()), 3)

	since := clienttest.Now.Add(-150 * time.Minute)
	h, err = c.GetPriceHistory(t.Context(), "alice@example.com", since, clienttest.Now.Add(-30*time.Minute), 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.GetSince().AsTime(); !got.Equal(since) {
		t.Errorf("since = %v, want %v", got, since)
	}
	if len(h.GetPoints()) != 1 || h.GetCount() != 2 || h.GetPoints()[0].GetPrice() != 11 {
		t.Errorf("points = %v of %d prices, want the last (11) of 2", h.GetPoints(), h.GetCount())
	}

	_, err = c.GetPriceHistory(t.Context(), "alice@example.com", time.Time{}, time.Time{}, 2001)
	wantCode(t, err, codes.InvalidArgument)
	if got, want := status.Convert(err).Message(), "max_points must be between 1 and 2000, got 2001"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}
