package notifier

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// Email sends notifications as e-mails over SMTP (wneessen/go-mail), one
// connection per message, to the user's registered address. The
// Message-ID is made of the notification's stable id, so that a repeat
// is recognisable.
type Email struct {
	from   string
	domain string // of Message-IDs
	opts   []mail.Option
	host   string
}

var _ Sender = (*Email)(nil)

// NewEmail returns an Email that sends through the SMTP server of
// smtpURL, from the address from:
//
//	smtp://[USER:PASS@]HOST[:PORT][?starttls=mandatory|opportunistic|none]
//	smtps://[USER:PASS@]HOST[:PORT]   (TLS from the first byte)
//
// The default port is 587 (smtp) or 465 (smtps); STARTTLS is mandatory
// unless said otherwise; credentials, when given, authenticate with the
// best mechanism the server offers. The server's certificate must chain
// to rootCAs (nil: the system's). It returns an error for a malformed
// URL or address.
func NewEmail(smtpURL, from string, rootCAs *x509.CertPool) (*Email, error) {
	u, err := url.Parse(smtpURL)
	if err != nil || u.Hostname() == "" || (u.Scheme != "smtp" && u.Scheme != "smtps") {
		return nil, errors.New("want smtp://[USER:PASS@]HOST[:PORT][?starttls=mandatory|opportunistic|none] or smtps://…")
	}
	addr, err := stock.ParseEmail(from)
	if err != nil {
		return nil, fmt.Errorf("mail from: %v", err)
	}
	e := &Email{from: addr, host: u.Hostname(), domain: u.Hostname()}
	if at := strings.LastIndex(addr, "@"); at >= 0 {
		e.domain = addr[at+1:]
	}
	port := 587
	if u.Scheme == "smtps" {
		port = 465
		e.opts = append(e.opts, mail.WithSSL())
	} else {
		policy := mail.TLSMandatory
		switch st := u.Query().Get("starttls"); st {
		case "", "mandatory":
		case "opportunistic":
			policy = mail.TLSOpportunistic
		case "none":
			policy = mail.NoTLS
		default:
			return nil, fmt.Errorf("starttls=%q: want mandatory, opportunistic or none", st)
		}
		e.opts = append(e.opts, mail.WithTLSPortPolicy(policy), mail.WithTLSPolicy(policy))
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("port %q is not a port number", p)
		}
	}
	e.opts = append(e.opts, mail.WithPort(port), mail.WithTimeout(30*time.Second),
		mail.WithTLSConfig(&tls.Config{ServerName: u.Hostname(), RootCAs: rootCAs, MinVersion: tls.VersionTLS12}))
	if u.User != nil {
		pass, _ := u.User.Password()
		e.opts = append(e.opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(u.User.Username()), mail.WithPassword(pass))
	}
	return e, nil
}

// MessageID returns the Message-ID (without angle brackets) of
// notification id sent from domain.
func MessageID(id int64, domain string) string {
	return stock.NotificationID(id) + "@" + domain
}

// Send mails n to its user. It returns the SMTP exchange's error.
func (e *Email) Send(ctx context.Context, n stock.Notification) error {
	m := mail.NewMsg()
	if err := m.From(e.from); err != nil {
		return err
	}
	if err := m.To(n.Email); err != nil {
		return err
	}
	c := crossedOf(n)
	word := map[string]string{"above": "rose above", "below": "fell below"}[c.Direction]
	m.Subject(fmt.Sprintf("%s %s %g %s", c.Ticker, word, c.Threshold, c.Currency))
	m.SetMessageIDWithValue(MessageID(n.ID, e.domain))
	m.SetDate()
	m.SetBodyString(mail.TypeTextPlain, fmt.Sprintf(
		"%s %s your alert line of %g %s: %g %s at %s.\r\n\r\nNotification %s. Stockwatch sends it at least once; a repeat has the same Message-ID.\r\n",
		c.Ticker, word, c.Threshold, c.Currency, c.Price, c.Currency, c.MarketTime.Format(time.RFC3339), c.ID))
	client, err := mail.NewClient(e.host, e.opts...)
	if err != nil {
		return err
	}
	return client.DialAndSendWithContext(ctx, m)
}
