package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// ClaimNotifications lets several notifiers share the due notifications,
// as collectors share tickers (ClaimTickers): it claims for owner, until
// the given time, up to limit notifications that are due by now and
// unclaimed (or whose claim has expired, or that owner holds), oldest due
// first, and returns them. A notifier that dies leaves its claims to
// expire; the next claimer after that takes them over (and may deliver
// one again: the receivers drop a repeat by its id).
//
// One transaction; a concurrent claimer waits on the rows it wants and
// then finds them taken. It returns KindUnavailable when the database
// cannot be reached and KindAborted when a deadlock persists.
func (db *DB) ClaimNotifications(ctx context.Context, owner string, now, until time.Time, limit int) ([]stock.Notification, error) {
	due := string(stock.NotificationDue)
	return claimRows(ctx, db, rowClaim{
		op: "claim notifications", table: "notifications",
		free: "state = ? AND next_time <= ?", freeArgs: []any{due, micros(now)},
		still: "state = ?", stillArgs: []any{due},
		order: "next_time, id", columns: notificationColumns,
	}, owner, now, until, limit, func(rows *sql.Rows) (stock.Notification, error) { return scanNotification(rows) })
}

// UpdateNotification records u and releases owner's claim of the
// notification. It reports false, and changes nothing, when owner no
// longer holds it (the claim expired and another notifier took it, or
// the user was deleted). It returns KindUnavailable when the database
// cannot be reached.
func (db *DB) UpdateNotification(ctx context.Context, u stock.NotificationUpdate) (bool, error) {
	attempted := 0
	if u.Attempted {
		attempted = 1
	}
	var sent int64
	if !u.SentTime.IsZero() {
		sent = micros(u.SentTime)
	}
	// The error can quote a receiver's status line or a host name: bytes
	// MySQL's utf8mb4 column would refuse, and the update with them, so
	// that the notification were sent again and again.
	u.LastError = clipUTF8(u.LastError, 512)
	res, err := db.w.ExecContext(ctx, `UPDATE notifications SET state = ?, attempts = attempts + ?, last_error = ?, next_time = ?,
		sent_time = ?, owner = '', until_time = 0 WHERE id = ? AND owner = ? AND state = ?`,
		string(u.State), attempted, u.LastError, micros(u.NextTime), sent, u.ID, u.Owner, string(stock.NotificationDue))
	if err != nil {
		return false, db.wrap(err, "update notification")
	}
	n, err := res.RowsAffected()
	return n > 0, db.wrap(err, "update notification")
}

// DueNotifications returns how many notifications wait for delivery,
// for metrics (a range of one index: cheap however many were sent). It
// returns KindUnavailable when the database cannot be reached.
func (db *DB) DueNotifications(ctx context.Context) (int64, error) {
	var n int64
	err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE state = ?`, string(stock.NotificationDue)).Scan(&n)
	return n, db.wrap(err, "count notifications")
}

// PurgeNotifications deletes the sent and failed notifications created
// before t and returns how many it deleted; due ones stay, however old.
// It returns KindUnavailable when the database cannot be reached.
func (db *DB) PurgeNotifications(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM notifications WHERE state <> ? AND create_time < ?`, string(stock.NotificationDue), micros(before))
	if err != nil {
		return 0, db.wrap(err, "purge notifications")
	}
	n, err := res.RowsAffected()
	return n, db.wrap(err, "purge notifications")
}

// clipUTF8 returns s as valid UTF-8 (invalid bytes replaced by U+FFFD) of
// at most n bytes, cut between characters.
func clipUTF8(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
