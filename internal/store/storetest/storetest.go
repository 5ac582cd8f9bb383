// Package storetest opens fresh Stockwatch databases for tests: SQLite
// always, MySQL/MariaDB when STOCKWATCH_TEST_MYSQL names a server.
//
// STOCKWATCH_TEST_MYSQL is a mysql:// URL whose user may create databases;
// each test gets a database of its own, dropped when it ends. When the
// variable is unset the MySQL backend is skipped, unless CI=true, where a
// missing or unreachable server fails the test instead.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/testkit"
)

// EnvMySQL names the variable holding the MySQL test server's URL.
const EnvMySQL = "STOCKWATCH_TEST_MYSQL"

// Backend names a database backend under test.
type Backend string

// The backends.
const (
	SQLite Backend = "sqlite"
	MySQL  Backend = "mysql"
)

// Backends returns the backends every store-backed suite runs against.
func Backends() []Backend { return []Backend{SQLite, MySQL} }

// Open returns a migrated, empty database of backend b with opts, closed
// when tb ends. It skips tb for MySQL when no server is configured outside
// CI.
func Open(tb testing.TB, b Backend, opts ...store.Option) *store.DB {
	tb.Helper()
	return OpenURL(tb, URL(tb, b), opts...)
}

// OpenURL returns a new connection pool on the database at url (as URL
// returns), closed when tb ends. It fails tb if the database cannot be
// opened.
func OpenURL(tb testing.TB, url string, opts ...store.Option) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), url, nil, opts...)
	if err != nil {
		tb.Fatalf("open %s: %v", redact(url), err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// redact is url without the password of a mysql:// URL.
func redact(url string) string {
	rest, ok := strings.CutPrefix(url, "mysql://")
	at := strings.LastIndex(rest, "@")
	if !ok || at < 0 {
		return url
	}
	user, _, _ := strings.Cut(rest[:at], ":")
	return "mysql://" + user + "@" + rest[at+1:]
}

// ProxiedMySQL returns url, a MySQL database's URL, rewritten to reach the
// server through a testkit.Proxy, and the proxy: a test cuts the proxy to
// take the database away.
func ProxiedMySQL(tb testing.TB, url string) (string, *testkit.Proxy) {
	tb.Helper()
	rest, ok := strings.CutPrefix(url, "mysql://")
	at := strings.LastIndex(rest, "@")
	slash := strings.Index(rest[at+1:], "/")
	if !ok || at < 0 || slash < 0 {
		tb.Fatalf("%q is not a mysql://USER[:PASS]@HOST[:PORT]/DB URL", redact(url))
	}
	slash += at + 1
	target := rest[at+1 : slash]
	if !strings.Contains(target, ":") {
		target += ":3306"
	}
	p := testkit.NewProxy(tb, target)
	return "mysql://" + rest[:at+1] + p.Addr() + rest[slash:], p
}

// URL returns the -db URL of a fresh, empty database of backend b, removed
// when tb ends. It skips tb for MySQL when no server is configured outside CI.
func URL(tb testing.TB, b Backend) string {
	tb.Helper()
	switch b {
	case SQLite:
		return "sqlite://" + filepath.Join(tb.TempDir(), "stockwatch.db")
	case MySQL:
		return mysqlURL(tb)
	}
	tb.Fatalf("unknown backend %q", b)
	return ""
}

func mysqlURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvMySQL)
	if base == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is not set, and CI=true requires the MySQL suite to run", EnvMySQL)
		}
		tb.Skipf("%s not set; skipping MySQL backend", EnvMySQL)
	}
	rest, ok := strings.CutPrefix(base, "mysql://")
	if !ok {
		tb.Fatalf("%s=%q: want mysql://USER[:PASS]@HOST[:PORT]/DB", EnvMySQL, base)
	}
	at := strings.LastIndex(rest, "@")
	slash := strings.Index(rest[at+1:], "/")
	if at < 0 || slash < 0 {
		tb.Fatalf("%s=%q: want mysql://USER[:PASS]@HOST[:PORT]/DB", EnvMySQL, base)
	}
	hostEnd := at + 1 + slash
	admin := adminDB(tb, rest[:hostEnd])
	name := "sw_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
		admin.Close()
	})
	_, params, _ := strings.Cut(rest[hostEnd+1:], "?")
	u := "mysql://" + rest[:hostEnd] + "/" + name
	if params != "" {
		u += "?" + params
	}
	return u
}

