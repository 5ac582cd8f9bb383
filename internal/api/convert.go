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

func channelOf(c pb.Channel) stock.Channel {
	switch c {
	case pb.Channel_CHANNEL_EMAIL:
		return stock.ChannelEmail
	case pb.Channel_CHANNEL_WEBHOOK:
		return stock.ChannelWebhook
	}
	return stock.Channel(c.String())
}

func channelPB(c stock.Channel) pb.Channel {
	switch c {
	case stock.ChannelEmail:
		return pb.Channel_CHANNEL_EMAIL
	case stock.ChannelWebhook:
		return pb.Channel_CHANNEL_WEBHOOK
	}
	return pb.Channel_CHANNEL_UNSPECIFIED
}

func alertPB(a stock.Alert) *pb.Alert {
	out := &pb.Alert{
		Email: a.Email, Ticker: a.Ticker, Above: a.Above, Below: a.Below, WebhookUrl: a.WebhookURL,
		WebhookSecret: a.WebhookSecret, HysteresisPercent: a.Hysteresis * 100, CreateTime: ts(a.CreateTime),
	}
	for _, c := range a.Channels {
		out.Channels = append(out.Channels, channelPB(c))
	}
	return out
}

func notificationPB(n stock.Notification) *pb.Notification {
	state := map[stock.NotificationState]pb.NotificationState{
		stock.NotificationDue:    pb.NotificationState_NOTIFICATION_STATE_DUE,
		stock.NotificationSent:   pb.NotificationState_NOTIFICATION_STATE_SENT,
		stock.NotificationFailed: pb.NotificationState_NOTIFICATION_STATE_FAILED,
	}[n.State]
	return &pb.Notification{
		Id: stock.NotificationID(n.ID), Ticker: n.Price.Ticker, Price: n.Price.Price, Currency: n.Price.Currency,
		MarketTime: ts(n.Price.MarketTime), Threshold: n.Threshold, Direction: string(n.Direction),
		Channel: channelPB(n.Channel), State: state, Attempts: int32(n.Attempts), LastError: n.LastError,
		CreateTime: ts(n.CreateTime), SentTime: ts(n.SentTime),
	}
}
