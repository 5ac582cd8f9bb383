package api_test

import (
	"encoding/base64"
	"math"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

var (
	email   = []pb.Channel{pb.Channel_CHANNEL_EMAIL}
	webhook = []pb.Channel{pb.Channel_CHANNEL_WEBHOOK}
	both    = []pb.Channel{pb.Channel_CHANNEL_EMAIL, pb.Channel_CHANNEL_WEBHOOK}
)

// TestSetAlertInvalid: every bad field is refused with its own message,
// before anything is stored.
func TestSetAlertInvalid(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		e.register(t, "alice@x.com", "AAPL")
		inf := math.Inf(1)
		runAnswers(t, e.client.SetAlert, []answerCase[*pb.SetAlertRequest, *pb.Alert]{
			{name: "NotFound", req: &pb.SetAlertRequest{Email: "bob@x.com", Above: 1, Channels: email},
				code: codes.NotFound, msg: "user bob@x.com not found"},
			{name: "InvalidArgument/Email", req: &pb.SetAlertRequest{Email: "bob", Above: 1, Channels: email},
				code: codes.InvalidArgument, msg: `email "bob" is not a valid address`},
			{name: "InvalidArgument/NoThreshold", req: &pb.SetAlertRequest{Email: "alice@x.com", Channels: email},
				code: codes.InvalidArgument, msg: "above or below is required"},
			{name: "InvalidArgument/NegativeAbove", req: &pb.SetAlertRequest{Email: "alice@x.com", Above: -1, Channels: email},
				code: codes.InvalidArgument, msg: "above must be positive, got -1"},
			{name: "InvalidArgument/NegativeBelow", req: &pb.SetAlertRequest{Email: "alice@x.com", Below: -0.5, Channels: email},
				code: codes.InvalidArgument, msg: "below must be positive, got -0.5"},
			{name: "InvalidArgument/Infinite", req: &pb.SetAlertRequest{Email: "alice@x.com", Above: inf, Channels: email},
				code: codes.InvalidArgument, msg: "above must be a finite number"},
			{name: "InvalidArgument/BelowNotUnderAbove", req: &pb.SetAlertRequest{Email: "alice@x.com", Above: 200, Below: 200, Channels: email},
				code: codes.InvalidArgument, msg: "below (200) must be less than above (200)"},
			{name: "InvalidArgument/NoChannel", req: &pb.SetAlertRequest{Email: "alice@x.com", Above: 1},
				code: codes.InvalidArgument, msg: "at least one channel is required"},
			{name: "InvalidArgument/UnspecifiedChannel", req: &pb.SetAlertRequest{Email: "alice@x.com", Above: 1, Channels: []pb.Channel{0}},
				code: codes.InvalidArgument, msg: `channel "CHANNEL_UNSPECIFIED" is not valid (email or webhook)`},
			{name: "InvalidArgument/WebhookWithoutURL", req: &pb.SetAlertRequest{Email: "alice@x.com", Above: 1, Channels: webhook},
				code: codes.InvalidArgument, msg: "webhook_url is required with the webhook channel"},
			{name: "InvalidArgument/URLWithoutWebhook", req: &pb.SetAlertRequest{Email: "alice@x.com", Above: 1, Channels: email, WebhookUrl: "https://h.example/x"},
				code: codes.InvalidArgument, msg: "webhook_url is set without the webhook channel"},
			{name: "InvalidArgument/URLScheme", req: &pb.SetAlertRequest{Email: "alice@x.com", Above: 1, Channels: webhook, WebhookUrl: "file:///etc/passwd"},
				code: codes.InvalidArgument, msg: "webhook_url must be an http or https URL without credentials"},
			{name: "InvalidArgument/URLCredentials", req: &pb.SetAlertRequest{Email: "alice@x.com", Above: 1, Channels: webhook, WebhookUrl: "https://u:p@h.example/"},
				code: codes.InvalidArgument, msg: "webhook_url must be an http or https URL without credentials"},
			{name: "InvalidArgument/URLTooLong", req: &pb.SetAlertRequest{Email: "alice@x.com", Above: 1, Channels: webhook, WebhookUrl: "https://h.example/" + strings.Repeat("x", 2048)},
				code: codes.InvalidArgument, msg: "webhook_url is longer than 2048 bytes"},
		}, nil)
		_, err := e.client.GetAlert(ctxTimeout(t), &pb.GetAlertRequest{Email: "alice@x.com"})
		wantStatus(t, err, codes.NotFound, "user alice@x.com has no alert")
	})
}

