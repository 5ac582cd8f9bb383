//go:build !unix

package store

import (
	"context"
	"database/sql"
)

// fileLocker does nothing where flock(2) does not exist: there, start one
// process on a new SQLite file before any other.
type fileLocker struct{ path string }

func (*fileLocker) Lock(context.Context, *sql.DB) error   { return nil }
func (*fileLocker) Unlock(context.Context, *sql.DB) error { return nil }
