//go:build linux || darwin

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/stockwatch/stockwatch/internal/client/clienttest"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
)

// terminal is the controlling side of a pseudo-terminal whose output is
// collected in the background.
type terminal struct {
	f    *os.File
	mu   sync.Mutex
	buf  bytes.Buffer
	seen int // bytes of buf that expect has already matched
}

func (t *terminal) read() {
	b := make([]byte, 4096)
	for {
		n, err := t.f.Read(b)
		t.mu.Lock()
		t.buf.Write(b[:n])
		t.mu.Unlock()
		if err != nil { // EIO on Linux once the program exits
			return
		}
	}
}

// expect waits until s appears in the output after what was matched last.
func (t *terminal) expect(tb testing.TB, s string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		t.mu.Lock()
		out := t.buf.String()
		t.mu.Unlock()
		if i := strings.Index(out[t.seen:], s); i >= 0 {
			t.seen += i + len(s)
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %q; terminal shows:\n%s", s, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// answer waits for prompt, as expect does, and then types reply.
func (t *terminal) answer(tb testing.TB, prompt, reply string) {
	tb.Helper()
	t.expect(tb, prompt)
	if _, err := t.f.WriteString(reply); err != nil {
		tb.Fatalf("write %q to the terminal: %v", reply, err)
	}
}

// startInTerminal runs the real program (this test binary, re-executed
// as the client's main) with args on a pseudo-terminal, and returns the
// terminal and a channel that receives the program's exit.
func startInTerminal(t *testing.T, args ...string) (*terminal, <-chan error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envMain+"=1", "TZ=UTC")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatalf("start on a pseudo-terminal: %v", err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
		f.Close()
	})
	term := &terminal{f: f}
	go term.read()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return term, exited
}

// waitExit waits for the program's exit and checks its status.
func waitExit(t *testing.T, exited <-chan error, want int) {
	t.Helper()
	select {
	case err := <-exited:
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != want {
			t.Fatalf("exit status = %d, want %d", code, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the program did not exit")
	}
}

// TestMenuInTerminal runs the menu on a pseudo-terminal: it registers a
// user, reads the latest price and deletes the user with the e-mail it
// remembered, confirming, and leaves with q.
func TestMenuInTerminal(t *testing.T) {
	t.Parallel()
	srv := seeded(t, clienttest.Options{})
	term, exited := startInTerminal(t, "-addr", srv.Addr)

	term.answer(t, "Choose 1-11 or q: ", "1\r")
	term.answer(t, "E-mail: ", "dave@example\r") // no dot in the domain: net/mail accepts it
	term.answer(t, "Ticker", "not a ticker\r")
	term.expect(t, `ticker "NOT A TICKER" is not a valid symbol`)
	term.answer(t, "Ticker", "aapl\r")
	term.expect(t, "Registered dave@example, tracking AAPL.")

	term.answer(t, "Choose 1-11 or q: ", "5\r")
	term.answer(t, "E-mail [dave@example]: ", "\r")
	// The age is the real clock's: the seed's prices are months old.
	term.expect(t, "AAPL: 187.42 USD, ")
	term.expect(t, " ago (2026-03-02 15:03:00 UTC)")

	term.answer(t, "Choose 1-11 or q: ", "3\r")
	term.answer(t, "E-mail [dave@example]: ", "\r")
	term.answer(t, "Really delete dave@example? [y/N] ", "y\r")
	term.expect(t, "Deleted dave@example.")

	term.answer(t, "Choose 1-11 or q: ", "q\r")
	waitExit(t, exited, 0)
	testkit.WantCount(t, "dave@example rows (registered, then deleted)", storetest.Count(t, srv.DB, "users", "email = ?", "dave@example"), 0)
	testkit.WantCount(t, "RPCs sent (register, latest, delete)", srv.StockCalls(), 3)
}

// TestConfirmInTerminal runs delete on a pseudo-terminal: it asks, and
// deletes only after a yes.
func TestConfirmInTerminal(t *testing.T) {
	t.Parallel()
	srv := seeded(t, clienttest.Options{})

	term, exited := startInTerminal(t, "-addr", srv.Addr, "delete", "bob@example.com")
	term.answer(t, "Really delete bob@example.com? [y/N] ", "\r")
	term.expect(t, "stockwatch: cancelled: nothing was deleted (CANCELLED)")
	waitExit(t, exited, 1)

	term, exited = startInTerminal(t, "delete", "bob@example.com", "-addr", srv.Addr)
	term.answer(t, "Really delete bob@example.com? [y/N] ", "yes\r")
	term.expect(t, "Deleted bob@example.com.")
	waitExit(t, exited, 0)
	testkit.WantCount(t, "bob@example.com rows", storetest.Count(t, srv.DB, "users", "email = ?", "bob@example.com"), 0)
	testkit.WantCount(t, "RPCs sent (the confirmed delete)", srv.StockCalls(), 1)
}
