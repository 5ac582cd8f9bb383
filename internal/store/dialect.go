package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is what differs between the backends. The queries are shared:
// they are written with ? placeholders in SQL that every backend reads the
// same, and leave to the dialect what the backends spell differently. A
// new backend provides a dialect value with every field below set
// (locker and startLock are optional; priceIndex and lockRows may be ""
// where not needed), a folder migrations/<name>, and a URL scheme in
// parseDSN and open.
type dialect struct {
	name   string                      // also the folder of its migrations
	goose  goose.Dialect               // of the migrations' version table
	locker func() (lock.Locker, error) // serialises migrations across replicas; nil if not needed
	// startLock, if set, is held from before the first connection opens
	// until the migrations are applied, instead of locker.
	startLock func(context.Context) (unlock func() error, err error)
	// rebind rewrites a query's ? placeholders into the backend's (such as
	// $1, $2… on PostgreSQL); every statement passes through it (see pool).
	rebind func(query string) string
	// lockRows ends a SELECT, in a write transaction, of rows that the
	// transaction then updates: it locks them until the commit.
	lockRows string
	// ignoreConflict ends an INSERT so that a row whose unique key (the
	// columns given) exists is skipped and not counted as affected.
	ignoreConflict func(key ...string) string
	// upsert ends an INSERT so that a row whose primary key (key) exists
	// gets the inserted values of cols instead.
	upsert func(key string, cols ...string) string
	// priceIndex follows stock_prices' alias in the latest-price and
	// average queries: it names the covering index, so that the planner
	// uses it without estimating the others for every query (on MariaDB
	// that estimate was the largest cost of a one-row read).
	priceIndex    string
	isDuplicate   func(error) bool // unique key violation
	isRetryable   func(error) bool // deadlock or lock timeout: rerun the transaction
	isUnavailable func(error) bool // the database cannot be reached
}

// sqliteDialect returns SQLite's dialect (modernc.org/sqlite), without the
// start lock, which needs the file's path.
func sqliteDialect() dialect {
	return dialect{
		name:   "sqlite",
		goose:  goose.DialectSQLite3,
		rebind: sameQuery,
		// Immediate transactions (_txlock) already hold the database's
		// write lock.
		lockRows: "",
		ignoreConflict: func(key ...string) string {
			return "ON CONFLICT (" + strings.Join(key, ", ") + ") DO NOTHING"
		},
		upsert: func(key string, cols ...string) string {
			set := make([]string, len(cols))
			for i, c := range cols {
				set[i] = c + " = excluded." + c
			}
			return "ON CONFLICT (" + key + ") DO UPDATE SET " + strings.Join(set, ", ")
		},
		priceIndex: "INDEXED BY stock_prices_ticker_cover",
		isDuplicate: func(err error) bool {
			c := sqliteCode(err)
			return c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || c == sqlite3.SQLITE_CONSTRAINT_UNIQUE
		},
		isRetryable: func(error) bool { return false },
		// The file cannot be used now (locked, unreadable, read-only,
		// disk full): the caller may try again later. Not a file moved
		// or deleted under the daemon, nor a corrupt file system: those
		// last, and are INTERNAL (logged as errors).
		isUnavailable: func(err error) bool {
			code := sqliteCode(err)
			if code == sqlite3.SQLITE_READONLY_DBMOVED || code == sqlite3.SQLITE_IOERR_CORRUPTFS {
				return false
			}
			switch code & 0xff {
			case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN,
				sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_FULL:
				return true
			}
			return false
		},
	}
}

func openSQLite(path string) (*DB, error) {
	d := sqliteDialect()
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_txlock", "immediate")
	if path == ":memory:" {
		// Every connection to :memory: is a new database: use exactly one.
		db, err := sql.Open("sqlite", "file::memory:?"+q.Encode())
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		db.SetConnMaxIdleTime(0)
		db.SetConnMaxLifetime(0)
		return newDB(db, db, d, "sqlite://:memory:"), nil
	}
	d.startLock = func(ctx context.Context) (func() error, error) { return lockFile(ctx, path) }
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	dsn := "file:" + path + "?" + q.Encode()
	// SQLite has one writer at a time: queue writers in Go on one
	// connection rather than spinning in busy handlers; readers run beside
	// it thanks to WAL.
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return newDB(r, w, d, "sqlite://"+path), nil
}

// sameQuery is the rebind of backends that take ? placeholders.
func sameQuery(query string) string { return query }

func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// MySQL error numbers used below.
const (
	erDupEntry        = 1062
	erLockWaitTimeout = 1205
	erLockDeadlock    = 1213
	erConCount        = 1040 // too many connections
	erServerShutdown  = 1053
	erReadOnly        = 1290 // --read-only (e.g. a replica during a fail-over)
	erReadOnlyTx      = 1792 // write in a READ ONLY transaction
	erConnKilled      = 1927 // MariaDB: connection was killed
	erClientTimeout   = 4031 // MySQL 8: disconnected after the idle timeout (MariaDB's 4031 is about triggers, which Stockwatch has none of)
	erNodeNotReady    = 1047 // a Galera node outside the primary component: "WSREP has not yet prepared node for application use"
)

