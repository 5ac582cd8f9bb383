-- Price alerts and their notifications (the outbox).
--
-- alerts: a user's band on their ticker (at most one), its channels and
-- webhook, and which sides are armed (store/alerts.go says when).
--
-- notifications: one row per crossing and channel, inserted in the same
-- transaction as the price that crossed; the notifier claims due rows
-- (owner, until_time), delivers them and marks them sent or failed.
-- Times are Unix microseconds, UTC.

-- +goose Up
CREATE TABLE IF NOT EXISTS alerts (
    email          TEXT    NOT NULL PRIMARY KEY,
    ticker         TEXT    NOT NULL,
    above          REAL    NOT NULL,
    below          REAL    NOT NULL,
    channels       TEXT    NOT NULL,
    webhook_url    TEXT    NOT NULL,
    webhook_secret TEXT    NOT NULL,
    hysteresis     REAL    NOT NULL,
    armed_above    INTEGER NOT NULL,
    armed_below    INTEGER NOT NULL,
    create_time    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_ticker ON alerts (ticker);

CREATE TABLE IF NOT EXISTS notifications (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    email          TEXT    NOT NULL,
    channel        TEXT    NOT NULL,
    webhook_url    TEXT    NOT NULL,
    webhook_secret TEXT    NOT NULL,
    ticker         TEXT    NOT NULL,
    direction      TEXT    NOT NULL,
    threshold      REAL    NOT NULL,
    price          REAL    NOT NULL,
    currency       TEXT    NOT NULL,
    market_time    INTEGER NOT NULL,
    create_time    INTEGER NOT NULL,
    state          TEXT    NOT NULL,
    attempts       INTEGER NOT NULL,
    last_error     TEXT    NOT NULL,
    next_time      INTEGER NOT NULL,
    owner          TEXT    NOT NULL,
    until_time     INTEGER NOT NULL,
    sent_time      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS notifications_due ON notifications (state, next_time);
CREATE INDEX IF NOT EXISTS notifications_email ON notifications (email, id);

-- +goose Down
DROP TABLE IF EXISTS notifications;
DROP TABLE IF EXISTS alerts;
