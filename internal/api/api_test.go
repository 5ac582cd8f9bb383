package api_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// A 254-character address is the longest accepted; one more is too long.
var (
	email254 = strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com"
	email255 = "a" + email254
)

func TestRegisterUser(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		e.register(t, "taken@x.com", "AAPL")

		user := func(email, ticker string) *pb.User {
			return &pb.User{Email: email, Ticker: ticker, CreateTime: tsp(t0us), UpdateTime: tsp(t0us), TickerStatus: unverified}
		}
		tests := []struct {
			name      string
			req       *pb.RegisterUserRequest
			want      *pb.User // on success
			code      codes.Code
			msg       string
			wantEmail string // normalised e-mail to count rows of
			wantRows  int    // rows with wantEmail afterwards
		}{
			{name: "OK", req: &pb.RegisterUserRequest{Email: "a@x.com", Ticker: "AAPL"}, want: user("a@x.com", "AAPL")},
			{name: "OK/WithRequestID", req: &pb.RegisterUserRequest{RequestId: newID(t), Email: "id@x.com", Ticker: "AAPL"}, want: user("id@x.com", "AAPL")},
			{name: "OK/EmailTrimmedAndLowerCased", req: &pb.RegisterUserRequest{Email: " Alice@X.com ", Ticker: "AAPL"}, want: user("alice@x.com", "AAPL")},
			{name: "OK/EmailDotsAndTagsKept", req: &pb.RegisterUserRequest{Email: "First.Last+Tag@Example.COM", Ticker: "AAPL"}, want: user("first.last+tag@example.com", "AAPL")},
			{name: "OK/Email254Chars", req: &pb.RegisterUserRequest{Email: email254, Ticker: "AAPL"}, want: user(email254, "AAPL")},
			{name: "OK/TickerLowerCaseUpperCased", req: &pb.RegisterUserRequest{Email: "lower@x.com", Ticker: " aapl "}, want: user("lower@x.com", "AAPL")},
			{name: "OK/Ticker/BRK-B", req: &pb.RegisterUserRequest{Email: "brk@x.com", Ticker: "BRK-B"}, want: user("brk@x.com", "BRK-B")},
			{name: "OK/Ticker/^GSPC", req: &pb.RegisterUserRequest{Email: "gspc@x.com", Ticker: "^GSPC"}, want: user("gspc@x.com", "^GSPC")},
			{name: "OK/Ticker/EURUSD=X", req: &pb.RegisterUserRequest{Email: "fx@x.com", Ticker: "EURUSD=X"}, want: user("fx@x.com", "EURUSD=X")},
			{name: "OK/Ticker/GC=F", req: &pb.RegisterUserRequest{Email: "gold@x.com", Ticker: "GC=F"}, want: user("gold@x.com", "GC=F")},
			{name: "OK/Ticker/0700.HK", req: &pb.RegisterUserRequest{Email: "hk@x.com", Ticker: "0700.HK"}, want: user("hk@x.com", "0700.HK")},
			{name: "OK/Ticker/BTC-USD", req: &pb.RegisterUserRequest{Email: "btc@x.com", Ticker: "btc-usd"}, want: user("btc@x.com", "BTC-USD")},
			{name: "OK/Ticker/ENI.MI", req: &pb.RegisterUserRequest{Email: "eni@x.com", Ticker: "ENI.MI"}, want: user("eni@x.com", "ENI.MI")},
			{name: "OK/Ticker32Chars", req: &pb.RegisterUserRequest{Email: "long@x.com", Ticker: strings.Repeat("A", 32)}, want: user("long@x.com", strings.Repeat("A", 32))},

			{name: "InvalidArgument/EmailEmpty", req: &pb.RegisterUserRequest{Ticker: "AAPL"},
				code: codes.InvalidArgument, msg: "email is required"},
			{name: "InvalidArgument/EmailBlank", req: &pb.RegisterUserRequest{Email: "   ", Ticker: "AAPL"},
				code: codes.InvalidArgument, msg: "email is required"},
			{name: "InvalidArgument/EmailDisplayName", req: &pb.RegisterUserRequest{Email: "Bob <b@x.com>", Ticker: "AAPL"},
				code: codes.InvalidArgument, msg: `email "Bob <b@x.com>" is not a valid address`, wantEmail: "b@x.com"},
			{name: "InvalidArgument/EmailAngleBrackets", req: &pb.RegisterUserRequest{Email: "<b@x.com>", Ticker: "AAPL"},
				code: codes.InvalidArgument, msg: `email "<b@x.com>" is not a valid address`, wantEmail: "b@x.com"},
			{name: "InvalidArgument/EmailTooLong", req: &pb.RegisterUserRequest{Email: email255, Ticker: "AAPL"},
				code: codes.InvalidArgument, msg: "email is longer than 254 characters", wantEmail: email255},
			{name: "InvalidArgument/EmailNotAnAddress", req: &pb.RegisterUserRequest{Email: "not-an-email", Ticker: "AAPL"},
				code: codes.InvalidArgument, msg: `email "not-an-email" is not a valid address`, wantEmail: "not-an-email"},
			{name: "InvalidArgument/TickerEmpty", req: &pb.RegisterUserRequest{Email: "t1@x.com"},
				code: codes.InvalidArgument, msg: "ticker is required", wantEmail: "t1@x.com"},
			{name: "InvalidArgument/TickerDollar", req: &pb.RegisterUserRequest{Email: "t2@x.com", Ticker: "AAPL$"},
				code: codes.InvalidArgument, msg: `ticker "AAPL$" is not a valid symbol`, wantEmail: "t2@x.com"},
			{name: "InvalidArgument/TickerTooLong", req: &pb.RegisterUserRequest{Email: "t3@x.com", Ticker: strings.Repeat("a", 33)},
				code: codes.InvalidArgument, msg: `ticker "` + strings.Repeat("A", 33) + `" is not a valid symbol`, wantEmail: "t3@x.com"},
			{name: "InvalidArgument/TickerMessageTruncated", req: &pb.RegisterUserRequest{Email: "t4@x.com", Ticker: strings.Repeat("B", 50)},
				code: codes.InvalidArgument, msg: `ticker "` + strings.Repeat("B", 40) + `…" is not a valid symbol`, wantEmail: "t4@x.com"},
			{name: "InvalidArgument/RequestIDAbc", req: &pb.RegisterUserRequest{RequestId: "abc", Email: "r1@x.com", Ticker: "AAPL"},
				code: codes.InvalidArgument, msg: `request_id "abc" is not a UUID`, wantEmail: "r1@x.com"},
			{name: "InvalidArgument/RequestID36CharsNotUUID", req: &pb.RegisterUserRequest{RequestId: "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", Email: "r2@x.com", Ticker: "AAPL"},
				code: codes.InvalidArgument, msg: `request_id "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz" is not a UUID`, wantEmail: "r2@x.com"},
			{name: "InvalidArgument/RequestID36HexNoDashes", req: &pb.RegisterUserRequest{RequestId: "0123456789abcdef0123456789abcdef0123", Email: "r3@x.com", Ticker: "AAPL"},
				code: codes.InvalidArgument, msg: `request_id "0123456789abcdef0123456789abcdef0123" is not a UUID`, wantEmail: "r3@x.com"},

			{name: "AlreadyExists", req: &pb.RegisterUserRequest{Email: "taken@x.com", Ticker: "MSFT"},
				code: codes.AlreadyExists, msg: "user taken@x.com already exists", wantEmail: "taken@x.com", wantRows: 1},
			{name: "AlreadyExists/OtherCasing", req: &pb.RegisterUserRequest{RequestId: newID(t), Email: "Taken@X.COM", Ticker: "MSFT"},
				code: codes.AlreadyExists, msg: "user taken@x.com already exists", wantEmail: "taken@x.com", wantRows: 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := e.client.RegisterUser(ctxTimeout(t), tt.req)
				if tt.code != codes.OK {
					wantStatus(t, err, tt.code, tt.msg)
					if tt.wantEmail != "" {
						if n := e.users(t, tt.wantEmail); n != tt.wantRows {
							t.Errorf("users with e-mail %q = %d, want %d", tt.wantEmail, n, tt.wantRows)
						}
					}
					return
				}
				mustOK(t, err)
				diffProto(t, tt.want, got)
				stored, err := e.client.GetUser(ctxTimeout(t), &pb.GetUserRequest{Email: tt.want.Email})
				mustOK(t, err)
				diffProto(t, tt.want, stored)
			})
		}
		// The taken user kept its ticker through both ALREADY_EXISTS.
		e.wantTicker(t, "taken@x.com", "AAPL")
	})
}

