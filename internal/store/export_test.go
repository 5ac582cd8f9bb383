package store

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"time"

	"github.com/pressly/goose/v3"
)

// SetBeforeCommit installs a hook that runs after a write transaction's
// statements and before its commit; an error rolls the transaction back.
func (db *DB) SetBeforeCommit(f func(context.Context) error) { db.beforeCommit = f }

// OpenUpTo is Open, applying the embedded migrations only up to version.
func OpenUpTo(ctx context.Context, dsn string, version int64) (*DB, error) {
	return open(ctx, dsn, nil, version)
}

// MigrationVersions returns the versions of backend's migrations ("sqlite"
// or "mysql"), embedded files and Go, ascending. It returns an error if backend has no
// migrations or a file name has no version.
func MigrationVersions(backend string) ([]int64, error) {
	files, err := fs.Glob(migrations, "migrations/"+backend+"/*.sql")
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no migrations for backend %q", backend)
	}
	var versions []int64
	for _, f := range files {
		v, err := goose.NumericComponent(f)
		if err != nil {
			return nil, err
		}
		versions = append(versions, v)
	}
	for _, m := range goMigrations(backend) {
		versions = append(versions, m.Version)
	}
	slices.Sort(versions)
	return versions, nil
}

// Pipelined reports whether write transactions send several statements
// per round trip (pipeTxn).
func (db *DB) Pipelined() bool { return db.pipe != nil }

// WithUserCacheClock is WithUserCache reading the time from now.
func WithUserCacheClock(ttl time.Duration, now func() time.Time) Option {
	return withUserCache(ttl, now)
}

// PollPrices polls price_epoch once, as a DB with WithPriceCache does every
// poll period.
func (db *DB) PollPrices(ctx context.Context) { db.pollEpoch(ctx) }
