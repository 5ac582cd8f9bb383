// Package clienttest runs a real Stockwatch API server in-process for the
// client's tests: the api package over a fresh SQLite database (see
// storetest), with a fixed clock, the gRPC health service, an RPC counter
// and a fault layer that can fail calls before or after the real handler
// has committed.
package clienttest

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/stockwatch/stockwatch/internal/api"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// Now is the server's fixed clock unless Options.Now says otherwise.
var Now = time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC)

// Options configures a Server. Zero values take the defaults.
type Options struct {
	// Addr is the address to listen on (default 127.0.0.1:0).
	Addr string
	// Now is the server's clock reading (default Now).
	Now time.Time
	// AdminToken, when set, guards the admin RPCs as the daemon does.
	AdminToken string
	// TLS, when set, serves TLS (mTLS if it requires client certificates).
	TLS *tls.Config
	// DB, when set, is the database to serve (replicas of one service
	// share it); default a fresh SQLite database.
	DB *store.DB
}

// Server is a running in-process API server, stopped when the test ends.
type Server struct {
	// Addr is the host:port the server listens on.
	Addr string
	// DB is the server's database, for arranging rows and counting effects.
	DB *store.DB
	// Health is the health service; tests may change its status.
	Health *health.Server

	now      time.Time
	stop     func()
	stopOnce sync.Once

	mu     sync.Mutex
	calls  map[string]int      // method short name → attempts seen
	ids    map[string][]string // method short name → request ids seen
	faults map[string][]fault  // method short name → pending faults, in order
}

// fault is what happens to one call.
type fault struct {
	code  codes.Code
	after bool // run the real handler (and commit) first, then fail
	hang  bool // wait until the attempt's deadline instead of answering
}

// Start starts a server on 127.0.0.1:0 over a fresh SQLite database.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if opts.Now.IsZero() {
		opts.Now = Now
	}
	if opts.DB == nil {
		opts.DB = storetest.Open(tb, storetest.SQLite)
	}
	s := &Server{
		DB:     opts.DB,
		Health: health.NewServer(),
		now:    opts.Now,
		calls:  map[string]int{},
		ids:    map[string][]string{},
		faults: map[string][]fault{},
	}
	sopts := []grpc.ServerOption{grpc.ChainUnaryInterceptor(s.count, s.fail, api.AdminAuth(opts.AdminToken))}
	if opts.TLS != nil {
		sopts = append(sopts, grpc.Creds(credentials.NewTLS(opts.TLS)))
	}
	gs := grpc.NewServer(sopts...)
	api.New(s.DB, api.Config{Now: func() time.Time { return s.now }}).Register(gs)
	healthpb.RegisterHealthServer(gs, s.Health)
	s.Health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.Health.SetServingStatus(pb.StockService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)

	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	lis, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	s.Addr = lis.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = gs.Serve(lis)
	}()
	s.stop = func() {
		gs.Stop()
		<-done
	}
	tb.Cleanup(s.Stop)
	return s
}

// Stop stops the server as a crash would, as far as its clients can
// tell: the listener and every connection close at once, and the calls in
// flight lose their replies (their handlers may still commit). It may be
// called more than once.
func (s *Server) Stop() { s.stopOnce.Do(s.stop) }

func shortName(fullMethod string) string {
	return fullMethod[strings.LastIndex(fullMethod, "/")+1:]
}

// count records every call and its request id, if it has one.
func (s *Server) count(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	m := shortName(info.FullMethod)
	s.mu.Lock()
	s.calls[m]++
	if r, ok := req.(interface{ GetRequestId() string }); ok {
		s.ids[m] = append(s.ids[m], r.GetRequestId())
	}
	s.mu.Unlock()
	return handler(ctx, req)
}

// fail applies the next pending fault of the method, if any.
func (s *Server) fail(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	m := shortName(info.FullMethod)
	s.mu.Lock()
	var f *fault
	if q := s.faults[m]; len(q) > 0 {
		f, s.faults[m] = &q[0], q[1:]
	}
	s.mu.Unlock()
	switch {
	case f == nil:
		return handler(ctx, req)
	case f.hang:
		<-ctx.Done()
		return nil, status.FromContextError(ctx.Err()).Err()
	case f.after:
		if _, err := handler(ctx, req); err != nil {
			return nil, err
		}
	}
	return nil, status.Errorf(f.code, "injected %s", f.code)
}