func TestGetUser(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		e.register(t, " Alice@X.com ", "aapl")
		alice := &pb.User{Email: "alice@x.com", Ticker: "AAPL", CreateTime: tsp(t0us), UpdateTime: tsp(t0us), TickerStatus: unverified}

		get := func(email string) *pb.GetUserRequest { return &pb.GetUserRequest{Email: email} }
		runAnswers(t, e.client.GetUser, []answerCase[*pb.GetUserRequest, *pb.User]{
			{name: "OK", req: get("alice@x.com"), want: alice},
			{name: "OK/OtherCasing", req: get("ALICE@x.COM"), want: alice},
			{name: "OK/Untrimmed", req: get("  Alice@X.com\t"), want: alice},
			{name: "NotFound", req: get("bob@x.com"), code: codes.NotFound, msg: "user bob@x.com not found"},
			{name: "NotFound/NoProviderRewriting", req: get("a.lice@x.com"), code: codes.NotFound, msg: "user a.lice@x.com not found"},
			{name: "InvalidArgument/EmailEmpty", req: get(""), code: codes.InvalidArgument, msg: "email is required"},
			{name: "InvalidArgument/EmailDisplayName", req: get("Alice <alice@x.com>"), code: codes.InvalidArgument, msg: `email "Alice <alice@x.com>" is not a valid address`},
			{name: "InvalidArgument/EmailTooLong", req: get(email255), code: codes.InvalidArgument, msg: "email is longer than 254 characters"},
		}, nil)
	})
}

