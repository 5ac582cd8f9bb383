package store_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
)

var t0 = time.Date(2026, 11, 27, 14, 30, 0, 123456000, time.UTC)

func price(ticker string, p float64, market time.Time) stock.Price {
	return stock.Price{Ticker: ticker, Price: p, Currency: "USD", MarketTime: market, CollectTime: market.Add(time.Second)}
}

func TestPrices(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		storetest.AddUser(t, db, "a@x.com", "AAPL", t0)
		storetest.AddUser(t, db, "b@x.com", "AAPL", t0)
		storetest.AddUser(t, db, "c@x.com", "VOD.L", t0)

		if _, err := db.LatestPrice(ctx, "a@x.com"); stock.KindOf(err) != stock.KindFailedPrecondition || stock.MessageOf(err) != "no price collected yet for AAPL" {
			t.Fatalf("LatestPrice before any price: %v", err)
		}
		if _, err := db.AveragePrice(ctx, "nobody@x.com", 3); stock.KindOf(err) != stock.KindNotFound {
			t.Fatalf("AveragePrice of unknown user: %v, want not found", err)
		}

		ps := []stock.Price{price("AAPL", 10, t0), price("AAPL", 20, t0.Add(time.Minute)), price("AAPL", 40, t0.Add(2*time.Minute)), price("VOD.L", 70.5, t0)}
		n, err := db.InsertPrices(ctx, ps)
		if err != nil || n != 4 {
			t.Fatalf("InsertPrices = %d, %v; want 4", n, err)
		}
		// The same quotes again add nothing; a moved market time adds one.
		n, err = db.InsertPrices(ctx, append(ps, price("VOD.L", 71, t0.Add(time.Minute))))
		if err != nil || n != 1 {
			t.Fatalf("InsertPrices again = %d, %v; want 1", n, err)
		}

		latest, err := db.LatestPrice(ctx, "b@x.com")
		if err != nil {
			t.Fatal(err)
		}
		want := price("AAPL", 40, t0.Add(2*time.Minute))
		want.ID = latest.ID
		if diff := cmp.Diff(want, latest); diff != "" {
			t.Errorf("LatestPrice mismatch (-want +got):\n%s", diff)
		}

		avg, err := db.AveragePrice(ctx, "a@x.com", 2)
		if err != nil {
			t.Fatal(err)
		}
		wantAvg := stock.Average{Ticker: "AAPL", Average: 30, Currency: "USD", Count: 2, Requested: 2, Oldest: t0.Add(time.Minute), Newest: t0.Add(2 * time.Minute)}
		if diff := cmp.Diff(wantAvg, avg); diff != "" {
			t.Errorf("AveragePrice(2) mismatch (-want +got):\n%s", diff)
		}
		avg, err = db.AveragePrice(ctx, "a@x.com", 100)
		if err != nil {
			t.Fatal(err)
		}
		wantAvg = stock.Average{Ticker: "AAPL", Average: 70.0 / 3, Currency: "USD", Count: 3, Requested: 100, Oldest: t0, Newest: t0.Add(2 * time.Minute)}
		if diff := cmp.Diff(wantAvg, avg); diff != "" {
			t.Errorf("AveragePrice(100) mismatch (-want +got):\n%s", diff)
		}

		tickers, err := db.Tickers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]stock.TickerState{{Ticker: "AAPL", Status: stock.TickerUnverified}, {Ticker: "VOD.L", Status: stock.TickerUnverified}}, tickers); diff != "" {
			t.Errorf("Tickers mismatch (-want +got):\n%s", diff)
		}

		// Newest first across tickers (ties: newest row first), in pages that meet exactly.
		var got []float64
		var after *stock.PriceCursor
		for {
			page, err := db.ListPrices(ctx, "", after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page {
				got = append(got, p.Price)
			}
			if len(page) < 2 {
				break
			}
			last := page[len(page)-1]
			after = &stock.PriceCursor{MarketTime: last.MarketTime, ID: last.ID}
		}
		if diff := cmp.Diff([]float64{40, 71, 20, 70.5, 10}, got); diff != "" {
			t.Errorf("ListPrices order mismatch (-want +got):\n%s", diff)
		}

		users, err := db.ListUsers(ctx, "a@x.com", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != 2 || users[0].Email != "b@x.com" || users[0].Latest == nil || users[0].Latest.Price != 40 || users[1].Latest.Price != 71 {
			t.Errorf("ListUsers after a@x.com = %+v", users)
		}

		deleted, err := db.DeletePrices(ctx, t0.Add(time.Minute))
		if err != nil || deleted != 2 {
			t.Fatalf("DeletePrices = %d, %v; want 2 (the two collected at t0+1s)", deleted, err)
		}
		testkit.WantCount(t, "prices left", storetest.Count(t, db, "stock_prices", ""), 3)
	})
}

