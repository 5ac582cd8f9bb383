package store

// Alerts and their notifications (migrations/*/00006_alerts.sql).
//
// A user's band is on the user's ticker: UpdateUser to another ticker
// deletes it, DeleteUser deletes it and the user's notifications. The
// prices that cross a band are found where they are stored
// (insertTickers): notifyCrossings reads the bands of the tickers whose
// newest price moved, applies each new price in market time order
// (stock.Alert.Observe), writes back the sides' armed state and inserts
// a notification per crossing and channel, all in the price's
// transaction. The notification row is the outbox: the price and the
// news of it commit together or not at all.

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/stockwatch/stockwatch/internal/stock"
)

const alertColumns = `email, ticker, above, below, channels, webhook_url, webhook_secret, hysteresis, armed_above, armed_below, create_time`

func scanAlert(s scanner) (stock.Alert, error) {
	var (
		a          stock.Alert
		channels   string
		armA, armB int
		created    int64
	)
	err := s.Scan(&a.Email, &a.Ticker, &a.Above, &a.Below, &channels, &a.WebhookURL, &a.WebhookSecret, &a.Hysteresis, &armA, &armB, &created)
	for c := range strings.SplitSeq(channels, ",") {
		if c != "" {
			a.Channels = append(a.Channels, stock.Channel(c))
		}
	}
	a.ArmedAbove, a.ArmedBelow, a.CreateTime = armA != 0, armB != 0, fromMicros(created)
	return a, err
}

func joinChannels(cs []stock.Channel) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func noAlert(email string) error {
	return stock.Errorf(stock.KindNotFound, "user %s has no alert", email)
}

// SetAlert stores a as the user's band on the user's ticker, both sides
// armed, and returns it as stored. The webhook secret given is kept only
// when the user has no band yet; the one returned is empty otherwise (a
// secret is shown once). It returns KindNotFound for an unknown e-mail.
func (t *writeTx) SetAlert(ctx context.Context, a stock.Alert) (stock.Alert, error) {
	err := t.tx.QueryRowContext(ctx, `SELECT ticker FROM users WHERE email = ?`+t.db.d.lockRows, a.Email).Scan(&a.Ticker)
	if errors.Is(err, sql.ErrNoRows) {
		return stock.Alert{}, userNotFound(a.Email)
	}
	if err != nil {
		return stock.Alert{}, t.db.wrap(err, "set alert")
	}
	var secret string
	err = t.tx.QueryRowContext(ctx, `SELECT webhook_secret FROM alerts WHERE email = ?`+t.db.d.lockRows, a.Email).Scan(&secret)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		secret = a.WebhookSecret
	case err != nil:
		return stock.Alert{}, t.db.wrap(err, "set alert")
	default:
		a.WebhookSecret = ""
	}
	a.ArmedAbove, a.ArmedBelow = true, true
	_, err = t.tx.ExecContext(ctx, `INSERT INTO alerts (`+alertColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) `+
		t.db.d.upsert("email", strings.Split(alertColumns, ", ")[1:]...),
		a.Email, a.Ticker, a.Above, a.Below, joinChannels(a.Channels), a.WebhookURL, secret, a.Hysteresis, 1, 1, micros(a.CreateTime))
	return a, t.db.wrap(err, "set alert")
}

// DeleteAlert deletes the user's band. It returns KindNotFound for an
// unknown e-mail or a user without a band.
func (t *writeTx) DeleteAlert(ctx context.Context, email string) error {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM alerts WHERE email = ?`, email)
	if err != nil {
		return t.db.wrap(err, "delete alert")
	}
	n, err := res.RowsAffected()
	if err != nil || n > 0 {
		return t.db.wrap(err, "delete alert")
	}
	var one int
	err = t.tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE email = ?`, email).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return userNotFound(email)
	case err != nil:
		return t.db.wrap(err, "delete alert")
	}
	return noAlert(email)
}

// GetAlert returns the user's band, without its webhook secret. It
// returns KindNotFound for an unknown e-mail or a user without a band.
func (db *DB) GetAlert(ctx context.Context, email string) (stock.Alert, error) {
	row := db.r.QueryRowContext(ctx, `SELECT u.email, a.email IS NOT NULL FROM users u LEFT JOIN alerts a ON a.email = u.email WHERE u.email = ?`, email)
	var (
		found string
		has   bool
	)
	err := row.Scan(&found, &has)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return stock.Alert{}, userNotFound(email)
	case err != nil:
		return stock.Alert{}, db.wrap(err, "get alert")
	case !has:
		return stock.Alert{}, noAlert(email)
	}
	a, err := scanAlert(db.r.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE email = ?`, email))
	if errors.Is(err, sql.ErrNoRows) { // deleted since
		return stock.Alert{}, noAlert(email)
	}
	a.WebhookSecret = ""
	return a, db.wrap(err, "get alert")
}