func TestUpdateUser(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		e.register(t, "alice@x.com", "AAPL")
		e.clock.Advance(time.Hour)
		later := t0us.Add(time.Hour)

		runAnswers(t, e.client.UpdateUser, []answerCase[*pb.UpdateUserRequest, *pb.User]{
			{name: "OK", req: &pb.UpdateUserRequest{Email: "alice@x.com", Ticker: "MSFT"},
				want: &pb.User{Email: "alice@x.com", Ticker: "MSFT", CreateTime: tsp(t0us), UpdateTime: tsp(later), TickerStatus: unverified}},
			{name: "OK/NormalisedFieldsWithRequestID", req: &pb.UpdateUserRequest{RequestId: newID(t), Email: " ALICE@x.com", Ticker: " brk-b "},
				want: &pb.User{Email: "alice@x.com", Ticker: "BRK-B", CreateTime: tsp(t0us), UpdateTime: tsp(later), TickerStatus: unverified}},
			{name: "NotFound", req: &pb.UpdateUserRequest{Email: "nobody@x.com", Ticker: "MSFT"},
				code: codes.NotFound, msg: "user nobody@x.com not found"},
			{name: "NotFound/WithRequestID", req: &pb.UpdateUserRequest{RequestId: newID(t), Email: "nobody@x.com", Ticker: "MSFT"},
				code: codes.NotFound, msg: "user nobody@x.com not found"},
			{name: "InvalidArgument/EmailNotAnAddress", req: &pb.UpdateUserRequest{Email: "not-an-email", Ticker: "MSFT"},
				code: codes.InvalidArgument, msg: `email "not-an-email" is not a valid address`},
			{name: "InvalidArgument/TickerEmpty", req: &pb.UpdateUserRequest{Email: "alice@x.com"},
				code: codes.InvalidArgument, msg: "ticker is required"},
			{name: "InvalidArgument/TickerDollar", req: &pb.UpdateUserRequest{Email: "alice@x.com", Ticker: "AAPL$"},
				code: codes.InvalidArgument, msg: `ticker "AAPL$" is not a valid symbol`},
			{name: "InvalidArgument/RequestID", req: &pb.UpdateUserRequest{RequestId: "abc", Email: "alice@x.com", Ticker: "MSFT"},
				code: codes.InvalidArgument, msg: `request_id "abc" is not a UUID`},
		}, func(t *testing.T, c answerCase[*pb.UpdateUserRequest, *pb.User]) {
			stored, err := e.client.GetUser(ctxTimeout(t), &pb.GetUserRequest{Email: c.want.Email})
			mustOK(t, err)
			diffProto(t, c.want, stored)
		})
		if n := e.users(t, "nobody@x.com"); n != 0 {
			t.Errorf("update of an unknown user created %d rows", n)
		}
	})
}

