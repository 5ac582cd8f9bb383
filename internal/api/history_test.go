package api_test

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

func TestGetPriceHistory(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		e.register(t, "a@x.com", "AAPL")
		e.register(t, "new@x.com", "NEW")
		ago := func(d time.Duration) time.Time { return t0us.Add(-d) }
		// Prices 25h, 2h and 1h ago, and one in the future (clock skew).
		e.insertPrices(t, px("AAPL", 100, ago(25*time.Hour)), px("AAPL", 110, ago(2*time.Hour)),
			px("AAPL", 99, ago(time.Hour)), px("AAPL", 120, t0us.Add(time.Minute)))
		point := func(d time.Duration, p float64) *pb.PricePoint {
			return &pb.PricePoint{MarketTime: tsp(ago(d)), Price: p}
		}
		lastDay := &pb.PriceHistory{Ticker: "AAPL", Currency: "USD", Since: tsp(ago(24 * time.Hour)), Until: tsp(t0us),
			Points: []*pb.PricePoint{point(2*time.Hour, 110), point(time.Hour, 99)}, Count: 2,
			First: point(2*time.Hour, 110), Last: point(time.Hour, 99), Min: point(time.Hour, 99), Max: point(2*time.Hour, 110),
			ChangePercent: -10}
		badTime := &timestamppb.Timestamp{Seconds: 1, Nanos: 1e9}
		tests := []struct {
			name string
			req  *pb.GetPriceHistoryRequest
			want *pb.PriceHistory
			code codes.Code
			msg  string
		}{
			{name: "OK/Defaults", req: &pb.GetPriceHistoryRequest{Email: "A@x.com"}, want: lastDay},
			{name: "OK/MaxPointsBounds", req: &pb.GetPriceHistoryRequest{Email: "a@x.com", MaxPoints: 2000}, want: lastDay},
			{name: "OK/Range", req: &pb.GetPriceHistoryRequest{Email: "a@x.com", Since: tsp(ago(26 * time.Hour)), Until: tsp(ago(90 * time.Minute))},
				want: &pb.PriceHistory{Ticker: "AAPL", Currency: "USD", Since: tsp(ago(26 * time.Hour)), Until: tsp(ago(90 * time.Minute)),
					Points: []*pb.PricePoint{point(25*time.Hour, 100), point(2*time.Hour, 110)}, Count: 2,
					First: point(25*time.Hour, 100), Last: point(2*time.Hour, 110), Min: point(25*time.Hour, 100), Max: point(2*time.Hour, 110),
					ChangePercent: 10}},
			{name: "OK/OnePoint", req: &pb.GetPriceHistoryRequest{Email: "a@x.com", MaxPoints: 1},
				want: &pb.PriceHistory{Ticker: "AAPL", Currency: "USD", Since: tsp(ago(24 * time.Hour)), Until: tsp(t0us),
					Points: []*pb.PricePoint{point(time.Hour, 99)}, Count: 2,
					First: point(2*time.Hour, 110), Last: point(time.Hour, 99), Min: point(time.Hour, 99), Max: point(2*time.Hour, 110),
					ChangePercent: -10}},
			{name: "OK/EmptyRange", req: &pb.GetPriceHistoryRequest{Email: "a@x.com", Since: tsp(ago(50 * time.Hour)), Until: tsp(ago(49 * time.Hour))},
				want: &pb.PriceHistory{Ticker: "AAPL", Since: tsp(ago(50 * time.Hour)), Until: tsp(ago(49 * time.Hour))}},
			{name: "OK/Max366Days", req: &pb.GetPriceHistoryRequest{Email: "a@x.com", Since: tsp(ago(366 * 24 * time.Hour)), MaxPoints: 4},
				want: &pb.PriceHistory{Ticker: "AAPL", Currency: "USD", Since: tsp(ago(366 * 24 * time.Hour)), Until: tsp(t0us),
					Points: []*pb.PricePoint{point(25*time.Hour, 100), point(2*time.Hour, 110), point(time.Hour, 99)}, Count: 3,
					First: point(25*time.Hour, 100), Last: point(time.Hour, 99), Min: point(time.Hour, 99), Max: point(2*time.Hour, 110),
					ChangePercent: -1}},

			{name: "InvalidArgument/EmailEmpty", req: &pb.GetPriceHistoryRequest{},
				code: codes.InvalidArgument, msg: "email is required"},
			{name: "InvalidArgument/Email", req: &pb.GetPriceHistoryRequest{Email: "not-an-email"},
				code: codes.InvalidArgument, msg: `email "not-an-email" is not a valid address`},
			{name: "InvalidArgument/SinceInvalid", req: &pb.GetPriceHistoryRequest{Email: "a@x.com", Since: badTime},
				code: codes.InvalidArgument, msg: "since is not a valid timestamp"},
			{name: "InvalidArgument/UntilInvalid", req: &pb.GetPriceHistoryRequest{Email: "a@x.com", Until: &timestamppb.Timestamp{Seconds: 253402300800}},
				code: codes.InvalidArgument, msg: "until is not a valid timestamp"},
			{name: "InvalidArgument/SinceNotBeforeUntil", req: &pb.GetPriceHistoryRequest{Email: "a@x.com", Since: tsp(t0us), Until: tsp(t0us)},
				code: codes.InvalidArgument, msg: "since (2026-11-27T14:30:00.123456Z) must be before until (2026-11-27T14:30:00.123456Z)"},
			{name: "InvalidArgument/SinceInTheFuture", req: &pb.GetPriceHistoryRequest{Email: "a@x.com", Since: tsp(t0us.Add(time.Hour))},
				code: codes.InvalidArgument, msg: "since (2026-11-27T15:30:00.123456Z) must be before until (2026-11-27T14:30:00.123456Z)"},
			{name: "InvalidArgument/RangeTooLong", req: &pb.GetPriceHistoryRequest{Email: "a@x.com", Since: tsp(ago(367 * 24 * time.Hour))},
				code: codes.InvalidArgument, msg: "since to until must span at most 366 days, got 8808h0m0s"},
			{name: "InvalidArgument/MaxPointsNegative", req: &pb.GetPriceHistoryRequest{Email: "a@x.com", MaxPoints: -1},
				code: codes.InvalidArgument, msg: "max_points must be between 1 and 2000, got -1"},
			{name: "InvalidArgument/MaxPointsTooMany", req: &pb.GetPriceHistoryRequest{Email: "a@x.com", MaxPoints: 2001},
				code: codes.InvalidArgument, msg: "max_points must be between 1 and 2000, got 2001"},
			{name: "NotFound", req: &pb.GetPriceHistoryRequest{Email: "nobody@x.com"},
				code: codes.NotFound, msg: "user nobody@x.com not found"},
			{name: "FailedPrecondition/NoPriceYet", req: &pb.GetPriceHistoryRequest{Email: "new@x.com"},
				code: codes.FailedPrecondition, msg: "no price collected yet for NEW"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := e.client.GetPriceHistory(ctxTimeout(t), tt.req)
				wantAnswer(t, got, err, tt.code, tt.msg, tt.want)
			})
		}
	})
}
