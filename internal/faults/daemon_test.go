package faults_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/metrics"
)

// binDir holds the daemon binary built for this test process.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stockwatch-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var daemonBuild = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m: %w", err)
	}
	root := strings.TrimSpace(string(out))
	bin := filepath.Join(binDir, "stockwatchd")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/stockwatchd")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/stockwatchd: %w\n%s", err, out)
	}
	return bin, nil
})

// buildDaemon returns the path of the daemon binary, built once per test
// process (the -count reruns share it) into a temporary directory rather
// than the source tree.
func buildDaemon(tb testing.TB) string {
	tb.Helper()
	bin, err := daemonBuild()
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}

// fixedAddr returns a free loopback address whose port the kernel never
// hands out on its own: one below the ephemeral range. A daemon restarted
// on it is found again by the clients, and no other test's listener on
// 127.0.0.1:0 (nor an outgoing connection) can take it while ours is down.
func fixedAddr(tb testing.TB, pick func(n int) int) string {
	tb.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	const from = 20000
	if low <= from+1000 {
		tb.Fatalf("ephemeral port range starts at %d: no room for a fixed port", low)
	}
	for range 100 {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(from+pick(low-from)))
		if l, err := net.Listen("tcp", addr); err == nil {
			l.Close()
			return addr
		}
	}
	tb.Fatalf("no free port in [%d, %d)", from, low)
	return ""
}

// daemon is one stockwatchd at a fixed address, started again on the same
// address and database after each kill. Each incarnation logs (JSON) to a
// file of its own.
type daemon struct {
	bin, addr string
	args      []string
	logDir    string
	metrics   bool // serve /metrics on 127.0.0.1:0 (see replays)

	mu      sync.Mutex // guards the fields below
	runs    int
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
	waitErr error
	logs    []string
	http    string // the running incarnation's HTTP address, if metrics
}

func newDaemon(tb testing.TB, bin, addr string, args ...string) *daemon {
	tb.Helper()
	d := &daemon{bin: bin, addr: addr, args: args, logDir: tb.TempDir()}
	tb.Cleanup(func() { d.kill() })
	return d
}

// errBind marks a start that failed because the address was taken.
var errBind = errors.New("address in use")

// start runs a new incarnation and waits until it serves gRPC. It returns
// errBind if the daemon exited because the address was taken.
func (d *daemon) start() error {
	d.mu.Lock()
	running := d.cmd != nil
	d.runs++
	logPath := filepath.Join(d.logDir, fmt.Sprintf("stockwatchd-%d.log", d.runs))
	d.mu.Unlock()
	if running {
		return errors.New("daemon already running")
	}
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	// The line callback runs on exec's copying goroutine: it only sends.
	grpcUp, httpUp := make(chan string, 1), make(chan string, 1)
	w := &lineWriter{f: f, line: func(b []byte) {
		var l struct{ Msg, Addr string }
		if json.Unmarshal(b, &l) != nil {
			return
		}
		ch := map[string]chan string{"serving gRPC": grpcUp, "serving HTTP": httpUp}[l.Msg]
		if ch != nil {
			select {
			case ch <- l.Addr:
			default:
			}
		}
	}}
	serving, servingHTTP := grpcUp, httpUp
	httpAddr := ""
	if d.metrics {
		httpAddr = "127.0.0.1:0"
	} else {
		servingHTTP = nil
	}
	args := append([]string{"-grpc-addr", d.addr, "-http-addr", httpAddr, "-log-format", "json"}, d.args...)
	cmd := exec.Command(d.bin, args...)
	cmd.Stderr = w
	if err := cmd.Start(); err != nil {
		f.Close()
		return err
	}
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		f.Close()
		d.mu.Lock()
		d.waitErr = err
		d.mu.Unlock()
		close(exited)
	}()
	d.mu.Lock()
	d.cmd, d.exited = cmd, exited
	d.logs = append(d.logs, logPath)
	d.mu.Unlock()

	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for serving != nil || servingHTTP != nil {
		select {
		case addr := <-serving:
			if addr != d.addr {
				d.kill()
				return fmt.Errorf("daemon serves %s, want %s", addr, d.addr)
			}
			serving = nil
		case addr := <-servingHTTP:
			d.mu.Lock()
			d.http = addr
			d.mu.Unlock()
			servingHTTP = nil
		case <-exited:
			d.mu.Lock()
			d.cmd = nil
			d.mu.Unlock()
			log, _ := os.ReadFile(logPath)
			if bytes.Contains(log, []byte("address already in use")) {
				return fmt.Errorf("%w: %s", errBind, bytes.TrimSpace(log))
			}
			return fmt.Errorf("daemon exited before serving:\n%s", log)
		case <-timeout.C:
			d.kill()
			return errors.New("daemon did not serve within 30s")
		}
	}
	return nil
}

// replays returns the running incarnation's count of requests answered
// from a stored outcome (stockwatch_requests_replayed_total, all methods).
func (d *daemon) replays() (int, error) {
	d.mu.Lock()
	addr := d.http
	d.mu.Unlock()
	if addr == "" {
		return 0, errors.New("no metrics address")
	}
	m, err := metrics.Scrape(context.Background(), &http.Client{Timeout: 2 * time.Second}, "http://"+addr+"/metrics")
	if err != nil {
		return 0, err
	}
	return int(metrics.Sum(m, "stockwatch_requests_replayed_total")), nil
}

// restart starts a new incarnation, trying again for a few seconds while
// the address is still taken.
func (d *daemon) restart() error {
	var err error
	for range 20 {
		if err = d.start(); !errors.Is(err, errBind) {
			return err
		}
		time.Sleep(250 * time.Millisecond)
	}
	return err
}

// kill sends SIGKILL to the running incarnation, if any, and waits for it.
func (d *daemon) kill() {
	d.mu.Lock()
	cmd, exited := d.cmd, d.exited
	d.cmd, d.http = nil, ""
	d.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// stop sends SIGTERM and waits up to 20s for a clean exit (status 0).
func (d *daemon) stop() error {
	d.mu.Lock()
	cmd, exited := d.cmd, d.exited
	d.cmd, d.http = nil, ""
	d.mu.Unlock()
	if cmd == nil {
		return errors.New("daemon not running")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		return errors.New("daemon did not exit within 20s of SIGTERM")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.waitErr != nil {
		return fmt.Errorf("daemon exit after SIGTERM: %w, want status 0", d.waitErr)
	}
	return nil
}

// logStats reads every incarnation's log: RPC codes as the server
// reported them, and the lines at WARN or above.
type logStats struct {
	codes    map[string]int // "rpc" lines by code
	problems []string       // ERROR lines, verbatim
	warnings int
}

func (d *daemon) logStats(tb testing.TB) logStats {
	tb.Helper()
	d.mu.Lock()
	paths := append([]string(nil), d.logs...)
	d.mu.Unlock()
	st := logStats{codes: map[string]int{}}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var l struct{ Level, Msg, Code string }
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				st.problems = append(st.problems, sc.Text()) // not slog: a panic or a crash
				continue
			}
			switch {
			case l.Msg == "rpc":
				st.codes[l.Code]++
			case l.Level == "ERROR":
				st.problems = append(st.problems, sc.Text())
			case l.Level == "WARN":
				st.warnings++
			}
		}
		f.Close()
	}
	return st
}

// lineWriter copies a process's output to f and hands each complete line
// to line. exec calls Write from one goroutine.
type lineWriter struct {
	f    *os.File
	line func([]byte)
	buf  []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	return w.f.Write(p)
}