func TestDeleteUser(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		e.register(t, "alice@x.com", "AAPL")
		e.register(t, "bob@x.com", "AAPL")

		deleted := &pb.DeleteUserResponse{}
		runAnswers(t, e.client.DeleteUser, []answerCase[*pb.DeleteUserRequest, *pb.DeleteUserResponse]{
			{name: "OK", req: &pb.DeleteUserRequest{Email: "alice@x.com"}, want: deleted},
			{name: "NotFound/AlreadyDeleted", req: &pb.DeleteUserRequest{Email: "alice@x.com"},
				code: codes.NotFound, msg: "user alice@x.com not found"},
			{name: "OK/OtherCasingWithRequestID", req: &pb.DeleteUserRequest{RequestId: newID(t), Email: "BOB@X.com"}, want: deleted},
			{name: "NotFound/Unknown", req: &pb.DeleteUserRequest{RequestId: newID(t), Email: "nobody@x.com"},
				code: codes.NotFound, msg: "user nobody@x.com not found"},
			{name: "InvalidArgument/EmailEmpty", req: &pb.DeleteUserRequest{},
				code: codes.InvalidArgument, msg: "email is required"},
			{name: "InvalidArgument/EmailDisplayName", req: &pb.DeleteUserRequest{Email: "Bob <bob@x.com>"},
				code: codes.InvalidArgument, msg: `email "Bob <bob@x.com>" is not a valid address`},
			{name: "InvalidArgument/RequestID", req: &pb.DeleteUserRequest{RequestId: "abc", Email: "bob@x.com"},
				code: codes.InvalidArgument, msg: `request_id "abc" is not a UUID`},
		}, func(t *testing.T, c answerCase[*pb.DeleteUserRequest, *pb.DeleteUserResponse]) {
			_, err := e.client.GetUser(ctxTimeout(t), &pb.GetUserRequest{Email: c.req.GetEmail()})
			wantStatus(t, err, codes.NotFound, "user "+strings.ToLower(c.req.GetEmail())+" not found")
		})
		testkit.WantCount(t, "users left", storetest.Count(t, e.db, "users", ""), 0)
	})
}

func TestGetLatestPrice(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		e.register(t, "alice@x.com", "AAPL") // no AAPL price is ever collected
		e.register(t, "bob@x.com", "MSFT")
		m := t0.Add(-time.Hour).Truncate(time.Second)
		// Inserted newest first: the latest is the newest market time,
		// not the last row written.
		newest := px("MSFT", 412.5, m.Add(2*time.Minute))
		e.insertPrices(t, newest, px("MSFT", 410, m), px("MSFT", 411, m.Add(time.Minute)),
			px("NVDA", 900, m.Add(time.Hour)))

		latest := func(email string) *pb.GetLatestPriceRequest { return &pb.GetLatestPriceRequest{Email: email} }
		runAnswers(t, e.client.GetLatestPrice, []answerCase[*pb.GetLatestPriceRequest, *pb.Price]{
			{name: "OK", req: latest("bob@x.com"), want: pricePB(newest)},
			{name: "OK/OtherCasing", req: latest("Bob@X.com"), want: pricePB(newest)},
			{name: "FailedPrecondition/NoPriceYet", req: latest("alice@x.com"),
				code: codes.FailedPrecondition, msg: "no price collected yet for AAPL"},
			{name: "NotFound", req: latest("nobody@x.com"), code: codes.NotFound, msg: "user nobody@x.com not found"},
			{name: "InvalidArgument/EmailEmpty", req: latest(""), code: codes.InvalidArgument, msg: "email is required"},
			{name: "InvalidArgument/EmailNotAnAddress", req: latest("not-an-email"), code: codes.InvalidArgument, msg: `email "not-an-email" is not a valid address`},
		}, nil)
	})
}

