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
	return &pb.User{Email: u.Email, Ticker: u.Ticker, CreateTime: ts(u.CreateTime), UpdateTime: ts(u.UpdateTime)}
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
