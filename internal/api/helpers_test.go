package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/stockwatch/stockwatch/internal/api"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// t0 is the injected clock's start. Its nanoseconds check that the API
// answers with the microseconds the store keeps.
var t0 = time.Date(2026, 11, 27, 14, 30, 0, 123456789, time.UTC)

// t0us is t0 as the API reports it: truncated to microseconds.
var t0us = t0.Truncate(time.Microsecond)

// The ticker statuses, as the API answers them.
const (
	verified   = pb.TickerStatus_TICKER_STATUS_VERIFIED
	unverified = pb.TickerStatus_TICKER_STATUS_UNVERIFIED
	unknown    = pb.TickerStatus_TICKER_STATUS_UNKNOWN
)

// options configure a test server.
type options struct {
	ttl   time.Duration
	token string // admin token; "" disables the check
	clock *testkit.Clock
	// quoter, when set, checks tickers at register and update.
	quoter       api.Quoter
	quoteTimeout time.Duration
	// verifyRate and verifyBurst bound the checks (0: no bound); onCheck
	// receives their results.
	verifyRate  float64
	verifyBurst int
	onCheck     func(result string)
	// unary, when set, runs before the server's own interceptors.
	unary grpc.UnaryServerInterceptor
}

// env is one API server on a fresh database, reached through the
// generated client over a real TCP connection.
type env struct {
	db     *store.DB
	clock  *testkit.Clock
	client pb.StockServiceClient
}

// newEnv returns an API server on a fresh database of backend b.
func newEnv(tb testing.TB, b storetest.Backend, o options) *env {
	tb.Helper()
	db := storetest.Open(tb, b)
	if o.clock == nil {
		o.clock = testkit.NewClock(t0)
	}
	return &env{db: db, clock: o.clock, client: serve(tb, db, o)}
}

// eachEnv runs f once per backend, in parallel, each time on a fresh API
// server built with o.
func eachEnv(t *testing.T, o options, f func(t *testing.T, e *env)) {
	t.Helper()
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		f(t, newEnv(t, b, o))
	})
}

// serve starts a gRPC server for st on 127.0.0.1:0 and returns a client
// of it. Both stop when tb ends.
func serve(tb testing.TB, st api.Store, o options) pb.StockServiceClient {
	tb.Helper()
	if o.clock == nil {
		o.clock = testkit.NewClock(t0)
	}
	chain := []grpc.UnaryServerInterceptor{api.AdminAuth(o.token)}
	if o.unary != nil {
		chain = append([]grpc.UnaryServerInterceptor{o.unary}, chain...)
	}
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(chain...))
	api.New(st, api.Config{Now: o.clock.Now, DedupTTL: o.ttl, Quoter: o.quoter, QuoteTimeout: o.quoteTimeout,
		VerifyRate: o.verifyRate, VerifyBurst: o.verifyBurst, OnCheck: o.onCheck}).Register(srv)
	return pb.NewStockServiceClient(testkit.ServeGRPC(tb, srv))
}

// ctxTimeout returns a context that bounds one test's calls.
func ctxTimeout(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// admin returns ctx carrying the admin token.
func admin(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// newID returns a random version-4 UUID.
func newID(tb testing.TB) string {
	tb.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// wantAnswer checks one table row's answer: the status code and message
// when code is not OK, else got against want. It reports whether the call
// succeeded as wanted, for checks that follow a success.
func wantAnswer(tb testing.TB, got proto.Message, err error, code codes.Code, msg string, want proto.Message) bool {
	tb.Helper()
	if code != codes.OK {
		wantStatus(tb, err, code, msg)
		return false
	}
	mustOK(tb, err)
	diffProto(tb, want, got)
	return true
}

// wantStatus fails tb unless err carries exactly code and message.
func wantStatus(tb testing.TB, err error, code codes.Code, msg string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("err = nil, want %v %q", code, msg)
	}
	if got := status.Code(err); got != code {
		tb.Fatalf("code = %v (%q), want %v %q", got, status.Convert(err).Message(), code, msg)
	}
	if got := status.Convert(err).Message(); got != msg {
		tb.Fatalf("message = %q, want %q", got, msg)
	}
}

// wantCode fails tb unless err carries exactly code and message, or is nil
// when code is OK.
func wantCode(tb testing.TB, err error, code codes.Code, msg string) {
	tb.Helper()
	if code == codes.OK {
		mustOK(tb, err)
		return
	}
	wantStatus(tb, err, code, msg)
}

// call is one RPC made with whatever metadata ctx carries.
type call func(ctx context.Context, c pb.StockServiceClient) error

// rpc is the call of method (a method expression such as
// pb.StockServiceClient.GetUser) with req, keeping only its error.
func rpc[Req, Resp any](method func(pb.StockServiceClient, context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) call {
	return func(ctx context.Context, c pb.StockServiceClient) error {
		_, err := method(c, ctx, req)
		return err
	}
}

// answerCase is a table row of a unary RPC: the request, and the answer
// wanted — the status when code is not OK, else want.
type answerCase[Req, Resp proto.Message] struct {
	name string
	req  Req
	want Resp
	code codes.Code
	msg  string
}

// runAnswers runs each case as a subtest that sends its request with
// method and checks the answer with wantAnswer; after a success it runs
// then, when not nil.
func runAnswers[Req, Resp proto.Message](t *testing.T, method func(context.Context, Req, ...grpc.CallOption) (Resp, error), cases []answerCase[Req, Resp], then func(t *testing.T, c answerCase[Req, Resp])) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := method(ctxTimeout(t), c.req)
			if wantAnswer(t, got, err, c.code, c.msg, c.want) && then != nil {
				then(t, c)
			}
		})
	}
}

