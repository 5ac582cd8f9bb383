package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/stockwatch/stockwatch/internal/events"
	"github.com/stockwatch/stockwatch/internal/events/natstest"
	"github.com/stockwatch/stockwatch/internal/notifier/notifiertest"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/yahoo/yahootest"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// TestEventsEndToEnd runs -role all with -nats-url against a private
// nats-server: a price moving 201 → 212 → 213 → 199 → 212 across a band
// 200–210 publishes five price events and three alert events, each once
// with its id; when every mark is lost (as when the publisher dies after
// the acks) the daemon publishes them all again and JetStream drops the
// repeats.
func TestEventsEndToEnd(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		srv := natstest.Start(t)
		up := yahootest.NewServer(t)
		base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		up.SetQuote("AAPL", 201, "USD", base)
		hook := notifiertest.NewReceiver(t)
		dbURL := storetest.URL(t, b)
		addr, _ := startInProcess(t, "-role", "all", "-db", dbURL, "-yahoo-url", up.URL(), "-interval", "100ms", "-nats-url", srv.URL)
		c := dial(t, addr)
		ctx := context.Background()
		if _, err := c.RegisterUser(ctx, &pb.RegisterUserRequest{Email: "a@x.com", Ticker: "AAPL"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.SetAlert(ctx, &pb.SetAlertRequest{Email: "a@x.com", Above: 210, Below: 200,
			Channels: []pb.Channel{pb.Channel_CHANNEL_WEBHOOK}, WebhookUrl: hook.URL}); err != nil {
			t.Fatal(err)
		}
		quoteInTurn(t, up, c, base, 212, 213, 199, 212)
		db := storetest.OpenURL(t, dbURL)
		eventually(t, "eight events published", func() bool {
			return storetest.Count(t, db, "events", "publish_time <> 0") == 8
		})
		check := func() {
			t.Helper()
			var got []string
			ids := map[string]int{}
			for _, m := range natstest.Messages(t, srv.URL, events.StreamName) {
				var body struct {
					Type, Direction string
					Price           float64
				}
				if err := json.Unmarshal(m.Data(), &body); err != nil {
					t.Fatal(err)
				}
				ids[m.Headers().Get(jetstream.MsgIDHeader)]++
				got = append(got, fmt.Sprintf("%s %s %s %g", m.Subject(), body.Type, body.Direction, body.Price))
			}
			// Price events of one transaction come before its alert events.
			want := []string{
				"stockwatch.prices.AAPL price  201",
				"stockwatch.prices.AAPL price  212", "stockwatch.alerts.AAPL alert.crossed above 212",
				"stockwatch.prices.AAPL price  213",
				"stockwatch.prices.AAPL price  199", "stockwatch.alerts.AAPL alert.crossed below 199",
				"stockwatch.prices.AAPL price  212", "stockwatch.alerts.AAPL alert.crossed above 212",
			}
			if !slices.Equal(got, want) {
				t.Fatalf("stream holds\n%q\nwant\n%q", got, want)
			}
			for i := range 8 {
				if id := fmt.Sprintf("evt_%d", i+1); ids[id] != 1 {
					t.Errorf("%s in the stream %d times, want once", id, ids[id])
				}
			}
		}
		check()

		storetest.MustExec(t, db, `UPDATE events SET publish_time = 0`)
		eventually(t, "the eight published again", func() bool {
			return storetest.Count(t, db, "events", "publish_time = 0") == 0
		})
		check()
		fmt.Printf("events-e2e (%s): 5 price and 3 alert events, each once in the stream; all 8 published again (marks lost) and dropped as duplicates\n", b)
	})
}
