package main

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/notifier/notifiertest"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/yahoo/yahootest"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// TestAlertsEndToEnd runs -role all against a fake Yahoo, an SMTP server
// and a webhook receiver: with a band above 210 and below 200, a price
// moving 201 → 212 → 213 → 199 → 212 crosses three times (213 is still
// above, 212 again comes after 199 re-armed the top), and each crossing
// is sent exactly once on each channel, signed, with its id.
func TestAlertsEndToEnd(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		up := yahootest.NewServer(t)
		base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		up.SetQuote("AAPL", 201, "USD", base)
		mail := notifiertest.NewSMTP(t, nil, "", "")
		hook := notifiertest.NewReceiver(t)
		addr, _ := startInProcess(t, "-role", "all", "-db", storetest.URL(t, b), "-yahoo-url", up.URL(), "-interval", "100ms",
			"-smtp-url", "smtp://"+mail.Addr+"?starttls=none", "-mail-from", "alerts@stockwatch.test")
		c := dial(t, addr)
		ctx := context.Background()
		if _, err := c.RegisterUser(ctx, &pb.RegisterUserRequest{Email: "a@x.com", Ticker: "AAPL"}); err != nil {
			t.Fatal(err)
		}
		a, err := c.SetAlert(ctx, &pb.SetAlertRequest{Email: "a@x.com", Above: 210, Below: 200,
			Channels: []pb.Channel{pb.Channel_CHANNEL_EMAIL, pb.Channel_CHANNEL_WEBHOOK}, WebhookUrl: hook.URL})
		if err != nil {
			t.Fatal(err)
		}
		hook.Check(a.GetWebhookSecret(), time.Now)

		quoteInTurn(t, up, c, base, 212, 213, 199, 212)
		var ns []*pb.Notification
		eventually(t, "six notifications sent", func() bool {
			resp, err := c.ListNotifications(ctx, &pb.ListNotificationsRequest{Email: "a@x.com"})
			ns = resp.GetNotifications()
			sent := 0
			for _, n := range ns {
				if n.GetState() == pb.NotificationState_NOTIFICATION_STATE_SENT {
					sent++
				}
			}
			return err == nil && sent == 6 && len(hook.Received()) == 3 && len(mail.Messages()) == 3
		})
		time.Sleep(1500 * time.Millisecond) // more than a notifier poll: nothing more comes

		var told, webhookIDs, mailIDs []string
		for _, n := range slices.Backward(ns) {
			if n.GetChannel() == pb.Channel_CHANNEL_WEBHOOK {
				told = append(told, n.GetDirection())
				webhookIDs = append(webhookIDs, n.GetId())
			} else {
				mailIDs = append(mailIDs, "<"+n.GetId()+"@stockwatch.test>")
			}
		}
		if want := []string{"above", "below", "above"}; !slices.Equal(told, want) {
			t.Errorf("crossings = %v, want %v", told, want)
		}
		// Sent four at a time: in any order, but each once.
		if got := slices.Sorted(slices.Values(hook.IDs())); !slices.Equal(got, slices.Sorted(slices.Values(webhookIDs))) {
			t.Errorf("webhook-ids received = %v, want %v (once each)", got, webhookIDs)
		}
		var gotMail []string
		for _, m := range mail.Messages() {
			gotMail = append(gotMail, m.Header.Get("Message-Id"))
			if to := m.Header.Get("To"); to != "<a@x.com>" {
				t.Errorf("e-mail to %q, want <a@x.com>", to)
			}
		}
		slices.Sort(gotMail)
		if slices.Sort(mailIDs); !slices.Equal(gotMail, mailIDs) {
			t.Errorf("Message-IDs received = %v, want %v (once each)", gotMail, mailIDs)
		}
		told = nil
		for _, d := range hook.Received() {
			told = append(told, fmt.Sprintf("%s %s %g", d.Payload.Data.ID, d.Payload.Data.Direction, d.Payload.Data.Price))
		}
		slices.Sort(told)
		want := []string{webhookIDs[0] + " above 212", webhookIDs[1] + " below 199", webhookIDs[2] + " above 212"}
		if slices.Sort(want); !slices.Equal(told, want) {
			t.Errorf("webhook payloads = %v, want %v", told, want)
		}
	})
}

// quoteInTurn quotes AAPL at each of prices in turn, a minute apart after
// base, and waits each time until the collector has stored it as
// a@x.com's latest price.
func quoteInTurn(t *testing.T, up *yahootest.Server, c pb.StockServiceClient, base time.Time, prices ...float64) {
	t.Helper()
	for i, p := range prices {
		up.SetQuote("AAPL", p, "USD", base.Add(time.Duration(i+1)*time.Minute))
		eventually(t, "the collector to store the price", func() bool {
			got, err := c.GetLatestPrice(context.Background(), &pb.GetLatestPriceRequest{Email: "a@x.com"})
			return err == nil && got.GetPrice() == p
		})
	}
}
