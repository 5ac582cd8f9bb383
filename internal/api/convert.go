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
	return &pb.User{Email: u.Email, Ticker: u.Ticker, CreateTime: ts(u.CreateTime), UpdateTime: ts(u.UpdateTime), TickerStatus: tickerStatusEnum.pb(u.TickerStatus)}
}

// enum pairs each value of a domain enumeration with its proto value:
// one table read both ways.
type enum[D, P comparable] []struct {
	d D
	p P
}

// pb returns the proto value of d, or the proto's zero value
// (UNSPECIFIED) when the table has none.
func (e enum[D, P]) pb(d D) P {
	for _, v := range e {
		if v.d == d {
			return v.p
		}
	}
	var unspecified P
	return unspecified
}

// of returns the domain value of p, and false when the table has none.
func (e enum[D, P]) of(p P) (D, bool) {
	for _, v := range e {
		if v.p == p {
			return v.d, true
		}
	}
	var none D
	return none, false
}

var tickerStatusEnum = enum[stock.TickerStatus, pb.TickerStatus]{
	{stock.TickerVerified, pb.TickerStatus_TICKER_STATUS_VERIFIED},
	{stock.TickerUnverified, pb.TickerStatus_TICKER_STATUS_UNVERIFIED},
	{stock.TickerUnknown, pb.TickerStatus_TICKER_STATUS_UNKNOWN},
}

var channelEnum = enum[stock.Channel, pb.Channel]{
	{stock.ChannelEmail, pb.Channel_CHANNEL_EMAIL},
	{stock.ChannelWebhook, pb.Channel_CHANNEL_WEBHOOK},
}

var notificationStateEnum = enum[stock.NotificationState, pb.NotificationState]{
	{stock.NotificationDue, pb.NotificationState_NOTIFICATION_STATE_DUE},
	{stock.NotificationSent, pb.NotificationState_NOTIFICATION_STATE_SENT},
	{stock.NotificationFailed, pb.NotificationState_NOTIFICATION_STATE_FAILED},
}

func userWithPricePB(u stock.UserWithPrice) *pb.UserWithPrice {
	out := &pb.UserWithPrice{User: userPB(u.User)}
	if u.Latest != nil {
		out.LatestPrice = pricePB(*u.Latest)
	}
	return out
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

// channelOf returns the domain channel of c; one the table lacks keeps
// its proto name, which validation then rejects by name.
func channelOf(c pb.Channel) stock.Channel {
	if ch, ok := channelEnum.of(c); ok {
		return ch
	}
	return stock.Channel(c.String())
}

func alertPB(a stock.Alert) *pb.Alert {
	out := &pb.Alert{
		Email: a.Email, Ticker: a.Ticker, Above: a.Above, Below: a.Below, WebhookUrl: a.WebhookURL,
		WebhookSecret: a.WebhookSecret, HysteresisPercent: a.Hysteresis * 100, CreateTime: ts(a.CreateTime),
	}
	for _, c := range a.Channels {
		out.Channels = append(out.Channels, channelEnum.pb(c))
	}
	return out
}

func notificationPB(n stock.Notification) *pb.Notification {
	return &pb.Notification{
		Id: stock.NotificationID(n.ID), Ticker: n.Price.Ticker, Price: n.Price.Price, Currency: n.Price.Currency,
		MarketTime: ts(n.Price.MarketTime), Threshold: n.Threshold, Direction: string(n.Direction),
		Channel: channelEnum.pb(n.Channel), State: notificationStateEnum.pb(n.State), Attempts: int32(n.Attempts), LastError: n.LastError,
		CreateTime: ts(n.CreateTime), SentTime: ts(n.SentTime),
	}
}