func TestGetAveragePrice(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		e.register(t, "alice@x.com", "AAPL") // no AAPL price is ever collected
		e.register(t, "bob@x.com", "MSFT")
		m1 := t0.Add(-time.Hour).Truncate(time.Second)
		m2, m3 := m1.Add(time.Minute), m1.Add(2*time.Minute)
		e.insertPrices(t, px("MSFT", 102.75, m3), px("MSFT", 100.5, m1), px("MSFT", 101.25, m2),
			px("NVDA", 900, m3.Add(time.Minute))) // another ticker never counts

		avg := func(a float64, count, requested int32, oldest, newest time.Time) *pb.AveragePrice {
			return &pb.AveragePrice{Ticker: "MSFT", Average: a, Currency: "USD", Count: count, Requested: requested,
				OldestMarketTime: tsp(oldest), NewestMarketTime: tsp(newest)}
		}
		req := func(email string, count int32) *pb.GetAveragePriceRequest {
			return &pb.GetAveragePriceRequest{Email: email, Count: count}
		}
		runAnswers(t, e.client.GetAveragePrice, []answerCase[*pb.GetAveragePriceRequest, *pb.AveragePrice]{
			{name: "OK/AllThree", req: req("bob@x.com", 3), want: avg(101.5, 3, 3, m1, m3)},
			{name: "OK/NewestTwo", req: req("bob@x.com", 2), want: avg(102, 2, 2, m2, m3)},
			{name: "OK/NewestOne", req: req("BOB@x.com", 1), want: avg(102.75, 1, 1, m3, m3)},
			{name: "OK/FewerThanCount", req: req("bob@x.com", 10), want: avg(101.5, 3, 10, m1, m3)},
			{name: "OK/MaxCount", req: req("bob@x.com", 10000), want: avg(101.5, 3, 10000, m1, m3)},
			{name: "InvalidArgument/CountZero", req: req("bob@x.com", 0),
				code: codes.InvalidArgument, msg: "count must be between 1 and 10000, got 0"},
			{name: "InvalidArgument/CountNegative", req: req("bob@x.com", -1),
				code: codes.InvalidArgument, msg: "count must be between 1 and 10000, got -1"},
			{name: "InvalidArgument/CountTooLarge", req: req("bob@x.com", 10001),
				code: codes.InvalidArgument, msg: "count must be between 1 and 10000, got 10001"},
			{name: "InvalidArgument/Email", req: req("Bob <bob@x.com>", 3),
				code: codes.InvalidArgument, msg: `email "Bob <bob@x.com>" is not a valid address`},
			{name: "FailedPrecondition/NoPriceYet", req: req("alice@x.com", 3),
				code: codes.FailedPrecondition, msg: "no price collected yet for AAPL"},
			{name: "NotFound", req: req("nobody@x.com", 3), code: codes.NotFound, msg: "user nobody@x.com not found"},
		}, nil)
	})
}

// TestGetAveragePriceOneCurrency: an average never mixes currencies; it
// stops at the first older price in another currency, and count says how
// many prices it used.
func TestGetAveragePriceOneCurrency(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		e.register(t, "vod@x.com", "VOD.L")
		m := t0.Add(-time.Hour).Truncate(time.Second)
		gbx := func(p float64, cur string, i int) stock.Price {
			q := px("VOD.L", p, m.Add(time.Duration(i)*time.Minute))
			q.Currency = cur
			return q
		}
		// Yahoo moved VOD.L from pence to pounds.
		e.insertPrices(t, gbx(7000, "GBp", 0), gbx(7010, "GBp", 1), gbx(70.5, "GBP", 2), gbx(71, "GBP", 3))
		got, err := e.client.GetAveragePrice(ctxTimeout(t), &pb.GetAveragePriceRequest{Email: "vod@x.com", Count: 10})
		mustOK(t, err)
		diffProto(t, &pb.AveragePrice{Ticker: "VOD.L", Average: 70.75, Currency: "GBP", Count: 2, Requested: 10,
			OldestMarketTime: tsp(m.Add(2 * time.Minute)), NewestMarketTime: tsp(m.Add(3 * time.Minute))}, got)
	})
}

// TestUserSwitchesTicker: after UpdateUser, latest and average follow the
// new ticker.
func TestUserSwitchesTicker(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		ctx := ctxTimeout(t)
		e.register(t, "bob@x.com", "MSFT")
		m := t0.Add(-time.Hour).Truncate(time.Second)
		msft := px("MSFT", 410, m)
		aapl1, aapl2 := px("AAPL", 190, m), px("AAPL", 194, m.Add(time.Minute))
		e.insertPrices(t, msft, aapl1, aapl2)

		got, err := e.client.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: "bob@x.com"})
		mustOK(t, err)
		diffProto(t, pricePB(msft), got)

		_, err = e.client.UpdateUser(ctx, &pb.UpdateUserRequest{RequestId: newID(t), Email: "bob@x.com", Ticker: "aapl"})
		mustOK(t, err)
		got, err = e.client.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: "bob@x.com"})
		mustOK(t, err)
		diffProto(t, pricePB(aapl2), got)
		a, err := e.client.GetAveragePrice(ctx, &pb.GetAveragePriceRequest{Email: "bob@x.com", Count: 5})
		mustOK(t, err)
		diffProto(t, &pb.AveragePrice{Ticker: "AAPL", Average: 192, Currency: "USD", Count: 2, Requested: 5,
			OldestMarketTime: tsp(aapl1.MarketTime), NewestMarketTime: tsp(aapl2.MarketTime)}, a)

		_, err = e.client.UpdateUser(ctx, &pb.UpdateUserRequest{Email: "bob@x.com", Ticker: "NVDA"})
		mustOK(t, err)
		_, err = e.client.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: "bob@x.com"})
		wantStatus(t, err, codes.FailedPrecondition, "no price collected yet for NVDA")
		_, err = e.client.GetAveragePrice(ctx, &pb.GetAveragePriceRequest{Email: "bob@x.com", Count: 5})
		wantStatus(t, err, codes.FailedPrecondition, "no price collected yet for NVDA")
	})
}

