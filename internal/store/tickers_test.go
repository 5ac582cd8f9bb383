package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

func setTickers(t *testing.T, db *store.DB, states ...stock.TickerState) {
	t.Helper()
	if _, err := db.SaveQuotes(context.Background(), nil, states); err != nil {
		t.Fatalf("SaveQuotes(%v): %v", states, err)
	}
}

// wantError fails t unless err has exactly kind and message.
func wantError(t *testing.T, what string, err error, kind stock.Kind, msg string) {
	t.Helper()
	if stock.KindOf(err) != kind || stock.MessageOf(err) != msg {
		t.Errorf("%s: %v (kind %s), want %s %q", what, err, stock.KindOf(err), kind, msg)
	}
}

// TestTickerStatus: statuses round-trip with their times, reach users
// through GetUser and ListUsers, turn "no price yet" into "not known to
// Yahoo Finance" for an unknown ticker, and an unverified state never
// replaces a settled one.
func TestTickerStatus(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		storetest.AddUser(t, db, "a@x.com", "AAPL", t0)
		storetest.AddUser(t, db, "b@x.com", "ZZZZ", t0)
		storetest.AddUser(t, db, "c@x.com", "NEWT", t0)
		storetest.AddUser(t, db, "d@x.com", "AAPL", t0)

		if diff := cmp.Diff(map[string]stock.TickerState{
			"AAPL": {Ticker: "AAPL", Status: stock.TickerUnverified},
			"NEWT": {Ticker: "NEWT", Status: stock.TickerUnverified},
			"ZZZZ": {Ticker: "ZZZZ", Status: stock.TickerUnverified},
		}, storetest.TickerStates(t, db)); diff != "" {
			t.Errorf("before any check, mismatch (-want +got):\n%s", diff)
		}

		// One transaction: a price of AAPL and three states.
		want := map[string]stock.TickerState{
			"AAPL": {Ticker: "AAPL", Status: stock.TickerVerified, Checked: t0},
			"NEWT": {Ticker: "NEWT", Status: stock.TickerUnverified, NextCheck: t0.Add(5 * time.Second)},
			"ZZZZ": {Ticker: "ZZZZ", Status: stock.TickerUnknown, Checked: t0, NextCheck: t0.Add(time.Minute)},
		}
		n, err := db.SaveQuotes(ctx, []stock.Price{price("AAPL", 10, t0)}, []stock.TickerState{want["AAPL"], want["NEWT"], want["ZZZZ"]})
		if err != nil || n != 1 {
			t.Fatalf("SaveQuotes = %d, %v; want 1 row", n, err)
		}
		if diff := cmp.Diff(want, storetest.TickerStates(t, db)); diff != "" {
			t.Errorf("after SaveQuotes, mismatch (-want +got):\n%s", diff)
		}

		for email, status := range map[string]stock.TickerStatus{"a@x.com": stock.TickerVerified, "b@x.com": stock.TickerUnknown, "c@x.com": stock.TickerUnverified} {
			u, err := db.GetUser(ctx, email)
			if err != nil || u.TickerStatus != status {
				t.Errorf("GetUser(%s) status = %q, %v; want %q", email, u.TickerStatus, err, status)
			}
		}
		users, err := db.ListUsers(ctx, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		var listed []stock.TickerStatus
		for _, u := range users {
			listed = append(listed, u.TickerStatus)
		}
		if diff := cmp.Diff([]stock.TickerStatus{stock.TickerVerified, stock.TickerUnknown, stock.TickerUnverified, stock.TickerVerified}, listed); diff != "" {
			t.Errorf("ListUsers statuses mismatch (-want +got):\n%s", diff)
		}

		_, err = db.LatestPrice(ctx, "b@x.com")
		wantError(t, "LatestPrice of an unknown ticker", err, stock.KindFailedPrecondition, "ticker ZZZZ is not known to Yahoo Finance")
		_, err = db.AveragePrice(ctx, "b@x.com", 5)
		wantError(t, "AveragePrice of an unknown ticker", err, stock.KindFailedPrecondition, "ticker ZZZZ is not known to Yahoo Finance")
		_, err = db.LatestPrice(ctx, "c@x.com")
		wantError(t, "LatestPrice of an unverified ticker", err, stock.KindFailedPrecondition, "no price collected yet for NEWT")
		_, err = db.LatestPrice(ctx, "nobody@x.com")
		wantError(t, "LatestPrice of nobody", err, stock.KindNotFound, "user nobody@x.com not found")

		// Unverified only queues: ZZZZ stays unknown, NEWT moves back.
		setTickers(t, db,
			stock.TickerState{Ticker: "ZZZZ", Status: stock.TickerUnverified, NextCheck: t0.Add(time.Hour)},
			stock.TickerState{Ticker: "NEWT", Status: stock.TickerUnverified, NextCheck: t0.Add(time.Hour)})
		want["NEWT"] = stock.TickerState{Ticker: "NEWT", Status: stock.TickerUnverified, NextCheck: t0.Add(time.Hour)}
		if diff := cmp.Diff(want, storetest.TickerStates(t, db)); diff != "" {
			t.Errorf("after unverified states, mismatch (-want +got):\n%s", diff)
		}

		// A ticker that turns unknown after prices were stored keeps
		// answering its last price.
		setTickers(t, db, stock.TickerState{Ticker: "AAPL", Status: stock.TickerUnknown, Checked: t0, NextCheck: t0.Add(time.Minute)})
		if p, err := db.LatestPrice(ctx, "a@x.com"); err != nil || p.Price != 10 {
			t.Errorf("LatestPrice of a ticker unknown since its last price = %v, %v; want 10", p.Price, err)
		}

		// Inside a transaction, as the API reads it.
		err = db.Tx(ctx, func(ctx context.Context, tx stock.Tx) error {
			for _, c := range []struct {
				ticker string
				want   stock.TickerStatus
				found  bool
			}{{"ZZZZ", stock.TickerUnknown, true}, {"NEWT", stock.TickerUnverified, true}, {"NONE", stock.TickerUnverified, false}} {
				got, found, err := tx.TickerStatus(ctx, c.ticker)
				if err != nil {
					return err
				}
				if got != c.want || found != c.found {
					t.Errorf("TickerStatus(%s) = %q, %v; want %q, %v", c.ticker, got, found, c.want, c.found)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestForgetTickers: states of tickers nobody tracks go once settled
// before the given time (unverified ones at once); tracked ones stay.
func TestForgetTickers(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		storetest.AddUser(t, db, "a@x.com", "AAPL", t0)
		setTickers(t, db,
			stock.TickerState{Ticker: "AAPL", Status: stock.TickerVerified, Checked: t0},
			stock.TickerState{Ticker: "GONE", Status: stock.TickerUnknown, Checked: t0, NextCheck: t0.Add(time.Minute)},
			stock.TickerState{Ticker: "LEFT", Status: stock.TickerUnverified, NextCheck: t0})
		if n, err := db.ForgetTickers(ctx, t0); err != nil || n != 1 {
			t.Errorf("ForgetTickers(t0) = %d, %v; want 1 (LEFT, never settled)", n, err)
		}
		if n, err := db.ForgetTickers(ctx, t0.Add(time.Microsecond)); err != nil || n != 1 {
			t.Errorf("ForgetTickers(t0+1µs) = %d, %v; want 1 (GONE)", n, err)
		}
		if n := storetest.Count(t, db, "tickers", ""); n != 1 {
			t.Errorf("tickers left = %d, want 1 (AAPL, tracked)", n)
		}
	})
}

// TestTickersMigration: the migration marks the tickers that have prices
// verified, and runs again after a crash at any statement.
func TestTickersMigration(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		url := storetest.URL(t, b)
		db, err := store.Open(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		storetest.AddUser(t, db, "a@x.com", "AAPL", t0)
		storetest.AddUser(t, db, "b@x.com", "MSFT", t0)
		if _, err := db.InsertPrices(ctx, []stock.Price{price("AAPL", 10, t0), price("GONE", 1, t0)}); err != nil {
			t.Fatal(err)
		}
		want := map[string]stock.TickerState{
			"AAPL": {Ticker: "AAPL", Status: stock.TickerVerified},
			"MSFT": {Ticker: "MSFT", Status: stock.TickerUnverified},
		}
		for _, crash := range []struct{ name, sql string }{
			{"before the table", `DROP TABLE tickers`},
			{"after the table", `DELETE FROM tickers`},
			{"after the backfill", ``},
		} {
			if crash.sql != "" {
				storetest.MustExec(t, db, crash.sql)
			}
			// Version 4 and every later one: they ran after it.
			storetest.MustExec(t, db, `DELETE FROM goose_db_version WHERE version_id >= 4`)
			db.Close()
			if db, err = store.Open(ctx, url, nil); err != nil {
				t.Fatalf("start after a crash %s: %v", crash.name, err)
			}
			if diff := cmp.Diff(want, storetest.TickerStates(t, db)); diff != "" {
				t.Errorf("crash %s: mismatch (-want +got):\n%s", crash.name, diff)
			}
		}
		if n := storetest.Count(t, db, "tickers", ""); n != 1 {
			t.Errorf("tickers rows = %d, want 1 (AAPL; GONE has prices but no user)", n)
		}
		db.Close()
	})
}