// TestAveragePriceOneCurrency: the average never mixes currencies. It
// covers the newest prices back to the first in another currency than the
// newest, and Count says how many that was.
func TestAveragePriceOneCurrency(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		storetest.AddUser(t, db, "v@x.com", "VOD.L", t0)
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		quote := func(p float64, cur string, m int) stock.Price {
			q := price("VOD.L", p, at(m))
			q.Currency = cur
			return q
		}
		// Yahoo moved VOD.L from pence to pounds between minutes 1 and 2.
		if _, err := db.InsertPrices(ctx, []stock.Price{
			quote(7000, "GBp", 0), quote(7010, "GBp", 1), quote(70.5, "GBP", 2), quote(71, "GBP", 3),
		}); err != nil {
			t.Fatal(err)
		}
		average := func(t *testing.T, n int) stock.Average {
			t.Helper()
			a, err := db.AveragePrice(ctx, "v@x.com", n)
			if err != nil {
				t.Fatalf("AveragePrice(%d): %v", n, err)
			}
			return a
		}
		for _, tt := range []struct {
			name string
			n    int
			want stock.Average
		}{
			{"StopsAtOtherCurrency", 10, stock.Average{Ticker: "VOD.L", Average: 70.75, Currency: "GBP", Count: 2, Requested: 10, Oldest: at(2), Newest: at(3)}},
			{"ExactlyTheRun", 2, stock.Average{Ticker: "VOD.L", Average: 70.75, Currency: "GBP", Count: 2, Requested: 2, Oldest: at(2), Newest: at(3)}},
			{"WithinTheRun", 1, stock.Average{Ticker: "VOD.L", Average: 71, Currency: "GBP", Count: 1, Requested: 1, Oldest: at(3), Newest: at(3)}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if diff := cmp.Diff(tt.want, average(t, tt.n)); diff != "" {
					t.Errorf("AveragePrice(%d) mismatch (-want +got):\n%s", tt.n, diff)
				}
			})
		}
		// Back in pence: only the newest run counts, not every GBp row.
		if _, err := db.InsertPrices(ctx, []stock.Price{quote(7100, "GBp", 4)}); err != nil {
			t.Fatal(err)
		}
		want := stock.Average{Ticker: "VOD.L", Average: 7100, Currency: "GBp", Count: 1, Requested: 10, Oldest: at(4), Newest: at(4)}
		if diff := cmp.Diff(want, average(t, 10)); diff != "" {
			t.Errorf("after the switch back: AveragePrice(10) mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestUpdateUser(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		storetest.AddUser(t, db, "u@x.com", "AAPL", t0)
		var got stock.User
		err := db.Tx(ctx, func(ctx context.Context, tx stock.Tx) error {
			var err error
			got, err = tx.UpdateUser(ctx, "u@x.com", "MSFT", t0.Add(time.Hour))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		want := stock.User{Email: "u@x.com", Ticker: "MSFT", CreateTime: t0, UpdateTime: t0.Add(time.Hour)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("UpdateUser mismatch (-want +got):\n%s", diff)
		}
		stored, err := db.GetUser(ctx, "u@x.com")
		if err != nil {
			t.Fatal(err)
		}
		want.TickerStatus = stock.TickerUnverified // GetUser reads it; nobody checked MSFT
		if diff := cmp.Diff(want, stored); diff != "" {
			t.Errorf("GetUser after update mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestCheckDSN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dsn, wantErr string
	}{
		{"sqlite://stockwatch.db", ""},
		{"sqlite://:memory:", ""},
		{"mysql://root@127.0.0.1/test", ""},
		{"mysql://u:p@db:3307/stock?tls=true", ""},
		{"mysql://u@h1:3311,h2:3312,h3:3313/stock", ""},
		{"mysql://u@h1:3311,,h3:3313/stock", `mysql URL: empty host in "h1:3311,,h3:3313"`},
		{"mysql://u@db/stock?clientFoundRows=true", "mysql URL: clientFoundRows is not supported: the store relies on counts of changed rows"},
		{"mysql://u@db/stock?clientFoundRows=false", ""},
		{"sqlite://", "sqlite URL: empty path (use sqlite://stockwatch.db or sqlite://:memory:)"},
		{"mysql://db/x", "mysql URL: want mysql://USER[:PASS]@HOST[:PORT][,HOST[:PORT]...]/DB[?params]"},
		{"mysql://u@db", "mysql URL: want mysql://USER[:PASS]@HOST[:PORT][,HOST[:PORT]...]/DB[?params]"},
		{"stockwatch.db", `unsupported database URL "stockwatch.db": want sqlite://PATH or mysql://USER[:PASS]@HOST[:PORT]/DB`},
	}
	for _, tt := range tests {
		t.Run(tt.dsn, func(t *testing.T) {
			err := store.CheckDSN(tt.dsn)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("CheckDSN(%q) = %q, want %q", tt.dsn, got, tt.wantErr)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"mysql://u:secret@db:3306/x": "mysql://u:xxxxx@db:3306/x",
		"mysql://u@db/x":             "mysql://u@db/x",
		"sqlite://a.db":              "sqlite://a.db",
	} {
		if got := store.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMemory(t *testing.T) {
	t.Parallel()
	db, err := store.Open(context.Background(), "sqlite://:memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.AddUser(t, db, "m@x.com", "AAPL", t0)
	if _, err := db.GetUser(context.Background(), "m@x.com"); err != nil {
		t.Fatalf("GetUser on :memory: %v", err)
	}
}

// TestMigrationsResumeAfterCrash: MySQL commits each CREATE TABLE of a
// migration on its own, so a start that died halfway through the first
// migration leaves tables without a goose version; the next start must
// still succeed. (SQLite's DDL is transactional: nothing to resume.)
func TestMigrationsResumeAfterCrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := storetest.URL(t, storetest.MySQL)
	db, err := store.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	// As if the first start died right after CREATE TABLE users.
	storetest.MustExec(t, db, `DROP TABLE goose_db_version, collector_claims, requests, stock_prices`)
	db.Close()
	db, err = store.Open(ctx, url, nil)
	if err != nil {
		t.Fatalf("start after a crash in the first migration: %v", err)
	}
	defer db.Close()
	storetest.AddUser(t, db, "a@x.com", "AAPL", t0)
	versions, err := store.MigrationVersions("mysql")
	if err != nil {
		t.Fatal(err)
	}
	testkit.WantCount(t, "migrations recorded", storetest.Count(t, db, "goose_db_version", "version_id > 0"), len(versions))
}

// TestConcurrentMigrations starts four replicas on one empty database at
// once: all open, and every migration is applied exactly once.
func TestConcurrentMigrations(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		url := storetest.URL(t, b)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				db, err := store.Open(context.Background(), url, nil)
				if err == nil {
					err = db.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("replica %d: %v", i, err)
			}
		}
		db, err := store.Open(context.Background(), url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var versions, applied int
		_, w := db.Pools()
		if err := w.QueryRow(`SELECT COUNT(DISTINCT version_id), COUNT(*) FROM goose_db_version WHERE version_id > 0`).Scan(&versions, &applied); err != nil {
			t.Fatal(err)
		}
		want, err := store.MigrationVersions(string(b))
		if err != nil {
			t.Fatal(err)
		}
		if versions != len(want) || applied != len(want) {
			t.Errorf("goose_db_version: %d versions in %d rows, want %d in %d", versions, applied, len(want), len(want))
		}
	})
}

// TestClaims: claims are taken, renewed by their owner, left to it by
// others until they lapse, released per ticker, and forgotten once they
// have lapsed and no user tracks their ticker.
func TestClaims(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		storetest.AddUser(t, db, "a@x.com", "AAA", t0)
		storetest.AddUser(t, db, "b@x.com", "BBB", t0)
		all := []string{"AAA", "BBB"}
		claim := func(owner string, at time.Duration) []string {
			t.Helper()
			now := t0.Add(at)
			tracked, err := db.Tickers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range tracked {
				names = append(names, s.Ticker)
			}
			got, err := db.ClaimTickers(ctx, owner, names, now, now.Add(48*time.Second))
			if err != nil {
				t.Fatalf("ClaimTickers(%s at %s): %v", owner, at, err)
			}
			return got
		}
		for _, step := range []struct {
			name  string
			owner string
			at    time.Duration
			want  []string
		}{
			{"x takes both", "x", 0, all},
			{"y finds them taken", "y", 30 * time.Second, nil},
			{"x renews", "x", 60 * time.Second, all},
			{"y takes them once lapsed", "y", 109 * time.Second, all},
		} {
			if got := claim(step.owner, step.at); !slices.Equal(got, step.want) {
				t.Errorf("%s: claimed %v, want %v", step.name, got, step.want)
			}
		}
		if err := db.ReleaseTickers(ctx, "y", []string{"BBB"}); err != nil {
			t.Fatal(err)
		}
		if got, want := claim("x", 110*time.Second), []string{"BBB"}; !slices.Equal(got, want) {
			t.Errorf("after y released BBB, x claimed %v, want %v", got, want)
		}
		storetest.MustExec(t, db, `DELETE FROM users WHERE email = ?`, "b@x.com")
		if n := storetest.Count(t, db, "collector_claims", ""); n != 2 {
			t.Fatalf("claims = %d, want 2", n)
		}
		claim("y", 200*time.Second)
		// BBB's claim has lapsed, and nobody tracks it; AAA's is live.
		if n, err := db.ForgetClaims(ctx, t0.Add(200*time.Second)); err != nil || n != 1 {
			t.Errorf("ForgetClaims = %d, %v; want 1 (BBB)", n, err)
		}
		testkit.WantCount(t, "claims of BBB, which nobody tracks", storetest.Count(t, db, "collector_claims", "ticker = ?", "BBB"), 0)
		testkit.WantCount(t, "claims of AAA", storetest.Count(t, db, "collector_claims", "ticker = ?", "AAA"), 1)
	})
}

// TestSQLiteCannotOpen: a database file that cannot be opened is an
// outage (UNAVAILABLE to clients, which retry), not an internal error.
func TestSQLiteCannotOpen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir() // a directory, not a database file
	_, err := store.Open(context.Background(), "sqlite://"+dir, nil)
	if !errors.Is(err, stock.ErrUnavailable) {
		t.Errorf("Open(a directory) = %v, want an error matching stock.ErrUnavailable", err)
	}
}
