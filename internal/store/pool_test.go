package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/stockwatch/stockwatch/internal/once"
	"github.com/stockwatch/stockwatch/internal/stock"
)

// TestEveryStatementIsRebound runs every method of DB and of its Tx on
// SQLite with a dialect whose rebind numbers the placeholders as
// PostgreSQL's do ($1, $2…, which SQLite binds by number too) and marks
// the query, and checks that every statement the driver saw is marked: no
// query bypasses the dialect, and every one still runs with numbered
// placeholders.
func TestEveryStatementIsRebound(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rebind.db")
	migrated, err := Open(ctx, "sqlite://"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := migrated.d
	migrated.Close()

	const mark = "/* rebound */ "
	d.rebind = func(q string) string { return mark + dollarNumbered(q) }
	rec := &recordingConnector{dsn: "file:" + path + "?_pragma=foreign_keys(1)&_txlock=immediate"}
	pool := sql.OpenDB(rec)
	pool.SetMaxOpenConns(1)
	db := newDB(pool, pool, d, "test")
	db.retries = 5
	db.events = true                         // so that the events' inserts run too
	WithPriceCache(time.Hour, time.Hour)(db) // and price_epoch's poll
	defer db.Close()

	now := time.Now().UTC().Truncate(time.Second)
	record := once.Record{ID: "id-1", Method: "m", Fingerprint: []byte{1}, Created: now}
	ps := []stock.Price{{Ticker: "AAPL", Price: 1, Currency: "USD", MarketTime: now, CollectTime: now}}
	states := []stock.TickerState{{Ticker: "AAPL", Status: stock.TickerVerified, Checked: now}, {Ticker: "MSFT", Status: stock.TickerUnverified}}
	txCalls := []struct {
		name string
		call func(stock.Tx) error
	}{
		{"CreateUser", func(tx stock.Tx) error {
			return tx.CreateUser(ctx, stock.User{Email: "a@x.com", Ticker: "MSFT", CreateTime: now, UpdateTime: now})
		}},
		{"UpdateUser", func(tx stock.Tx) error { _, err := tx.UpdateUser(ctx, "a@x.com", "AAPL", now); return err }},
		{"SetAlert", func(tx stock.Tx) error {
			_, err := tx.SetAlert(ctx, stock.Alert{Email: "a@x.com", Above: 0.5, Channels: []stock.Channel{stock.ChannelEmail}, CreateTime: now})
			return err
		}},
		{"InsertPrices", func(tx stock.Tx) error { _, err := tx.InsertPrices(ctx, ps); return err }}, // crosses a@x.com's band
		{"SetTickers", func(tx stock.Tx) error { return tx.SetTickers(ctx, states) }},
		{"TickerStatus", func(tx stock.Tx) error { _, _, err := tx.TickerStatus(ctx, "AAPL"); return err }},
		{"CreateUser", func(tx stock.Tx) error {
			return tx.CreateUser(ctx, stock.User{Email: "b@x.com", Ticker: "AAPL", CreateTime: now, UpdateTime: now})
		}},
		{"SetAlert", func(tx stock.Tx) error {
			_, err := tx.SetAlert(ctx, stock.Alert{Email: "b@x.com", Below: 0.5, Channels: []stock.Channel{stock.ChannelEmail}, CreateTime: now})
			return err
		}},
		{"DeleteAlert", func(tx stock.Tx) error { return tx.DeleteAlert(ctx, "b@x.com") }},
		{"DeleteUser", func(tx stock.Tx) error { return tx.DeleteUser(ctx, "b@x.com") }},
		{"DeletePrices", func(tx stock.Tx) error { _, err := tx.DeletePrices(ctx, now.Add(-time.Hour)); return err }},
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"Ping", func() error { return db.Ping(ctx) }},
		{"Tx", func() error {
			return db.Tx(ctx, func(ctx context.Context, tx stock.Tx) error {
				for _, c := range txCalls {
					if err := c.call(tx); err != nil {
						return fmt.Errorf("%s: %w", c.name, err)
					}
				}
				return nil
			})
		}},
		{"RecordTx", func() error {
			return db.RecordTx(ctx, func(ctx context.Context, tx once.Tx) error { return tx.InsertRecord(ctx, record) })
		}},
		{"Record", func() error { _, _, err := db.Record(ctx, record.ID); return err }},
		{"DeleteRecord", func() error { return db.DeleteRecord(ctx, record.ID, record.Created) }},
		{"PurgeRequests", func() error { _, err := db.PurgeRequests(ctx, now.Add(-time.Hour)); return err }},
		{"InsertPrices", func() error { _, err := db.InsertPrices(ctx, ps); return err }},
		{"SaveQuotes", func() error { _, err := db.SaveQuotes(ctx, ps, states); return err }},
		{"GetUser", func() error { _, err := db.GetUser(ctx, "a@x.com"); return err }},
		{"LatestPrice", func() error { _, err := db.LatestPrice(ctx, "a@x.com"); return err }},
		{"AveragePrice", func() error { _, err := db.AveragePrice(ctx, "a@x.com", 10); return err }},
		{"PriceHistory", func() error {
			_, err := db.PriceHistory(ctx, "a@x.com", now.Add(-time.Hour), now.Add(time.Hour), 10)
			return err
		}},
		{"GetAlert", func() error { _, err := db.GetAlert(ctx, "a@x.com"); return err }},
		{"ListNotifications", func() error {
			ns, err := db.ListNotifications(ctx, "a@x.com", 0, 10)
			if err == nil && len(ns) != 1 {
				err = fmt.Errorf("%d notifications, want 1", len(ns))
			}
			return err
		}},
		{"PurgeNotifications", func() error { _, err := db.PurgeNotifications(ctx, now.Add(-time.Hour)); return err }},
		{"DueNotifications", func() error { _, err := db.DueNotifications(ctx); return err }},
		{"ClaimNotifications", func() error {
			ns, err := db.ClaimNotifications(ctx, "n1", now.Add(time.Hour), now.Add(2*time.Hour), 10)
			if err == nil && len(ns) != 1 {
				err = fmt.Errorf("claimed %d notifications, want 1", len(ns))
			}
			return err
		}},
		{"UpdateNotification", func() error {
			held, err := db.UpdateNotification(ctx, stock.NotificationUpdate{ID: 1, Owner: "n1", State: stock.NotificationSent, Attempted: true, NextTime: now, SentTime: now})
			if err == nil && !held {
				err = errors.New("claim not held")
			}
			return err
		}},
		{"ClaimEvents", func() error { _, err := db.ClaimEvents(ctx, "p1", now, now.Add(time.Minute), 10); return err }},
		{"PublishedEvents", func() error { _, err := db.PublishedEvents(ctx, "p1", []int64{1}, now); return err }},
		{"PendingEvents", func() error { _, err := db.PendingEvents(ctx); return err }},
		{"PurgeEvents", func() error { _, _, err := db.PurgeEvents(ctx, now.Add(-time.Hour)); return err }},
		{"ListUsers", func() error { _, err := db.ListUsers(ctx, "", 10); return err }},
		{"ListPrices", func() error {
			_, err := db.ListPrices(ctx, "AAPL", &stock.PriceCursor{MarketTime: now.Add(time.Hour), ID: 1 << 40}, 10)
			return err
		}},
		{"Tickers", func() error { _, err := db.Tickers(ctx); return err }},
		{"ForgetTickers", func() error { _, err := db.ForgetTickers(ctx, now); return err }},
		{"ClaimTickers", func() error {
			_, err := db.ClaimTickers(ctx, "c1", []string{"AAPL"}, now, now.Add(time.Minute))
			return err
		}},
		{"ReleaseTickers", func() error { return db.ReleaseTickers(ctx, "c1", []string{"AAPL"}) }},
		{"ReleaseClaims", func() error { return db.ReleaseClaims(ctx, "c1") }},
		{"ForgetClaims", func() error { _, err := db.ForgetClaims(ctx, now); return err }},
		{"DeletePrices", func() error { _, err := db.DeletePrices(ctx, now.Add(-time.Hour)); return err }},
		{"CreateCeilingTable", func() error { return db.CreateCeilingTable(ctx) }},
		{"WriteCeiling", func() error { return db.WriteCeiling(ctx, "k", 1) }},
		{"ReadCeiling", func() error { _, err := db.ReadCeiling(ctx, "AAPL"); return err }},
		{"PointReadCeiling", func() error { _, err := db.PointReadCeiling(ctx, "a@x.com"); return err }},
		{"InsertCeiling", func() error { return db.InsertCeiling(ctx, "k1", 1) }},
		{"PollPrices", func() error { db.PollPrices(ctx); return nil }},
	}
	noQuery := []string{"AverageCacheStats", "Close", "Node", "Pipelined", "PoolStats", "Pools", "PriceCacheStats", "SetBeforeCommit", "UserCacheStats"}

	called := map[string]bool{}
	for _, c := range calls {
		if err := c.call(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		called[c.name] = true
	}
	for _, c := range txCalls {
		called["Tx."+c.name] = true
	}
	for _, name := range noQuery {
		called[name] = true
	}
	for _, m := range methods(reflect.TypeOf(db)) {
		if !called[m] {
			t.Errorf("DB.%s is not exercised here: add it to calls (or to noQuery)", m)
		}
	}
	for _, m := range methods(reflect.TypeFor[stock.Tx]()) {
		if !called["Tx."+m] {
			t.Errorf("stock.Tx.%s is not exercised here: add it to txCalls", m)
		}
	}

	seen := rec.statements()
	if len(seen) < len(calls) {
		t.Fatalf("the driver saw %d statements for %d calls", len(seen), len(calls))
	}
	for _, q := range seen {
		if !strings.HasPrefix(q, mark) {
			t.Errorf("statement bypassed the dialect's rebind: %s", q)
		}
	}
}

func methods(typ reflect.Type) []string {
	var out []string
	for i := range typ.NumMethod() {
		out = append(out, typ.Method(i).Name)
	}
	return out
}

// dollarNumbered turns the ? placeholders of query into $1, $2…, as a
// PostgreSQL dialect would. The store's queries have no ? in literals.
func dollarNumbered(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// recordingConnector opens SQLite connections that record every statement
// they prepare.
type recordingConnector struct {
	dsn  string
	mu   sync.Mutex
	seen []string
}

func (c *recordingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.Driver().Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return recordingConn{conn, c}, nil
}

func (c *recordingConnector) Driver() driver.Driver { return &sqlite.Driver{} }

func (c *recordingConnector) statements() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen
}

// recordingConn has only the methods of driver.Conn: without ExecerContext
// and QueryerContext, database/sql prepares every statement, so Prepare
// sees them all.
type recordingConn struct {
	driver.Conn
	c *recordingConnector
}

func (rc recordingConn) Prepare(query string) (driver.Stmt, error) {
	rc.c.mu.Lock()
	rc.c.seen = append(rc.c.seen, query)
	rc.c.mu.Unlock()
	return rc.Conn.Prepare(query)
}
