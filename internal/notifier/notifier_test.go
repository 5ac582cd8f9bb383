package notifier_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/notifier"
	"github.com/stockwatch/stockwatch/internal/notifier/notifiertest"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
)

var t0 = time.Date(2026, 11, 30, 14, 30, 0, 0, time.UTC)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // the Standard Webhooks example's

// newReceiver starts a webhook receiver that checks every signature.
func newReceiver(tb testing.TB, now func() time.Time, statuses ...int) (*notifiertest.Receiver, string) {
	r := notifiertest.NewReceiver(tb, statuses...)
	r.Check(secret, now)
	return r, r.URL
}

// crossWebhook registers email on ticker with a webhook band above 210
// (secret as above) and stores a price of 211: one due notification.
func crossWebhook(tb testing.TB, db *store.DB, email, ticker, url string, at time.Time) {
	tb.Helper()
	storetest.AddUser(tb, db, email, ticker, at)
	err := db.Tx(context.Background(), func(ctx context.Context, tx stock.Tx) error {
		_, err := tx.SetAlert(ctx, stock.Alert{Email: email, Above: 210, Channels: []stock.Channel{stock.ChannelWebhook},
			WebhookURL: url, WebhookSecret: secret, Hysteresis: stock.DefaultHysteresis, CreateTime: at})
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	p := stock.Price{Ticker: ticker, Price: 211, Currency: "USD", MarketTime: at, CollectTime: at}
	if _, err := db.InsertPrices(context.Background(), []stock.Price{p}); err != nil {
		tb.Fatal(err)
	}
}

// states returns email's notifications, oldest first, as
// "state attempts last_error".
func states(tb testing.TB, db *store.DB, email string) []string {
	tb.Helper()
	ns, err := db.ListNotifications(context.Background(), email, 0, 100)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, n := range slices.Backward(ns) {
		out = append(out, fmt.Sprintf("%s %d %q next+%s", n.State, n.Attempts, n.LastError, n.NextTime.Sub(t0)))
	}
	return out
}

func once(tb testing.TB, nt *notifier.Notifier, want int) {
	tb.Helper()
	n, err := nt.Once(context.Background())
	if err != nil || n != want {
		tb.Fatalf("Once = %d, %v; want %d claimed", n, err, want)
	}
}

// TestRetryThenSent: a failed delivery is due again after the backoff
// (doubling, jitter drawn as 0: half of it), not before; every attempt
// carries the same id and a valid signature.
func TestRetryThenSent(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		clk := testkit.NewClock(t0)
		rcv, url := newReceiver(t, clk.Now, 500, 503)
		crossWebhook(t, db, "a@x.com", "AAPL", url, t0)
		var results []notifier.Result
		nt := notifier.New(db, map[stock.Channel]notifier.Sender{stock.ChannelWebhook: notifier.NewWebhook(nil, clk.Now)}, notifier.Config{
			Now: clk.Now, Rand: func() float64 { return 0 }, Backoff: 10 * time.Second, MaxAttempts: 5, BreakerFailures: 100,
			OnResult: func(_ stock.Channel, r notifier.Result, _ time.Duration) { results = append(results, r) },
		})
		once(t, nt, 1)
		if diff := cmp.Diff([]string{`due 1 "webhook answered 500 Internal Server Error" next+5s`}, states(t, db, "a@x.com")); diff != "" {
			t.Errorf("after a 500, mismatch (-want +got):\n%s", diff)
		}
		clk.Advance(4 * time.Second)
		once(t, nt, 0) // not due yet
		clk.Advance(time.Second)
		once(t, nt, 1)
		if diff := cmp.Diff([]string{`due 2 "webhook answered 503 Service Unavailable" next+15s`}, states(t, db, "a@x.com")); diff != "" {
			t.Errorf("after a 503, mismatch (-want +got):\n%s", diff)
		}
		clk.Advance(10 * time.Second)
		once(t, nt, 1)
		if diff := cmp.Diff([]string{`sent 3 "" next+15s`}, states(t, db, "a@x.com")); diff != "" {
			t.Errorf("after a 204, mismatch (-want +got):\n%s", diff)
		}
		once(t, nt, 0)
		if diff := cmp.Diff([]string{"ntf_1", "ntf_1", "ntf_1"}, rcv.IDs()); diff != "" {
			t.Errorf("webhook-ids mismatch (-want +got):\n%s", diff)
		}
		want := notifier.Crossed{ID: "ntf_1", Email: "a@x.com", Ticker: "AAPL", Direction: "above", Threshold: 210, Price: 211, Currency: "USD", MarketTime: t0}
		if diff := cmp.Diff(want, rcv.Received()[2].Payload.Data); diff != "" || rcv.Received()[2].Payload.Type != "price.crossed" {
			t.Errorf("payload %q mismatch (-want +got):\n%s", rcv.Received()[2].Payload.Type, diff)
		}
		if diff := cmp.Diff([]notifier.Result{notifier.ResultRetry, notifier.ResultRetry, notifier.ResultSent}, results); diff != "" {
			t.Errorf("results mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestFailedAfterMaxAttempts: the last allowed attempt's failure makes
// the notification failed, with its error, and it is never tried again.
func TestFailedAfterMaxAttempts(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		clk := testkit.NewClock(t0)
		rcv, url := newReceiver(t, clk.Now, 500, 500, 500)
		crossWebhook(t, db, "a@x.com", "AAPL", url, t0)
		nt := notifier.New(db, map[stock.Channel]notifier.Sender{stock.ChannelWebhook: notifier.NewWebhook(nil, clk.Now)}, notifier.Config{
			Now: clk.Now, Rand: func() float64 { return 0 }, Backoff: time.Second, MaxAttempts: 2, BreakerFailures: 100,
		})
		once(t, nt, 1)
		clk.Advance(time.Minute)
		once(t, nt, 1)
		clk.Advance(time.Hour)
		once(t, nt, 0)
		if diff := cmp.Diff([]string{`failed 2 "webhook answered 500 Internal Server Error" next+500ms`}, states(t, db, "a@x.com")); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
		if n := len(rcv.IDs()); n != 2 {
			t.Errorf("receiver saw %d attempts, want 2", n)
		}
	})
}

// TestBreakerDefers: once a host's breaker opens, its notifications are
// deferred without an attempt (nothing reaches the host), while another
// host's are delivered.
func TestBreakerDefers(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		clk := testkit.NewClock(t0)
		bad, badURL := newReceiver(t, clk.Now, 500, 500, 500)
		good, goodURL := newReceiver(t, clk.Now)
		crossWebhook(t, db, "a@x.com", "AAPL", badURL, t0)
		crossWebhook(t, db, "b@x.com", "MSFT", badURL, t0.Add(time.Second))
		crossWebhook(t, db, "c@x.com", "IBM", goodURL, t0.Add(2*time.Second))
		clk.Advance(3 * time.Second)
		nt := notifier.New(db, map[stock.Channel]notifier.Sender{stock.ChannelWebhook: notifier.NewWebhook(nil, clk.Now)}, notifier.Config{
			Now: clk.Now, Rand: func() float64 { return 0 }, Backoff: 10 * time.Second, Concurrency: 1,
			BreakerFailures: 1, BreakerTimeout: time.Hour,
		})
		once(t, nt, 3)
		if n := len(bad.IDs()); n != 1 {
			t.Errorf("the failing host saw %d requests, want 1 (then its breaker opened)", n)
		}
		if n := len(good.IDs()); n != 1 {
			t.Errorf("the other host saw %d requests, want 1", n)
		}
		if diff := cmp.Diff([]string{`due 0 "" next+8s`}, states(t, db, "b@x.com")); diff != "" {
			t.Errorf("deferred notification mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{`sent 1 "" next+2s`}, states(t, db, "c@x.com")); diff != "" {
			t.Errorf("other host mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestClaimsSplitTheWork: two notifiers' claims are disjoint and cover
// every due notification; an update by a notifier whose claim passed to
// another is ignored.
func TestClaimsSplitTheWork(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for i := range 6 {
			crossWebhook(t, db, fmt.Sprintf("u%d@x.com", i), fmt.Sprintf("T%d", i), "http://127.0.0.1:1/", t0)
		}
		now := t0.Add(time.Minute)
		a, err := db.ClaimNotifications(ctx, "a", now, now.Add(time.Minute), 4)
		if err != nil {
			t.Fatal(err)
		}
		b, err := db.ClaimNotifications(ctx, "b", now, now.Add(time.Minute), 4)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, n := range append(a, b...) {
			ids = append(ids, n.ID)
		}
		if diff := cmp.Diff([]int64{1, 2, 3, 4, 5, 6}, ids); diff != "" || len(a) != 4 {
			t.Errorf("claims of a (%d) and b mismatch (-want +got):\n%s", len(a), diff)
		}
		// a stalls past its lease: b takes its claims over.
		later := now.Add(2 * time.Minute)
		b2, err := db.ClaimNotifications(ctx, "b", later, later.Add(time.Minute), 10)
		if err != nil || len(b2) != 6 {
			t.Fatalf("b's second claim = %d, %v; want all 6", len(b2), err)
		}
		held, err := db.UpdateNotification(ctx, stock.NotificationUpdate{ID: 1, Owner: "a", State: stock.NotificationSent, Attempted: true, SentTime: later})
		if err != nil || held {
			t.Errorf("a's update after losing its claim = %v, %v; want false", held, err)
		}
		held, err = db.UpdateNotification(ctx, stock.NotificationUpdate{ID: 1, Owner: "b", State: stock.NotificationSent, Attempted: true, SentTime: later})
		if err != nil || !held {
			t.Errorf("b's update = %v, %v; want true", held, err)
		}
		if due, err := db.DueNotifications(ctx); err != nil || due != 5 {
			t.Errorf("DueNotifications = %d, %v; want 5", due, err)
		}
	})
}

// TestSignAndVerify: Sign matches the Standard Webhooks reference vector,
// and Verify refuses a changed body, another secret, a stale timestamp
// and missing headers.
func TestSignAndVerify(t *testing.T) {
	t.Parallel()
	body := []byte(`{"test": 2432232314}`)
	sig, err := notifier.Sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; err != nil || sig != want {
		t.Fatalf("Sign = %q, %v; want %q", sig, err, want)
	}
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,bm9wZQ== "+sig)
	at := time.Unix(1614265330, 0).Add(time.Minute)
	if err := notifier.Verify(secret, h, body, at, 5*time.Minute); err != nil {
		t.Errorf("Verify of a good message: %v", err)
	}
	for _, tt := range []struct {
		name, secret string
		body         []byte
		now          time.Time
		header       string
		want         string
	}{
		{"ChangedBody", secret, []byte(`{"test": 1}`), at, "", "no valid webhook-signature"},
		{"OtherSecret", "whsec_" + "c2VjcmV0", body, at, "", "no valid webhook-signature"},
		{"Stale", secret, body, at.Add(time.Hour), "", "webhook-timestamp is 1h1m0s off"},
		{"NoID", secret, body, at, "webhook-id", "missing webhook-id, webhook-timestamp or webhook-signature"},
	} {
		hh := h.Clone()
		if tt.header != "" {
			hh.Del(tt.header)
		}
		if err := notifier.Verify(tt.secret, hh, tt.body, tt.now, 5*time.Minute); err == nil || err.Error() != tt.want {
			t.Errorf("%s: Verify = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestSendTimeoutOpensBreaker: a send that runs out of its own time is a
// failure of the channel, and opens its breaker like any other.
func TestSendTimeoutOpensBreaker(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		clk := testkit.NewClock(t0)
		slow, url := newReceiver(t, clk.Now)
		slow.SetDelay(300 * time.Millisecond)
		crossWebhook(t, db, "a@x.com", "AAPL", url, t0)
		crossWebhook(t, db, "b@x.com", "MSFT", url, t0.Add(time.Second))
		clk.Advance(2 * time.Second)
		nt := notifier.New(db, map[stock.Channel]notifier.Sender{stock.ChannelWebhook: notifier.NewWebhook(nil, clk.Now)}, notifier.Config{
			Now: clk.Now, Rand: func() float64 { return 0 }, Backoff: 10 * time.Second, Concurrency: 1,
			SendTimeout: 50 * time.Millisecond, BreakerFailures: 1, BreakerTimeout: time.Hour,
		})
		once(t, nt, 2)
		ns, err := db.ListNotifications(context.Background(), "a@x.com", 0, 10)
		if err != nil || len(ns) != 1 || ns[0].Attempts != 1 || !strings.HasSuffix(ns[0].LastError, "context deadline exceeded") {
			t.Errorf("timed-out notification = %+v, %v; want 1 attempt failed with the deadline", ns, err)
		}
		if diff := cmp.Diff([]string{`due 0 "" next+7s`}, states(t, db, "b@x.com")); diff != "" {
			t.Errorf("second notification (breaker open) mismatch (-want +got):\n%s", diff)
		}
	})
}
