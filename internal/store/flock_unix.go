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

// lockFile serialises the start of processes that open one SQLite file at
// once, with flock(2) on the database file itself: the first connection
// switches a new file to WAL, which SQLite may refuse with SQLITE_BUSY
// (without waiting) while another process does the same, and goose must
// apply each migration once. SQLite locks with fcntl(2), which does not
// interact with flock on Linux or BSD. The returned function releases the
// lock.
func lockFile(ctx context.Context, path string) (unlock func() error, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
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
