package notifier_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/notifier"
	"github.com/stockwatch/stockwatch/internal/notifier/notifiertest"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
)

// TestSMTPDownThenUp: with the SMTP server stopped (connections
// refused), e-mail notifications are retried with backoff behind the
// e-mail breaker and stay due; once the server is started again each is
// delivered exactly once, with its id, and marked sent.
func TestSMTPDownThenUp(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.Open(t, b)
		ctx := context.Background()
		clk := testkit.NewClock(t0)
		s := notifiertest.NewSMTP(t, nil, "", "")
		e, err := notifier.NewEmail("smtp://"+s.Addr+"?starttls=none", "alerts@stockwatch.test", nil)
		if err != nil {
			t.Fatal(err)
		}
		const users = 3
		for i := range users {
			email := fmt.Sprintf("u%d@x.com", i)
			storetest.AddUser(t, db, email, "AAPL", t0)
			if err := db.Tx(ctx, func(ctx context.Context, tx stock.Tx) error {
				_, err := tx.SetAlert(ctx, stock.Alert{Email: email, Above: 210, Channels: []stock.Channel{stock.ChannelEmail},
					Hysteresis: stock.DefaultHysteresis, CreateTime: t0})
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.InsertPrices(ctx, []stock.Price{{Ticker: "AAPL", Price: 211, Currency: "USD", MarketTime: t0, CollectTime: t0}}); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex // OnResult runs on the notifier's senders
		results := map[notifier.Result]int{}
		count := func(r notifier.Result) int { mu.Lock(); defer mu.Unlock(); return results[r] }
		nt := notifier.New(db, map[stock.Channel]notifier.Sender{stock.ChannelEmail: e}, notifier.Config{
			Now: clk.Now, Backoff: 10 * time.Second, MaxAttempts: 8, BreakerFailures: 2, BreakerTimeout: 100 * time.Millisecond,
			OnResult: func(_ stock.Channel, r notifier.Result, _ time.Duration) { mu.Lock(); results[r]++; mu.Unlock() },
		})

		s.Stop()
		for range 3 { // claimed, refused, due again after the backoff
			if _, err := nt.Once(ctx); err != nil {
				t.Fatal(err)
			}
			clk.Advance(time.Hour)
			time.Sleep(150 * time.Millisecond) // the breaker half-opens
		}
		if n, err := db.DueNotifications(ctx); err != nil || n != users {
			t.Fatalf("while SMTP is down: %d due, %v; want %d", n, err, users)
		}
		if len(s.Messages()) != 0 || count(notifier.ResultRetry) == 0 {
			t.Fatalf("while SMTP is down: %d messages, results %v; want none and retries", len(s.Messages()), results)
		}

		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			if n, err := db.DueNotifications(ctx); err != nil || n == 0 {
				break
			}
			if i == 20 {
				t.Fatalf("not delivered after SMTP came back; results %v", results)
			}
			if _, err := nt.Once(ctx); err != nil {
				t.Fatal(err)
			}
			clk.Advance(time.Hour)
			time.Sleep(150 * time.Millisecond)
		}
		var ids []string
		for _, m := range s.Messages() {
			ids = append(ids, m.Header.Get("Message-Id"))
		}
		slices.Sort(ids)
		want := []string{"<ntf_1@stockwatch.test>", "<ntf_2@stockwatch.test>", "<ntf_3@stockwatch.test>"}
		if !slices.Equal(ids, want) {
			t.Fatalf("Message-IDs received = %v, want %v (once each)", ids, want)
		}
		if count(notifier.ResultSent) != users || count(notifier.ResultFailed) != 0 {
			t.Errorf("results %v: want %d sent, none failed", results, users)
		}
		fmt.Printf("smtp-down-up (%s): %d e-mails, each delivered once after the restart; %d retries, %d deferred by the breaker, %d sent, 0 failed\n",
			b, users, count(notifier.ResultRetry), count(notifier.ResultDeferred), count(notifier.ResultSent))
	})
}