func TestDeletePrices(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		// Collected 72h, 48h, 24h, exactly 1h, 30m and 1m before the clock.
		ages := []time.Duration{72 * time.Hour, 48 * time.Hour, 24 * time.Hour, time.Hour, 30 * time.Minute, time.Minute}
		for i, age := range ages {
			c := t0us.Add(-age)
			e.insertPrices(t, pxAt("AAPL", float64(100+i), c.Add(-time.Second), c))
		}

		tests := []struct {
			name      string
			req       *pb.DeletePricesRequest
			want      int64
			wantLeft  int
			code      codes.Code
			msg       string
			advanceBy time.Duration
		}{
			{name: "OK/OlderThan36h", req: &pb.DeletePricesRequest{OlderThan: durationpb.New(36 * time.Hour)}, want: 2, wantLeft: 4},
			{name: "OK/NothingThatOld", req: &pb.DeletePricesRequest{RequestId: newID(t), OlderThan: durationpb.New(36 * time.Hour)}, want: 0, wantLeft: 4},
			// A price collected exactly older_than ago is not older than it.
			{name: "OK/OlderThan1hIsStrict", req: &pb.DeletePricesRequest{RequestId: newID(t), OlderThan: durationpb.New(time.Hour)}, want: 1, wantLeft: 3},
			// The cut-off follows the injected clock.
			{name: "OK/ClockAdvanced", advanceBy: 31 * time.Minute, req: &pb.DeletePricesRequest{OlderThan: durationpb.New(time.Hour)}, want: 2, wantLeft: 1},
			{name: "InvalidArgument/Missing", req: &pb.DeletePricesRequest{},
				code: codes.InvalidArgument, msg: "older_than is required", wantLeft: 1},
			{name: "InvalidArgument/Zero", req: &pb.DeletePricesRequest{OlderThan: durationpb.New(0)},
				code: codes.InvalidArgument, msg: "older_than must be positive, got 0s", wantLeft: 1},
			{name: "InvalidArgument/Negative", req: &pb.DeletePricesRequest{OlderThan: durationpb.New(-time.Hour)},
				code: codes.InvalidArgument, msg: "older_than must be positive, got -1h0m0s", wantLeft: 1},
			{name: "InvalidArgument/Malformed", req: &pb.DeletePricesRequest{OlderThan: &durationpb.Duration{Seconds: 1, Nanos: -1}},
				code: codes.InvalidArgument, msg: "older_than is not a valid duration", wantLeft: 1},
			// Beyond time.Duration: refused, not cut to 292 years.
			{name: "InvalidArgument/10e9Seconds", req: &pb.DeletePricesRequest{RequestId: newID(t), OlderThan: &durationpb.Duration{Seconds: 10e9}},
				code: codes.InvalidArgument, msg: "older_than must be at most 2562047h47m16.854775807s (about 292 years)", wantLeft: 1},
			{name: "InvalidArgument/300e9Seconds", req: &pb.DeletePricesRequest{OlderThan: &durationpb.Duration{Seconds: 300e9}},
				code: codes.InvalidArgument, msg: "older_than must be at most 2562047h47m16.854775807s (about 292 years)", wantLeft: 1},
			{name: "InvalidArgument/Minus300e9Seconds", req: &pb.DeletePricesRequest{OlderThan: &durationpb.Duration{Seconds: -300e9}},
				code: codes.InvalidArgument, msg: "older_than must be positive, got -300000000000s", wantLeft: 1},
			{name: "InvalidArgument/RequestID", req: &pb.DeletePricesRequest{RequestId: "abc", OlderThan: durationpb.New(time.Second)},
				code: codes.InvalidArgument, msg: `request_id "abc" is not a UUID`, wantLeft: 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.clock.Advance(tt.advanceBy)
				got, err := e.client.DeletePrices(ctxTimeout(t), tt.req)
				wantAnswer(t, got, err, tt.code, tt.msg, &pb.DeletePricesResponse{DeletedCount: tt.want})
				if n := storetest.Count(t, e.db, "stock_prices", ""); n != tt.wantLeft {
					t.Errorf("prices left = %d, want %d", n, tt.wantLeft)
				}
			})
		}
	})
}

