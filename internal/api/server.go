// Package api serves Stockwatch's gRPC API (stockwatch.v1.StockService):
// it validates requests at the edge, runs mutations at most once (package
// once), and maps domain errors to gRPC codes in one place (errors.go).
package api

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/stockwatch/stockwatch/internal/once"
	"github.com/stockwatch/stockwatch/internal/stock"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// Store is what the API needs of the database. *store.DB implements it.
type Store interface {
	once.Store // mutations run at most once on it
	GetUser(ctx context.Context, email string) (stock.User, error)
	LatestPrice(ctx context.Context, email string) (stock.Price, error)
	AveragePrice(ctx context.Context, email string, n int) (stock.Average, error)
	PriceHistory(ctx context.Context, email string, since, until time.Time, maxPoints int) (stock.History, error)
	ListUsers(ctx context.Context, after string, limit int) ([]stock.UserWithPrice, error)
	ListPrices(ctx context.Context, ticker string, after *stock.PriceCursor, limit int) ([]stock.Price, error)
	GetAlert(ctx context.Context, email string) (stock.Alert, error)
	ListNotifications(ctx context.Context, email string, before int64, limit int) ([]stock.Notification, error)
}

// Quoter fetches a ticker's current quote. *breaker.Breaker implements it.
type Quoter interface {
	Quote(ctx context.Context, ticker string) (stock.Quote, error)
}

// Config tunes a Server. Zero values take the defaults.
type Config struct {
	// DedupTTL is how long a request id is remembered (default 24h).
	DedupTTL time.Duration
	// Now is the clock (default time.Now); tests inject their own.
	Now func() time.Time
	// Logger receives internal errors with their detail (default: discard).
	Logger *slog.Logger
	// Quoter, when set, checks a new ticker at register and update: an
	// unknown one is rejected, a quote is stored as the first price and
	// makes the ticker verified. Give it a breaker of its own: its
	// failures must not stop the collector's fetches.
	Quoter Quoter
	// VerifyRate bounds the checks that reach the Quoter to VerifyRate
	// per second, in bursts of up to VerifyBurst (default 1), so that a
	// flood of registrations cannot use up the upstream's patience, which
	// the collector needs. A check beyond the budget is not sent: the
	// request goes ahead with the ticker unverified. 0 (the default) sets
	// no bound.
	VerifyRate  float64
	VerifyBurst int
	// OnCheck, when set, is called with the result of every ticker check
	// (for metrics): "verified", "unknown", "failed" (the source failed,
	// timed out or its breaker is open) or "skipped" (budget spent).
	OnCheck func(result string)
	// OnReplay, when set, is called for every request answered from a
	// stored outcome (for metrics).
	OnReplay func(method string)
	// QuoteTimeout bounds that check (default 3s); when it fails for any
	// reason but an unknown ticker, the request goes ahead without it,
	// the ticker unverified.
	QuoteTimeout time.Duration
	// AlertHysteresis is the fraction of a threshold by which a price
	// must come back inside an alert band to re-arm that side (default
	// stock.DefaultHysteresis); a band keeps the one in force when it
	// was set.
	AlertHysteresis float64
}

// Server is the Stockwatch service. Register serves it.
type Server struct{ svc *service }

// service implements pb.StockServiceServer. Its methods return domain
// errors; Register maps them to gRPC statuses. It is unexported so that
// it cannot be registered without that mapping.
type service struct {
	pb.UnimplementedStockServiceServer
	store  Store
	once   *once.Runner
	now    func() time.Time
	log    *slog.Logger
	quoter Quoter
	budget *rate.Limiter // of checks sent to quoter; nil: no bound
	qwait  time.Duration
	check  func(result string)
	// hysteresis of the alert bands set (Config.AlertHysteresis)
	hysteresis float64
}

var _ pb.StockServiceServer = (*service)(nil)

