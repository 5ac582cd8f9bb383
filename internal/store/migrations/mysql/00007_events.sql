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
    id           BIGINT        NOT NULL AUTO_INCREMENT,
    subject      VARCHAR(128)  NOT NULL,
    payload      VARCHAR(2048) NOT NULL,
    create_time  BIGINT        NOT NULL,
    owner        VARCHAR(128)  NOT NULL,
    until_time   BIGINT        NOT NULL,
    publish_time BIGINT        NOT NULL,
    PRIMARY KEY (id),
    KEY events_pending (publish_time, id),
    KEY events_created (create_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE IF EXISTS events;
