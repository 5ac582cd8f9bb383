// Package yahootest is a fake Yahoo Finance chart endpoint for tests: it
// serves recorded bodies (copies of ../shared/yahoo's fixtures), quotes set
// by the test, and programmable faults, and it counts and records the
// requests it sees.
package yahootest

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

//go:embed testdata
var fixtures embed.FS

// Fixture returns the embedded copy of one of the shared fixture files
// ("chart-AAPL.json", "chart-VOD.L.json", "chart-no-bars.json",
// "chart-not-found.json", "too-many-requests.txt"). It panics for any
// other name: that is a bug in the test.
func Fixture(name string) []byte {
	b, err := fixtures.ReadFile("testdata/" + name)
	if err != nil {
		panic(fmt.Sprintf("yahootest: no fixture %q", name))
	}
	return b
}

// ChartPath is the path prefix of the chart endpoint; the symbol follows it,
// path-escaped.
const ChartPath = "/v8/finance/chart/"

// FaultKind is what a faulty response looks like.
type FaultKind int

// The fault kinds. FaultNone (the zero value) serves the normal response.
const (
	FaultNone        FaultKind = iota
	FaultServerError           // HTTP 500 with a plain-text body
	FaultRateLimit             // HTTP 429 with Yahoo's "Edge: Too Many Requests" body; put Retry-After in Fault.Header
	FaultReset                 // the connection is reset (RST) before any response byte
	FaultHTML                  // HTTP 200 with an HTML error page
	FaultTruncated             // HTTP 200 with the first half of the AAPL body
	FaultNotFound              // HTTP 404 with Yahoo's "Not Found" chart body
	FaultNoBars                // HTTP 200 with chart-no-bars.json (price only in meta)
	FaultStatus                // HTTP Fault.Status with Fault.Body as text/plain
)

// Fault changes how the server answers. The zero Fault is no fault.
type Fault struct {
	// Kind is what to answer after Delay.
	Kind FaultKind
	// Delay is waited before answering; if the request is cancelled
	// meanwhile (client timeout or cancellation), nothing is written.
	Delay time.Duration
	// Status and Body are the answer of FaultStatus.
	Status int
	Body   string
	// Header is added to the response (e.g. Retry-After, Date).
	Header http.Header
}

func (f Fault) active() bool {
	return f.Kind != FaultNone || f.Delay > 0 || len(f.Header) > 0
}

// Request is what the server saw of one request.
type Request struct {
	Symbol     string // the path segment after ChartPath, unescaped; "" for other paths
	RequestURI string // as sent: escaped path and query, e.g. "/v8/finance/chart/%5EGSPC?range=1d&interval=1m"
	UserAgent  string
	Accept     string
}

type response struct {
	status int
	body   []byte
}

// Server is a fake Yahoo chart endpoint on an httptest.Server. Its methods
// are safe for concurrent use, also while requests are being served.
//
// Like Yahoo, it answers a request whose User-Agent is Go's default
// ("Go-http-client/…") with 429.
type Server struct {
	srv *httptest.Server

	mu        sync.Mutex
	responses map[string]response
	faults    map[string]Fault
	global    Fault
	perSymbol map[string]int64
	requests  []Request
	budget    budget
}

// budget is a fixed-window request limit, like Yahoo's edge.
type budget struct {
	n           int // requests answered per window; 0: no limit
	window      time.Duration
	retryAfter  string // the Retry-After header, in seconds
	start       time.Time
	used        int
	rateLimited int64
}

// allow counts one chart request at now and reports whether it is within
// the budget.
func (b *budget) allow(now time.Time) bool {
	if b.n <= 0 {
		return true
	}
	if now.Sub(b.start) >= b.window {
		b.start, b.used = now, 0
	}
	b.used++
	if b.used > b.n {
		b.rateLimited++
		return false
	}
	return true
}

// NewServer starts a fake server that serves AAPL and VOD.L from the
// fixtures and 404 "Not Found" for every other symbol. It is closed when
// the test ends.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		responses: map[string]response{
			"AAPL":  {http.StatusOK, Fixture("chart-AAPL.json")},
			"VOD.L": {http.StatusOK, Fixture("chart-VOD.L.json")},
		},
		faults:    map[string]Fault{},
		perSymbol: map[string]int64{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	tb.Cleanup(s.srv.Close)
	return s
}

// URL returns the base URL to give to yahoo.New, e.g. "http://127.0.0.1:4711".
func (s *Server) URL() string { return s.srv.URL }

// SetQuote makes the server answer symbol with a 200 body of Yahoo's shape:
// the AAPL fixture with meta.symbol, meta.regularMarketPrice, meta.currency
// and meta.regularMarketTime (Unix seconds; 0 for a zero marketTime)
// replaced. It panics if price is not representable in JSON (NaN, ±Inf).
func (s *Server) SetQuote(symbol string, price float64, currency string, marketTime time.Time) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(Fixture("chart-AAPL.json")))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		panic(fmt.Sprintf("yahootest: AAPL fixture: %v", err))
	}
	meta := doc["chart"].(map[string]any)["result"].([]any)[0].(map[string]any)["meta"].(map[string]any)
	var unix int64
	if !marketTime.IsZero() {
		unix = marketTime.Unix()
	}
	meta["symbol"] = symbol
	meta["regularMarketPrice"] = price
	meta["currency"] = currency
	meta["regularMarketTime"] = unix
	body, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Sprintf("yahootest: SetQuote(%q, %v): %v", symbol, price, err))
	}
	s.SetBody(symbol, http.StatusOK, string(body))
}

