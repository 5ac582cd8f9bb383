// Package natstest runs real nats-server processes with JetStream for
// tests: a private one per test (on a free loopback port, with its own
// store directory, stopped and started again by pid), and the shared one
// that CI keeps at 127.0.0.1:4222.
package natstest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// SharedURL is the NATS server with JetStream that CI (.ci/run) keeps
// running.
const SharedURL = "nats://127.0.0.1:4222"

// required reports whether a missing server fails the test (CI=true)
// rather than skipping it.
func required() bool { return os.Getenv("CI") == "true" }

// binary returns the nats-server executable, or skips tb (fails it under
// CI=true) when there is none.
func binary(tb testing.TB) string {
	tb.Helper()
	for _, p := range []string{"nats-server", "/usr/sbin/nats-server", "/usr/local/bin/nats-server"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if required() {
		tb.Fatal("nats-server not found (CI=true: NATS tests must run; .ci/run installs it)")
	}
	tb.Skip("nats-server not found; set CI=true to make this a failure")
	return ""
}

// Shared returns SharedURL after checking that it answers with JetStream.
// It skips tb when it does not (fails it under CI=true).
func Shared(tb testing.TB) string {
	tb.Helper()
	if err := ping(SharedURL); err != nil {
		if required() {
			tb.Fatalf("NATS with JetStream at %s: %v (CI=true: .ci/run starts it)", SharedURL, err)
		}
		tb.Skipf("no NATS with JetStream at %s (%v); set CI=true to make this a failure", SharedURL, err)
	}
	return SharedURL
}

// Server is a private nats-server process with JetStream.
type Server struct {
	URL string // nats://127.0.0.1:PORT

	tb   testing.TB
	bin  string
	port int
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts a private nats-server with JetStream on a free loopback
// port, with its store in a directory of its own; it is stopped when tb
// ends. It skips tb when nats-server is not installed (fails it under
// CI=true), and fails it when the server does not answer. A port taken
// between finding it free and the server binding it is tried again with
// another.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{tb: tb, bin: binary(tb), dir: tb.TempDir()}
	tb.Cleanup(s.Stop)
	for attempt := 1; ; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		s.port = l.Addr().(*net.TCPAddr).Port
		l.Close()
		s.URL = fmt.Sprintf("nats://127.0.0.1:%d", s.port)
		err = s.start()
		if err == nil {
			return s
		}
		if !errors.Is(err, errPortTaken) || attempt == 5 {
			tb.Fatal(err)
		}
	}
}

// errPortTaken is start's error when another process took the port.
var errPortTaken = errors.New("port taken")

// Restart starts the server again after Stop, on the same port and with
// the same store (its streams and their duplicate windows come back). It
// fails the test when the server does not answer.
func (s *Server) Restart() {
	s.tb.Helper()
	if err := s.start(); err != nil {
		s.tb.Fatal(err)
	}
}

// start runs the server on s.port and waits until it answers with
// JetStream; otherwise it stops it and returns why, matching errPortTaken
// when the port was taken.
func (s *Server) start() error {
	log := filepath.Join(s.dir, "nats.log")
	cmd := exec.Command(s.bin, "-a", "127.0.0.1", "-p", fmt.Sprint(s.port), "-js", "-sd", filepath.Join(s.dir, "js"), "-l", log)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start nats-server: %w", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(s.done)
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := ping(s.URL)
		if err == nil {
			return nil
		}
		exited := false
		select {
		case <-s.done:
			exited = true
		default:
		}
		if exited || time.Now().After(deadline) {
			text, _ := os.ReadFile(log)
			s.Stop()
			os.Remove(log)
			if exited && strings.Contains(string(text), "address already in use") {
				return fmt.Errorf("nats-server on port %d: %w", s.port, errPortTaken)
			}
			return fmt.Errorf("nats-server on port %d did not answer: %v\n%s", s.port, err, text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ping connects to url and asks JetStream for the account's info.
func ping(url string) error {
	nc, err := nats.Connect(url, nats.Timeout(time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = js.AccountInfo(ctx)
	return err
}

// Stop stops the server, by its pid (SIGTERM, then SIGKILL after 5s), and
// waits for it to exit. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Messages returns every message of stream, oldest first, read with an
// ordered consumer. It fails tb when they cannot be read within 10s.
func Messages(tb testing.TB, url, stream string) []jetstream.Msg {
	tb.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		tb.Fatalf("stream %s: %v", stream, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	n := int(info.State.Msgs)
	if n == 0 {
		return nil
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	var out []jetstream.Msg
	for len(out) < n {
		batch, err := cons.Fetch(n-len(out), jetstream.FetchMaxWait(time.Second))
		if err != nil {
			tb.Fatal(err)
		}
		for m := range batch.Messages() {
			out = append(out, m)
		}
		if err := batch.Error(); err != nil {
			tb.Fatal(err)
		}
		if ctx.Err() != nil {
			tb.Fatalf("read %d of %d messages of %s", len(out), n, stream)
		}
	}
	return out
}
