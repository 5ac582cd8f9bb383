// Package notifiertest has the receivers that tests deliver alert
// notifications to: a webhook endpoint (httptest) and an SMTP server
// (emersion/go-smtp), both in process on 127.0.0.1, stopped when the test
// ends.
package notifiertest

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/stockwatch/stockwatch/internal/notifier"
	"github.com/stockwatch/stockwatch/internal/tlstest"
)

// Delivery is one webhook request received.
type Delivery struct {
	Header  http.Header
	Body    []byte
	Payload notifier.Payload
}

// Receiver is a webhook endpoint. It answers with the statuses queued,
// in turn, then 204.
type Receiver struct {
	URL string // where to post

	mu       sync.Mutex
	statuses []int
	got      []Delivery
	secret   string
	now      func() time.Time
	delay    time.Duration
}

// NewReceiver starts a Receiver that answers with statuses first.
func NewReceiver(tb testing.TB, statuses ...int) *Receiver {
	tb.Helper()
	r := &Receiver{statuses: statuses}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		delay := r.delay
		r.mu.Unlock()
		time.Sleep(delay)
		d := Delivery{Header: req.Header.Clone(), Body: body}
		if err := json.Unmarshal(body, &d.Payload); err != nil {
			tb.Errorf("webhook body %q: %v", body, err)
		}
		r.mu.Lock()
		if r.secret != "" {
			if err := notifier.Verify(r.secret, req.Header, body, r.now(), 5*time.Minute); err != nil {
				tb.Errorf("webhook %s: %v", req.Header.Get("webhook-id"), err)
			}
		}
		r.got = append(r.got, d)
		status := http.StatusNoContent
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	tb.Cleanup(srv.Close)
	r.URL = srv.URL + "/hook"
	return r
}

// Received returns the requests received so far.
func (r *Receiver) Received() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// IDs returns the webhook-id of every request received so far.
func (r *Receiver) IDs() []string {
	var ids []string
	for _, d := range r.Received() {
		ids = append(ids, d.Header.Get("webhook-id"))
	}
	return ids
}

// SetDelay makes the receiver take d to answer (after reading the
// request), as a slow endpoint would.
func (r *Receiver) SetDelay(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delay = d
}

// Check makes the receiver check every request from now on: signed with
// secret, its timestamp within 5 minutes of now(). A request that fails
// the check fails the test.
func (r *Receiver) Check(secret string, now func() time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret, r.now = secret, now
}

// SMTP is an SMTP server that keeps the messages it accepts.
type SMTP struct {
	Addr string // host:port

	user, pass string
	pki        *tlstest.PKI
	mu         sync.Mutex
	msgs       []*mail.Message
	down       bool
	srv        *smtp.Server // nil while stopped
	lis        net.Listener // srv's
}

// NewSMTP starts an SMTP server. With pki it offers STARTTLS with pki's
// server certificate; with a user it requires AUTH PLAIN with user and
// pass before MAIL.
func NewSMTP(tb testing.TB, pki *tlstest.PKI, user, pass string) *SMTP {
	tb.Helper()
	s := &SMTP{user: user, pass: pass, pki: pki}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.Addr = l.Addr().String()
	s.serve(l)
	tb.Cleanup(s.Stop)
	return s
}

func (s *SMTP) serve(l net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "127.0.0.1"
	srv.AllowInsecureAuth = s.pki == nil
	if s.pki != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{s.pki.ServerCert}}
	}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	s.mu.Lock()
	s.srv, s.lis = srv, l
	s.mu.Unlock()
	go srv.Serve(l)
}

// Stop closes the server and its connections: connecting is refused until
// Start.
func (s *SMTP) Stop() {
	s.mu.Lock()
	srv, l := s.srv, s.lis
	s.srv, s.lis = nil, nil
	s.mu.Unlock()
	if srv != nil {
		// The listener too: Serve may not have registered it yet.
		l.Close()
		srv.Close()
	}
}

// Start serves again on Addr after Stop, keeping the messages accepted
// so far. It returns the error of listening there.
func (s *SMTP) Start() error {
	l, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return err
	}
	s.serve(l)
	return nil
}

// SetDown makes the server refuse every message (451) or accept them again.
func (s *SMTP) SetDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// Messages returns the messages accepted so far.
func (s *SMTP) Messages() []*mail.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

type session struct {
	s      *SMTP
	authed bool
}

func (x *session) AuthMechanisms() []string {
	if x.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.s.user || pass != x.s.pass {
			return errors.New("bad credentials")
		}
		x.authed = true
		return nil
	}), nil
}

func (x *session) Mail(string, *smtp.MailOptions) error {
	if x.s.user != "" && !x.authed {
		return smtp.ErrAuthRequired
	}
	return nil
}

func (x *session) Rcpt(string, *smtp.RcptOptions) error { return nil }

func (x *session) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.down {
		return &smtp.SMTPError{Code: 451, Message: "try again later"}
	}
	x.s.msgs = append(x.s.msgs, m)
	return nil
}

func (x *session) Reset()        {}
func (x *session) Logout() error { return nil }
