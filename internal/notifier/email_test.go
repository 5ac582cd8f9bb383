package notifier_test

import (
	"context"
	"io"
	"mime/quotedprintable"
	"strings"
	"testing"

	"github.com/stockwatch/stockwatch/internal/notifier"
	"github.com/stockwatch/stockwatch/internal/notifier/notifiertest"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/tlstest"
)

// TestEmail: a notification is mailed over STARTTLS with AUTH to the
// user's address, with a Message-ID made of its id; a server refusing
// it is an error.
func TestEmail(t *testing.T) {
	t.Parallel()
	pki := tlstest.New(t, "127.0.0.1")
	s := notifiertest.NewSMTP(t, pki, "u", "p")
	addr := s.Addr
	e, err := notifier.NewEmail("smtp://u:p@"+addr, "alerts@stockwatch.test", pki.Pool)
	if err != nil {
		t.Fatal(err)
	}
	n := stock.Notification{ID: 7, Email: "alice@x.com", Channel: stock.ChannelEmail,
		Crossing: stock.Crossing{Direction: stock.Above, Threshold: 210, Price: stock.Price{Ticker: "AAPL", Price: 212.5, Currency: "USD", MarketTime: t0}}}
	if err := e.Send(context.Background(), n); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := s.Messages()
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

	s.SetDown(true)
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
