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
    email          VARCHAR(254)  NOT NULL,
    ticker         VARCHAR(40)   NOT NULL,
    above          DOUBLE        NOT NULL,
    below          DOUBLE        NOT NULL,
    channels       VARCHAR(64)   NOT NULL,
    webhook_url    VARCHAR(2048) NOT NULL,
    webhook_secret VARCHAR(128)  NOT NULL,
    hysteresis     DOUBLE        NOT NULL,
    armed_above    TINYINT       NOT NULL,
    armed_below    TINYINT       NOT NULL,
    create_time    BIGINT        NOT NULL,
    PRIMARY KEY (email),
    KEY alerts_ticker (ticker)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS notifications (
    id             BIGINT        NOT NULL AUTO_INCREMENT,
    email          VARCHAR(254)  NOT NULL,
    channel        VARCHAR(16)   NOT NULL,
    webhook_url    VARCHAR(2048) NOT NULL,
    webhook_secret VARCHAR(128)  NOT NULL,
    ticker         VARCHAR(40)   NOT NULL,
    direction      VARCHAR(8)    NOT NULL,
    threshold      DOUBLE        NOT NULL,
    price          DOUBLE        NOT NULL,
    currency       VARCHAR(16)   NOT NULL,
    market_time    BIGINT        NOT NULL,
    create_time    BIGINT        NOT NULL,
    state          VARCHAR(8)    NOT NULL,
    attempts       INT           NOT NULL,
    last_error     VARCHAR(512)  NOT NULL,
    next_time      BIGINT        NOT NULL,
    owner          VARCHAR(128)  NOT NULL,
    until_time     BIGINT        NOT NULL,
    sent_time      BIGINT        NOT NULL,
    PRIMARY KEY (id),
    KEY notifications_due (state, next_time),
    KEY notifications_email (email, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE IF EXISTS notifications;
DROP TABLE IF EXISTS alerts;
