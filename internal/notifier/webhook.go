package notifier

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// Payload is the JSON body of a webhook notification (the Standard
// Webhooks shape: type, timestamp, data).
type Payload struct {
	Type      string    `json:"type"` // "price.crossed"
	Timestamp time.Time `json:"timestamp"`
	Data      Crossed   `json:"data"`
}

// Crossed is what a notification tells.
type Crossed struct {
	ID         string    `json:"id"` // the notification's stable id
	Email      string    `json:"email"`
	Ticker     string    `json:"ticker"`
	Direction  string    `json:"direction"` // "above" or "below"
	Threshold  float64   `json:"threshold"`
	Price      float64   `json:"price"`
	Currency   string    `json:"currency"`
	MarketTime time.Time `json:"market_time"`
}

func crossedOf(n stock.Notification) Crossed {
	return Crossed{ID: stock.NotificationID(n.ID), Email: n.Email, Ticker: n.Price.Ticker, Direction: string(n.Direction),
		Threshold: n.Threshold, Price: n.Price.Price, Currency: n.Price.Currency, MarketTime: n.Price.MarketTime}
}

// Webhook sends notifications as HTTP POSTs of JSON signed per the
// Standard Webhooks scheme (webhook-id, webhook-timestamp,
// webhook-signature). A 2xx answer is a delivery; anything else
// (redirects included, which it does not follow) is an error.
type Webhook struct {
	client *http.Client
	now    func() time.Time
}

var _ Sender = (*Webhook)(nil)

// NewWebhook returns a Webhook that posts with client (nil: a client of
// its own) and dates its messages with now (nil: time.Now). It cannot
// fail.
func NewWebhook(client *http.Client, now func() time.Time) *Webhook {
	if client == nil {
		client = &http.Client{}
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if now == nil {
		now = time.Now
	}
	return &Webhook{client: &c, now: now}
}

// Send posts n to its webhook URL. It returns an error for a request that
// fails or a non-2xx answer.
func (w *Webhook) Send(ctx context.Context, n stock.Notification) error {
	now := w.now()
	body, err := json.Marshal(Payload{Type: "price.crossed", Timestamp: now.UTC(), Data: crossedOf(n)})
	if err != nil {
		return err
	}
	id, ts := stock.NotificationID(n.ID), now.Unix()
	sig, err := Sign(n.WebhookSecret, id, ts, body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "stockwatch-notifier")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

// Sign returns the webhook-signature of a message: "v1," and the base64
// of HMAC-SHA256 over "id.timestamp.body", keyed with the secret's bytes
// (the base64 after "whsec_"). It returns an error for a malformed
// secret.
func Sign(secret, id string, timestamp int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return "", errors.New("webhook secret is not whsec_ and base64")
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, timestamp)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Verify checks a received webhook as a receiver should: its timestamp
// within tolerance of now, and one of its space-separated signatures
// made with secret. It returns an error that says which check failed.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, tsText, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || tsText == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return errors.New("webhook-timestamp is not a number")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook-timestamp is %s off", d)
	}
	want, err := Sign(secret, id, ts, body)
	if err != nil {
		return err
	}
	for s := range strings.FieldsSeq(sigs) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return errors.New("no valid webhook-signature")
}