// SetBody makes the server answer symbol with status and body as
// application/json, for bodies no Fault describes.
func (s *Server) SetBody(symbol string, status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.responses[symbol] = response{status, []byte(body)}
}

// SetFault sets the fault of one symbol; the zero Fault clears it. A
// symbol's own fault takes precedence over the global one.
func (s *Server) SetFault(symbol string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.active() {
		s.faults[symbol] = f
	} else {
		delete(s.faults, symbol)
	}
}

// SetGlobalFault sets the fault of every symbol that has none of its own;
// the zero Fault clears it.
func (s *Server) SetGlobalFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.global = f
}

// SetBudget makes the server rate-limit chart requests as Yahoo does: of
// those in each window (a window starts with the first request after the
// last one ended), the first n are served; every other one, whatever its
// symbol or fault, is answered 429 with Yahoo's body and a Retry-After of
// retryAfter (whole seconds, rounded up). Answered ones count too. n <= 0
// removes the limit.
func (s *Server) SetBudget(n int, window, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	secs := (retryAfter + time.Second - 1) / time.Second
	s.budget = budget{n: n, window: window, retryAfter: strconv.FormatInt(int64(secs), 10)}
}

// RateLimited returns how many requests the budget of SetBudget answered
// with 429.
func (s *Server) RateLimited() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.budget.rateLimited
}

// Requests returns how many requests the server has received, on any path.
func (s *Server) Requests() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.requests))
}

// RequestsFor returns how many chart requests for symbol (unescaped, as in
// Request.Symbol) the server has received.
func (s *Server) RequestsFor(symbol string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perSymbol[symbol]
}

// Received returns a copy of every request received so far, oldest first.
func (s *Server) Received() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// LastRequest returns the newest request received, and false if there has
// been none.
func (s *Server) LastRequest() (Request, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		return Request{}, false
	}
	return s.requests[len(s.requests)-1], true
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	symbol, isChart := strings.CutPrefix(r.URL.Path, ChartPath)
	if !isChart || strings.Contains(symbol, "/") {
		symbol = ""
	}

	s.mu.Lock()
	s.requests = append(s.requests, Request{
		Symbol:     symbol,
		RequestURI: r.RequestURI,
		UserAgent:  r.Header.Get("User-Agent"),
		Accept:     r.Header.Get("Accept"),
	})
	if symbol != "" {
		s.perSymbol[symbol]++
	}
	f, ok := s.faults[symbol]
	if !ok {
		f = s.global
	}
	resp, known := s.responses[symbol]
	allowed := symbol == "" || s.budget.allow(time.Now())
	retryAfter := s.budget.retryAfter
	s.mu.Unlock()

	switch {
	case symbol == "" || r.Method != http.MethodGet:
		http.Error(w, "no such endpoint", http.StatusNotFound)
		return
	case strings.HasPrefix(r.Header.Get("User-Agent"), "Go-http-client"):
		writeBody(w, http.StatusTooManyRequests, "text/plain;charset=utf-8", Fixture("too-many-requests.txt"))
		return
	case !allowed:
		w.Header().Set("Retry-After", retryAfter)
		writeBody(w, http.StatusTooManyRequests, "text/plain;charset=utf-8", Fixture("too-many-requests.txt"))
		return
	}

	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	}
	for k, vs := range f.Header {
		w.Header()[k] = append([]string(nil), vs...)
	}
	writeAnswer(w, f, resp, known)
}

// writeAnswer answers as fault f says, or with the symbol's programmed
// response (resp, if known), or Yahoo's "Not Found".
func writeAnswer(w http.ResponseWriter, f Fault, resp response, known bool) {
	switch f.Kind {
	case FaultServerError:
		writeBody(w, http.StatusInternalServerError, "text/plain;charset=utf-8", []byte("Internal Server Error"))
	case FaultRateLimit:
		writeBody(w, http.StatusTooManyRequests, "text/plain;charset=utf-8", Fixture("too-many-requests.txt"))
	case FaultReset:
		reset(w)
	case FaultHTML:
		writeBody(w, http.StatusOK, "text/html;charset=utf-8",
			[]byte("<!DOCTYPE html><html><head><title>Yahoo</title></head><body>Will be right back…</body></html>"))
	case FaultTruncated:
		b := Fixture("chart-AAPL.json")
		writeBody(w, http.StatusOK, jsonType, b[:len(b)/2])
	case FaultNotFound:
		writeBody(w, http.StatusNotFound, jsonType, Fixture("chart-not-found.json"))
	case FaultNoBars:
		writeBody(w, http.StatusOK, jsonType, Fixture("chart-no-bars.json"))
	case FaultStatus:
		writeBody(w, f.Status, "text/plain;charset=utf-8", []byte(f.Body))
	default:
		if !known {
			writeBody(w, http.StatusNotFound, jsonType, Fixture("chart-not-found.json"))
			return
		}
		writeBody(w, resp.status, jsonType, resp.body)
	}
}

const jsonType = "application/json;charset=utf-8"

func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// reset closes the connection with an RST: SO_LINGER 0 makes close(2)
// discard the connection instead of shutting it down in order.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("yahootest: response writer cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(fmt.Sprintf("yahootest: hijack: %v", err))
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
