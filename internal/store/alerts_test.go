package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
)

// setAlert sets email's band (e-mail channel) at at, hysteresis 0.5%.
func setAlert(tb testing.TB, db *store.DB, email string, above, below float64, at time.Time) stock.Alert {
	tb.Helper()
	var got stock.Alert
	err := db.Tx(context.Background(), func(ctx context.Context, tx stock.Tx) (err error) {
		got, err = tx.SetAlert(ctx, stock.Alert{Email: email, Above: above, Below: below,
			Channels: []stock.Channel{stock.ChannelEmail}, Hysteresis: stock.DefaultHysteresis, CreateTime: at, WebhookSecret: "whsec_x"})
		return err
	})
	if err != nil {
		tb.Fatalf("set alert of %s: %v", email, err)
	}
	return got
}

// crossings returns email's notifications, oldest first, as
// "direction threshold @price".
func crossings(tb testing.TB, db *store.DB, email string) []string {
	tb.Helper()
	ns, err := db.ListNotifications(context.Background(), email, 0, 1000)
	if err != nil {
		tb.Fatalf("list notifications: %v", err)
	}
	out := []string{}
	for _, n := range slices.Backward(ns) {
		out = append(out, fmt.Sprintf("%s %g @%g", n.Direction, n.Threshold, n.Price.Price))
	}
	return out
}

// TestAlertCrossings: the crossing and re-arm rules, applied where prices
// are stored. A step is a price of the ticker one minute after the one
// before (or a batch of them in one transaction, or an older one), a
// band set, or a switch of the user's ticker.
func TestAlertCrossings(t *testing.T) {
	type step struct {
		prices       []float64 // one InsertPrices
		older        bool      // market time before the newest stored
		set          bool      // set the band above/below
		above, below float64
		switchTo     string // UpdateUser to this ticker
	}
	p := func(ps ...float64) step { return step{prices: ps} }
	band := func(above, below float64) step { return step{set: true, above: above, below: below} }
	tests := []struct {
		name  string
		steps []step
		want  []string
	}{
		{"Up", []step{band(210, 0), p(205), p(211), p(212)}, []string{"above 210 @211"}},
		{"Down", []step{band(0, 200), p(205), p(199), p(198)}, []string{"below 200 @199"}},
		{"Both", []step{band(210, 200), p(201), p(212), p(213), p(199), p(212)},
			[]string{"above 210 @212", "below 200 @199", "above 210 @212"}},
		{"OnTheLineIsInside", []step{band(210, 200), p(210), p(200), p(205)}, []string{}},
		{"GapsAcrossTheBand", []step{band(210, 200), p(195), p(215), p(190)},
			[]string{"below 200 @195", "above 210 @215", "below 200 @190"}},
		{"UnsetBelow", []step{band(210, 0), p(1), p(211), p(1), p(211)}, []string{"above 210 @211", "above 210 @211"}},
		{"UnsetAbove", []step{band(0, 200), p(1000), p(199), p(1000), p(199)}, []string{"below 200 @199", "below 200 @199"}},
		// 0.5% of 210 is 1.05: above re-arms at 208.95 or less.
		{"HysteresisAbove", []step{band(210, 0), p(211), p(209), p(211), p(208.95), p(211)},
			[]string{"above 210 @211", "above 210 @211"}},
		// 0.5% of 200 is 1: below re-arms at 201 or more.
		{"HysteresisBelow", []step{band(0, 200), p(199), p(200.5), p(199), p(201), p(199)},
			[]string{"below 200 @199", "below 200 @199"}},
		{"FirstPriceAfterSettingIsBeyond", []step{p(215), band(210, 0), p(216), p(217)}, []string{"above 210 @216"}},
		{"SettingAgainReArms", []step{band(210, 0), p(211), band(210, 0), p(212)}, []string{"above 210 @211", "above 210 @212"}},
		{"PriceBeforeBandIsNotSeen", []step{p(215), band(210, 0)}, []string{}},
		{"BatchInMarketTimeOrder", []step{band(210, 200), p(212, 199, 213)},
			[]string{"above 210 @212", "below 200 @199", "above 210 @213"}},
		{"OlderPriceIsNotNew", []step{band(210, 0), p(205), {prices: []float64{215}, older: true}}, []string{}},
		{"TickerSwitchClearsTheBand", []step{band(210, 0), {switchTo: "MSFT"}, p(215)}, []string{}},
		{"BandOnTheNewTicker", []step{band(210, 0), {switchTo: "MSFT"}, band(210, 0), p(215)}, []string{"above 210 @215"}},
	}
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				email, tk := fmt.Sprintf("u%d@x.com", i), fmt.Sprintf("T%d", i)
				storetest.AddUser(t, db, email, tk, t0)
				at := t0
				for _, s := range tt.steps {
					switch {
					case s.set:
						setAlert(t, db, email, s.above, s.below, at)
					case s.switchTo != "":
						err := db.Tx(ctx, func(ctx context.Context, tx stock.Tx) error {
							u, err := tx.UpdateUser(ctx, email, s.switchTo+tk, at)
							if err == nil && !u.AlertCleared {
								err = errors.New("AlertCleared is false")
							}
							return err
						})
						if err != nil {
							t.Fatalf("update user: %v", err)
						}
						tk = s.switchTo + tk
					default:
						var ps []stock.Price
						for _, v := range s.prices {
							m := at.Add(time.Minute)
							if s.older {
								m = t0.Add(-time.Hour)
							} else {
								at = m
							}
							ps = append(ps, price(tk, v, m))
						}
						if _, err := db.InsertPrices(ctx, ps); err != nil {
							t.Fatalf("insert %v: %v", s.prices, err)
						}
					}
				}
				if diff := cmp.Diff(tt.want, crossings(t, db, email)); diff != "" {
					t.Errorf("notifications mismatch (-want +got):\n%s", diff)
				}
			})
		}
	})
}