const notificationColumns = `id, email, channel, webhook_url, webhook_secret, ticker, direction, threshold, price, currency, market_time, create_time, state, attempts, last_error, next_time, sent_time`

func scanNotification(s scanner) (stock.Notification, error) {
	var (
		n                  stock.Notification
		mt, ct, next, sent int64
	)
	err := s.Scan(&n.ID, &n.Email, &n.Channel, &n.WebhookURL, &n.WebhookSecret, &n.Price.Ticker, &n.Direction, &n.Threshold,
		&n.Price.Price, &n.Price.Currency, &mt, &ct, &n.State, &n.Attempts, &n.LastError, &next, &sent)
	n.Price.MarketTime, n.CreateTime, n.NextTime = fromMicros(mt), fromMicros(ct), fromMicros(next)
	if sent != 0 {
		n.SentTime = fromMicros(sent)
	}
	return n, err
}

// ListNotifications returns up to limit of the user's notifications with
// an id below before (0: from the newest), newest first, without their
// webhook secrets. It returns KindNotFound for an unknown e-mail.
func (db *DB) ListNotifications(ctx context.Context, email string, before int64, limit int) ([]stock.Notification, error) {
	if _, err := db.GetUser(ctx, email); err != nil {
		return nil, err
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+notificationColumns+` FROM notifications WHERE email = ? AND id < ? ORDER BY id DESC LIMIT ?`, email, before, limit)
	return collect(db, "list notifications", rows, err, func(rows *sql.Rows) (stock.Notification, error) {
		n, err := scanNotification(rows)
		n.WebhookSecret = ""
		return n, err
	})
}

// notifyCrossings applies the prices appendOf[tk], newer than tk's
// newest before this transaction and just stored, to the bands on each
// of tickers, and inserts a notification per crossing and channel.
func (t *writeTx) notifyCrossings(ctx context.Context, tickers []string, appendOf map[string][]stock.Price) error {
	if len(tickers) == 0 {
		return nil
	}
	alerts, err := t.lockAlerts(ctx, tickers)
	if err != nil {
		return err
	}
	var out, evs [][]any
	for _, a := range alerts {
		armA, armB := a.ArmedAbove, a.ArmedBelow
		for _, p := range appendOf[a.Ticker] {
			for _, c := range a.Observe(p) {
				if t.db.events {
					r, err := alertEventRow(a.Email, c)
					if err != nil {
						return t.db.wrap(err, "alert events")
					}
					evs = append(evs, r)
				}
				for _, ch := range a.Channels {
					url, secret := "", ""
					if ch == stock.ChannelWebhook {
						url, secret = a.WebhookURL, a.WebhookSecret
					}
					out = append(out, []any{a.Email, string(ch), url, secret, p.Ticker, string(c.Direction), c.Threshold,
						p.Price, p.Currency, micros(p.MarketTime), micros(p.CollectTime), string(stock.NotificationDue), 0, "",
						micros(p.CollectTime), "", 0, 0})
				}
			}
		}
		if armA != a.ArmedAbove || armB != a.ArmedBelow {
			if _, err := t.tx.ExecContext(ctx, `UPDATE alerts SET armed_above = ?, armed_below = ? WHERE email = ?`,
				boolInt(a.ArmedAbove), boolInt(a.ArmedBelow), a.Email); err != nil {
				return t.db.wrap(err, "update alert")
			}
		}
	}
	if err := t.insertNotifications(ctx, out); err != nil {
		return err
	}
	return t.insertEvents(ctx, evs)
}

// lockAlerts returns the alert bands of tickers, locked until the
// transaction ends, in e-mail order.
func (t *writeTx) lockAlerts(ctx context.Context, tickers []string) ([]stock.Alert, error) {
	args := make([]any, len(tickers))
	for i, tk := range tickers {
		args[i] = tk
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE ticker IN (`+placeholders(len(tickers))+`) ORDER BY email`+t.db.d.lockRows, args...)
	return collect(t.db, "read alerts", rows, err, func(rows *sql.Rows) (stock.Alert, error) { return scanAlert(rows) })
}

// insertNotifications inserts notification rows (the 18 columns below,
// in order), in chunks that bound a statement's placeholders.
func (t *writeTx) insertNotifications(ctx context.Context, rows [][]any) error {
	const cols = 18
	for chunk := range slices.Chunk(rows, insertChunk*5/cols) {
		var flat []any
		for _, r := range chunk {
			flat = append(flat, r...)
		}
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO notifications (email, channel, webhook_url, webhook_secret, ticker, direction, threshold,
			price, currency, market_time, create_time, state, attempts, last_error, next_time, owner, until_time, sent_time) VALUES `+
			strings.TrimSuffix(strings.Repeat("("+placeholders(cols)+"), ", len(chunk)), ", "), flat...); err != nil {
			return t.db.wrap(err, "insert notifications")
		}
	}
	return nil
}