// errMySQLURL is the error of a mysql:// URL that is not of the form it shows.
var errMySQLURL = errors.New("mysql URL: want mysql://USER[:PASS]@HOST[:PORT][,HOST[:PORT]...]/DB[?params]")

// mysqlMaxHosts bounds the hosts of one URL: a Galera cluster has a handful
// of nodes, and a new connection may try every host.
const mysqlMaxHosts = 16

// mysqlConfig turns USER[:PASS]@HOST[:PORT][,HOST[:PORT]...]/DB[?params]
// into a driver config with the settings Stockwatch relies on, whose Addr
// is the first host, and every host as HOST:PORT in the URL's order.
func mysqlConfig(rest string) (*mysql.Config, []string, error) {
	// net/url takes one host: cut the host list out of the authority (up
	// to the first '/', after the last '@') and parse the rest around a
	// stand-in.
	auth, _, _ := strings.Cut(rest, "/")
	at := strings.LastIndex(auth, "@")
	if at < 0 || strings.ContainsAny(auth[at+1:], "?#") {
		return nil, nil, errMySQLURL
	}
	hosts, err := mysqlHosts(auth[at+1:])
	if err != nil {
		return nil, nil, err
	}
	u, err := url.Parse("mysql://" + auth[:at+1] + "host" + rest[len(auth):])
	if err != nil {
		return nil, nil, fmt.Errorf("mysql URL: %w", errors.Unwrap(err))
	}
	db := strings.TrimPrefix(u.Path, "/")
	if u.User == nil || u.User.Username() == "" || db == "" || strings.Contains(db, "/") {
		return nil, nil, errMySQLURL
	}
	pass, _ := u.User.Password()
	params := u.Query()
	// The store counts the rows a statement changed (a skipped duplicate
	// price, a claim taken): with clientFoundRows the driver would count
	// the rows matched instead, and those counts would lie.
	if v := params.Get("clientFoundRows"); v != "" && v != "false" {
		return nil, nil, errors.New("mysql URL: clientFoundRows is not supported: the store relies on counts of changed rows")
	}
	params.Set("parseTime", "true")
	params.Set("loc", "UTC")
	if params.Get("timeout") == "" {
		params.Set("timeout", "5s")
	}
	if params.Get("interpolateParams") == "" {
		// Send each query with its arguments in one round trip, instead of
		// prepare, execute and close (safe with the utf8mb4 connection
		// charset; the driver refuses it for charsets where it is not).
		params.Set("interpolateParams", "true")
	}
	if len(hosts) > 1 && !params.Has("wsrep_sync_wait") {
		// Several hosts are the nodes of a Galera cluster, and replicas
		// preferring different nodes serve one client's calls in turn: a
		// read must see what the client's last call committed on another
		// node (an update right after a register, a replay), so every
		// read waits for the node's apply queue first (a causal read).
		params.Set("wsrep_sync_wait", "1")
	}
	dsn := fmt.Sprintf("%s:%s@tcp(%s)/%s?%s", u.User.Username(), pass, hosts[0], db, params.Encode())
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("mysql URL: %w", err)
	}
	return cfg, hosts, nil
}

// mysqlHosts splits a URL's comma-separated host list into HOST:PORT
// addresses (port 3306 where none is given), in order. It returns an
// error naming the first empty, malformed or repeated host.
func mysqlHosts(list string) ([]string, error) {
	if list == "" {
		return nil, errMySQLURL
	}
	parts := strings.Split(list, ",")
	if len(parts) > mysqlMaxHosts {
		return nil, fmt.Errorf("mysql URL: %d hosts, at most %d", len(parts), mysqlMaxHosts)
	}
	hosts := make([]string, 0, len(parts))
	for _, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("mysql URL: empty host in %q", list)
		}
		host, port, err := net.SplitHostPort(p)
		if err != nil {
			// No port: a name, an IPv4 address or a bracketed IPv6 one.
			host, port = p, "3306"
			if strings.HasPrefix(p, "[") && strings.HasSuffix(p, "]") {
				host = p[1 : len(p)-1]
			}
			if strings.ContainsAny(host, "[]") || (strings.Contains(host, ":") && host == p) {
				return nil, fmt.Errorf("mysql URL: invalid host %q", p)
			}
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return nil, fmt.Errorf("mysql URL: invalid port in host %q", p)
		}
		if host == "" || strings.ContainsAny(host, "@/?#[] ") {
			return nil, fmt.Errorf("mysql URL: invalid host %q", p)
		}
		addr := net.JoinHostPort(host, port)
		if slices.Contains(hosts, addr) {
			return nil, fmt.Errorf("mysql URL: host %s given twice", addr)
		}
		hosts = append(hosts, addr)
	}
	return hosts, nil
}

