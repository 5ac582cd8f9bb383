//go:build unix

package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockFile serialises the start of processes that open the SQLite file
// path at once, with flock(2) on a file of its own, path+".lock": the first
// connection switches a new database to WAL, which SQLite may refuse with
// SQLITE_BUSY (without waiting) while another process does the same, and
// goose must apply each migration once. The returned function releases the
// lock; the file stays, so that every process locks the same inode.
//
// Never the database file itself: closing any descriptor of a file drops
// every fcntl(2) lock the process holds on it, SQLite's included, and a
// process that then closed the database as its last user would delete the
// live WAL with the writes in it.
func lockFile(ctx context.Context, path string) (unlock func() error, err error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() error {
				err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				return errors.Join(err, f.Close())
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
