package api

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/stockwatch/stockwatch/internal/stock"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// GetPriceHistory returns the prices of the user's ticker in a range,
// downsampled. INVALID_ARGUMENT for a bad e-mail, timestamp, range or
// max_points, NOT_FOUND for an unknown user, FAILED_PRECONDITION before
// any price.
func (s *service) GetPriceHistory(ctx context.Context, req *pb.GetPriceHistoryRequest) (*pb.PriceHistory, error) {
	email, err := stock.ParseEmail(req.GetEmail())
	if err != nil {
		return nil, err
	}
	since, err := optionalTime(req.GetSince(), "since")
	if err != nil {
		return nil, err
	}
	until, err := optionalTime(req.GetUntil(), "until")
	if err != nil {
		return nil, err
	}
	if since, until, err = stock.HistoryRange(since, until, s.now()); err != nil {
		return nil, err
	}
	n, err := stock.HistoryPoints(req.GetMaxPoints())
	if err != nil {
		return nil, err
	}
	h, err := s.store.PriceHistory(ctx, email, since, until, n)
	if err != nil {
		return nil, err
	}
	return historyPB(h), nil
}

// optionalTime returns t as a time, zero when t is absent. It returns an
// error of KindInvalid, naming the field, for a timestamp out of range.
func optionalTime(t *timestamppb.Timestamp, field string) (time.Time, error) {
	if t == nil {
		return time.Time{}, nil
	}
	if err := t.CheckValid(); err != nil {
		return time.Time{}, stock.Errorf(stock.KindInvalid, "%s is not a valid timestamp", field)
	}
	return t.AsTime(), nil
}
