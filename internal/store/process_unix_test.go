//go:build unix

package store_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

// TestSQLiteSharedWithAnotherProcess: another process that opens and
// closes the database while a daemon has it open (an operator's sqlite3)
// must not take the daemon's writes with it. Closing any descriptor of the
// database file drops every fcntl lock the process holds on it, SQLite's
// included; the other process, thinking itself the last user, would then
// delete the live WAL. The start lock once held the database file itself.
func TestSQLiteSharedWithAnotherProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stockwatch.db")
	db, err := store.Open(ctx, "sqlite://"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.AddUser(t, db, "first@x.com", "AAPL", t0)

	if runtime.GOOS == "linux" {
		// The invariant itself: this process still holds SQLite's lock.
		if locks := fcntlLocks(t, path); len(locks) == 0 {
			t.Errorf("after store.Open and a write, this process holds no fcntl lock on %s: another process may delete its WAL", filepath.Base(path))
		}
	}

	sqlite3, err := exec.LookPath("sqlite3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sqlite3 not installed; CI installs it (.ci/run)")
		}
		t.Skip("sqlite3 not installed")
	}
	out, err := exec.Command(sqlite3, path, "SELECT COUNT(*) FROM users;").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Fatalf("sqlite3: %v, %q; want 1 user", err, out)
	}
	const more = 20
	for i := range more {
		storetest.AddUser(t, db, fmt.Sprintf("u%d@x.com", i), "AAPL", t0)
	}
	if _, err := db.GetUser(ctx, fmt.Sprintf("u%d@x.com", more-1)); err != nil {
		t.Errorf("GetUser after sqlite3 closed the database: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := store.Open(ctx, "sqlite://"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if n := storetest.Count(t, again, "users", ""); n != more+1 {
		t.Errorf("users after reopening = %d, want %d (every acknowledged write)", n, more+1)
	}
}

// fcntlLocks returns the lines of /proc/locks of this process's POSIX
// locks on path.
func fcntlLocks(t *testing.T, path string) []string {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/locks")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// "1: POSIX  ADVISORY  READ 5872 fe:00:9985805 128 128"
	pid, ino := fmt.Sprint(os.Getpid()), fmt.Sprintf(":%d", st.Ino)
	var locks []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 6 && fields[1] == "POSIX" && fields[4] == pid && strings.HasSuffix(fields[5], ino) {
			locks = append(locks, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return locks
}