func (s *Server) addFaults(method string, n int, f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[method] = append(s.faults[method], f)
	}
}

// FailAfterCommit makes the next n calls of method (short name, e.g.
// "RegisterUser") run the real handler — which commits — and then answer
// code instead of the reply: the reply is lost on the way back.
func (s *Server) FailAfterCommit(method string, n int, code codes.Code) {
	s.addFaults(method, n, fault{code: code, after: true})
}

// FailBefore makes the next n calls of method answer code without
// reaching the handler.
func (s *Server) FailBefore(method string, n int, code codes.Code) {
	s.addFaults(method, n, fault{code: code})
}

// Hang makes the next n calls of method wait for their deadline without
// reaching the handler.
func (s *Server) Hang(method string, n int) {
	s.addFaults(method, n, fault{hang: true})
}

// Calls returns how many calls of method (short name) reached the server.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// StockCalls returns how many StockService calls reached the server, of
// any method (health checks excluded).
func (s *Server) StockCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for m, c := range s.calls {
		if m != "Check" && m != "Watch" && m != "List" {
			n += c
		}
	}
	return n
}

// RequestIDs returns the request ids of the calls of method, in order.
func (s *Server) RequestIDs(method string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ids[method]...)
}

// InsertPrices stores prices directly, as the collector would.
func (s *Server) InsertPrices(tb testing.TB, ps ...stock.Price) {
	tb.Helper()
	if _, err := s.DB.InsertPrices(context.Background(), ps); err != nil {
		tb.Fatalf("insert prices: %v", err)
	}
}

// SetTickerStatus stores the status of tickers directly, as the collector
// would settle them.
func (s *Server) SetTickerStatus(tb testing.TB, status stock.TickerStatus, tickers ...string) {
	tb.Helper()
	states := make([]stock.TickerState, len(tickers))
	for i, t := range tickers {
		states[i] = stock.TickerState{Ticker: t, Status: status, Checked: s.now}
		if status != stock.TickerVerified {
			states[i].NextCheck = s.now
		}
	}
	if _, err := s.DB.SaveQuotes(context.Background(), nil, states); err != nil {
		tb.Fatalf("set ticker status: %v", err)
	}
}

// AddUser registers a user directly through the API's rules, as if a
// client had, without counting as a call.
func (s *Server) AddUser(tb testing.TB, email, ticker string) {
	tb.Helper()
	storetest.AddUser(tb, s.DB, email, ticker, s.now)
}

// SetAlert sets email's band directly (0: a side unset), told by e-mail,
// as if a client had, without counting as a call.
func (s *Server) SetAlert(tb testing.TB, email string, above, below float64) {
	tb.Helper()
	err := s.DB.Tx(context.Background(), func(ctx context.Context, tx stock.Tx) error {
		_, err := tx.SetAlert(ctx, stock.Alert{Email: email, Above: above, Below: below,
			Channels: []stock.Channel{stock.ChannelEmail}, Hysteresis: stock.DefaultHysteresis, CreateTime: s.now})
		return err
	})
	if err != nil {
		tb.Fatalf("set alert: %v", err)
	}
}

// Deliver claims every due notification and records for each, in id
// order, the next of outcomes (sent, or an attempt failed with the
// error's text), as a notifier would.
func (s *Server) Deliver(tb testing.TB, outcomes ...error) {
	tb.Helper()
	ctx := context.Background()
	ns, err := s.DB.ClaimNotifications(ctx, "clienttest", s.now, s.now.Add(time.Minute), 100)
	if err != nil {
		tb.Fatalf("claim notifications: %v", err)
	}
	for i, n := range ns {
		if i >= len(outcomes) {
			break
		}
		u := stock.NotificationUpdate{ID: n.ID, Owner: "clienttest", State: stock.NotificationSent, Attempted: true, SentTime: s.now}
		if outcomes[i] != nil {
			u = stock.NotificationUpdate{ID: n.ID, Owner: "clienttest", State: stock.NotificationFailed, Attempted: true, LastError: outcomes[i].Error()}
		}
		if _, err := s.DB.UpdateNotification(ctx, u); err != nil {
			tb.Fatalf("update notification: %v", err)
		}
	}
}
