package store

import "context"

// SetBeforeCommit installs a hook that runs after a write transaction's
// statements and before its commit; an error rolls the transaction back.
func (db *DB) SetBeforeCommit(f func(context.Context) error) { db.beforeCommit = f }
