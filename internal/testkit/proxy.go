package testkit

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections from a loopback port to a target: a
// server, such as a database, that a test can take away (Cut) and bring
// back on the same address (Restore).
type Proxy struct {
	tb     testing.TB
	target string
	addr   string

	mu      sync.Mutex
	ln      net.Listener
	conns   []net.Conn
	observe func(net.Conn, []byte) // sees what clients send
}

// Observe makes f see every chunk a client sends through the proxy from
// now on, with the client's connection: in order per connection, and
// concurrently for several (f must be safe for that).
func (p *Proxy) Observe(f func(client net.Conn, chunk []byte)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.observe = f
}

// NewProxy starts a proxy to target on 127.0.0.1:0, cut when tb ends. It
// fails tb if it cannot listen.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{tb: tb, target: target, addr: ln.Addr().String()}
	p.serve(ln)
	tb.Cleanup(p.Cut)
	return p
}

// Addr returns the host:port the proxy listens on.
func (p *Proxy) Addr() string { return p.addr }

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			if p.ln != ln { // cut while we dialled: this connection must die too
				p.mu.Unlock()
				c.Close()
				u.Close()
				continue
			}
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, observed{c, p}); u.Close() }()
			go func() { _, _ = io.Copy(c, u); c.Close() }()
		}
	}()
}

// Cut closes the listener and every connection, as a crash of the target
// would look to its clients.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Restore listens again on the same address. It fails the test if the
// address cannot be had again.
func (p *Proxy) Restore() {
	p.tb.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.tb.Fatalf("proxy restore: %v", err)
	}
	p.serve(ln)
}

// observed is a client connection whose reads the proxy's observer sees.
type observed struct {
	net.Conn
	p *Proxy
}

func (o observed) Read(b []byte) (int, error) {
	n, err := o.Conn.Read(b)
	o.p.mu.Lock()
	f := o.p.observe
	o.p.mu.Unlock()
	if f != nil && n > 0 {
		f(o.Conn, b[:n])
	}
	return n, err
}