// TestTimes: every time comes back as the instant it was, in UTC, to the
// microsecond, whatever the zone and nanoseconds of the clock or input.
func TestTimes(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		ctx := ctxTimeout(t)
		cet := time.FixedZone("CET", 3600)
		now := time.Date(2026, 3, 1, 9, 0, 0, 987654321, cet)
		e := newEnv(t, b, options{clock: testkit.NewClock(now)})
		wantNow := time.Date(2026, 3, 1, 8, 0, 0, 987654000, time.UTC)

		u, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: newID(t), Email: "a@x.com", Ticker: "AAPL"})
		mustOK(t, err)
		market := time.Date(2026, 3, 1, 15, 30, 0, 111222333, time.FixedZone("EST", -5*3600))
		collect := time.Date(2026, 3, 1, 21, 30, 1, 444555666, time.FixedZone("CET", 3600))
		e.insertPrices(t, pxAt("AAPL", 1, market, collect))
		wantMarket := time.Date(2026, 3, 1, 20, 30, 0, 111222000, time.UTC)
		wantCollect := time.Date(2026, 3, 1, 20, 30, 1, 444555000, time.UTC)

		g, err := e.client.GetUser(ctx, &pb.GetUserRequest{Email: "a@x.com"})
		mustOK(t, err)
		p, err := e.client.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: "a@x.com"})
		mustOK(t, err)
		a, err := e.client.GetAveragePrice(ctx, &pb.GetAveragePriceRequest{Email: "a@x.com", Count: 1})
		mustOK(t, err)
		lu, err := e.client.ListUsers(ctx, &pb.ListUsersRequest{})
		mustOK(t, err)
		lp, err := e.client.ListPrices(ctx, &pb.ListPricesRequest{})
		mustOK(t, err)

		checks := []struct {
			name string
			got  *timestamppb.Timestamp
			want time.Time
		}{
			{"RegisterUser.create_time", u.GetCreateTime(), wantNow},
			{"RegisterUser.update_time", u.GetUpdateTime(), wantNow},
			{"GetUser.create_time", g.GetCreateTime(), wantNow},
			{"GetUser.update_time", g.GetUpdateTime(), wantNow},
			{"GetLatestPrice.market_time", p.GetMarketTime(), wantMarket},
			{"GetLatestPrice.collect_time", p.GetCollectTime(), wantCollect},
			{"GetAveragePrice.oldest_market_time", a.GetOldestMarketTime(), wantMarket},
			{"GetAveragePrice.newest_market_time", a.GetNewestMarketTime(), wantMarket},
			{"ListUsers.user.create_time", lu.GetUsers()[0].GetUser().GetCreateTime(), wantNow},
			{"ListUsers.user.update_time", lu.GetUsers()[0].GetUser().GetUpdateTime(), wantNow},
			{"ListUsers.latest_price.market_time", lu.GetUsers()[0].GetLatestPrice().GetMarketTime(), wantMarket},
			{"ListUsers.latest_price.collect_time", lu.GetUsers()[0].GetLatestPrice().GetCollectTime(), wantCollect},
			{"ListPrices.market_time", lp.GetPrices()[0].GetMarketTime(), wantMarket},
			{"ListPrices.collect_time", lp.GetPrices()[0].GetCollectTime(), wantCollect},
		}
		for _, c := range checks {
			// A Timestamp is an instant: equal seconds and nanos since the
			// epoch means the zone was converted, not relabelled.
			if c.got.GetSeconds() != c.want.Unix() || c.got.GetNanos() != int32(c.want.Nanosecond()) || c.got.GetNanos()%1000 != 0 {
				t.Errorf("%s = %v, want %v (whole microseconds)", c.name, c.got.AsTime(), c.want)
			}
		}
	})
}
