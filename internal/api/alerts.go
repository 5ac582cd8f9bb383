package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/stockwatch/stockwatch/internal/once"
	"github.com/stockwatch/stockwatch/internal/stock"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// SetAlert sets the user's alert band. INVALID_ARGUMENT for a bad field
// (stock.ValidateAlert), NOT_FOUND for an unknown e-mail.
func (s *service) SetAlert(ctx context.Context, req *pb.SetAlertRequest) (*pb.Alert, error) {
	id, email, err := idAndEmail(req)
	if err != nil {
		return nil, err
	}
	var channels []stock.Channel
	for _, c := range req.GetChannels() {
		channels = append(channels, channelOf(c))
	}
	channels, err = stock.ValidateAlert(req.GetAbove(), req.GetBelow(), channels, req.GetWebhookUrl())
	if err != nil {
		return nil, err
	}
	payload := []string{email, strconv.FormatFloat(req.GetAbove(), 'g', -1, 64), strconv.FormatFloat(req.GetBelow(), 'g', -1, 64), req.GetWebhookUrl()}
	for _, c := range channels {
		payload = append(payload, string(c))
	}
	return run[pb.Alert](ctx, s, once.Request{
		Method: pb.StockService_SetAlert_FullMethodName, ID: id, Payload: payload,
		Effect: func(ctx context.Context, tx stock.Tx) (proto.Message, error) {
			a, err := tx.SetAlert(ctx, stock.Alert{
				Email: email, Above: req.GetAbove(), Below: req.GetBelow(), Channels: channels,
				WebhookURL: req.GetWebhookUrl(), WebhookSecret: newWebhookSecret(),
				Hysteresis: s.hysteresis, CreateTime: s.clock(),
			})
			if err != nil {
				return nil, err
			}
			return alertPB(a), nil
		},
	})
}

// newWebhookSecret returns a new webhook signing secret as Standard
// Webhooks writes them: "whsec_" and the base64 of 32 random bytes.
func newWebhookSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// GetAlert returns the user's alert band. INVALID_ARGUMENT for a bad
// e-mail, NOT_FOUND for an unknown user or one without a band.
func (s *service) GetAlert(ctx context.Context, req *pb.GetAlertRequest) (*pb.Alert, error) {
	return readByEmail(ctx, req.GetEmail(), s.store.GetAlert, alertPB)
}

// DeleteAlert clears the user's alert band. INVALID_ARGUMENT for a bad
// field, NOT_FOUND for an unknown user or one without a band.
func (s *service) DeleteAlert(ctx context.Context, req *pb.DeleteAlertRequest) (*pb.DeleteAlertResponse, error) {
	return deleteByEmail[pb.DeleteAlertResponse](ctx, s, pb.StockService_DeleteAlert_FullMethodName, req, stock.Tx.DeleteAlert)
}

// ListNotifications pages through the user's notifications, newest
// first. INVALID_ARGUMENT for a bad e-mail, page size or token,
// NOT_FOUND for an unknown user.
func (s *service) ListNotifications(ctx context.Context, req *pb.ListNotificationsRequest) (*pb.ListNotificationsResponse, error) {
	email, err := stock.ParseEmail(req.GetEmail())
	if err != nil {
		return nil, err
	}
	ns, next, err := listPage(ctx, req, "notifications", "", func(ctx context.Context, tok *pageToken, n int) ([]stock.Notification, error) {
		var before int64
		if tok != nil {
			if tok.Email != email {
				return nil, errBadToken
			}
			before = tok.ID
		}
		return s.store.ListNotifications(ctx, email, before, n)
	}, func(last stock.Notification) pageToken { return pageToken{Email: email, ID: last.ID} }, notificationPB)
	if err != nil {
		return nil, err
	}
	return &pb.ListNotificationsResponse{Notifications: ns, NextPageToken: next}, nil
}