// adminDB connects to the server of userHost (USER[:PASS]@HOST[:PORT])
// without selecting a database.
func adminDB(tb testing.TB, userHost string) *sql.DB {
	tb.Helper()
	at := strings.LastIndex(userHost, "@")
	user, pass, _ := strings.Cut(userHost[:at], ":")
	host := userHost[at+1:]
	if !strings.Contains(host, ":") {
		host += ":3306"
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.Timeout = user, pass, "tcp", host, 5*time.Second
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		tb.Fatalf("mysql test server: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		tb.Fatalf("mysql test server %s unreachable (%s): %v", host, EnvMySQL, err)
	}
	return db
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Each runs f once per backend as a subtest named for the backend.
func Each(t *testing.T, f func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(string(b), func(t *testing.T) { f(t, b) })
	}
}

// EachParallel marks t parallel and runs f once per backend as a parallel
// subtest named for the backend: the preamble of nearly every store-backed
// test.
func EachParallel(t *testing.T, f func(t *testing.T, b Backend)) {
	t.Helper()
	t.Parallel()
	Each(t, func(t *testing.T, b Backend) {
		t.Parallel()
		f(t, b)
	})
}

// EachDB is EachParallel with a fresh, migrated database of each backend,
// closed when the subtest ends.
func EachDB(t *testing.T, f func(t *testing.T, db *store.DB)) {
	t.Helper()
	EachParallel(t, func(t *testing.T, b Backend) { f(t, Open(t, b)) })
}

// MustExec runs a statement on db's writer pool, for tests that arrange rows
// directly.
func MustExec(tb testing.TB, db *store.DB, query string, args ...any) {
	tb.Helper()
	_, w := db.Pools()
	if _, err := w.ExecContext(context.Background(), query, args...); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

// Count returns SELECT COUNT(*) FROM table [WHERE where].
func Count(tb testing.TB, db *store.DB, table, where string, args ...any) int {
	tb.Helper()
	q := "SELECT COUNT(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	var n int
	_, w := db.Pools()
	if err := w.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return n
}

// AddUser creates a user tracking ticker, created and updated at at, in a
// transaction of its own. It fails tb if that fails.
func AddUser(tb testing.TB, db *store.DB, email, ticker string, at time.Time) {
	tb.Helper()
	err := db.Tx(context.Background(), func(ctx context.Context, tx stock.Tx) error {
		return tx.CreateUser(ctx, stock.User{Email: email, Ticker: ticker, CreateTime: at, UpdateTime: at})
	})
	if err != nil {
		tb.Fatalf("add user %s: %v", email, err)
	}
}

// TickerStates returns db.Tickers as a map by ticker. It fails tb if the
// read fails.
func TickerStates(tb testing.TB, db *store.DB) map[string]stock.TickerState {
	tb.Helper()
	all, err := db.Tickers(context.Background())
	if err != nil {
		tb.Fatalf("tickers: %v", err)
	}
	out := map[string]stock.TickerState{}
	for _, s := range all {
		out[s.Ticker] = s
	}
	return out
}

// MySQLCommands counts the commands clients send to a MySQL server through
// p from now on: one per round trip (a packet with sequence number 0 starts
// a command; the rest of a command, and the handshake, are numbered on).
// The count returned is safe to read while clients run.
func MySQLCommands(p *testkit.Proxy) func() int {
	var (
		mu    sync.Mutex
		n     int
		state = map[net.Conn]*mysqlFraming{}
	)
	p.Observe(func(c net.Conn, chunk []byte) {
		mu.Lock()
		defer mu.Unlock()
		f := state[c]
		if f == nil {
			f = &mysqlFraming{}
			state[c] = f
		}
		n += f.commands(chunk)
	})
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// mysqlFraming follows the packet framing of one client connection: a
// 4-byte header (3-byte little-endian length, sequence number), then the
// payload.
type mysqlFraming struct {
	header []byte
	skip   int // payload bytes of the current packet still to come
}

// commands returns how many packets numbered 0 start in chunk.
func (f *mysqlFraming) commands(chunk []byte) int {
	n := 0
	for len(chunk) > 0 {
		if f.skip > 0 {
			k := min(f.skip, len(chunk))
			f.skip, chunk = f.skip-k, chunk[k:]
			continue
		}
		k := min(4-len(f.header), len(chunk))
		f.header, chunk = append(f.header, chunk[:k]...), chunk[k:]
		if len(f.header) == 4 {
			f.skip = int(f.header[0]) | int(f.header[1])<<8 | int(f.header[2])<<16
			if f.header[3] == 0 {
				n++
			}
			f.header = f.header[:0]
		}
	}
	return n
}

// IsGalera reports whether db's server is a Galera node (wsrep_on).
func IsGalera(tb testing.TB, db *store.DB) bool {
	tb.Helper()
	var name, on string
	_, w := db.Pools()
	err := w.QueryRowContext(context.Background(), `SHOW VARIABLES LIKE 'wsrep_on'`).Scan(&name, &on)
	if errors.Is(err, sql.ErrNoRows) {
		return false
	}
	if err != nil {
		tb.Fatal(err)
	}
	return strings.EqualFold(on, "ON")
}
