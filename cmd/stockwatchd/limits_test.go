package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/stockwatch/stockwatch/internal/api"
	"github.com/stockwatch/stockwatch/internal/client"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// h2Conn is a raw HTTP/2 connection to the daemon (h2c): what a hostile
// client speaks, without the manners of a gRPC client.
type h2Conn struct {
	t        *testing.T
	conn     net.Conn
	w        *bufio.Writer
	fr       *http2.Framer
	hbuf     bytes.Buffer
	enc      *hpack.Encoder
	next     uint32                     // the next stream id
	settings map[http2.SettingID]uint32 // the server's first SETTINGS
}

// dialH2 connects to addr, sends the client preface and SETTINGS, and
// reads the server's SETTINGS. The connection closes when t ends.
func dialH2(t *testing.T, addr string) *h2Conn {
	t.Helper()
	c := newH2(t, addr)
	c.readSettings()
	return c
}

// newH2 connects to addr and sends the client preface and SETTINGS.
func newH2(t *testing.T, addr string) *h2Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &h2Conn{t: t, conn: conn, w: bufio.NewWriter(conn), next: 1, settings: map[http2.SettingID]uint32{}}
	c.fr = http2.NewFramer(c.w, conn)
	c.enc = hpack.NewEncoder(&c.hbuf)
	if _, err := c.w.WriteString(http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	if err := c.fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	c.flush()
	return c
}

// readSettings reads frames until the server's SETTINGS, keeps them,
// and acknowledges them.
func (c *h2Conn) readSettings() {
	c.t.Helper()
	// No exchange of these tests takes long: a stuck one fails, not hangs.
	if err := c.conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		c.t.Fatal(err)
	}
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			c.t.Fatalf("reading the server's SETTINGS: %v", err)
		}
		if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
			_ = s.ForeachSetting(func(s http2.Setting) error { c.settings[s.ID] = s.Val; return nil })
			break
		}
	}
	if err := c.fr.WriteSettingsAck(); err != nil {
		c.t.Fatal(err)
	}
	c.flush()
}

func (c *h2Conn) flush() {
	c.t.Helper()
	if err := c.w.Flush(); err != nil {
		c.t.Fatal(err)
	}
}

// openStream sends the HEADERS of a gRPC call to method, with the extra
// header fields given, and never the request message: the stream stays
// open and its handler waits for a message that does not come. It
// returns the stream's id.
func (c *h2Conn) openStream(method string, extra ...hpack.HeaderField) uint32 {
	c.t.Helper()
	c.hbuf.Reset()
	for _, f := range append([]hpack.HeaderField{
		{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "http"},
		{Name: ":path", Value: method}, {Name: ":authority", Value: c.conn.RemoteAddr().String()},
		{Name: "content-type", Value: "application/grpc"}, {Name: "te", Value: "trailers"},
	}, extra...) {
		if err := c.enc.WriteField(f); err != nil {
			c.t.Fatal(err)
		}
	}
	id := c.next
	c.next += 2
	// A block larger than a frame goes on in CONTINUATION frames.
	block, max := c.hbuf.Bytes(), 16<<10
	first := block[:min(len(block), max)]
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: first, EndHeaders: len(first) == len(block)}); err != nil {
		c.t.Fatal(err)
	}
	for rest := block[len(first):]; len(rest) > 0; {
		n := min(len(rest), max)
		if err := c.fr.WriteContinuation(id, n == len(rest), rest[:n]); err != nil {
			c.t.Fatal(err)
		}
		rest = rest[n:]
	}
	return id
}

// sync sends a PING and reads frames until its ack, returning the
// RST_STREAM codes received by stream id. The server handles a
// connection's frames in order, so by the ack it has handled every frame
// sent before the PING.
func (c *h2Conn) sync() map[uint32]http2.ErrCode {
	c.t.Helper()
	data := [8]byte{'s', 'y', 'n', 'c'}
	if err := c.fr.WritePing(false, data); err != nil {
		c.t.Fatal(err)
	}
	c.flush()
	rst := map[uint32]http2.ErrCode{}
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			c.t.Fatalf("reading frames until the PING ack: %v (RST_STREAM so far: %d)", err, len(rst))
		}
		switch f := f.(type) {
		case *http2.RSTStreamFrame:
			rst[f.StreamID] = f.ErrCode
		case *http2.GoAwayFrame:
			c.t.Fatalf("the server sent GOAWAY %v %q", f.ErrCode, f.DebugData())
		case *http2.PingFrame:
			if f.IsAck() && f.Data == data {
				return rst
			}
		}
	}
}

// usage is what the process holds: goroutines, and heap and stack
// memory in use after a collection.
type usage struct {
	goroutines int
	memory     uint64
}

