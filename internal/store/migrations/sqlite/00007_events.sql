-- Events for other systems (the NATS outbox).
--
-- events: one row per price stored (newer than its ticker's newest) and
-- one per alert crossing, inserted in the same transaction as the price,
-- only when the store is opened with events on (store.WithEvents, the
-- daemon's -nats-url). A publisher claims unpublished rows (owner,
-- until_time), publishes each to subject with the payload as its body
-- and Nats-Msg-Id evt_<id>, and sets publish_time. Times are Unix
-- microseconds, UTC; publish_time 0 is not yet published.

-- +goose Up
CREATE TABLE IF NOT EXISTS events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    subject      TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    create_time  INTEGER NOT NULL,
    owner        TEXT    NOT NULL,
    until_time   INTEGER NOT NULL,
    publish_time INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_pending ON events (publish_time, id);
CREATE INDEX IF NOT EXISTS events_created ON events (create_time);

-- +goose Down
DROP TABLE IF EXISTS events;