func openMySQL(rest string) (*DB, error) {
	cfg, hosts, err := mysqlConfig(rest)
	if err != nil {
		return nil, err
	}
	var (
		c    driver.Connector
		node = func() string { return hosts[0] }
	)
	if len(hosts) == 1 {
		if c, err = mysql.NewConnector(cfg); err != nil {
			return nil, fmt.Errorf("mysql URL: %w", err)
		}
	} else {
		f, err := newFailover(cfg, hosts)
		if err != nil {
			return nil, fmt.Errorf("mysql URL: %w", err)
		}
		c, node = f, f.current
	}
	d := mysqlDialect()
	db := mysqlPool(c, 32)
	sdb := newDB(db, db, d, Redact("mysql://"+rest))
	sdb.node = node
	if len(hosts) == 1 && cfg.InterpolateParams {
		// Pipelined write transactions (pipeTxn) get a pool of their own
		// that takes several statements per query; every other query
		// goes through one that does not, so that no value could ever
		// stack a statement onto one. (Several hosts are Galera, where
		// pipelining is off: pipelineOffGalera.)
		pc := cfg.Clone()
		pc.MultiStatements = true
		conn, err := mysql.NewConnector(pc)
		if err != nil {
			return nil, fmt.Errorf("mysql URL: %w", err)
		}
		sdb.pipe = &pool{db: mysqlPool(conn, 16), rebind: d.rebind}
	}
	return sdb, nil
}

// mysqlPool opens a pool of at most size READ COMMITTED connections of c.
func mysqlPool(c driver.Connector, size int) *sql.DB {
	db := sql.OpenDB(readCommitted{c})
	db.SetMaxOpenConns(size)
	db.SetMaxIdleConns(size)
	db.SetConnMaxLifetime(5 * time.Minute)
	db.SetConnMaxIdleTime(time.Minute)
	return db
}

// mysqlDialect returns MySQL's and MariaDB's dialect (go-sql-driver/mysql).
func mysqlDialect() dialect {
	return dialect{
		name:     "mysql",
		goose:    goose.DialectMySQL,
		rebind:   sameQuery,
		lockRows: " FOR UPDATE",
		locker: func() (lock.Locker, error) {
			// goose retries every 5s by default: a replica starting beside
			// another would wait that long for a lock held for milliseconds.
			return lock.NewMySQLTableLocker(
				lock.WithTableName("stockwatch_migration_lock"),
				lock.WithTableLockTimeout(250*time.Millisecond, 240), // up to a minute
			)
		},
		// A no-op update: affects no row, and unlike INSERT IGNORE it
		// turns no other error into a warning.
		ignoreConflict: func(key ...string) string {
			return "ON DUPLICATE KEY UPDATE " + key[0] + " = " + key[0]
		},
		// VALUES(col) is the one spelling MariaDB and MySQL 8 share (MySQL
		// deprecates it for an alias MariaDB lacks).
		upsert: func(_ string, cols ...string) string {
			set := make([]string, len(cols))
			for i, c := range cols {
				set[i] = c + " = VALUES(" + c + ")"
			}
			return "ON DUPLICATE KEY UPDATE " + strings.Join(set, ", ")
		},
		priceIndex:  "FORCE INDEX (stock_prices_ticker_cover)",
		isDuplicate: func(err error) bool { return mysqlNumber(err) == erDupEntry },
		// On Galera a write that conflicts with one committed on another
		// node fails at commit with a deadlock (certification failure):
		// rerunning the transaction is right there too.
		isRetryable: func(err error) bool {
			n := mysqlNumber(err)
			return n == erLockDeadlock || n == erLockWaitTimeout
		},
		isUnavailable: func(err error) bool {
			switch mysqlNumber(err) {
			case erConCount, erServerShutdown, erReadOnly, erReadOnlyTx, erConnKilled, erClientTimeout, erNodeNotReady,
				erLockWaitTimeout: // reruns spent: "try restarting transaction" is the client's to do
				return true
			}
			var ne net.Error
			return errors.As(err, &ne) ||
				errors.Is(err, errNodeNotReady) ||
				errors.Is(err, driver.ErrBadConn) ||
				errors.Is(err, mysql.ErrInvalidConn) ||
				errors.Is(err, io.ErrUnexpectedEOF) ||
				errors.Is(err, io.EOF) ||
				errors.Is(err, syscall.ECONNREFUSED) ||
				errors.Is(err, syscall.ECONNRESET) ||
				errors.Is(err, sql.ErrConnDone)
		},
	}
}

func mysqlNumber(err error) uint16 {
	var e *mysql.MySQLError
	if errors.As(err, &e) {
		return e.Number
	}
	return 0
}

// readCommitted sets READ COMMITTED on every new session, so that a
// pooled connection never reads from an old REPEATABLE READ snapshot and
// misses what the collector committed since, and so that no statement pays
// for it per transaction. The statement is the
// same on MySQL 8 and MariaDB.
type readCommitted struct{ driver.Connector }

func (c readCommitted) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, errors.New("mysql driver connection cannot execute statements")
	}
	if _, err := ex.ExecContext(ctx, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", nil); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}
