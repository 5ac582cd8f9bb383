-- Times are Unix microseconds, UTC. Runs unchanged on MySQL 8.x and MariaDB 10.11+.
-- MySQL commits each CREATE TABLE on its own, outside goose's transaction:
-- IF NOT EXISTS lets a start that died halfway through be run again.

-- +goose Up
CREATE TABLE IF NOT EXISTS users (
    email       VARCHAR(254) NOT NULL,
    ticker      VARCHAR(40)  NOT NULL,
    create_time BIGINT       NOT NULL,
    update_time BIGINT       NOT NULL,
    PRIMARY KEY (email),
    KEY users_ticker (ticker)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS stock_prices (
    id           BIGINT      NOT NULL AUTO_INCREMENT,
    ticker       VARCHAR(40) NOT NULL,
    price        DOUBLE      NOT NULL,
    currency     VARCHAR(16) NOT NULL,
    market_time  BIGINT      NOT NULL,
    collect_time BIGINT      NOT NULL,
    PRIMARY KEY (id),
    -- Serves "newest first by ticker" and keeps an unrefreshed quote from being stored twice.
    UNIQUE KEY stock_prices_ticker_market_time (ticker, market_time),
    KEY stock_prices_market_time (market_time, id),
    KEY stock_prices_collect_time (collect_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS requests (
    request_id      CHAR(36)     NOT NULL,
    method          VARCHAR(128) NOT NULL,
    fingerprint     VARBINARY(64) NOT NULL,
    create_time     BIGINT       NOT NULL,
    outcome_kind    VARCHAR(32)  NOT NULL DEFAULT '',
    outcome_message VARCHAR(512) NOT NULL DEFAULT '',
    response        BLOB,
    PRIMARY KEY (request_id),
    KEY requests_create_time (create_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE IF EXISTS requests;
DROP TABLE IF EXISTS stock_prices;
DROP TABLE IF EXISTS users;
