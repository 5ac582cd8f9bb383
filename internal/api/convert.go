package api

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/stockwatch/stockwatch/internal/stock"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func userPB(u stock.User) *pb.User {
	return &pb.User{Email: u.Email, Ticker: u.Ticker, CreateTime: ts(u.CreateTime), UpdateTime: ts(u.UpdateTime), TickerStatus: tickerStatusPB(u.TickerStatus)}
}

func tickerStatusPB(s stock.TickerStatus) pb.TickerStatus {
	switch s {
	case stock.TickerVerified:
		return pb.TickerStatus_TICKER_STATUS_VERIFIED
	case stock.TickerUnverified:
		return pb.TickerStatus_TICKER_STATUS_UNVERIFIED
	case stock.TickerUnknown:
		return pb.TickerStatus_TICKER_STATUS_UNKNOWN
	}
	return pb.TickerStatus_TICKER_STATUS_UNSPECIFIED
}

func pricePB(p stock.Price) *pb.Price {
	return &pb.Price{Ticker: p.Ticker, Price: p.Price, Currency: p.Currency, MarketTime: ts(p.MarketTime), CollectTime: ts(p.CollectTime)}
}

func averagePB(a stock.Average) *pb.AveragePrice {
	return &pb.AveragePrice{
		Ticker: a.Ticker, Average: a.Average, Currency: a.Currency,
		Count: int32(a.Count), Requested: int32(a.Requested),
		OldestMarketTime: ts(a.Oldest), NewestMarketTime: ts(a.Newest),
	}
}

func pointPB(p stock.PricePoint) *pb.PricePoint {
	return &pb.PricePoint{MarketTime: ts(p.MarketTime), Price: p.Price}
}

func historyPB(h stock.History) *pb.PriceHistory {
	out := &pb.PriceHistory{
		Ticker: h.Ticker, Currency: h.Currency, Since: ts(h.Since), Until: ts(h.Until),
		Points: make([]*pb.PricePoint, len(h.Points)), Count: int32(h.Count), ChangePercent: h.ChangePercent(),
	}
	for i, p := range h.Points {
		out.Points[i] = pointPB(p)
	}
	if h.Count > 0 {
		out.First, out.Last, out.Min, out.Max = pointPB(h.First), pointPB(h.Last), pointPB(h.Min), pointPB(h.Max)
	}
	return out
}
