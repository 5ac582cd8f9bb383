package faults_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/notifier/notifiertest"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

// hookSecret signs every notification of the scenario.
const hookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// TestNotifierKilled SIGKILLs the notifier (-role notifier, a process of
// its own) again and again while it delivers webhook notifications, then
// lets one run to the end: every due notification is delivered and
// marked sent, a repeat carries the same id (the receiver counts them by
// id), and the repeats are reported. RELIABILITY.md has the figures.
func TestNotifierKilled(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		bin := buildDaemon(t)
		rng := rand.New(rand.NewPCG(seed(t), 14))
		url := storetest.URL(t, b)
		if b == storetest.SQLite {
			url = "sqlite://" + filepath.Join(t.TempDir(), "notify.db")
		}
		const n = 200
		hook := notifiertest.NewReceiver(t)
		hook.Check(hookSecret, time.Now)
		hook.SetDelay(30 * time.Millisecond) // a pass takes 200/4 × 30ms = 1.5s: kills land mid-delivery
		prepareCrossings(t, url, n, hook.URL)

		run := func() *exec.Cmd {
			cmd := exec.Command(bin, "-role", "notifier", "-db", url, "-http-addr", "", "-notify-lease", "1s",
				"-log-format", "json", "-log-level", "warn")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			return cmd
		}
		kills := 0
		for range 20 {
			if len(unique(hook.IDs())) == n {
				break
			}
			cmd := run()
			time.Sleep(time.Duration(100+rng.IntN(400)) * time.Millisecond)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			kills++
		}
		last := run()
		deadline := time.Now().Add(60 * time.Second)
		for len(unique(hook.IDs())) < n && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(1500 * time.Millisecond) // let the last records land
		_ = last.Process.Signal(syscall.SIGTERM)
		_ = last.Wait()

		ids := hook.IDs()
		got := unique(ids)
		db, err := store.Open(context.Background(), url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		sent := storetest.Count(t, db, "notifications", "state = ?", string(stock.NotificationSent))
		if len(got) != n || sent != n {
			t.Errorf("after %d kills: %d distinct notifications received, %d marked sent; want %d and %d", kills, len(got), sent, n, n)
		}
		// A repeat is a send the dead notifier did not get to record: at
		// most the sends in flight (-concurrency of the notifier: 4) per kill.
		if repeats := len(ids) - len(got); repeats > 4*kills {
			t.Errorf("%d repeats after %d kills: more than the 4 sends in flight per kill", repeats, kills)
		}
		for id := range got {
			if id == "" {
				t.Error("a webhook without webhook-id")
			}
		}
		fmt.Printf("notifier-killed (%s): %d notifications, %d SIGKILLs of the notifier, %d deliveries, %d distinct, %d repeats (same id), %d marked sent\n",
			b, n, kills, len(ids), len(got), len(ids)-len(got), sent)
	})
}

// prepareCrossings stores n users, each with a webhook band above 210
// (to url, signed with hookSecret) and a price of 211: n due
// notifications. It closes the database (a SQLite file serves one
// process).
func prepareCrossings(tb testing.TB, url string, n int, hookURL string) {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC().Truncate(time.Second)
	err = db.Tx(ctx, func(ctx context.Context, tx stock.Tx) error {
		for i := range n {
			email := fmt.Sprintf("u%d@x.com", i)
			if err := tx.CreateUser(ctx, stock.User{Email: email, Ticker: "T" + fmt.Sprint(i), CreateTime: now, UpdateTime: now}); err != nil {
				return err
			}
			if _, err := tx.SetAlert(ctx, stock.Alert{Email: email, Above: 210, Channels: []stock.Channel{stock.ChannelWebhook},
				WebhookURL: hookURL, WebhookSecret: hookSecret, Hysteresis: stock.DefaultHysteresis, CreateTime: now}); err != nil {
				return err
			}
			if _, err := tx.InsertPrices(ctx, []stock.Price{{Ticker: "T" + fmt.Sprint(i), Price: 211, Currency: "USD", MarketTime: now, CollectTime: now}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if due, err := db.DueNotifications(ctx); err != nil || due != int64(n) {
		tb.Fatalf("DueNotifications = %d, %v; want %d", due, err, n)
	}
}

func unique(ids []string) map[string]bool {
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// TestTwoNotifiers: two notifiers on one database, neither killed, share
// the due notifications by their claims: every one is delivered, and none
// twice (a repeat needs a claim that lapsed: a notifier that died or
// stalled past -notify-lease).
func TestTwoNotifiers(t *testing.T) {
	t.Parallel()
	bin := buildDaemon(t)
	url := storetest.URL(t, storetest.MySQL) // a SQLite file serves one process
	const n = 200
	hook := notifiertest.NewReceiver(t)
	hook.Check(hookSecret, time.Now)
	hook.SetDelay(10 * time.Millisecond)
	prepareCrossings(t, url, n, hook.URL)
	var cmds []*exec.Cmd
	for range 2 {
		cmd := exec.Command(bin, "-role", "notifier", "-db", url, "-http-addr", "", "-log-format", "json", "-log-level", "warn")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(unique(hook.IDs())) < n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	for _, cmd := range cmds {
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, cmd := range cmds {
		_ = cmd.Wait()
	}
	db, err := store.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids, sent := hook.IDs(), storetest.Count(t, db, "notifications", "state = ?", string(stock.NotificationSent))
	if got := unique(ids); len(got) != n || len(ids) != n || sent != n {
		t.Errorf("two notifiers: %d deliveries, %d distinct, %d marked sent; want %d of each", len(ids), len(got), sent, n)
	}
	fmt.Printf("two-notifiers: %d notifications, 2 notifiers, %d deliveries, %d distinct, %d repeats, %d marked sent\n",
		n, len(ids), len(unique(ids)), len(ids)-len(unique(ids)), sent)
}