func measure() usage {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return usage{runtime.NumGoroutine(), m.HeapInuse + m.StackInuse}
}

// TestStreamFlood opens thousands of streams on a few raw HTTP/2
// connections and never sends their request messages, as a client
// without any token can. The server advertises and enforces
// api.MaxConcurrentStreams per connection (the rest are refused with
// REFUSED_STREAM), what it holds stays bounded, and a well-behaved
// client is served all along.
//
// Not parallel: it counts the process's goroutines and memory, which
// other tests would move.
func TestStreamFlood(t *testing.T) {
	addr, _ := startInProcess(t, "-role", "api", "-db", "sqlite://"+filepath.Join(t.TempDir(), "flood.db"), "-verify-tickers=false")
	c, err := client.Dial(addr, client.Options{Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	if _, err := c.RegisterUser(ctx, "calm@x.com", "AAPL"); err != nil {
		t.Fatal(err)
	}
	before := measure()

	const conns, streams = 3, 3000
	for i := range conns {
		h := dialH2(t, addr)
		if got, ok := h.settings[http2.SettingMaxConcurrentStreams]; !ok || got != api.MaxConcurrentStreams {
			t.Errorf("connection %d: SETTINGS_MAX_CONCURRENT_STREAMS = %d (sent: %v), want %d", i, got, ok, api.MaxConcurrentStreams)
		}
		// A fixed window: what a stream buffers is one request at most.
		if got := h.settings[http2.SettingInitialWindowSize]; got != api.MaxMessageSize {
			t.Errorf("connection %d: SETTINGS_INITIAL_WINDOW_SIZE = %d, want %d", i, got, api.MaxMessageSize)
		}
		for range streams {
			h.openStream(pb.StockService_GetUser_FullMethodName)
		}
		rst := h.sync()
		refused := 0
		for id, code := range rst {
			if code != http2.ErrCodeRefusedStream {
				t.Fatalf("connection %d: stream %d reset with %v, want REFUSED_STREAM", i, id, code)
			}
			refused++
		}
		if want := streams - api.MaxConcurrentStreams; refused != want {
			t.Errorf("connection %d: %d of %d streams refused, want %d (all beyond %d)", i, refused, streams, want, api.MaxConcurrentStreams)
		}
	}

	// Each open stream holds a handler goroutine and the transport's
	// state for it. The bounds have a wide margin above what the open
	// streams need, and are far below what every stream would take.
	after := measure()
	grew := after.goroutines - before.goroutines
	t.Logf("%d connections × %d streams: goroutines %d → %d, heap+stack %d → %d KiB",
		conns, streams, before.goroutines, after.goroutines, before.memory>>10, after.memory>>10)
	if limit := conns * (3*api.MaxConcurrentStreams + 20); grew > limit {
		t.Errorf("goroutines grew by %d, want at most %d (%d connections of %d streams at most)", grew, limit, conns, api.MaxConcurrentStreams)
	}
	if limit := uint64(conns * api.MaxConcurrentStreams * 32 << 10); after.memory > before.memory+limit {
		t.Errorf("heap+stack grew by %d KiB, want at most %d KiB", (after.memory-before.memory)>>10, limit>>10)
	}

	// The flood's streams are still open: a normal client is served.
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if u, err := c.GetUser(cctx, "calm@x.com"); err != nil || u.GetTicker() != "AAPL" {
		t.Errorf("GetUser during the flood = %v, %v; want calm@x.com tracking AAPL", u, err)
	}
	if _, err := c.RegisterUser(cctx, "during@x.com", "MSFT"); err != nil {
		t.Errorf("RegisterUser during the flood: %v", err)
	}
}

// TestHeaderListLimit: request headers beyond api.MaxHeaderListSize are
// refused, whether the client heeds the advertised limit (grpc-go fails
// the call without sending it) or not (the server resets the stream).
func TestHeaderListLimit(t *testing.T) {
	t.Parallel()
	addr, _ := startInProcess(t, "-role", "api", "-db", "sqlite://"+filepath.Join(t.TempDir(), "headers.db"), "-verify-tickers=false")
	big := strings.Repeat("x", api.MaxHeaderListSize)

	t.Run("GRPCClient", func(t *testing.T) {
		c, err := client.Dial(addr, client.Options{Retries: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx := context.Background()
		// The first call connects, and the client learns the limit.
		if _, err := c.GetUser(ctx, "nobody@x.com"); status.Code(err) != codes.NotFound {
			t.Fatalf("GetUser = %v, want NOT_FOUND", err)
		}
		_, err = c.GetUser(metadata.AppendToOutgoingContext(ctx, "x-big", big), "nobody@x.com")
		want := fmt.Sprintf("header list size to send violates the maximum size (%d bytes) set by server", api.MaxHeaderListSize)
		if st := status.Convert(err); st.Code() != codes.Internal || st.Message() != want {
			t.Errorf("GetUser with %d bytes of metadata = %v, want INTERNAL %q", len(big), err, want)
		}
	})

	t.Run("Raw", func(t *testing.T) {
		h := dialH2(t, addr)
		if got := h.settings[http2.SettingMaxHeaderListSize]; got != api.MaxHeaderListSize {
			t.Errorf("SETTINGS_MAX_HEADER_LIST_SIZE = %d, want %d", got, api.MaxHeaderListSize)
		}
		id := h.openStream(pb.StockService_GetUser_FullMethodName, hpack.HeaderField{Name: "x-big", Value: big})
		if code, ok := h.sync()[id]; !ok || code != http2.ErrCodeFrameSize {
			t.Errorf("stream with %d bytes of headers: RST_STREAM %v (sent: %v), want FRAME_SIZE_ERROR", len(big), code, ok)
		}
	})
}

// notServed checks that conn gets no answer for a while: the daemon has
// not accepted it. It reads nothing from conn.
func notServed(t *testing.T, conn net.Conn, what string) {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if n, err := conn.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: read %d bytes, %v; want no answer while the limit is reached", what, n, err)
	}
	if err := conn.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
}

// TestConnectionLimit: with -max-connections 2, a third connection waits,
// unserved, while the first two are served; when one of them closes, the
// third is served.
func TestConnectionLimit(t *testing.T) {
	t.Parallel()
	addr, _ := startInProcess(t, "-role", "api", "-db", "sqlite://"+filepath.Join(t.TempDir(), "conns.db"),
		"-verify-tickers=false", "-max-connections", "2")
	ctx := context.Background()
	var held []*client.Client
	for i := range 2 {
		c, err := client.Dial(addr, client.Options{Retries: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := c.RegisterUser(ctx, fmt.Sprintf("c%d@x.com", i), "AAPL"); err != nil {
			t.Fatalf("client %d: RegisterUser: %v", i, err)
		}
		held = append(held, c)
	}
	third := newH2(t, addr)
	notServed(t, third.conn, "a third connection")
	for i, c := range held {
		if _, err := c.GetUser(ctx, fmt.Sprintf("c%d@x.com", i)); err != nil {
			t.Errorf("client %d: GetUser while a third connection waits: %v", i, err)
		}
	}
	held[0].Close()
	third.readSettings() // served: the server's preface arrives
	if _, err := held[1].GetUser(ctx, "c1@x.com"); err != nil {
		t.Errorf("GetUser on the remaining connection: %v", err)
	}
}

// httpGet sends GET path on conn and reads the answer.
func httpGet(t *testing.T, conn net.Conn, r *bufio.Reader, path string, header ...string) *http.Response {
	t.Helper()
	req := "GET " + path + " HTTP/1.1\r\nHost: stockwatchd\r\n" + strings.Join(header, "") + "\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	// An answer that closes the connection is not drained: the server
	// may reset it before its end.
	if !resp.Close {
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			t.Fatal(err)
		}
	}
	resp.Body.Close()
	return resp
}

// TestHTTPLimits: the HTTP server (-http-addr) refuses oversized request
// headers, and serves at most httpMaxConnections connections at once.
func TestHTTPLimits(t *testing.T) {
	t.Parallel()
	_, logs := startInProcess(t, "-role", "api", "-db", "sqlite://"+filepath.Join(t.TempDir(), "http.db"), "-verify-tickers=false")
	addr := httpAddr(t, logs)
	dial := func() (net.Conn, *bufio.Reader) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
			t.Fatal(err)
		}
		return conn, bufio.NewReader(conn)
	}

	t.Run("HeaderBytes", func(t *testing.T) {
		conn, r := dial()
		big := "X-Big: " + strings.Repeat("x", 2*httpMaxHeaderBytes) + "\r\n"
		if resp := httpGet(t, conn, r, "/healthz", big); resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("GET /healthz with %d bytes of headers = %s, want 431", len(big), resp.Status)
		}
	})

	t.Run("Connections", func(t *testing.T) {
		// Kept-alive connections that were served hold their slots.
		var held []net.Conn
		for range httpMaxConnections {
			conn, r := dial()
			if resp := httpGet(t, conn, r, "/healthz"); resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /healthz = %s, want 200", resp.Status)
			}
			held = append(held, conn)
		}
		conn, r := dial()
		if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: stockwatchd\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		notServed(t, conn, fmt.Sprintf("connection %d", httpMaxConnections+1))
		held[0].Close()
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("GET /healthz once a connection closed: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /healthz once a connection closed = %s, want 200", resp.Status)
		}
	})
}
