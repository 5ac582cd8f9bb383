// Package store keeps Stockwatch's users, prices and at-most-once request
// records in SQL: SQLite (modernc.org/sqlite, pure Go) or MySQL/MariaDB
// (go-sql-driver/mysql). Both backends share every query; the differences
// (connection set-up, migrations, placeholders, row locks, conflict syntax,
// index hints, error codes) live in a dialect.
//
// Times are stored as Unix microseconds (UTC) in integer columns, which both
// engines index and compare the same way and which carry no time zone.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/stockwatch/stockwatch/internal/stock"
)

//go:embed migrations
var migrations embed.FS

// DB is a Stockwatch database. It is safe for concurrent use.
//
// Errors: every method wraps its error with what it was doing. When the
// database cannot be reached or cannot serve now (down, connection lost,
// read-only, file locked or unusable), the error matches
// stock.ErrUnavailable; when ctx ends first, context.Canceled or
// context.DeadlineExceeded. Methods that say nothing more return no other
// kind: any other error is unexpected (KindInternal to the API).
type DB struct {
	r, w    *pool // readers and writers; the same pool except on SQLite files
	d       dialect
	dsn     string        // redacted, for logs
	node    func() string // the server new connections go to; nil on SQLite
	retries int           // of a write transaction that deadlocked
	events  bool          // write events for other systems (WithEvents)
	log     *slog.Logger  // of what the DB does on its own (polls)
	// pipe, if set, runs write transactions that send several statements
	// per round trip (pipeTxn): MySQL and MariaDB on one host, not a
	// Galera node, unless the URL turns interpolateParams off.
	pipe *pool
	// sums keeps rows of price_sums for AveragePrice (WithAverageCache).
	sums *sumsCache
	// users keeps which ticker each user follows (WithUserCache).
	users *kept[string]
	// rows keeps tickers' rows of ticker_prices (WithPriceCache), which
	// epoch tells when to stop serving and stopPoll stops polling.
	rows     *kept[tickerState]
	epoch    *priceEpoch
	stopPoll func()

	// beforeCommit, when set (by tests), runs after a write transaction's
	// statements and before its commit; an error rolls it back.
	beforeCommit func(context.Context) error
}

// Open connects to the database named by dsn (sqlite://PATH,
// sqlite://:memory:, or mysql://USER[:PASS]@HOST[:PORT][,HOST[:PORT]...]/DB[?params],
// where several hosts are the nodes of one Galera cluster, see
// docs/galera.md), applies the embedded migrations and then opts. It returns an error if the DSN is
// malformed, the database is unreachable or a migration fails.
func Open(ctx context.Context, dsn string, log *slog.Logger, opts ...Option) (*DB, error) {
	return open(ctx, dsn, log, math.MaxInt64, opts...)
}

// open is Open, applying the migrations only up to version upTo.
func open(ctx context.Context, dsn string, log *slog.Logger, upTo int64, opts ...Option) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	scheme, rest, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	var db *DB
	if scheme == "sqlite" {
		db, err = openSQLite(rest)
	} else {
		db, err = openMySQL(rest)
	}
	if err != nil {
		return nil, err
	}
	db.retries = 5
	// A deadlock here is two replicas starting at once on two Galera
	// nodes (a certification conflict on goose's tables); every migration
	// may run again (migrations/README.md), so the start does.
	if err := db.retry(ctx, "migrate", func() error { return db.migrate(ctx, log, upTo) }); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.pipelineOffGalera(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if scheme == "mysql" {
		// Off with interpolateParams=false, several hosts, or a Galera
		// node (docs/storage.md, "Round trips").
		log.Info("write transactions", "pipelined", db.pipe != nil)
	}
	db.log = log
	for _, o := range opts {
		o(db)
	}
	return db, nil
}

// CheckDSN reports whether dsn is a well-formed database URL, without
// connecting. It returns an error that says what is wrong otherwise.
func CheckDSN(dsn string) error {
	_, _, err := parseDSN(dsn)
	return err
}

func parseDSN(dsn string) (scheme, rest string, err error) {
	scheme, rest, _ = strings.Cut(dsn, "://")
	switch scheme {
	case "sqlite":
		if rest == "" {
			return "", "", errors.New("sqlite URL: empty path (use sqlite://stockwatch.db or sqlite://:memory:)")
		}
	case "mysql":
		if _, _, err := mysqlConfig(rest); err != nil {
			return "", "", err
		}
	default:
		return "", "", fmt.Errorf("unsupported database URL %q: want sqlite://PATH or mysql://USER[:PASS]@HOST[:PORT]/DB", Redact(dsn))
	}
	return scheme, rest, nil
}

// Redact returns dsn with any password replaced by "xxxxx".
func Redact(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return dsn
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return dsn
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return dsn
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}

// migrate applies the embedded migrations of db's dialect up to version
// upTo. Each one must be safe to run again after it stopped at any statement
// (see migrations/README.md): MySQL commits DDL on its own, so a start that
// died during a migration leaves its changes without its version row.
func (db *DB) migrate(ctx context.Context, log *slog.Logger, upTo int64) error {
	fsys, err := fs.Sub(migrations, "migrations/"+db.d.name)
	if err != nil {
		return err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true), goose.WithGoMigrations(goMigrations(db.d.name)...)}
	if db.d.startLock != nil {
		unlock, err := db.d.startLock(ctx)
		if err != nil {
			return err
		}
		defer unlock()
	} else if db.d.locker != nil {
		l, err := db.d.locker()
		if err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		opts = append(opts, goose.WithLocker(l))
	}
	p, err := goose.NewProvider(db.d.goose, db.w.db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	res, err := p.UpTo(ctx, upTo)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", db.dsn, db.classify(err))
	}
	for _, r := range res {
		log.Info("applied migration", "source", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// Close stops polling price_epoch (WithPriceCache) and closes the
// connection pools.
func (db *DB) Close() error {
	if db.stopPoll != nil {
		db.stopPoll()
	}
	err := db.w.Close()
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	if db.pipe != nil {
		err = errors.Join(err, db.pipe.Close())
	}
	return err
}

// Ping reports whether the database answers and is migrated. It returns an
// error of KindUnavailable otherwise.
func (db *DB) Ping(ctx context.Context) error {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM requests WHERE request_id = ''`).Scan(&n)
	return db.wrap(err, "ping")
}

// Node returns the address (HOST:PORT) of the database server that new
// connections go to: with several hosts in the URL, the one the last new
// connection went to (the first host until one connects); "" on SQLite. It
// cannot fail.
func (db *DB) Node() string {
	if db.node == nil {
		return ""
	}
	return db.node()
}

// PoolStats returns a function per connection pool that reads its
// statistics, for metrics: "writer", and "reader" where reads have a pool
// of their own (SQLite files). It cannot fail.
func (db *DB) PoolStats() map[string]func() sql.DBStats {
	m := map[string]func() sql.DBStats{"writer": db.w.Stats}
	if db.r != db.w {
		m["reader"] = db.r.Stats
	}
	return m
}

// Pools returns the connection pools, for test kits (storetest) that
// arrange or inspect rows directly. Everything else goes through the
// methods of DB; metrics read PoolStats.
func (db *DB) Pools() (reader, writer *sql.DB) { return db.r.db, db.w.db }

// wrap adds op as context to err and marks a database outage as
// KindUnavailable. It returns nil for a nil err.
func (db *DB) wrap(err error, op string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, db.classify(err))
}

func (db *DB) classify(err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case db.d.isUnavailable(err):
		return fmt.Errorf("%w: %w", stock.ErrUnavailable, err)
	}
	return err
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