// TestAlertLifecycle: a band is set on the user's ticker, its secret is
// kept from the first set only and never read back, and the errors name
// what is missing; deleting the user deletes the band and notifications.
func TestAlertLifecycle(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, err := db.GetAlert(ctx, "a@x.com")
		wantError(t, "GetAlert of no user", err, stock.KindNotFound, "user a@x.com not found")
		err = db.Tx(ctx, func(ctx context.Context, tx stock.Tx) error {
			_, err := tx.SetAlert(ctx, stock.Alert{Email: "a@x.com"})
			return err
		})
		wantError(t, "SetAlert of no user", err, stock.KindNotFound, "user a@x.com not found")
		err = db.Tx(ctx, func(ctx context.Context, tx stock.Tx) error { return tx.DeleteAlert(ctx, "a@x.com") })
		wantError(t, "DeleteAlert of no user", err, stock.KindNotFound, "user a@x.com not found")
		_, err = db.ListNotifications(ctx, "a@x.com", 0, 10)
		wantError(t, "ListNotifications of no user", err, stock.KindNotFound, "user a@x.com not found")

		storetest.AddUser(t, db, "a@x.com", "AAPL", t0)
		_, err = db.GetAlert(ctx, "a@x.com")
		wantError(t, "GetAlert without a band", err, stock.KindNotFound, "user a@x.com has no alert")
		err = db.Tx(ctx, func(ctx context.Context, tx stock.Tx) error { return tx.DeleteAlert(ctx, "a@x.com") })
		wantError(t, "DeleteAlert without a band", err, stock.KindNotFound, "user a@x.com has no alert")

		first := setAlert(t, db, "a@x.com", 210, 200, t0)
		want := stock.Alert{Email: "a@x.com", Ticker: "AAPL", Above: 210, Below: 200, Channels: []stock.Channel{stock.ChannelEmail},
			WebhookSecret: "whsec_x", Hysteresis: stock.DefaultHysteresis, CreateTime: t0, ArmedAbove: true, ArmedBelow: true}
		if diff := cmp.Diff(want, first); diff != "" {
			t.Errorf("first SetAlert mismatch (-want +got):\n%s", diff)
		}
		again := setAlert(t, db, "a@x.com", 220, 0, t0.Add(time.Minute))
		want.Above, want.Below, want.CreateTime, want.WebhookSecret = 220, 0, t0.Add(time.Minute), ""
		if diff := cmp.Diff(want, again); diff != "" {
			t.Errorf("second SetAlert (secret not shown again) mismatch (-want +got):\n%s", diff)
		}
		got, err := db.GetAlert(ctx, "a@x.com")
		if diff := cmp.Diff(want, got); err != nil || diff != "" {
			t.Errorf("GetAlert = %v; mismatch (-want +got):\n%s", err, diff)
		}
		if n := storetest.Count(t, db, "alerts", "webhook_secret = 'whsec_x'"); n != 1 {
			t.Errorf("alerts keeping the first secret = %d, want 1", n)
		}

		if _, err := db.InsertPrices(ctx, []stock.Price{price("AAPL", 221, t0.Add(2*time.Minute))}); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"above 220 @221"}, crossings(t, db, "a@x.com")); diff != "" {
			t.Errorf("notifications mismatch (-want +got):\n%s", diff)
		}
		err = db.Tx(ctx, func(ctx context.Context, tx stock.Tx) error { return tx.DeleteUser(ctx, "a@x.com") })
		if err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"alerts", "notifications"} {
			if n := storetest.Count(t, db, table, "email = ?", "a@x.com"); n != 0 {
				t.Errorf("%s rows of a deleted user = %d, want 0", table, n)
			}
		}
	})
}

