//go:build !unix

package store

import "context"

// lockFile does nothing where flock(2) does not exist: there, start one
// process on a new SQLite file before any other.
func lockFile(context.Context, string) (func() error, error) {
	return func() error { return nil }, nil
}