// mustOK fails tb if err is not nil.
func mustOK(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("err = %v (code %v), want OK", err, status.Code(err))
	}
}

// diffProto fails tb unless got equals want.
func diffProto(tb testing.TB, want, got any) {
	tb.Helper()
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		tb.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// wireBytes is m as a deterministic encoding.
func wireBytes(tb testing.TB, m proto.Message) []byte {
	tb.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// wantSameBytes fails tb unless the two responses encode identically.
func wantSameBytes(tb testing.TB, first, replay proto.Message) {
	tb.Helper()
	if a, b := wireBytes(tb, first), wireBytes(tb, replay); !bytes.Equal(a, b) {
		tb.Errorf("replay is not byte-identical:\nfirst  %x\nreplay %x\n(first %v, replay %v)", a, b, first, replay)
	}
}

// sendTwice sends req with call, runs between (the clock may move, the
// state change), sends req again, and fails tb unless both succeed with
// byte-identical answers. It returns both answers.
func sendTwice[Req any, Resp proto.Message](tb testing.TB, ctx context.Context, call func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req, between func()) (first, replay Resp) {
	tb.Helper()
	first, err := call(ctx, req)
	mustOK(tb, err)
	between()
	replay, err = call(ctx, req)
	mustOK(tb, err)
	wantSameBytes(tb, first, replay)
	return first, replay
}

// tsp is t as a proto timestamp.
func tsp(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

// register registers email/ticker without a request id and returns the user.
func (e *env) register(tb testing.TB, email, ticker string) *pb.User {
	tb.Helper()
	u, err := e.client.RegisterUser(ctxTimeout(tb), &pb.RegisterUserRequest{Email: email, Ticker: ticker})
	mustOK(tb, err)
	return u
}

// insertPrices stores ps directly in the database.
func (e *env) insertPrices(tb testing.TB, ps ...stock.Price) {
	tb.Helper()
	n, err := e.db.InsertPrices(context.Background(), ps)
	if err != nil {
		tb.Fatal(err)
	}
	if n != int64(len(ps)) {
		tb.Fatalf("inserted %d prices, want %d", n, len(ps))
	}
}

// wantTicker fails tb unless GetUser answers that email tracks want.
func (e *env) wantTicker(tb testing.TB, email, want string) {
	tb.Helper()
	u, err := e.client.GetUser(ctxTimeout(tb), &pb.GetUserRequest{Email: email})
	mustOK(tb, err)
	if u.GetTicker() != want {
		tb.Errorf("%s ticker = %q, want %s", email, u.GetTicker(), want)
	}
}

// users is the number of users rows with the e-mail.
func (e *env) users(tb testing.TB, email string) int {
	tb.Helper()
	return storetest.Count(tb, e.db, "users", "email = ?", email)
}

// requests is the number of at-most-once records.
func (e *env) requests(tb testing.TB) int {
	tb.Helper()
	return storetest.Count(tb, e.db, "requests", "")
}

// px is a USD price of ticker at market time m, collected a second later.
func px(ticker string, p float64, m time.Time) stock.Price {
	return stock.Price{Ticker: ticker, Price: p, Currency: "USD", MarketTime: m, CollectTime: m.Add(time.Second)}
}

// pricePB is p as the API returns it.
func pricePB(p stock.Price) *pb.Price {
	return &pb.Price{Ticker: p.Ticker, Price: p.Price, Currency: p.Currency, MarketTime: tsp(p.MarketTime), CollectTime: tsp(p.CollectTime)}
}

// pxAt is a USD price of ticker with explicit market and collect times.
func pxAt(ticker string, p float64, market, collect time.Time) stock.Price {
	return stock.Price{Ticker: ticker, Price: p, Currency: "USD", MarketTime: market, CollectTime: collect}
}