// crossAfterFailedCommit makes a@x.com track AAPL with a band above 210
// and saves the quote AAPL 211 that crosses it, a minute after t0, in a
// transaction whose commit fails; it calls afterCrash, which checks that
// nothing of it was stored, and then saves the quote twice more (the
// collector's retry, and a repeat of the same quote). It returns the
// quote.
func crossAfterFailedCommit(t *testing.T, db *store.DB, afterCrash func()) []stock.Price {
	t.Helper()
	ctx := context.Background()
	storetest.AddUser(t, db, "a@x.com", "AAPL", t0)
	setAlert(t, db, "a@x.com", 210, 0, t0)
	crash := errors.New("crash before commit")
	db.SetBeforeCommit(func(context.Context) error { return crash })
	quote := []stock.Price{price("AAPL", 211, t0.Add(time.Minute))}
	if _, err := db.SaveQuotes(ctx, quote, nil); !errors.Is(err, crash) {
		t.Fatalf("SaveQuotes = %v, want %v", err, crash)
	}
	afterCrash()
	db.SetBeforeCommit(nil)
	for range 2 {
		if _, err := db.SaveQuotes(ctx, quote, nil); err != nil {
			t.Fatal(err)
		}
	}
	return quote
}

// TestCrossingCommitsWithItsPrice: the notification is written in the
// price's transaction (the outbox): a transaction that fails to commit
// leaves neither, and the price stored again then tells it once.
func TestCrossingCommitsWithItsPrice(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		crossAfterFailedCommit(t, db, func() {
			if p, n := storetest.Count(t, db, "stock_prices", ""), storetest.Count(t, db, "notifications", ""); p != 0 || n != 0 {
				t.Fatalf("after a failed commit: %d prices, %d notifications; want none", p, n)
			}
		})
		if diff := cmp.Diff([]string{"above 210 @211"}, crossings(t, db, "a@x.com")); diff != "" {
			t.Errorf("notifications mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestPurgeNotifications: sent and failed notifications older than the
// cut go; due ones stay, however old.
func TestPurgeNotifications(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		storetest.AddUser(t, db, "a@x.com", "AAPL", t0)
		setAlert(t, db, "a@x.com", 210, 200, t0)
		for i, p := range []float64{211, 199, 211} {
			if _, err := db.InsertPrices(ctx, []stock.Price{price("AAPL", p, t0.Add(time.Duration(i)*time.Hour))}); err != nil {
				t.Fatal(err)
			}
		}
		// The first is sent, the second failed, the third due; all old.
		// (By market time: ids are not consecutive on Galera, whose nodes
		// interleave auto-increments.)
		storetest.MustExec(t, db, `UPDATE notifications SET state = 'sent' WHERE market_time = ?`, t0.UnixMicro())
		storetest.MustExec(t, db, `UPDATE notifications SET state = 'failed' WHERE market_time = ?`, t0.Add(time.Hour).UnixMicro())
		n, err := db.PurgeNotifications(ctx, t0.Add(3*time.Hour))
		if err != nil || n != 2 {
			t.Fatalf("PurgeNotifications = %d, %v; want 2", n, err)
		}
		if diff := cmp.Diff([]string{"above 210 @211"}, crossings(t, db, "a@x.com")); diff != "" {
			t.Errorf("left mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestDeliveryErrorsAreRecorded: a delivery error quoting bytes that are
// not UTF-8 (a receiver's status line) or cut inside a character is still
// recorded, so the attempt counts; MySQL refused it, and the notification
// was sent again every lease, for ever.
func TestDeliveryErrorsAreRecorded(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
		storetest.AddUser(t, db, "a@x.com", "T", now)
		err := db.Tx(ctx, func(ctx context.Context, tx stock.Tx) error {
			if _, err := tx.SetAlert(ctx, stock.Alert{Email: "a@x.com", Above: 10, Channels: []stock.Channel{stock.ChannelWebhook},
				WebhookURL: "http://h/", WebhookSecret: "whsec_AAAA", Hysteresis: 0.005, CreateTime: now}); err != nil {
				return err
			}
			_, err := tx.InsertPrices(ctx, []stock.Price{{Ticker: "T", Price: 11, Currency: "USD", MarketTime: now, CollectTime: now}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range []string{
			`webhook: Post "https://h/` + strings.Repeat("é", 300) + `": dial tcp: no such host`, // 512 bytes end inside an é
			"webhook answered 500 \xff\xfe",
		} {
			ns, err := db.ClaimNotifications(ctx, "me", now.Add(time.Hour), now.Add(2*time.Hour), 10)
			if err != nil || len(ns) != 1 {
				t.Fatalf("ClaimNotifications = %d, %v; want 1", len(ns), err)
			}
			held, err := db.UpdateNotification(ctx, stock.NotificationUpdate{ID: ns[0].ID, Owner: "me", State: stock.NotificationDue,
				Attempted: true, NextTime: now, LastError: msg})
			if err != nil || !held {
				t.Fatalf("UpdateNotification(%.40q…) = %v, %v; want recorded", msg, held, err)
			}
		}
		testkit.WantCount(t, "attempts", storetest.Count(t, db, "notifications", "attempts = 2"), 1)
		testkit.WantCount(t, "errors kept as valid text", storetest.Count(t, db, "notifications", "last_error = ?", "webhook answered 500 \uFFFD"), 1) // a run of bad bytes is one U+FFFD
	})
}