// New returns a Server backed by st.
func New(st Store, cfg Config) *Server {
	s := &service{store: st, now: cfg.Now, log: cfg.Logger, quoter: cfg.Quoter, qwait: cfg.QuoteTimeout, check: cfg.OnCheck}
	if s.check == nil {
		s.check = func(string) {}
	}
	if cfg.VerifyRate > 0 {
		s.budget = rate.NewLimiter(rate.Limit(cfg.VerifyRate), max(cfg.VerifyBurst, 1))
	}
	if s.qwait <= 0 {
		s.qwait = 3 * time.Second
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.hysteresis = cfg.AlertHysteresis; s.hysteresis <= 0 {
		s.hysteresis = stock.DefaultHysteresis
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.once = once.New(st, once.Config{TTL: cfg.DedupTTL, Now: s.clock, OnReplay: cfg.OnReplay})
	return &Server{svc: s}
}

// Register registers the service on gs with its errors mapped to gRPC
// statuses (mapErrors), innermost, under whatever interceptors gs runs:
// wherever the service is served, its clients see the codes of the one
// table in errors.go. grpc-go has no per-service interceptor, so the copy
// of the generated ServiceDesc differs only in each method's Handler (a
// grpc.MethodHandler, part of grpc's API), which wraps the generated one.
// It panics, as grpc's RegisterService does, if gs already serves
// StockService.
func (s *Server) Register(gs grpc.ServiceRegistrar) {
	desc := pb.StockService_ServiceDesc
	desc.Methods = slices.Clone(desc.Methods)
	mapErrs := mapErrors(s.svc.log)
	for i, m := range desc.Methods {
		desc.Methods[i].Handler = func(srv any, ctx context.Context, dec func(any) error, outer grpc.UnaryServerInterceptor) (any, error) {
			return m.Handler(srv, ctx, dec, inside(outer, mapErrs))
		}
	}
	gs.RegisterService(&desc, s.svc)
}

// inside returns an interceptor that runs inner within outer, which may
// be nil (a server without interceptors).
func inside(outer, inner grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	if outer == nil {
		return inner
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return outer(ctx, req, info, func(ctx context.Context, req any) (any, error) {
			return inner(ctx, req, info, handler)
		})
	}
}

// clock returns the clock's time in UTC, truncated to the microseconds the
// store keeps, so that a first answer and its replay agree.
func (s *service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// run executes req at most once (package once) and returns its response,
// first or replayed, decoded as a *T.
func run[T any, P interface {
	*T
	proto.Message
}](ctx context.Context, s *service, req once.Request) (P, error) {
	resp := P(new(T))
	if err := s.once.Run(ctx, req, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// tickerCheck returns a prepare step that asks the quote source about
// ticker and leaves any quote in *quote, or nil when there is no source.
// The step returns KindInvalid for a ticker the source does not know, and
// nil otherwise: an unreachable source (or an open breaker, or a spent
// budget) must not stop registrations; the ticker is then unverified, and
// the collector checks it later.
// A quote whose market time cannot be right (stock.CheckQuoteTime) is
// dropped, not stored.
func (s *service) tickerCheck(ticker string, quote **stock.Quote) func(context.Context) error {
	if s.quoter == nil {
		return nil
	}
	return func(ctx context.Context) (err error) {
		*quote, err = s.checkTicker(ctx, ticker)
		return err
	}
}

func (s *service) checkTicker(ctx context.Context, ticker string) (*stock.Quote, error) {
	// Non-blocking: a request never waits for the budget, and a spent
	// one sends nothing upstream.
	if s.budget != nil && !s.budget.AllowN(s.now(), 1) {
		s.check("skipped")
		s.log.DebugContext(ctx, "ticker check budget spent; accepting the ticker unverified", "ticker", ticker)
		return nil, nil
	}
	qctx, cancel := context.WithTimeout(ctx, s.qwait)
	defer cancel()
	q, err := s.quoter.Quote(qctx, ticker)
	switch {
	case err == nil:
		s.check("verified")
		q.Ticker = ticker
		if err := stock.CheckQuoteTime(q, s.now()); err != nil {
			s.log.WarnContext(ctx, "quote not stored; accepting the ticker without a price", "err", err)
			return nil, nil
		}
		return &q, nil
	case errors.Is(err, stock.ErrUnknownTicker):
		s.check("unknown")
		return nil, unknownTicker(ticker)
	case ctx.Err() != nil:
		return nil, ctx.Err()
	}
	s.check("failed")
	s.log.WarnContext(ctx, "could not check ticker; accepting it unverified", "ticker", ticker, "err", err)
	return nil, nil
}

func unknownTicker(ticker string) error {
	return stock.Errorf(stock.KindInvalid, "unknown ticker %s", ticker)
}

// settleTicker records in tx what the check found about ticker and returns
// the status to answer with. A quote is stored as the ticker's first price
// (skipped if that market time is already stored) and makes it verified.
// Without one, the stored status stands: an unknown ticker is refused as
// the check would have, and one never seen before is queued, unverified,
// for the collector to check in order of arrival.
func settleTicker(ctx context.Context, tx stock.Tx, ticker string, q *stock.Quote, now time.Time) (stock.TickerStatus, error) {
	if q != nil {
		_, err := tx.InsertPrices(ctx, []stock.Price{{Ticker: q.Ticker, Price: q.Price, Currency: q.Currency, MarketTime: q.MarketTime, CollectTime: now}})
		if err != nil {
			return "", err
		}
		return stock.TickerVerified, tx.SetTickers(ctx, []stock.TickerState{{Ticker: ticker, Status: stock.TickerVerified, Checked: now}})
	}
	st, found, err := tx.TickerStatus(ctx, ticker)
	switch {
	case err != nil:
		return "", err
	case st == stock.TickerUnknown:
		return "", unknownTicker(ticker)
	case !found:
		return stock.TickerUnverified, tx.SetTickers(ctx, []stock.TickerState{{Ticker: ticker, Status: stock.TickerUnverified, NextCheck: now}})
	}
	return st, nil
}

// RegisterUser creates a user and answers it with its ticker's status.
// INVALID_ARGUMENT for a bad field or a ticker Yahoo does not know,
// ALREADY_EXISTS for a registered e-mail.
func (s *service) RegisterUser(ctx context.Context, req *pb.RegisterUserRequest) (*pb.User, error) {
	return s.setUser(ctx, pb.StockService_RegisterUser_FullMethodName, req,
		func(ctx context.Context, tx stock.Tx, email, ticker string, now time.Time) (stock.User, error) {
			u := stock.User{Email: email, Ticker: ticker, CreateTime: now, UpdateTime: now}
			return u, tx.CreateUser(ctx, u)
		})
}

// UpdateUser changes a user's ticker and answers the user with its
// ticker's status. INVALID_ARGUMENT for a bad field or a ticker Yahoo does
// not know, NOT_FOUND for an unknown e-mail.
func (s *service) UpdateUser(ctx context.Context, req *pb.UpdateUserRequest) (*pb.User, error) {
	return s.setUser(ctx, pb.StockService_UpdateUser_FullMethodName, req, func(ctx context.Context, tx stock.Tx, email, ticker string, now time.Time) (stock.User, error) {
		return tx.UpdateUser(ctx, email, ticker, now)
	})
}

// emailRequest is what the requests that change one user share.
type emailRequest interface {
	GetRequestId() string
	GetEmail() string
}

// idAndEmail returns req's request id and e-mail, validated, or the
// INVALID_ARGUMENT error of the first that is not.
func idAndEmail(req emailRequest) (id, email string, err error) {
	if id, err = stock.ValidateRequestID(req.GetRequestId()); err != nil {
		return "", "", err
	}
	if email, err = stock.ParseEmail(req.GetEmail()); err != nil {
		return "", "", err
	}
	return id, email, nil
}

// userRequest is what RegisterUser and UpdateUser requests share.
type userRequest interface {
	emailRequest
	GetTicker() string
}

// setUser is RegisterUser and UpdateUser: it validates req, checks its
// ticker before the transaction (skipped for a stored outcome), and in
// the transaction writes the user with write, settles the ticker's status
// and answers the user with it.
func (s *service) setUser(ctx context.Context, method string, req userRequest,
	write func(ctx context.Context, tx stock.Tx, email, ticker string, now time.Time) (stock.User, error)) (*pb.User, error) {
	id, email, err := idAndEmail(req)
	if err != nil {
		return nil, err
	}
	ticker, err := stock.ParseTicker(req.GetTicker())
	if err != nil {
		return nil, err
	}
	var quote *stock.Quote
	return run[pb.User](ctx, s, once.Request{
		Method: method, ID: id, Payload: []string{email, ticker},
		Prepare: s.tickerCheck(ticker, &quote),
		Effect: func(ctx context.Context, tx stock.Tx) (proto.Message, error) {
			now := s.clock()
			u, err := write(ctx, tx, email, ticker, now)
			if err != nil {
				return nil, err
			}
			if u.TickerStatus, err = settleTicker(ctx, tx, ticker, quote, now); err != nil {
				return nil, err
			}
			out := userPB(u)
			if u.AlertCleared {
				out.AlertCleared = proto.Bool(true)
			}
			return out, nil
		},
	})
}

// DeleteUser removes a user. INVALID_ARGUMENT for a bad field, NOT_FOUND
// for an unknown e-mail.
func (s *service) DeleteUser(ctx context.Context, req *pb.DeleteUserRequest) (*pb.DeleteUserResponse, error) {
	return deleteByEmail[pb.DeleteUserResponse](ctx, s, pb.StockService_DeleteUser_FullMethodName, req, stock.Tx.DeleteUser)
}

// deleteByEmail is a delete of the request's user or of what the user
// has (DeleteUser, DeleteAlert): it validates req's request id and
// e-mail, and once per request id calls del in a transaction and answers
// an empty T. It returns INVALID_ARGUMENT for a bad field, else del's
// error.
func deleteByEmail[T any, P interface {
	*T
	proto.Message
}](ctx context.Context, s *service, method string, req emailRequest, del func(stock.Tx, context.Context, string) error) (P, error) {
	id, email, err := idAndEmail(req)
	if err != nil {
		return nil, err
	}
	return run[T, P](ctx, s, once.Request{
		Method: method, ID: id, Payload: []string{email},
		Effect: func(ctx context.Context, tx stock.Tx) (proto.Message, error) {
			if err := del(tx, ctx, email); err != nil {
				return nil, err
			}
			return P(new(T)), nil
		},
	})
}

// DeletePrices removes prices collected more than older_than ago.
// INVALID_ARGUMENT for a missing or non-positive older_than, or one longer
// than stock.MaxOlderThan.
func (s *service) DeletePrices(ctx context.Context, req *pb.DeletePricesRequest) (*pb.DeletePricesResponse, error) {
	id, err := stock.ValidateRequestID(req.GetRequestId())
	if err != nil {
		return nil, err
	}
	if req.GetOlderThan() == nil {
		return nil, stock.Errorf(stock.KindInvalid, "older_than is required")
	}
	if err := req.GetOlderThan().CheckValid(); err != nil {
		return nil, stock.Errorf(stock.KindInvalid, "older_than is not a valid duration")
	}
	// Checked, the age in nanoseconds is exact, one per (seconds, nanos),
	// so it fingerprints the request; AsDuration would saturate instead.
	age, err := stock.OlderThan(req.GetOlderThan().GetSeconds(), req.GetOlderThan().GetNanos())
	if err != nil {
		return nil, err
	}
	return run[pb.DeletePricesResponse](ctx, s, once.Request{
		Method: pb.StockService_DeletePrices_FullMethodName, ID: id, Payload: []string{strconv.FormatInt(int64(age), 10)},
		Effect: func(ctx context.Context, tx stock.Tx) (proto.Message, error) {
			n, err := tx.DeletePrices(ctx, s.clock().Add(-age))
			if err != nil {
				return nil, err
			}
			return &pb.DeletePricesResponse{DeletedCount: n}, nil
		},
	})
}

// GetUser returns a user. INVALID_ARGUMENT for a bad e-mail, NOT_FOUND for
// an unknown one.
func (s *service) GetUser(ctx context.Context, req *pb.GetUserRequest) (*pb.User, error) {
	return readByEmail(ctx, req.GetEmail(), s.store.GetUser, userPB)
}

// GetLatestPrice returns the newest price of the user's ticker.
// NOT_FOUND for an unknown user, FAILED_PRECONDITION before any price
// (with its own message when Yahoo does not know the ticker).
func (s *service) GetLatestPrice(ctx context.Context, req *pb.GetLatestPriceRequest) (*pb.Price, error) {
	return readByEmail(ctx, req.GetEmail(), s.store.LatestPrice, pricePB)
}

// GetAveragePrice returns the mean of the newest count prices of the
// user's ticker. INVALID_ARGUMENT for a bad e-mail or count, NOT_FOUND for
// an unknown user, FAILED_PRECONDITION before any price.
func (s *service) GetAveragePrice(ctx context.Context, req *pb.GetAveragePriceRequest) (*pb.AveragePrice, error) {
	average := func(ctx context.Context, email string) (stock.Average, error) {
		n, err := stock.ValidateCount(int64(req.GetCount()))
		if err != nil {
			return stock.Average{}, err
		}
		return s.store.AveragePrice(ctx, email, n)
	}
	return readByEmail(ctx, req.GetEmail(), average, averagePB)
}

// readByEmail is a read keyed by the user's e-mail: it parses the e-mail
// (INVALID_ARGUMENT, checked before anything read checks), reads, and
// converts the answer for the wire.
func readByEmail[T any, R proto.Message](ctx context.Context, rawEmail string, read func(context.Context, string) (T, error), wire func(T) R) (R, error) {
	var none R
	email, err := stock.ParseEmail(rawEmail)
	if err != nil {
		return none, err
	}
	v, err := read(ctx, email)
	if err != nil {
		return none, err
	}
	return wire(v), nil
}

// ListUsers pages through users in e-mail order, each with the latest price
// of their ticker. INVALID_ARGUMENT for a bad page size or token.
func (s *service) ListUsers(ctx context.Context, req *pb.ListUsersRequest) (*pb.ListUsersResponse, error) {
	users, next, err := listPage(ctx, req, "users", "", func(ctx context.Context, tok *pageToken, n int) ([]stock.UserWithPrice, error) {
		after := ""
		if tok != nil {
			after = tok.Email
		}
		return s.store.ListUsers(ctx, after, n)
	}, func(last stock.UserWithPrice) pageToken { return pageToken{Email: last.Email} }, userWithPricePB)
	if err != nil {
		return nil, err
	}
	return &pb.ListUsersResponse{Users: users, NextPageToken: next}, nil
}

// ListPrices pages through prices newest first, of one ticker or all.
// INVALID_ARGUMENT for a bad ticker, page size or token.
func (s *service) ListPrices(ctx context.Context, req *pb.ListPricesRequest) (*pb.ListPricesResponse, error) {
	var ticker string
	if req.GetTicker() != "" {
		var err error
		if ticker, err = stock.ParseTicker(req.GetTicker()); err != nil {
			return nil, err
		}
	}
	prices, next, err := listPage(ctx, req, "prices", ticker, func(ctx context.Context, tok *pageToken, n int) ([]stock.Price, error) {
		return s.store.ListPrices(ctx, ticker, tok.priceCursor(), n)
	}, func(last stock.Price) pageToken {
		return pageToken{Ticker: ticker, Market: last.MarketTime.UnixMicro(), ID: last.ID}
	}, pricePB)
	if err != nil {
		return nil, err
	}
	return &pb.ListPricesResponse{Prices: prices, NextPageToken: next}, nil
}
