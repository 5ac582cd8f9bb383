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

func (t *terminal) send(tb testing.TB, s string) {
	tb.Helper()
	if _, err := t.f.WriteString(s); err != nil {
		tb.Fatalf("write %q to the terminal: %v", s, err)
	}
}

// TestMenuInTerminal runs the real program (this test binary, re-executed
// as the client's main) on a pseudo-terminal: it registers a user through
// the menu, reads the latest price, and leaves with Ctrl-D.
func TestMenuInTerminal(t *testing.T) {
	t.Parallel()
	srv := clienttest.Start(t, clienttest.Options{})
	seed(t, srv)

	cmd := exec.Command(os.Args[0], "-addr", srv.Addr)
	cmd.Env = append(os.Environ(), envMain+"=1", "TZ=UTC")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatalf("start on a pseudo-terminal: %v", err)
	}
	defer f.Close()
	term := &terminal{f: f}
	go term.read()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	}()

	term.expect(t, "Choose 1-9: ")
	term.send(t, "1\r")
	term.expect(t, "E-mail: ")
	term.send(t, "dave@example\r") // no dot in the domain: net/mail accepts it
	term.expect(t, "Ticker")
	term.send(t, "not a ticker\r")
	term.expect(t, `ticker "NOT A TICKER" is not a valid symbol`)
	term.expect(t, "Ticker")
	term.send(t, "aapl\r")
	term.expect(t, "Registered dave@example, tracking AAPL.")

	term.expect(t, "Choose 1-9: ")
	term.send(t, "5\r")
	term.expect(t, "E-mail: ")
	term.send(t, "dave@example\r")
	term.expect(t, "AAPL: 187.42 USD at 2026-03-02 15:03:00 UTC")

	term.expect(t, "Choose 1-9: ")
	term.send(t, "\x04") // Ctrl-D: end of input on an empty line
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("exit status = %d, want 0", ee.ExitCode())
		} else if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the menu did not exit after Ctrl-D")
	}
	if n := storetest.Count(t, srv.DB, "users", "email = ? AND ticker = ?", "dave@example", "AAPL"); n != 1 {
		t.Errorf("dave@example tracking AAPL: %d rows, want 1", n)
	}
	if n := srv.StockCalls(); n != 2 {
		t.Errorf("RPCs sent = %d, want 2 (register, latest)", n)
	}
}