// TestAlertLifecycle: SetAlert answers the secret once (and its replay
// the same bytes), GetAlert never; a change of ticker clears the band
// and says so; DeleteAlert removes it.
func TestAlertLifecycle(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		ctx := ctxTimeout(t)
		e.register(t, "alice@x.com", "AAPL")
		req := &pb.SetAlertRequest{RequestId: newID(t), Email: " Alice@x.com", Above: 210, Below: 200,
			Channels: []pb.Channel{2, 1, 2}, WebhookUrl: "https://hooks.example/sw"}
		first, err := e.client.SetAlert(ctx, req)
		mustOK(t, err)
		secret, ok := strings.CutPrefix(first.GetWebhookSecret(), "whsec_")
		if key, err := base64.StdEncoding.DecodeString(secret); !ok || err != nil || len(key) != 32 {
			t.Errorf("webhook_secret = %q, want whsec_ and the base64 of 32 bytes", first.GetWebhookSecret())
		}
		want := &pb.Alert{Email: "alice@x.com", Ticker: "AAPL", Above: 210, Below: 200, Channels: both,
			WebhookUrl: "https://hooks.example/sw", WebhookSecret: first.GetWebhookSecret(), HysteresisPercent: 0.5, CreateTime: tsp(t0us)}
		diffProto(t, want, first)
		replay, err := e.client.SetAlert(ctx, req)
		mustOK(t, err)
		wantSameBytes(t, first, replay)

		want.WebhookSecret = ""
		got, err := e.client.GetAlert(ctx, &pb.GetAlertRequest{Email: "alice@x.com"})
		mustOK(t, err)
		diffProto(t, want, got)
		again, err := e.client.SetAlert(ctx, &pb.SetAlertRequest{Email: "alice@x.com", Above: 220, Channels: email})
		mustOK(t, err)
		diffProto(t, &pb.Alert{Email: "alice@x.com", Ticker: "AAPL", Above: 220, Channels: email, HysteresisPercent: 0.5, CreateTime: tsp(t0us)}, again)

		e.clock.Advance(time.Minute)
		same, err := e.client.UpdateUser(ctx, &pb.UpdateUserRequest{Email: "alice@x.com", Ticker: "AAPL"})
		mustOK(t, err)
		if same.GetAlertCleared() {
			t.Error("UpdateUser to the same ticker: alert_cleared = true")
		}
		moved, err := e.client.UpdateUser(ctx, &pb.UpdateUserRequest{Email: "alice@x.com", Ticker: "MSFT"})
		mustOK(t, err)
		if !moved.GetAlertCleared() {
			t.Error("UpdateUser to another ticker: alert_cleared = false")
		}
		_, err = e.client.GetAlert(ctx, &pb.GetAlertRequest{Email: "alice@x.com"})
		wantStatus(t, err, codes.NotFound, "user alice@x.com has no alert")

		_, err = e.client.SetAlert(ctx, &pb.SetAlertRequest{Email: "alice@x.com", Below: 5, Channels: email})
		mustOK(t, err)
		_, err = e.client.DeleteAlert(ctx, &pb.DeleteAlertRequest{RequestId: newID(t), Email: "alice@x.com"})
		mustOK(t, err)
		_, err = e.client.DeleteAlert(ctx, &pb.DeleteAlertRequest{Email: "alice@x.com"})
		wantStatus(t, err, codes.NotFound, "user alice@x.com has no alert")
		_, err = e.client.DeleteAlert(ctx, &pb.DeleteAlertRequest{Email: "bob@x.com"})
		wantStatus(t, err, codes.NotFound, "user bob@x.com not found")
	})
}

// TestListNotifications: the crossings of stored prices, newest first,
// a page at a time; a page token is bound to its user.
func TestListNotifications(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		ctx := ctxTimeout(t)
		e.register(t, "alice@x.com", "AAPL")
		e.register(t, "bob@x.com", "AAPL")
		_, err := e.client.SetAlert(ctx, &pb.SetAlertRequest{Email: "alice@x.com", Above: 210, Below: 200, Channels: email})
		mustOK(t, err)
		for i, p := range []float64{201, 212, 213, 199, 212} {
			e.insertPrices(t, px("AAPL", p, t0us.Add(time.Duration(i)*time.Minute)))
		}
		var got []string
		token := ""
		for {
			page, err := e.client.ListNotifications(ctx, &pb.ListNotificationsRequest{Email: "alice@x.com", PageSize: 2, PageToken: token})
			mustOK(t, err)
			for _, n := range page.GetNotifications() {
				if n.GetState() != pb.NotificationState_NOTIFICATION_STATE_DUE || n.GetChannel() != pb.Channel_CHANNEL_EMAIL || !strings.HasPrefix(n.GetId(), "ntf_") {
					t.Errorf("notification %v: want a due e-mail with an ntf_ id", n)
				}
				got = append(got, n.GetDirection()+" "+n.GetMarketTime().AsTime().Sub(t0us).String())
			}
			if token = page.GetNextPageToken(); token == "" {
				break
			}
			_, err = e.client.ListNotifications(ctx, &pb.ListNotificationsRequest{Email: "bob@x.com", PageToken: token})
			wantStatus(t, err, codes.InvalidArgument, "invalid page_token")
		}
		diffProto(t, []string{"above 4m0s", "below 3m0s", "above 1m0s"}, got)
		_, err = e.client.ListNotifications(ctx, &pb.ListNotificationsRequest{Email: "carol@x.com"})
		wantStatus(t, err, codes.NotFound, "user carol@x.com not found")
	})
}
