package notifier_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/stockwatch/stockwatch/internal/notifier"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/tlstest"
)

// sink is an in-process SMTP server (emersion/go-smtp) on 127.0.0.1 with
// STARTTLS and AUTH PLAIN (user "u", password "p"), keeping what it is
// sent.
type sink struct {
	mu   sync.Mutex
	msgs []*mail.Message
	rcpt []string
	down bool // refuse every message
}

func newSink(tb testing.TB) (*sink, *tlstest.PKI, string) {
	tb.Helper()
	pki := tlstest.New(tb, "127.0.0.1")
	s := &sink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "127.0.0.1"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{pki.ServerCert}}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go srv.Serve(l)
	tb.Cleanup(func() { srv.Close() })
	return s, pki, l.Addr().String()
}

func (s *sink) setDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

func (s *sink) messages() []*mail.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*mail.Message(nil), s.msgs...)
}

type session struct {
	s      *sink
	authed bool
	to     []string
}

func (x *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "u" || pass != "p" {
			return errors.New("bad credentials")
		}
		x.authed = true
		return nil
	}), nil
}
func (x *session) Mail(string, *smtp.MailOptions) error {
	if !x.authed {
		return smtp.ErrAuthRequired
	}
	return nil
}
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error { x.to = append(x.to, to); return nil }
func (x *session) Data(r io.Reader) error {
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.down {
		return &smtp.SMTPError{Code: 451, Message: "try again later"}
	}
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	x.s.msgs = append(x.s.msgs, m)
	x.s.rcpt = append(x.s.rcpt, x.to...)
	return nil
}
func (x *session) Reset()        { x.to = nil }
func (x *session) Logout() error { return nil }

// TestEmail: a notification is mailed over STARTTLS with AUTH to the
// user's address, with a Message-ID made of its id; a server refusing
// it is an error.
func TestEmail(t *testing.T) {
	t.Parallel()
	s, pki, addr := newSink(t)
	e, err := notifier.NewEmail("smtp://u:p@"+addr, "alerts@stockwatch.test", pki.Pool)
	if err != nil {
		t.Fatal(err)
	}
	n := stock.Notification{ID: 7, Email: "alice@x.com", Channel: stock.ChannelEmail,
		Crossing: stock.Crossing{Direction: stock.Above, Threshold: 210, Price: stock.Price{Ticker: "AAPL", Price: 212.5, Currency: "USD", MarketTime: t0}}}
	if err := e.Send(context.Background(), n); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := s.messages()
	if len(msgs) != 1 {
		t.Fatalf("sink got %d messages, want 1", len(msgs))
	}
	h := msgs[0].Header
	for k, want := range map[string]string{
		"Message-Id": "<ntf_7@stockwatch.test>",
		"Subject":    "AAPL rose above 210 USD",
		"To":         "<alice@x.com>",
		"From":       "<alerts@stockwatch.test>",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(msgs[0].Body))
	if !strings.Contains(string(body), "AAPL rose above your alert line of 210 USD: 212.5 USD at 2026-11-30T14:30:00Z.") {
		t.Errorf("body = %q", body)
	}

	s.setDown(true)
	if err := e.Send(context.Background(), n); err == nil || !strings.Contains(err.Error(), "451") {
		t.Errorf("Send to a refusing server = %v, want its 451", err)
	}
	wrong, err := notifier.NewEmail("smtp://u:wrong@"+addr, "alerts@stockwatch.test", pki.Pool)
	if err != nil {
		t.Fatal(err)
	}
	if err := wrong.Send(context.Background(), n); err == nil {
		t.Error("Send with a wrong password succeeded")
	}
}

// TestNewEmailErrors: a bad -smtp-url or -mail-from is refused with a
// message that says what is wrong.
func TestNewEmailErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ url, from, want string }{
		{"http://h", "a@x.com", "want smtp://[USER:PASS@]HOST[:PORT][?starttls=mandatory|opportunistic|none] or smtps://…"},
		{"smtp://", "a@x.com", "want smtp://[USER:PASS@]HOST[:PORT][?starttls=mandatory|opportunistic|none] or smtps://…"},
		{"smtp://h?starttls=maybe", "a@x.com", `starttls="maybe": want mandatory, opportunistic or none`},
		{"smtp://h:0", "a@x.com", `port "0" is not a port number`},
		{"smtp://h", "nobody", `mail from: email "nobody" is not a valid address`},
	} {
		if _, err := notifier.NewEmail(tt.url, tt.from, nil); err == nil || err.Error() != tt.want {
			t.Errorf("NewEmail(%q, %q) = %v, want %q", tt.url, tt.from, err, tt.want)
		}
	}
}
